"""``printer-supplies-agent discover [CIDR ...]``: sweep, save each printer as it is found, report.

Each printer goes into the inventory the moment it is identified, so Ctrl-C (or the time limit)
loses nothing: the command then prints what was found and exits with 130. The progress bar goes
to stderr (only on a terminal), the result table or JSON to stdout.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .config import Settings
from .discovery import Candidate, SweepProgress, SweepReport, host_networks, parse_networks, sweep
from .errors import ConfigError
from .inventory import Change, Inventory, InventoryPrinter
from .snmp import SnmpClient

EXIT_OK, EXIT_INTERRUPTED = 0, 130


async def discover_command(
    settings: Settings, inventory: Inventory, networks: list[str], console: Console, *, as_json: bool
) -> int:
    """Sweep ``networks`` (else ``discovery.networks``, else this host's subnets)."""
    texts = list(networks) or list(settings.discovery.networks)
    parsed = parse_networks(texts) if texts else host_networks()
    if not parsed:
        raise ConfigError("no network to sweep: this host has no IPv4 subnet; give CIDRs")
    auto = settings.discovery.auto_monitor
    found: list[tuple[Candidate, InventoryPrinter, Change]] = []
    err = Console(stderr=True)
    progress = Progress(
        TextColumn("[bold]discover[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("addresses, {task.fields[printers]} printers"),
        TimeElapsedColumn(),
        console=err,
        disable=not err.is_terminal,
    )
    bar = progress.add_task("sweep", total=None, printers=0)

    def on_progress(state: SweepProgress) -> None:
        progress.update(bar, total=state.total, completed=state.done, printers=state.printers)

    def on_found(candidate: Candidate) -> None:
        printer, change = inventory.record(candidate.to_inventory(auto), monitored_if_new=auto)
        found.append((candidate, printer, change))
        what = " ".join(p for p in (candidate.vendor, candidate.model) if p) or "printer"
        progress.console.print(f"[green]found[/] {what} at {candidate.host} ({change})", highlight=False)

    report = SweepReport()
    client = SnmpClient()
    interrupted = False
    try:
        with progress:
            await sweep(
                client,
                parsed,
                settings.profiles(),
                settings.discovery,
                port=settings.snmp.port,
                on_progress=on_progress,
                on_found=on_found,
                report=report,
            )
    except asyncio.CancelledError:
        interrupted = True
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()  # handled here: the caller gets exit code 130, not a cancellation
    except KeyboardInterrupt:
        interrupted = True
    finally:
        client.close()
    report.cancelled = report.cancelled or interrupted

    if as_json:
        console.print_json(json.dumps(_as_json(report, found), ensure_ascii=False))
    else:
        _print_tables(console, report, found)
    return EXIT_INTERRUPTED if interrupted else EXIT_OK


def _as_json(report: SweepReport, found: list[tuple[Candidate, InventoryPrinter, Change]]) -> dict[str, Any]:
    printers = []
    for candidate, printer, change in sorted(found, key=lambda row: _host_key(row[0].host)):
        entry = candidate.to_json()
        entry.update(id=printer.id, change=change, monitored=printer.monitored, name=printer.name)
        printers.append(entry)
    return {
        "summary": report.summary(),
        "printers": printers,
        "vendor_only": [c.to_json() for c in sorted(report.vendor_only, key=lambda c: _host_key(c.host))],
        "non_printers": dict(report.non_printers),
        "unreadable": dict(report.unreadable),
    }


def _print_tables(
    console: Console, report: SweepReport, found: list[tuple[Candidate, InventoryPrinter, Change]]
) -> None:
    if found:
        table = Table(title="Printers found (saved in the inventory)")
        for column in ("host", "vendor", "model", "serial", "profile", "inventory"):
            table.add_column(column)
        for candidate, printer, change in sorted(found, key=lambda row: _host_key(row[0].host)):
            host = candidate.host if candidate.port == 161 else f"{candidate.host}:{candidate.port}"
            if candidate.context:
                host += f" ({candidate.context})"
            state = change if printer.monitored else f"{change}, not monitored"
            table.add_row(
                host,
                candidate.vendor or "",
                candidate.model or "",
                candidate.serial or "",
                candidate.profile,
                state,
            )
        console.print(table)
    if report.vendor_only:
        table = Table(title="Printer vendors' devices without Printer-MIB (not added; `add HOST` to try one)")
        for column in ("host", "vendor", "model", "sysObjectID"):
            table.add_column(column)
        for candidate in sorted(report.vendor_only, key=lambda c: _host_key(c.host)):
            table.add_row(
                candidate.host, candidate.vendor or "", candidate.model or "", candidate.sys_object_id or ""
            )
        console.print(table)
    console.print(_figures(report), highlight=False)
    if report.cancelled:
        console.print(f"interrupted: the {len(found)} printers found so far are saved in the inventory")
    elif report.timed_out:
        console.print("stopped at the time limit (discovery.time_limit)")


def _figures(report: SweepReport) -> str:
    per_printer, per_silent = report.bytes_per_printer, report.bytes_per_silent
    text = (
        f"{report.done}/{report.addresses} addresses in {report.seconds:.1f} s: {report.answered} answered, "
        f"{len(report.printers)} printers, {len(report.vendor_only)} vendor-only, "
        f"{len(report.non_printers) + len(report.unreadable)} other devices. "
        f"{report.requests} requests, {report.bytes_total} bytes"
    )
    if per_printer is not None:
        text += f"; {per_printer:.0f} bytes per printer found"
    if per_silent is not None:
        text += f"; {per_silent:.0f} bytes per silent address"
    return text + "."


def _host_key(host: str) -> tuple[int, int, str]:
    """Addresses in numeric order, names after them."""
    try:
        return (0, int(ipaddress.ip_address(host)), "")
    except ValueError:
        return (1, 0, host)
