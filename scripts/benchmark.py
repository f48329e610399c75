"""Measure what the agent costs: bytes and requests per printer per poll, cycle time, memory.

    .venv/bin/python scripts/benchmark.py --printers 200 --cycles 3

Simulated printers (mqtt_agent.simulator, one snmpsim engine each on loopback) are polled by the
real poller over real SNMP. Figures are printed, never asserted: see docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import time
from collections import defaultdict

from mqtt_agent.poller import Poller
from mqtt_agent.simulator import SnmpSimulator, demo_fleet
from mqtt_agent.snmp import SnmpClient, SnmpTarget


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--printers", type=int, default=100)
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()

    fleet = []
    for block in range(0, args.printers, 250):
        fleet += demo_fleet(min(250, args.printers - block), f"127.79.{block // 250}")
        for printer in fleet[block:]:
            printer.name = f"{printer.name}-{block}"
    sim = SnmpSimulator(fleet)
    print(f"starting {len(fleet)} simulated printers …")
    sim.start()
    try:
        await sim.wait_ready(timeout=300)
        rss_before = rss_mb()
        client = SnmpClient()
        poller = Poller(client, concurrency=args.concurrency)
        for printer in fleet:
            poller.add(SnmpTarget(printer.address, printer.port, timeout=5, retries=1))
        first = await poller.poll_all()
        print(
            f"first cycle (identity + tables + levels): {first.ok}/{first.printers} ok "
            f"in {first.seconds:.2f} s, "
            f"{first.traffic.bytes_total / first.printers:.0f} bytes and "
            f"{first.traffic.requests / first.printers:.1f} requests per printer"
        )
        seconds = []
        per_model: dict[str, list[int]] = defaultdict(list)
        for _ in range(args.cycles):
            report = await poller.poll_all()
            seconds.append(report.seconds)
            for polled, sim_printer in zip(poller.printers.values(), fleet, strict=True):
                model = sim_printer.name.split("-")[0]
                traffic = polled.reader.last_poll_traffic
                per_model[
                    f"{model} ({len(sim_printer.supplies)} supplies, {len(sim_printer.trays)} trays)"
                ].append(traffic.bytes_total)
            print(
                f"cycle: {report.ok}/{report.printers} ok in {report.seconds:.2f} s, "
                f"{report.traffic.bytes_total / report.printers:.0f} bytes and "
                f"{report.traffic.requests / report.printers:.2f} requests per printer"
            )
        print(f"\nsteady-state cycle for {len(fleet)} printers: median {statistics.median(seconds):.2f} s")
        print("bytes on the wire per printer per poll (request + response, with IPv4/UDP headers):")
        for model, values in sorted(per_model.items()):
            print(f"  {model:<40} {statistics.median(values):>6.0f}")
        print(f"agent memory: {rss_mb():.1f} MB resident ({rss_before:.1f} MB before the poller existed)")
        client.close()
    finally:
        sim.stop()


if __name__ == "__main__":
    t0 = time.monotonic()
    asyncio.run(main())
    print(f"(benchmark took {time.monotonic() - t0:.0f} s)")
