"""``printer-supplies-agent demo``: a simulated fleet, a broker, the real agent, in one command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import logging
import os
import random
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console

from .config import MqttSettings, PrinterSettings, Settings
from .errors import AgentError
from .poller import CycleReport
from .render import fleet_table
from .service import Agent
from .simulator import SimPrinter, SnmpSimulator, demo_fleet

_LOG = logging.getLogger(__name__)


class LocalBroker:
    """A throw-away Mosquitto on 127.0.0.1, started only when no broker answers."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._tmp = tempfile.TemporaryDirectory(prefix="printer-broker-")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        exe = shutil.which("mosquitto") or next(
            (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()), None
        )
        if exe is None:
            raise AgentError("no MQTT broker answers and Mosquitto is not installed (apt install mosquitto)")
        conf = Path(self._tmp.name) / "mosquitto.conf"
        conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        self.process = subprocess.Popen(  # noqa: S603 - fixed command line
            [exe, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
        self._tmp.cleanup()


async def broker_answers(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def ensure_broker(mqtt: MqttSettings) -> tuple[MqttSettings, LocalBroker | None]:
    """The configured broker if it answers, else a local Mosquitto (on that port if it is free)."""
    if await broker_answers(mqtt.host, mqtt.port):
        return mqtt, None
    port = mqtt.port if mqtt.host in ("127.0.0.1", "localhost") else free_port()
    broker = LocalBroker(port)
    broker.start()
    for _ in range(50):
        if await broker_answers("127.0.0.1", port, 0.2):
            return mqtt.model_copy(update={"host": "127.0.0.1", "port": port}), broker
        await asyncio.sleep(0.1)
    broker.stop()
    port = free_port()  # the configured port was taken by something that is not a broker
    broker = LocalBroker(port)
    broker.start()
    for _ in range(50):
        if await broker_answers("127.0.0.1", port, 0.2):
            return mqtt.model_copy(update={"host": "127.0.0.1", "port": port}), broker
        await asyncio.sleep(0.1)
    broker.stop()
    raise AgentError("could not start a local Mosquitto broker")


async def simulate(fleet: list[SimPrinter], sim: SnmpSimulator, period: float, seed: int = 7) -> None:
    """Keep the simulated printers busy: a few pages every period, files rewritten."""
    rng = random.Random(seed)  # noqa: S311 - simulation, not security
    while True:
        await asyncio.sleep(period)
        for printer in fleet:
            printer.print_pages(rng.randint(5, 40), rng)
            sim.write(printer)


async def _start_cloud(workdir: Path, out: Console) -> Any:
    """The reference supplies cloud with the demo catalog, when it is installed (the ``cloud`` extra)."""
    try:
        chain = importlib.import_module("supplies_cloud.demo_chain")
    except ImportError as exc:
        out.print(f"[dim]supplies cloud not installed ({exc.name}): demo without ordering[/]")
        return None
    cloud = chain.DemoCloud(workdir)
    await cloud.start()
    out.print(
        f"[bold]Supplies cloud:[/] {cloud.base_url} (demo catalog, site 'Demo office')\n"
        f"  dealer page: {cloud.base_url}/dealer  user 'dealer', password '{cloud.dealer_password}'"
    )
    return cloud


def write_info(path: Path, mqtt: MqttSettings, cloud: Any) -> None:
    """What a follower (``scripts/ha_demo.py``) needs to join the demo, written atomically as JSON."""
    info = {
        "mqtt_host": mqtt.host,
        "mqtt_port": mqtt.port,
        "base_topic": mqtt.base_topic,
        "discovery_prefix": mqtt.discovery_prefix,
        "cloud_url": cloud.base_url if cloud is not None else None,
        "api_key": cloud.api_key if cloud is not None else None,
        "dealer_password": cloud.dealer_password if cloud is not None else None,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    os.chmod(tmp, 0o600)  # holds the demo's API key and dealer password
    tmp.replace(path)


async def run_demo(settings: Settings, args: argparse.Namespace, out: Console) -> int:
    count = max(1, min(args.printers, 254))
    fleet = demo_fleet(count, args.network)
    sim = SnmpSimulator(fleet)
    out.print(f"[bold]Starting {count} simulated printers[/] on {args.network}.1-{count} (snmpsim)…")
    sim.start()
    broker: LocalBroker | None = None
    try:
        await sim.wait_ready()
        mqtt, broker = await ensure_broker(settings.mqtt)
        where = "started a local Mosquitto" if broker else "using the broker"
        out.print(f"[bold]MQTT:[/] {where} at {mqtt.host}:{mqtt.port}")
        out.print(
            f"  watch it:  mosquitto_sub -h {mqtt.host} -p {mqtt.port} -t '{mqtt.base_topic}/#' -v\n"
            f"  Home Assistant: point its MQTT integration at this broker; "
            f"devices appear under '{mqtt.discovery_prefix}/device/…'"
        )
        # The demo keeps its own throw-away inventory and never browses the real network.
        demo_settings = settings.model_copy(
            update={
                "inventory_file": sim.workdir / "inventory.sqlite3",
                "discovery": settings.discovery.model_copy(update={"mdns": False, "broadcast": False}),
                "mqtt": mqtt,
                "poll_interval": args.poll_interval,
                "printers": [
                    PrinterSettings.model_validate({"host": f"{p.address}:{p.port}"}) for p in fleet
                ],
            }
        )
        agent = Agent(demo_settings)
        cloud = await _start_cloud(sim.workdir / "cloud", out) if args.cloud else None
        suggested: set[tuple[str, str, str]] = set()
        synced = False

        info_file: Path | None = getattr(args, "info_file", None)
        agent_cycle = agent.poller.on_cycle  # the agent's own: publishes its state (network cost, …)

        async def show(report: CycleReport) -> None:
            nonlocal synced, info_file
            if agent_cycle is not None:
                await agent_cycle(report)
            if info_file is not None:  # the first cycle: printers, broker and cloud are all up
                write_info(info_file, mqtt, cloud)
                info_file = None
            rows = [
                (p.key, p.snapshot if p.available else None, p.error) for p in agent.poller.printers.values()
            ]
            title = (
                f"{report.ok}/{report.printers} printers polled in {report.seconds:.2f} s, "
                f"{report.traffic.bytes_total} bytes ({report.traffic.bytes_total // max(1, report.printers)}"
                f" per printer), {agent.publisher.messages_sent} MQTT messages so far"
            )
            out.print(fleet_table(rows, title))
            if cloud is None:
                return
            states = [
                {
                    **p.snapshot.to_json(),
                    "vendor": p.snapshot.identity.vendor,
                    "model": p.snapshot.identity.model,
                }
                for p in agent.poller.printers.values()
                if p.snapshot is not None and p.available
            ]
            try:
                if not synced and states:
                    status, size = await cloud.sync(states)
                    synced = status == 200
                    out.print(
                        f"[bold]Cloud:[/] daily fleet sync of {len(states)} printers sent: {size} bytes "
                        f"({size // len(states)} per printer), HTTP {status}"
                    )
                for tip in await cloud.suggestions(states):
                    key = (tip.printer, tip.supply, tip.part_number)
                    if key in suggested:
                        continue
                    suggested.add(key)
                    level = f"{tip.percent}%" if tip.percent is not None else tip.state
                    out.print(
                        f"[yellow]Reorder[/] {tip.printer}: {tip.supply} ({level}) → {tip.part_number} "
                        f"{tip.description}, {tip.price:.2f} {tip.currency}, {tip.lead_time_days} days\n"
                        f"        {tip.storefront_url}"
                    )
            except Exception as exc:  # the demo goes on without the cloud
                out.print(f"[red]cloud:[/] {exc}")

        agent.poller.on_cycle = show
        tasks = [
            asyncio.create_task(agent.run(), name="agent"),
            asyncio.create_task(simulate(fleet, sim, max(2.0, args.poll_interval / 2)), name="simulator"),
        ]
        try:
            if args.duration:
                await asyncio.wait(tasks, timeout=args.duration, return_when=asyncio.FIRST_EXCEPTION)
            else:
                await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            if cloud is not None:
                await cloud.stop()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            for result in results:
                if isinstance(result, Exception) and not isinstance(result, asyncio.CancelledError):
                    raise result
    finally:
        sim.stop()
        if broker is not None:
            broker.stop()
    return 0
