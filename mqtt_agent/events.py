"""Supply events: low, reorder point reached, empty, replaced — each fired once per crossing.

Levels wobble (a toner reading 9, 11, 10 %) and printers report in steps, so an event fires when a
supply crosses into a condition and is armed again only once it has clearly left it (by
``HYSTERESIS`` points). What has fired is remembered in the inventory, so a restart of the agent
never repeats an event, and a fresh install still tells about supplies that are already low.

Levels are compared as *remaining*: a container's percent, a receptacle's room left (100 − fill),
so the same rules serve toner and waste bins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from .model import PrinterSnapshot, Supply

EventType = Literal["low", "reorder_point", "empty", "replaced"]
EVENT_TYPES: tuple[EventType, ...] = ("low", "reorder_point", "empty", "replaced")
HYSTERESIS = 5  # points above a threshold before its event can fire again
REPLACED_JUMP = 20  # points a level must rise at once to count as a new cartridge

_LOW_STATES = {"low", "empty", "nearly_full", "full"}
_EMPTY_STATES = {"empty", "full"}

Memory = tuple[frozenset[str], int | None, str | None]


@dataclass(frozen=True, slots=True)
class SupplyEvent:
    event_type: EventType
    printer_id: str
    supply: Supply

    def to_json(self, at: str) -> dict[str, Any]:
        """The payload on ``<base>/printer/<id>/event`` (Home Assistant's event entity reads it)."""
        s = self.supply
        return {
            "event_type": self.event_type,
            "printer_id": self.printer_id,
            "supply": s.key,
            "supply_name": s.name,
            "kind": s.kind,
            "color": s.color,
            "part_number": s.part_number,
            "percent": s.percent,
            "state": s.state,
            "receptacle": s.receptacle,
            "reorder_point": s.reorder_point,
            "at": at,
        }


def remaining(supply: Supply) -> int | None:
    if supply.percent is None:
        return None
    return 100 - supply.percent if supply.receptacle else supply.percent


def _conditions(supply: Supply, reorder_point: int) -> dict[EventType, bool | None]:
    """Which conditions hold now (None: cannot tell, e.g. no number and a neutral state)."""
    left = remaining(supply)
    low = supply.state in _LOW_STATES
    empty = supply.state in _EMPTY_STATES
    if left is not None:
        at_reorder: bool | None = left <= reorder_point
    elif supply.state in _LOW_STATES:
        at_reorder = True  # the printer says low but gives no number: its own judgement decides
    elif supply.state in ("ok", "some_remaining", "unrestricted"):
        at_reorder = False
    else:
        at_reorder = None
    return {"low": low, "empty": empty, "reorder_point": at_reorder}


def _cleared(event: EventType, supply: Supply, reorder_point: int, low_threshold: int) -> bool:
    """Has the supply clearly left the condition of ``event`` (so it may fire again)?"""
    left = remaining(supply)
    if event == "reorder_point":
        if left is not None:
            return left > reorder_point + HYSTERESIS
        return supply.state in ("ok", "some_remaining", "unrestricted")
    if event == "low":
        if left is not None:
            return supply.state == "ok" and left > low_threshold + HYSTERESIS
        return supply.state in ("ok", "some_remaining", "unrestricted")
    if event == "empty":
        return supply.state not in _EMPTY_STATES
    return True


def detect(
    snapshot: PrinterSnapshot,
    memory: dict[str, Memory],
    default_reorder_point: int,
    low_threshold: int,
    remember: Callable[[str, frozenset[str], int | None, str | None], None],
) -> list[SupplyEvent]:
    """Events of one poll, given what was remembered; ``remember`` stores the new memory."""
    events: list[SupplyEvent] = []
    for supply in snapshot.supplies:
        rp = supply.reorder_point if supply.reorder_point is not None else default_reorder_point
        fired, last_left, last_state = memory.get(supply.key, (frozenset(), None, None))
        now = set(fired)
        left = remaining(supply)
        # A new cartridge: the level jumps up, or a low supply with no number reports ok again.
        replaced = supply.key in memory and (
            (left is not None and last_left is not None and left - last_left >= REPLACED_JUMP)
            or (left is None and last_state in _LOW_STATES and supply.state == "ok")
        )
        if replaced:
            events.append(SupplyEvent("replaced", snapshot.id, supply))
            now.clear()
        for event, holds in _conditions(supply, rp).items():
            if event in now and _cleared(event, supply, rp, low_threshold):
                now.discard(event)
            elif holds and event not in now:
                events.append(SupplyEvent(event, snapshot.id, supply))
                now.add(event)
        if frozenset(now) != fired or left != last_left or supply.state != last_state:
            remember(supply.key, frozenset(now), left, supply.state)
    return events
