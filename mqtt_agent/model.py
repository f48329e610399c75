"""The typed printer snapshot: what one poll of one printer yields.

Data flows one way: SNMP values -> decoders -> :class:`PrinterSnapshot` -> JSON (MQTT state,
``poll --json``) and Home Assistant discovery. The JSON form is specified by
``docs/schemas/printer-state.schema.json``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

SupplyKind = Literal[
    "toner",
    "ink",
    "ribbon",
    "drum",
    "developer",
    "fuser",
    "transfer_unit",
    "waste",
    "maintenance_kit",
    "roller",
    "staples",
    "cleaner",
    "filter",
    "other",
]

# ok: above the low threshold; low / empty: a container running out; nearly_full / full: a receptacle
# (waste bin, maintenance box) filling up; some_remaining: the printer only says "some left" (-3);
# unknown: no usable number (-2 or garbage); unrestricted: the printer says there is no limit (-1).
SupplyState = Literal[
    "ok", "low", "empty", "nearly_full", "full", "some_remaining", "unknown", "unrestricted"
]

PrinterStatus = Literal["idle", "printing", "warmup", "warning", "error", "testing", "unknown"]


@dataclass(frozen=True, slots=True)
class Supply:
    """One row of prtMarkerSuppliesTable (or a Brother private-MIB item)."""

    key: str  # stable within the printer: "<hrDeviceIndex>.<supplyIndex>"
    name: str  # cleaned description
    kind: SupplyKind
    color: str | None
    type: str | None  # the Printer-MIB type label as sent (e.g. "tonerCartridge")
    unit: str | None
    level: int | None  # raw prtMarkerSuppliesLevel
    max_capacity: int | None  # raw prtMarkerSuppliesMaxCapacity
    percent: int | None  # remaining for containers, fill for receptacles; None when not a number
    state: SupplyState
    receptacle: bool
    estimated: bool = False  # percent derived without a real max capacity
    part_number: str | None = None
    source: Literal["printer_mib", "brother_private"] = "printer_mib"
    reorder_point: int | None = None  # percent; set by the service from the inventory, None in `poll`


@dataclass(frozen=True, slots=True)
class Tray:
    """One row of prtInputTable."""

    key: str
    name: str
    kind: str | None
    media: str | None
    unit: str | None
    level: int | None
    max_capacity: int | None
    percent: int | None
    state: SupplyState
    status: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Alert:
    """One row of prtAlertTable."""

    key: str
    severity: str
    training_level: str | None
    group: str | None
    group_index: int | None
    location: int | None
    code: str
    code_value: int | None
    description: str
    time: int | None  # sysUpTime (hundredths of a second) when the alert was raised
    supply_key: str | None = None  # the supply a group-11 alert refers to
    tray_key: str | None = None  # the tray a group-8 alert refers to


@dataclass(frozen=True, slots=True)
class Identity:
    vendor: str | None
    model: str | None
    serial: str | None
    firmware: str | None
    mac: str | None
    sys_name: str | None
    sys_descr: str | None
    sys_object_id: str | None
    location: str | None
    device_id: str | None  # IEEE 1284 device ID as sent
    printer_name: str | None


@dataclass(frozen=True, slots=True)
class PrinterSnapshot:
    """Everything known about one printer after one poll."""

    id: str
    host: str
    port: int
    identity: Identity
    status: PrinterStatus
    device_status: str | None
    printer_status: str | None
    errors: list[str]
    problem: bool
    supplies: list[Supply]
    trays: list[Tray]
    counters: dict[str, int]
    counter_unit: str | None
    alerts: list[Alert]
    uptime: int | None = None  # seconds; not in the JSON, which is published only when it changes
    context: str | None = None  # SNMP context the Printer-MIB answered in, when not the default

    def to_json(self) -> dict[str, Any]:
        """The JSON form published on MQTT and printed by ``poll --json``."""
        ident = asdict(self.identity)
        body: dict[str, Any] = {
            "id": self.id,
            "host": self.host,
            "port": self.port,
            **ident,
            "status": self.status,
            "device_status": self.device_status,
            "printer_status": self.printer_status,
            "errors": list(self.errors),
            "problem": self.problem,
            "supplies": [asdict(s) for s in self.supplies],
            "trays": [asdict(t) for t in self.trays],
            "counters": dict(self.counters),
            "counter_unit": self.counter_unit,
            "alerts": [asdict(a) for a in self.alerts],
        }
        return body
