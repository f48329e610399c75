"""Human output: rich tables of printers, supplies and trays."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table
from rich.text import Text

from .model import PrinterSnapshot, Supply

_COLORS = {
    "black": "white",
    "cyan": "cyan",
    "magenta": "magenta",
    "yellow": "yellow",
    "photo_black": "white",
    "matte_black": "white",
    "light_cyan": "bright_cyan",
    "light_magenta": "bright_magenta",
}
_STATE_STYLE = {"low": "yellow", "empty": "bold red", "nearly_full": "yellow", "full": "bold red"}


def bar(supply: Supply, width: int = 20) -> Text:
    """A level bar; receptacles fill up, containers empty out."""
    style = _COLORS.get(supply.color or "", "green")
    if supply.percent is None:
        return Text(supply.state.replace("_", " "), style="dim")
    filled = round(width * supply.percent / 100)
    text = Text("█" * filled, style=style)
    text.append("░" * (width - filled), style="dim")
    text.append(f" {supply.percent:3d}%", style=_STATE_STYLE.get(supply.state, ""))
    return text


def snapshot_tables(snapshot: PrinterSnapshot) -> list[Table]:
    ident = snapshot.identity
    head = Table(show_header=False, title=f"{ident.vendor or ''} {ident.model or snapshot.host}".strip())
    head.add_column(style="bold")
    head.add_column()
    for label, value in (
        ("host", f"{snapshot.host}:{snapshot.port}"),
        ("id", snapshot.id),
        ("serial", ident.serial),
        ("firmware", ident.firmware),
        ("MAC", ident.mac),
        ("status", snapshot.status + (f" ({', '.join(snapshot.errors)})" if snapshot.errors else "")),
        ("pages", ", ".join(f"{k} {v}" for k, v in snapshot.counters.items())),
    ):
        if value:
            head.add_row(label, str(value))
    supplies = Table(title="Supplies")
    for column in ("supply", "kind", "colour", "level", "state", "raw", "part"):
        supplies.add_column(column)
    for s in snapshot.supplies:
        kind = s.kind + (" (fill)" if s.receptacle else "")
        supplies.add_row(
            s.name, kind, s.color or "", bar(s), s.state, f"{s.level}/{s.max_capacity}", s.part_number or ""
        )
    tables = [head, supplies]
    if snapshot.trays:
        trays = Table(title="Trays")
        for column in ("tray", "media", "level", "state"):
            trays.add_column(column)
        for t in snapshot.trays:
            level = f"{t.level}/{t.max_capacity}" + (f" ({t.percent}%)" if t.percent is not None else "")
            trays.add_row(t.name, t.media or "", level, t.state)
        tables.append(trays)
    if snapshot.alerts:
        alerts = Table(title="Alerts")
        for column in ("severity", "code", "description"):
            alerts.add_column(column)
        for a in snapshot.alerts:
            alerts.add_row(a.severity, a.code, a.description)
        tables.append(alerts)
    return tables


def fleet_table(snapshots: Iterable[tuple[str, PrinterSnapshot | None, str | None]], title: str) -> Table:
    """One row per printer: status, every supply as a short bar, page count."""
    table = Table(title=title, title_justify="left")
    table.add_column("printer", no_wrap=True)
    table.add_column("status")
    table.add_column("supplies")
    table.add_column("pages", justify="right")
    for key, snapshot, error in snapshots:
        if snapshot is None:
            table.add_row(key, Text("unavailable", style="red"), Text(error or "", style="dim"), "")
            continue
        lines = Text()
        for supply in snapshot.supplies:
            if lines:
                lines.append("\n")
            lines.append(f"{supply.name[:30]:<30} ")
            lines.append_text(bar(supply, 12))
        name = f"{snapshot.identity.vendor or ''} {snapshot.identity.model or ''}".strip() or key
        style = {"error": "bold red", "warning": "yellow"}.get(snapshot.status, "green")
        table.add_row(
            f"{name}\n[dim]{key}[/]",
            Text(snapshot.status, style=style),
            lines,
            str(snapshot.counters.get("total", "")),
        )
    return table
