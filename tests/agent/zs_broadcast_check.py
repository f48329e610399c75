"""SNMP broadcast end-to-end check, run by test_zero_sweep.py inside a fresh network namespace.

Builds a private LAN that exists only inside the namespace: a bridge (this "host", 198.51.100.254,
a documentation range) and three hosts, each its own network namespace behind a veth on the
bridge, each running a real SNMP agent (snmpsim) bound to 0.0.0.0:1161 as a printer's agent is.
Then one broadcast_probe to the subnet's broadcast address (as found by broadcast_addresses)
must bring back an answer from every host. Prints the results as JSON.

Run it under ``unshare --net --pid --fork --kill-child`` so that every process it starts ends
with it, whatever happens.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import subprocess
import sys
import time
from dataclasses import asdict

from mqtt_agent.broadcast import broadcast_addresses, broadcast_probe
from mqtt_agent.simulator import SimPrinter, SnmpSimulator, demo_fleet

SUBNET = "198.51.100"
BRIDGE = "zsbr"


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True)


def start_host(index: int, printer: SimPrinter) -> tuple[subprocess.Popen[bytes], SnmpSimulator]:
    """A host in its own namespace: it waits for its link, configures it, then runs snmpsim."""
    printer.address = "0.0.0.0"
    sim = SnmpSimulator([printer])
    sim.write(printer)
    link = f"zsp{index}"
    script = (
        "read go && ip link set lo up && "
        f"ip addr add {SUBNET}.{index}/24 dev {link} && ip link set {link} up && "
        f"exec {shlex.join(sim.command())}"
    )
    env = {**os.environ, "SNMPSIM_ALLOW_ROOT": "true"}
    host = subprocess.Popen(["unshare", "--net", "sh", "-c", script], stdin=subprocess.PIPE, env=env)
    ip("link", "add", f"zsh{index}", "type", "veth", "peer", "name", link)
    ip("link", "set", link, "netns", str(host.pid))  # unshare execs sh: same pid
    ip("link", "set", f"zsh{index}", "master", BRIDGE, "up")
    assert host.stdin is not None
    host.stdin.write(b"go\n")
    host.stdin.flush()
    return host, sim


async def main() -> int:
    ip("link", "set", "lo", "up")
    ip("link", "add", BRIDGE, "type", "bridge")
    ip("addr", "add", f"{SUBNET}.254/24", "dev", BRIDGE)
    ip("link", "set", BRIDGE, "up")
    printers = demo_fleet(3, SUBNET)
    printers[2].printer_mib = False  # a host that speaks SNMP but is no printer
    expected = {
        f"{SUBNET}.{i}": {"sys_object_id": p.sys_object_id, "serial": p.serial if p.printer_mib else None}
        for i, p in enumerate(printers, start=1)
    }
    hosts = [start_host(i, p) for i, p in enumerate(printers, start=1)]
    result: dict[str, object] = {"expected": expected}
    try:
        destinations = broadcast_addresses()
        result["broadcast_addresses"] = destinations
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # wait until every agent has indexed its data
            if len(await broadcast_probe(destinations, port=1161, wait=0.5)) == len(hosts):
                break
        # One probe must reach every host. On a loaded machine a Python agent can miss a window,
        # so up to three separate probes are sent; the first that all three answer is reported.
        for attempt in range(1, 4):
            started = time.monotonic()
            # the default two-second window: a loaded machine can delay a Python agent's answer
            replies = await broadcast_probe(destinations, port=1161, wait=2.0)
            result["elapsed"] = round(time.monotonic() - started, 2)
            result["attempts"] = attempt
            if len(replies) == len(hosts):
                break
        result["replies"] = [asdict(reply) for reply in replies]
    finally:
        for host, sim in hosts:
            host.terminate()
            host.wait(timeout=10)
            sim.stop()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
