"""Fleet sync: the compact daily upload, and the monitoring streak it keeps per printer.

The vendor's agent uploads about 1,700 bytes per printer per day; ours must stay under 400. So a
printer is one small JSON object and its supplies one string, ``kind[/color]:part:level`` per
supply, comma-separated, where level is the percent the agent reports (remaining for containers,
full for receptacles such as waste bins) or, when the printer gives no number, the agent's state
word. :func:`compact_printer` turns an agent snapshot into that form; the service only stores the
line as sent (the dealer reads it) and checks its grammar.

A printer counts as monitored on every day it appears in an upload. Its *streak* is the run of
days without a gap longer than ``max_gap_days`` missing days; eligibility for the service reward
reads the streak.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import FleetPrinter, FleetSync, Site
from .catalog import KINDS

STATES = ("ok", "low", "empty", "nearly_full", "full", "some_remaining", "unknown", "unrestricted")
REASONS = ("daily", "reorder_point")
MAX_PRINTERS = 1000
MAX_SUPPLIES_CHARS = 2000
MAX_PAGES = 2_000_000_000  # a 32-bit column on every database

_KIND = "|".join(KINDS)
_STATE = "|".join(STATES)
_ENTRY = rf"(?:{_KIND})(?:/[a-z0-9 _-]{{1,32}})?:[^,:\x00-\x1f\x7f]{{0,64}}:(?:100|[1-9]?[0-9]|{_STATE})"
SUPPLIES_PATTERN = rf"^(?:{_ENTRY}(?:,{_ENTRY})*)?$"
_SUPPLIES = re.compile(SUPPLIES_PATTERN)


@dataclass(frozen=True)
class SupplyLevel:
    kind: str
    color: str | None
    part_number: str | None
    percent: int | None
    state: str | None


def parse_supplies(line: str) -> list[SupplyLevel]:
    """The supplies of one compact line; ValueError names what is wrong."""
    if not _SUPPLIES.match(line):
        raise ValueError(
            "supplies must be comma-separated kind[/color]:part_number:level entries, level a percent "
            f"0-100 or one of {', '.join(STATES)}"
        )
    levels = []
    for entry in filter(None, line.split(",")):
        head, part, level = entry.split(":")
        kind, _, color = head.partition("/")
        number = level.isdigit()
        levels.append(
            SupplyLevel(
                kind, color or None, part or None, int(level) if number else None, None if number else level
            )
        )
    return levels


def compact_supplies(supplies: list[Mapping[str, Any]]) -> str:
    """The supplies line for the agent's supply objects (``PrinterSnapshot.to_json()["supplies"]``)."""
    entries = []
    for supply in supplies:
        kind = supply.get("kind") if supply.get("kind") in KINDS else "other"
        head = str(kind)
        color = supply.get("color")
        if color:
            head += "/" + re.sub(r"[^a-z0-9 _-]", "", str(color).casefold())[:32]
        part = re.sub(r"[,:\x00-\x1f\x7f]", "", str(supply.get("part_number") or ""))[:64]
        percent = supply.get("percent")
        level = str(percent) if isinstance(percent, int) and 0 <= percent <= 100 else supply.get("state")
        entries.append(f"{head}:{part}:{level if level in STATES or str(level).isdigit() else 'unknown'}")
    return ",".join(entries)


def compact_printer(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """One printer of a fleet sync, from the agent's printer snapshot JSON."""
    counters = snapshot.get("counters") or {}
    printer: dict[str, Any] = {"id": snapshot["id"]}
    if snapshot.get("vendor"):
        printer["vendor"] = snapshot["vendor"]
    if snapshot.get("model"):
        printer["model"] = snapshot["model"]
    if isinstance(counters.get("total"), int):
        printer["pages"] = counters["total"]
    printer["supplies"] = compact_supplies(snapshot.get("supplies") or [])
    return printer


# --- applying an upload ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PrinterReport:
    """One printer of an upload, as the API validated it."""

    id: str
    model: str | None = None
    vendor: str | None = None
    pages: int | None = None
    supplies: str | None = None


@dataclass(frozen=True)
class FleetUpload:
    day: dt.date
    reason: str
    printers: list[PrinterReport] = field(default_factory=list)


@dataclass(frozen=True)
class SyncResult:
    day: dt.date
    reason: str
    printers: int
    new_printers: int
    bytes: int

    @property
    def bytes_per_printer(self) -> float:
        return round(self.bytes / self.printers, 1) if self.printers else 0.0


def apply_sync(
    session: Session, site: Site, body: FleetUpload, size_bytes: int, max_gap_days: int
) -> SyncResult:
    """Record an upload: each printer's last known state, and its monitoring streak by day.

    Days may arrive more than once (a reorder-point upload after the daily one, a retry) and out of
    order (an agent catching up): a day at or before the printer's last day never moves its streak,
    a later day extends it when at most ``max_gap_days`` days are missing in between and starts a
    new one otherwise.
    """
    ids = [p.id for p in body.printers]
    known = {
        p.printer_id: p
        for p in session.scalars(
            select(FleetPrinter).where(FleetPrinter.site_id == site.id, FleetPrinter.printer_id.in_(ids))
        )
    }
    new = 0
    for report in body.printers:
        printer = known.get(report.id)
        if printer is None:
            printer = FleetPrinter(
                site_id=site.id,
                printer_id=report.id,
                first_day=body.day,
                streak_start=body.day,
                last_day=body.day,
            )
            session.add(printer)
            known[report.id] = printer
            new += 1
        elif body.day > printer.last_day:
            missing = (body.day - printer.last_day).days - 1
            if missing > max_gap_days:
                printer.streak_start = body.day
            printer.last_day = body.day
        else:
            printer.first_day = min(printer.first_day, body.day)
            if body.day < printer.last_day:
                continue  # an older day: the newer state stands
        printer.vendor = report.vendor or printer.vendor
        printer.model = report.model or printer.model
        printer.pages = report.pages if report.pages is not None else printer.pages
        printer.supplies = report.supplies if report.supplies is not None else printer.supplies
    session.add(
        FleetSync(
            site_id=site.id, day=body.day, printers=len(body.printers), bytes=size_bytes, reason=body.reason
        )
    )
    session.flush()
    return SyncResult(body.day, body.reason, len(body.printers), new, size_bytes)
