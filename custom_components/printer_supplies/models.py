"""A typed view of the fleet, built from the agent's retained printer state JSON.

Only what the integration acts on is kept; the schema of the full state is the agent's
(docs/schemas/printer-state.schema.json).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

REORDER_STATES = ("low", "empty")
RECEPTACLE_REORDER_STATES = ("nearly_full", "full")


@dataclass(frozen=True, slots=True)
class Supply:
    key: str
    name: str
    kind: str
    color: str | None
    percent: int | None
    state: str
    receptacle: bool
    part_number: str | None
    reorder_point: int | None
    row: dict[str, Any] = field(repr=False, compare=False, hash=False)

    @property
    def left(self) -> int | None:
        """Percent left to use: remaining for containers, room left for receptacles."""
        if self.percent is None:
            return None
        return 100 - self.percent if self.receptacle else self.percent

    @property
    def at_reorder_point(self) -> bool:
        if self.left is not None and self.reorder_point is not None:
            return self.left <= self.reorder_point
        return self.state in (RECEPTACLE_REORDER_STATES if self.receptacle else REORDER_STATES)


@dataclass(frozen=True, slots=True)
class Printer:
    id: str
    vendor: str | None
    model: str | None
    name: str
    host: str | None
    total_pages: int | None
    monitored: bool
    supplies: dict[str, Supply]

    @property
    def full_model(self) -> str:
        """Vendor and model as one string, the way the catalog search wants it."""
        if self.vendor and self.model and not self.model.lower().startswith(self.vendor.lower()):
            return f"{self.vendor} {self.model}"
        return self.model or self.vendor or self.id

    def supply(self, ref: str) -> Supply | None:
        """A supply by key, or by name (case ignored)."""
        if ref in self.supplies:
            return self.supplies[ref]
        wanted = ref.strip().lower()
        return next((s for s in self.supplies.values() if s.name.lower() == wanted), None)


def uid_part(key: str) -> str:
    """A supply key as the agent writes it in unique ids: every non-alphanumeric becomes ``_``."""
    return "".join(c if c.isalnum() else "_" for c in key)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_printer(data: Any) -> Printer:
    """A printer from its state JSON; raises ValueError on anything that is not one."""
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not data["id"]:
        raise ValueError("a printer state is a JSON object with an id")
    supplies: dict[str, Supply] = {}
    for row in data.get("supplies") or []:
        if not isinstance(row, dict) or not isinstance(row.get("key"), str):
            continue
        supplies[row["key"]] = Supply(
            key=row["key"],
            name=_str(row.get("name")) or row["key"],
            kind=_str(row.get("kind")) or "other",
            color=_str(row.get("color")),
            percent=_int(row.get("percent")),
            state=_str(row.get("state")) or "unknown",
            receptacle=bool(row.get("receptacle")),
            part_number=_str(row.get("part_number")),
            reorder_point=_int(row.get("reorder_point")),
            row=row,
        )
    counters = data.get("counters") if isinstance(data.get("counters"), dict) else {}
    vendor, model = _str(data.get("vendor")), _str(data.get("model"))
    if vendor and model:
        name = model if model.lower().startswith(vendor.lower()) else f"{vendor} {model}"
    else:
        name = model or _str(data.get("sys_name")) or _str(data.get("host")) or data["id"]
    return Printer(
        id=data["id"],
        vendor=vendor,
        model=model,
        name=name,
        host=_str(data.get("host")),
        total_pages=_int(counters.get("total")),
        monitored=data.get("monitored") is not False,
        supplies=supplies,
    )
