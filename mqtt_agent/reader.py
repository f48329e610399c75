"""Reads one printer: static tables rarely, levels and status every poll, into a snapshot.

Static data (identity, supply descriptions and capacities, colorants, trays, marker rows) is read
on the first poll and refreshed when it is older than ``static_max_age``, when the printer's
``prtGeneralConfigChanges`` counter moves, when a row disappears, or after the printer was away.
Each poll is then a single GET (plus the alert table only when ``prtAlertAllEvents`` moved), which
keeps a 4-supply printer to a few hundred bytes per poll.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field, replace

from . import brother, mib
from .errors import NotAPrinter, SnmpError
from .model import Alert, Identity, PrinterSnapshot, Supply, Tray
from .printer_mib import (
    SupplyRow,
    TrayRow,
    alerts,
    as_int,
    decode_error_state,
    make_tray,
    overall_status,
    supply_level,
    supply_rows,
    tray_rows,
)
from .snmp import SnmpClient, SnmpTarget, SnmpValue, Traffic
from .vendors import build_identity, charset_of, enterprise_of, identity_oids, vendor_counters, vendor_oids

_LOG = logging.getLogger(__name__)

SUPPLY_COLUMNS = (
    mib.PRT_SUPPLY_COLORANT_INDEX,
    mib.PRT_SUPPLY_CLASS,
    mib.PRT_SUPPLY_TYPE,
    mib.PRT_SUPPLY_DESCRIPTION,
    mib.PRT_SUPPLY_UNIT,
    mib.PRT_SUPPLY_MAX_CAPACITY,
    mib.PRT_SUPPLY_LEVEL,
)
TRAY_COLUMNS = (
    mib.PRT_INPUT_TYPE,
    mib.PRT_INPUT_CAPACITY_UNIT,
    mib.PRT_INPUT_MAX_CAPACITY,
    mib.PRT_INPUT_CURRENT_LEVEL,
    mib.PRT_INPUT_MEDIA_NAME,
    mib.PRT_INPUT_NAME,
    mib.PRT_INPUT_DESCRIPTION,
)
MARKER_COLUMNS = (mib.PRT_MARKER_COUNTER_UNIT, mib.PRT_MARKER_LIFE_COUNT)
ALERT_COLUMNS = (
    mib.PRT_ALERT_SEVERITY,
    mib.PRT_ALERT_TRAINING_LEVEL,
    mib.PRT_ALERT_GROUP,
    mib.PRT_ALERT_GROUP_INDEX,
    mib.PRT_ALERT_LOCATION,
    mib.PRT_ALERT_CODE,
    mib.PRT_ALERT_DESCRIPTION,
    mib.PRT_ALERT_TIME,
)
# Contexts tried, in order, when an HP device's default context has no Printer-MIB (Jetdirect cards).
FALLBACK_CONTEXTS = ("Jetdirect",)

_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    return _SLUG.sub("_", text.lower()).strip("_")


def printer_id(identity: Identity, host: str, port: int) -> str:
    """A stable id: vendor + serial where the printer has one, else its MAC, else its address."""
    if identity.serial:
        return slug(f"{identity.vendor or 'printer'}_{identity.serial}")[:64]
    if identity.mac:
        return slug(f"mac_{identity.mac}")
    suffix = "" if port == 161 else f"_{port}"
    return slug(f"host_{host}{suffix}")[:64]


@dataclass(slots=True)
class StaticData:
    identity: Identity
    enterprise: int | None
    device_index: int
    charset: str | None
    context: str
    supplies: list[SupplyRow]
    trays: list[TrayRow]
    markers: list[str]  # prtMarkerTable instance suffixes
    counter_unit: str | None
    read_at: float
    config_changes: int | None = None
    alert_events: int | None = None
    alerts: list[Alert] = field(default_factory=list)
    status_fingerprint: tuple[object, ...] = ()
    level_keys: frozenset[str] = frozenset()  # supply rows that had a level when the tables were read
    counter_oids: tuple[str, ...] = ()  # vendor page-counter OIDs this printer answered


class PrinterReader:
    """Polls one printer through a shared :class:`SnmpClient`."""

    def __init__(
        self,
        client: SnmpClient,
        target: SnmpTarget,
        *,
        low_threshold: int = 10,
        static_max_age: float = 86400.0,
        fixed_id: str | None = None,
    ) -> None:
        self.client = client
        self.target = target
        self.low_threshold = low_threshold
        self.static_max_age = static_max_age
        self.static: StaticData | None = None
        self.last_poll_traffic = Traffic()
        # The inventory's id for this printer, so an address change never makes a new device.
        self.fixed_id = fixed_id
        self.address: tuple[str, int] | None = None  # resolved, once polled

    def invalidate(self) -> None:
        """Forget static data: the next poll reads identity and tables again."""
        self.static = None

    async def poll(self) -> PrinterSnapshot:
        address = self.address = await self.client.address(self.target)
        before = self.client.meter.get(address).snapshot()
        try:
            static = self.static
            if static is None or time.monotonic() - static.read_at > self.static_max_age:
                static = self.static = await self._read_static()
            snapshot = await self._read_dynamic(static)
            if snapshot is None:  # the printer changed its tables under us: read them again
                static = self.static = await self._read_static()
                snapshot = await self._read_dynamic(static)
                if snapshot is None:
                    raise SnmpError(f"{self.target.label}: printer tables keep changing")
            return snapshot
        finally:
            self.last_poll_traffic = self.client.meter.get(address).minus(before)

    # --- static --------------------------------------------------------------------------------

    async def _read_static(self) -> StaticData:
        target = self.target
        first = await self.client.get(target, identity_oids(None, 1))
        if mib.SYS_OBJECT_ID not in first and mib.SYS_DESCR not in first:
            raise NotAPrinter(f"{target.label}: answers SNMP but has no system group")
        sys_oid = first.get(mib.SYS_OBJECT_ID)
        enterprise = enterprise_of(sys_oid if isinstance(sys_oid, str) else None)
        values: dict[str, SnmpValue] = dict(first)
        extra = [o for o in identity_oids(enterprise, 1) if o not in first]
        if enterprise is not None and extra:
            values.update(await self.client.get(target, extra))

        context = ""
        tables = await self.client.walk(target, SUPPLY_COLUMNS + (mib.PRT_COLORANT_VALUE,) + MARKER_COLUMNS)
        if not tables[mib.PRT_SUPPLY_LEVEL] and not tables[mib.PRT_SUPPLY_DESCRIPTION] and enterprise == 11:
            for candidate in FALLBACK_CONTEXTS:
                try:
                    alt = await self.client.walk(
                        target.with_context(candidate),
                        SUPPLY_COLUMNS + (mib.PRT_COLORANT_VALUE,) + MARKER_COLUMNS,
                    )
                except SnmpError:
                    continue
                if alt[mib.PRT_SUPPLY_LEVEL] or alt[mib.PRT_SUPPLY_DESCRIPTION]:
                    tables, context = alt, candidate
                    _LOG.info("%s: Printer-MIB found in SNMP context %r", target.label, candidate)
                    break
        scoped = target.with_context(context) if context else target
        trays_raw = await self.client.walk(scoped, TRAY_COLUMNS)

        device_index = 1
        for column in (mib.PRT_SUPPLY_LEVEL, mib.PRT_SUPPLY_DESCRIPTION):
            if tables[column]:
                first_key = next(iter(tables[column]))
                device_index = int(first_key.split(".")[0]) if first_key.split(".")[0].isdigit() else 1
                break
        if device_index != 1:
            values.update(await self.client.get(target, identity_oids(enterprise, device_index)))
        charset = charset_of(values, device_index)
        identity = build_identity(values, device_index)

        supplies = supply_rows(tables, tables[mib.PRT_COLORANT_VALUE], charset)
        trays = tray_rows(trays_raw, charset)
        markers = sorted(tables[mib.PRT_MARKER_LIFE_COUNT] or tables[mib.PRT_MARKER_COUNTER_UNIT])
        unit_code = as_int(tables[mib.PRT_MARKER_COUNTER_UNIT].get(markers[0])) if markers else None
        has_printer_mib = bool(supplies or trays or markers)
        if not has_printer_mib and enterprise != 2435:
            raise NotAPrinter(
                f"{target.label}: answers SNMP ({identity.sys_descr or 'no sysDescr'}) "
                "but has no Printer-MIB data"
            )
        static = StaticData(
            identity=identity,
            enterprise=enterprise,
            device_index=device_index,
            charset=charset,
            context=context,
            supplies=supplies,
            trays=trays,
            markers=markers,
            counter_unit=mib.COUNTER_UNITS.get(unit_code) if unit_code is not None else None,
            read_at=time.monotonic(),
            level_keys=frozenset(tables[mib.PRT_SUPPLY_LEVEL]),
        )
        # Only ask every poll for the vendor counters this printer actually has.
        wanted = [o for oids in vendor_oids(enterprise).counters.values() for o in oids]
        if wanted:
            present = await self.client.get(target, wanted)
            static.counter_oids = tuple(o for o in wanted if o in present)
        static.alerts = await self._read_alerts(static)
        return static

    async def _read_alerts(self, static: StaticData) -> list[Alert]:
        target = self.target.with_context(static.context) if static.context else self.target
        try:
            table = await self.client.walk(target, ALERT_COLUMNS, max_rows=64)
        except SnmpError as exc:
            _LOG.debug("%s: alert table unreadable: %s", target.label, exc)
            return []
        return alerts(table, static.charset)

    # --- every poll ----------------------------------------------------------------------------

    def _dynamic_oids(self, static: StaticData) -> list[str]:
        dev = static.device_index
        oids = [
            mib.SYS_UPTIME,
            f"{mib.HR_DEVICE_STATUS}.{dev}",
            f"{mib.HR_PRINTER_STATUS}.{dev}",
            f"{mib.HR_PRINTER_ERROR_STATE}.{dev}",
            f"{mib.PRT_GENERAL_CONFIG_CHANGES}.{dev}",
            f"{mib.PRT_ALERT_ALL_EVENTS}.{dev}",
        ]
        oids += [f"{mib.PRT_SUPPLY_LEVEL}.{row.key}" for row in static.supplies]
        oids += [f"{mib.PRT_INPUT_CURRENT_LEVEL}.{row.key}" for row in static.trays]
        oids += [f"{mib.PRT_INPUT_STATUS}.{row.key}" for row in static.trays]
        oids += [f"{mib.PRT_MARKER_LIFE_COUNT}.{m}" for m in static.markers]
        oids += static.counter_oids
        if static.enterprise == 2435:
            oids += brother.BLOB_OIDS
        return oids

    async def _read_dynamic(self, static: StaticData) -> PrinterSnapshot | None:
        dev = static.device_index
        plain = self.target
        scoped = plain.with_context(static.context) if static.context else plain
        oids = self._dynamic_oids(static)
        if static.context:
            # Host Resources and vendor objects answer in the default context, Printer-MIB in the other.
            printer_mib = [o for o in oids if o.startswith(mib.PRINTER_MIB + ".")]
            values = await self.client.get(plain, [o for o in oids if o not in printer_mib])
            values.update(await self.client.get(scoped, printer_mib))
        else:
            values = await self.client.get(plain, oids)

        config_changes = as_int(values.get(f"{mib.PRT_GENERAL_CONFIG_CHANGES}.{dev}"))
        if static.config_changes is not None and config_changes != static.config_changes:
            _LOG.info("%s: printer configuration changed; re-reading its tables", plain.label)
            return None
        static.config_changes = config_changes

        supplies: list[Supply] = []
        for row in static.supplies:
            level_oid = f"{mib.PRT_SUPPLY_LEVEL}.{row.key}"
            level = as_int(values.get(level_oid))
            fresh = time.monotonic() - static.read_at < 1.0
            if not fresh and level_oid not in values and row.key in static.level_keys:
                return None  # the row vanished: a cartridge was removed or the table renumbered
            if not fresh and level is not None and row.max_capacity and 0 < row.max_capacity < level:
                return None  # a bigger cartridge went in: capacities are stale
            supplies.append(self._supply(row, level))

        trays: list[Tray] = [
            make_tray(
                row,
                as_int(values.get(f"{mib.PRT_INPUT_CURRENT_LEVEL}.{row.key}")),
                as_int(values.get(f"{mib.PRT_INPUT_STATUS}.{row.key}")),
                self.low_threshold,
            )
            for row in static.trays
        ]

        device_status = as_int(values.get(f"{mib.HR_DEVICE_STATUS}.{dev}"))
        printer_status = as_int(values.get(f"{mib.HR_PRINTER_STATUS}.{dev}"))
        errors = decode_error_state(values.get(f"{mib.HR_PRINTER_ERROR_STATE}.{dev}"))

        alert_events = as_int(values.get(f"{mib.PRT_ALERT_ALL_EVENTS}.{dev}"))
        fingerprint = (device_status, printer_status, tuple(errors))
        if (alert_events is not None and alert_events != static.alert_events) or (
            alert_events is None and fingerprint != static.status_fingerprint
        ):
            if static.status_fingerprint or static.alert_events is not None:
                static.alerts = await self._read_alerts(static)
        static.alert_events = alert_events
        static.status_fingerprint = fingerprint
        supplies = _apply_alerts(supplies, static.alerts)

        counters: dict[str, int] = {}
        lifes = [as_int(values.get(f"{mib.PRT_MARKER_LIFE_COUNT}.{m}")) for m in static.markers]
        life_values = [v for v in lifes if v is not None and v >= 0]
        if life_values:
            counters["total"] = sum(life_values)
        for name, value in vendor_counters(static.enterprise, values).items():
            counters.setdefault(name, value)

        if static.enterprise == 2435:
            kinds = {row.kind for row in static.supplies}
            marking: brother.Marking | None = (
                "toner" if "toner" in kinds else "ink" if "ink" in kinds else None
            )
            if static.identity.device_id:
                values[brother.BROTHER_DEVICE_ID_OID] = static.identity.device_id
            private = brother.decode_blobs(values, marking=marking)
            if private is not None:
                supplies = self._merge_brother(supplies, private)
                for name, value in private.counters.items():
                    counters.setdefault(name, value)

        uptime_ticks = as_int(values.get(mib.SYS_UPTIME))
        problem = (
            device_status in (3, 5) or bool(errors) or any(a.severity == "critical" for a in static.alerts)
        )
        identity = static.identity
        return PrinterSnapshot(
            id=self.fixed_id or printer_id(identity, plain.host, plain.port),
            host=plain.host,
            port=plain.port,
            identity=identity,
            status=overall_status(device_status, printer_status, errors),  # type: ignore[arg-type]
            device_status=mib.HR_DEVICE_STATUS_NAMES.get(device_status) if device_status else None,
            printer_status=mib.HR_PRINTER_STATUS_NAMES.get(printer_status) if printer_status else None,
            errors=errors,
            problem=problem,
            supplies=supplies,
            trays=trays,
            counters=counters,
            counter_unit=static.counter_unit,
            alerts=list(static.alerts),
            uptime=uptime_ticks // 100 if uptime_ticks is not None else None,
            context=static.context or None,
        )

    def _supply(self, row: SupplyRow, level: int | None) -> Supply:
        lvl = supply_level(level, row.max_capacity, row.receptacle, self.low_threshold)
        return Supply(
            key=row.key,
            name=row.name,
            kind=row.kind,
            color=row.color,
            type=mib.SUPPLY_TYPES.get(row.type_code) if row.type_code is not None else None,
            unit=row.unit,
            level=level,
            max_capacity=row.max_capacity,
            percent=lvl.percent,
            state=lvl.state,
            receptacle=row.receptacle,
            estimated=lvl.estimated,
            part_number=row.part_number,
        )

    def _merge_brother(self, supplies: list[Supply], private: brother.BrotherData) -> list[Supply]:
        """Brother's private percentages fill in where the Printer-MIB only says 'some remaining'."""
        merged = list(supplies)
        for item in private.items:
            if item.percent is None:
                continue
            lvl = supply_level(item.percent, 100, False, self.low_threshold)
            candidates = [
                i
                for i, s in enumerate(merged)
                if s.kind == item.kind and s.color in (item.color, None) and s.source != "brother_private"
            ]
            if candidates:
                # Fill in the first matching row that lacks a number; rows that have one keep it.
                gap = next((i for i in candidates if merged[i].percent is None), None)
                if gap is not None:
                    merged[gap] = replace(
                        merged[gap], percent=lvl.percent, state=lvl.state, source="brother_private"
                    )
                continue
            merged.append(
                Supply(
                    key=item.key,
                    name=item.name,
                    kind=item.kind,
                    color=item.color,
                    type=None,
                    unit="percent",
                    level=item.percent,
                    max_capacity=100,
                    percent=lvl.percent,
                    state=lvl.state,
                    receptacle=False,
                    source="brother_private",
                )
            )
        return merged


def _apply_alerts(supplies: list[Supply], active: list[Alert]) -> list[Supply]:
    """A supply that only says 'some remaining' is low (or empty) when the printer raises that alert."""
    by_key: dict[str, set[int]] = {}
    for alert in active:
        if alert.supply_key and alert.code_value is not None:
            by_key.setdefault(alert.supply_key, set()).add(alert.code_value)
    if not by_key:
        return supplies
    result = []
    for supply in supplies:
        codes = by_key.get(supply.key, set())
        # The printer's own alert wins when it is worse than what the level says.
        if codes & mib.SUPPLY_EMPTY_ALERT_CODES:
            supply = replace(supply, state="full" if supply.receptacle else "empty")
        elif codes & mib.SUPPLY_LOW_ALERT_CODES and supply.state in ("some_remaining", "unknown", "ok"):
            supply = replace(supply, state="nearly_full" if supply.receptacle else "low")
        result.append(supply)
    return result
