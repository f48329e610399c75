"""Command line: ``printer-supplies-agent run | poll | demo | list``.

Exit codes: 0 success, 1 the work failed (e.g. the printer did not answer), 2 bad usage or
configuration (the message names the offending key), 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.logging import RichHandler

from . import __version__
from .config import Settings, load_settings, split_host_port
from .errors import AgentError, ConfigError
from .inventory import Inventory
from .render import snapshot_tables

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

_LOG = logging.getLogger("mqtt_agent")


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", type=Path, help="YAML configuration file")
    parser.add_argument("--log-level", help="DEBUG, INFO, WARNING or ERROR")


def _add_mqtt(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("MQTT")
    group.add_argument("--mqtt-host", help="broker address (default 127.0.0.1)")
    group.add_argument("--mqtt-port", type=int, help="broker port (default 1883)")
    group.add_argument("--base-topic", help="topic prefix (default printer_supplies)")
    group.add_argument("--agent-id", help="name of this agent (default: the host name)")


def _add_snmp(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("SNMP")
    group.add_argument("--snmp-version", choices=["1", "2c", "3"], help="SNMP version (default 2c)")
    group.add_argument("--community", help="v1/v2c community (default public)")
    group.add_argument("--timeout", type=float, help="seconds per request (default 2)")
    group.add_argument("--retries", type=int, help="retries after a timeout (default 1)")
    group.add_argument("--v3-user", help="SNMPv3 user")
    group.add_argument("--v3-auth-protocol", help="none, md5, sha, sha224, sha256, sha384, sha512")
    group.add_argument("--v3-auth-key", help="SNMPv3 authentication pass phrase")
    group.add_argument("--v3-priv-protocol", help="none, des, aes, aes128, aes192, aes256")
    group.add_argument("--v3-priv-key", help="SNMPv3 privacy pass phrase")
    group.add_argument("--context", help="SNMP context (v3 context name; v1/v2c: community@context)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="printer-supplies-agent",
        description="Watches printers over SNMP and publishes their supplies to MQTT and Home Assistant.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = commands.add_parser("run", help="poll the configured printers and publish them (the service)")
    _add_common(run)
    _add_mqtt(run)
    run.add_argument("--poll-interval", type=float, help="seconds between polls (default 300)")

    poll = commands.add_parser("poll", help="read one printer once and print what it reports (no MQTT)")
    poll.add_argument("host", metavar="HOST[:PORT]", help="IP address or DNS name of the printer")
    poll.add_argument("--json", action="store_true", help="print the snapshot as JSON")
    _add_common(poll)
    _add_snmp(poll)

    demo = commands.add_parser("demo", help="simulated printers + broker: watch the agent at work")
    _add_common(demo)
    _add_mqtt(demo)
    demo.add_argument("--printers", type=int, default=5, help="number of simulated printers (default 5)")
    demo.add_argument("--poll-interval", type=float, default=10.0, help="seconds between polls (default 10)")
    demo.add_argument("--duration", type=float, help="stop after this many seconds (default: until Ctrl-C)")
    demo.add_argument("--network", default="127.77.0", help="loopback /24 for the simulated printers")
    demo.add_argument(
        "--no-cloud",
        dest="cloud",
        action="store_false",
        help="do not start the reference supplies cloud (catalog, storefront links, orders)",
    )
    demo.add_argument(
        "--info-file",
        type=Path,
        metavar="PATH",
        help="once all is up, write the broker address, topics and cloud URL/API key here as JSON "
        "(for scripts that join the demo, e.g. scripts/ha_demo.py)",
    )

    discover = commands.add_parser(
        "discover", help="sweep subnets for printers (default: this host's subnets) and add them"
    )
    discover.add_argument("networks", nargs="*", metavar="CIDR", help="e.g. 192.168.1.0/24")
    discover.add_argument("--json", action="store_true", help="print the result as JSON")
    discover.add_argument("--rate", type=float, help="probe packets per second (default 100)")
    discover.add_argument("--time-limit", type=float, help="stop after this many seconds (default 300)")
    _add_common(discover)
    _add_snmp(discover)

    add = commands.add_parser("add", help="add a printer by IP address or DNS name")
    add.add_argument("host", metavar="HOST[:PORT]")
    add.add_argument("--name", help="display name")
    _add_common(add)
    _add_snmp(add)

    for name, text in (
        ("remove", "remove a printer from the inventory"),
        ("monitor", "poll and publish a printer of the inventory"),
        ("unmonitor", "keep a printer in the inventory but stop polling it"),
    ):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("printer", metavar="PRINTER", help="id, address, serial or MAC")
        _add_common(sub)

    lst = commands.add_parser("list", help="list the configured and inventoried printers")
    _add_common(lst)
    lst.add_argument("--json", action="store_true", help="print JSON")
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Command-line flags as settings overrides (only those given)."""
    out: dict[str, Any] = {}
    mqtt = {
        "host": getattr(args, "mqtt_host", None),
        "port": getattr(args, "mqtt_port", None),
        "base_topic": getattr(args, "base_topic", None),
    }
    mqtt = {k: v for k, v in mqtt.items() if v is not None}
    if mqtt:
        out["mqtt"] = mqtt
    snmp = {
        "version": getattr(args, "snmp_version", None),
        "community": getattr(args, "community", None),
        "timeout": getattr(args, "timeout", None),
        "retries": getattr(args, "retries", None),
        "user": getattr(args, "v3_user", None),
        "auth_protocol": getattr(args, "v3_auth_protocol", None),
        "auth_key": getattr(args, "v3_auth_key", None),
        "priv_protocol": getattr(args, "v3_priv_protocol", None),
        "priv_key": getattr(args, "v3_priv_key", None),
        "context": getattr(args, "context", None),
    }
    snmp = {k: v for k, v in snmp.items() if v is not None}
    if snmp:
        out["snmp"] = snmp
    for name in ("agent_id", "poll_interval", "log_level"):
        value = getattr(args, name, None)
        if value is not None:
            out[name] = value
    discovery = {"rate": getattr(args, "rate", None), "time_limit": getattr(args, "time_limit", None)}
    discovery = {k: v for k, v in discovery.items() if v is not None}
    if discovery:
        out["discovery"] = discovery
    return out


def _setup_logging(level: str, console: Console) -> None:
    handler = RichHandler(console=console, show_path=False, rich_tracebacks=False)
    logging.basicConfig(level=level, format="%(message)s", datefmt="[%X]", handlers=[handler], force=True)
    # pysnmp and aiomqtt are chatty at DEBUG; keep them at WARNING unless asked.
    for noisy in ("pysnmp", "asyncio", "httpx", "httpcore", "uvicorn.access", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    err = Console(stderr=True)
    out = Console()
    try:
        settings = load_settings(args.config, _overrides(args))
    except ConfigError as exc:
        err.print(f"[bold red]configuration error:[/] {exc}")
        return EXIT_USAGE
    _setup_logging(settings.log_level, err)
    try:
        if args.command == "run":
            return asyncio.run(_run(settings))
        if args.command == "poll":
            return asyncio.run(_poll(settings, args.host, args.json, out, err))
        if args.command == "demo":
            from .demo import run_demo

            return asyncio.run(run_demo(settings, args, out))
        if args.command == "list":
            return _list(settings, args.json, out)
        if args.command == "discover":
            from .discover_cli import discover_command

            with _inventory(settings) as inventory:
                return asyncio.run(
                    discover_command(settings, inventory, args.networks, out, as_json=args.json)
                )
        if args.command == "add":
            return asyncio.run(_add(settings, args.host, args.name, out))
        if args.command in ("remove", "monitor", "unmonitor"):
            return _change(settings, args.command, args.printer, out)
    except ConfigError as exc:
        err.print(f"[bold red]configuration error:[/] {exc}")
        return EXIT_USAGE
    except AgentError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        err.print("interrupted")
        return EXIT_INTERRUPTED
    parser.error(f"unknown command {args.command}")
    return EXIT_USAGE  # pragma: no cover - parser.error exits


async def _run(settings: Settings) -> int:
    from .service import Agent

    if not settings.printers:
        _LOG.warning("no printers configured: add some under `printers:` in the config file")
    agent = Agent(settings)
    _LOG.info(
        "agent %s: %d printers, polling every %.0f s, broker %s:%s",
        settings.agent_id,
        len(settings.printers),
        settings.poll_interval,
        settings.mqtt.host,
        settings.mqtt.port,
    )
    await agent.run()
    return EXIT_OK


async def _poll(settings: Settings, host: str, as_json: bool, out: Console, err: Console) -> int:
    from .reader import PrinterReader
    from .snmp import SnmpClient

    name, port = split_host_port(host, settings.snmp.port)
    target = settings.printer_target(_printer_entry(name, port))
    client = SnmpClient()
    try:
        reader = PrinterReader(client, target, low_threshold=settings.low_threshold)
        snapshot = await reader.poll()
    finally:
        client.close()
    if as_json:
        body = snapshot.to_json()
        traffic = reader.last_poll_traffic
        body["traffic"] = {"requests": traffic.requests, "bytes": traffic.bytes_total}
        out.print_json(json.dumps(body, ensure_ascii=False))
    else:
        for table in snapshot_tables(snapshot):
            out.print(table)
        traffic = reader.last_poll_traffic
        err.print(f"[dim]{traffic.requests} requests, {traffic.bytes_total} bytes on the wire[/]")
    return EXIT_OK


def _printer_entry(host: str, port: int) -> Any:
    from .config import PrinterSettings

    return PrinterSettings.model_validate({"host": host, "snmp": {"port": port}})


@contextlib.contextmanager
def _inventory(settings: Settings) -> Iterator[Inventory]:
    inventory = Inventory(settings.inventory_path)
    try:
        yield inventory
    finally:
        inventory.close()


async def _add(settings: Settings, host: str, name: str | None, out: Console) -> int:
    from .service import identify, inventory_entry
    from .snmp import SnmpClient

    client = SnmpClient()
    try:
        snapshot, profile = await identify(settings, client, host)
    finally:
        client.close()
    with _inventory(settings) as inventory:
        printer, change = inventory.record(
            inventory_entry(snapshot, profile, "manual", split_host_port(host)[0])
        )
        if name:
            printer = inventory.rename(printer.id, name)
        if not printer.monitored:
            printer = inventory.set_monitored(printer.id, True)
    verb = {"new": "added", "moved": "updated the address of", "seen": "already had"}[change]
    out.print(f"{verb} {printer.id}: {printer.vendor or ''} {printer.model or ''} at {printer.address}")
    return EXIT_OK


def _change(settings: Settings, command: str, ref: str, out: Console) -> int:
    with _inventory(settings) as inventory:
        if command == "remove":
            printer = inventory.remove(ref)
            out.print(f"removed {printer.id} ({printer.address}); a running agent drops it at its next cycle")
        else:
            printer = inventory.set_monitored(ref, command == "monitor")
            state = "monitored" if printer.monitored else "not monitored"
            out.print(f"{printer.id} ({printer.address}) is now {state}")
    return EXIT_OK


def _list(settings: Settings, as_json: bool, out: Console) -> int:
    from rich.table import Table

    rows: list[dict[str, Any]] = []
    for printer in settings.printers:
        target = settings.printer_target(printer)
        rows.append(
            {
                "id": None,
                "address": target.label,
                "name": printer.name,
                "model": None,
                "serial": None,
                "monitored": True,
                "source": "config",
                "snmp": target.auth.describe(),
            }
        )
    with _inventory(settings) as inventory:
        for item in inventory.all():
            profile = settings.profile(item.profile)
            rows.append(
                {
                    "id": item.id,
                    "address": item.address,
                    "name": item.name,
                    "model": " ".join(x for x in (item.vendor, item.model) if x) or None,
                    "serial": item.serial,
                    "monitored": item.monitored,
                    "source": item.source,
                    "snmp": f"{profile.name} ({profile.auth().describe()})",
                }
            )
    if as_json:
        out.print_json(json.dumps(rows))
        return EXIT_OK
    table = Table(title=f"{len(rows)} printers")
    for column in ("id", "address", "name", "model", "serial", "monitored", "source", "snmp"):
        table.add_column(column)
    for row in rows:
        table.add_row(*("yes" if v is True else "no" if v is False else str(v or "") for v in row.values()))
    out.print(table)
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
