"""Brother's private MIB: the three OCTET STRING blobs that carry supply levels and counters.

Brother printers report the numbers that matter (toner/ink left, drum and belt life, pages to the
next service, colour/duplex counters) not in the Printer-MIB but in three binary blobs under their
enterprise. Each blob is a run of records ``[item code][0x01][length][value, big-endian]`` (the
length is 4 on every current model) ended by ``0xFF``; very old inkjets send 5-byte records
``[code][?][?][level][max]`` instead ("legacy" mode). The item codes, and which of them mean ink
rather than toner, follow the ``bieniu/brother`` library; see ``docs/printer-mib-rules.md`` §5.

Everything here is a pure function of the values a GET returned, and never raises on what a
printer sends: a record that cannot be parsed is skipped, a blob that loses its structure is read
up to that point.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from .model import Supply, SupplyKind
from .printer_mib import supply_level
from .snmp import SnmpValue
from .text import parse_device_id

_PREFIX = "1.3.6.1.4.1.2435.2.3.9.4.2.1.5.5"
BROTHER_MAINTENANCE_OID = f"{_PREFIX}.8.0"
BROTHER_COUNTERS_OID = f"{_PREFIX}.10.0"
BROTHER_NEXT_CARE_OID = f"{_PREFIX}.11.0"
BLOB_OIDS = (BROTHER_MAINTENANCE_OID, BROTHER_COUNTERS_OID, BROTHER_NEXT_CARE_OID)
# Not a blob, but when the caller fetched it too it tells ink models from lasers.
BROTHER_DEVICE_ID_OID = "1.3.6.1.4.1.2435.2.3.9.1.1.7.0"

Marking = Literal["toner", "ink"]

_COLORS = ("black", "cyan", "magenta", "yellow")
_TERMINATOR = 0xFF
_RECORD_TYPE = 0x01
_MAX_VALUE_BYTES = 4
_LEGACY_RECORD = 5
_LEGACY_MAX = 0x14  # every legacy record seen ends with this "max" byte (20)


@dataclass(frozen=True, slots=True)
class BrotherItem:
    """One consumable or maintenance part as the private MIB describes it."""

    key: str  # stable: "brother.toner.black", "brother.drum", "brother.drum.cyan", "brother.belt", ...
    name: str  # English display name: "Black Toner", "Drum Unit", "Belt Unit", ...
    kind: SupplyKind
    color: str | None
    percent: int | None  # remaining life, 0..100
    pages_remaining: int | None  # pages to the next replacement ("next care")
    status: int | None = None  # raw status code (toner 31-34, drum 63): 1 seen as ok, 2 as low


@dataclass(frozen=True, slots=True)
class BrotherData:
    """Everything decoded from the blobs of one poll."""

    items: list[BrotherItem]
    counters: dict[str, int]


# --- item tables -----------------------------------------------------------------------------
# Each code maps to (item id, field); item ids are resolved to key/name/kind by _ITEM_SPECS.
# Fields: "percent" (hundredths of a percent), "coarse" (whole percent in steps of 10, used only
# when no precise percent exists), "alt" (hundredths, used when "percent" is absent), "status".

_Field = Literal["percent", "alt", "coarse", "status"]

_COUNTER_CODES: dict[int, str] = {
    0x00: "total",
    0x01: "mono",
    0x02: "color",
    0x06: "duplex",
    0x12: "image_black",
    0x13: "image_cyan",
    0x14: "image_magenta",
    0x15: "image_yellow",
    0x16: "image",  # colour-plane impressions: the sum of 12..15
}


def _colour_codes(first: int, prefix: str, field: _Field) -> dict[int, tuple[str, _Field]]:
    return {first + i: (f"{prefix}.{color}", field) for i, color in enumerate(_COLORS)}


def _marking_codes(marking: Marking) -> dict[int, tuple[str, _Field]]:
    """Codes shared by toner and ink models; only the consumable they describe differs."""
    return {
        **_colour_codes(0x31, marking, "status"),
        **_colour_codes(0x6F, marking, "percent"),
        **_colour_codes(0x81, marking, "coarse"),
        **_colour_codes(0xA1, marking, "alt"),
    }


_LASER_MAINTENANCE: dict[int, tuple[str, _Field]] = {
    **_marking_codes("toner"),
    0x41: ("drum", "percent"),
    0x63: ("drum", "status"),
    0x69: ("belt", "percent"),
    0x6A: ("fuser", "percent"),
    0x6B: ("laser", "percent"),
    0x6C: ("pf_kit_mp", "percent"),
    0x6D: ("pf_kit_1", "percent"),
    0x79: ("drum.cyan", "percent"),
    0x7A: ("drum.magenta", "percent"),
    0x7B: ("drum.yellow", "percent"),
    0x80: ("drum.black", "percent"),
}
_INK_MAINTENANCE = _marking_codes("ink")

# Page counts of the drums in use, kept in the maintenance blob; published as counters.
_LASER_MAINTENANCE_COUNTERS: dict[int, str] = {
    0x11: "drum",
    0x73: "drum_cyan",
    0x74: "drum_magenta",
    0x75: "drum_yellow",
    0x7E: "drum_black",
}

# "Next care": pages until the part wants replacing.
_LASER_NEXT_CARE: dict[int, str] = {
    0x73: "laser",
    0x77: "pf_kit_1",
    0x82: "drum",
    0x86: "pf_kit_mp",
    0x88: "belt",
    0x89: "fuser",
    0xA4: "drum.black",
    0xA5: "drum.cyan",
    0xA6: "drum.magenta",
    0xA7: "drum.yellow",
}

# Maintenance codes only a laser sends: seeing one means the toner table applies.
_LASER_ONLY_CODES = (frozenset(_LASER_MAINTENANCE) - frozenset(_INK_MAINTENANCE)) | frozenset(
    _LASER_MAINTENANCE_COUNTERS
)


def _specs() -> dict[str, tuple[str, SupplyKind, str | None]]:
    """Item id -> (display name, kind, colour), in the order items are reported."""
    specs: dict[str, tuple[str, SupplyKind, str | None]] = {}
    for color in _COLORS:
        specs[f"toner.{color}"] = (f"{color.title()} Toner", "toner", color)
    for color in _COLORS:
        specs[f"ink.{color}"] = (f"{color.title()} Ink", "ink", color)
    specs["drum"] = ("Drum Unit", "drum", None)
    for color in _COLORS:
        specs[f"drum.{color}"] = (f"{color.title()} Drum", "drum", color)
    specs["belt"] = ("Belt Unit", "transfer_unit", None)
    specs["fuser"] = ("Fuser Unit", "fuser", None)
    specs["laser"] = ("Laser Unit", "other", None)
    specs["pf_kit_1"] = ("PF Kit 1", "roller", None)  # paper-feeding kit: rollers and pad of tray 1
    specs["pf_kit_mp"] = ("PF Kit MP", "roller", None)  # ... of the multi-purpose tray
    return specs


_ITEM_SPECS = _specs()


# --- raw blob handling -----------------------------------------------------------------------

_HEX_NOISE = re.compile(r"[\s:.-]")
_HEX_ONLY = re.compile(r"[0-9A-Fa-f]*")


def _from_hex_text(text: str) -> bytes | None:
    """Bytes from a hex rendering ("6301040000..." / "0x63..." / "63 01 04 ..."), else None."""
    cleaned = _HEX_NOISE.sub("", text)
    if cleaned[:2].lower() == "0x":
        cleaned = cleaned[2:]
    if not cleaned or len(cleaned) % 2 or not _HEX_ONLY.fullmatch(cleaned):
        return None
    return bytes.fromhex(cleaned)


def blob_bytes(value: SnmpValue | None) -> bytes | None:
    """The raw blob behind a GET value; None when there is no blob (absent, integer, text).

    A real blob always contains 0x01 type bytes, which are not hex digits, so a value made only
    of hex digits can safely be taken for a hex rendering (some tools and recordings send that).
    """
    if isinstance(value, bytes):
        if value:
            try:
                decoded = _from_hex_text(value.decode("ascii"))
            except UnicodeDecodeError:
                decoded = None
            if decoded is not None:
                return decoded
        return value
    if isinstance(value, str):
        return b"" if not value.strip() else _from_hex_text(value)
    return None


def _records(blob: bytes) -> Iterator[tuple[int, bytes]]:
    """``(code, value)`` for each well-formed record, up to the terminator or the first breakage."""
    pos = 0
    while pos < len(blob):
        code = blob[pos]
        if code == _TERMINATOR or pos + 3 > len(blob):
            return
        length = blob[pos + 2]
        end = pos + 3 + length
        if blob[pos + 1] != _RECORD_TYPE or not 1 <= length <= _MAX_VALUE_BYTES or end > len(blob):
            return  # structure lost: nothing after this point can be trusted
        yield code, blob[pos + 3 : end]
        pos = end


def _legacy_body(blob: bytes) -> bytes | None:
    """The records of a legacy (5-byte) maintenance blob, None when the blob is not legacy.

    Detection as in the bieniu/brother library: whole 5-byte records, each ending with 0x14.
    """
    body = blob[:-1] if len(blob) % _LEGACY_RECORD == 1 and blob[-1] == _TERMINATOR else blob
    if not body or len(body) % _LEGACY_RECORD:
        return None
    if all(body[i] == _LEGACY_MAX for i in range(_LEGACY_RECORD - 1, len(body), _LEGACY_RECORD)):
        return body
    return None


def _round_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up, in integers (no float surprises)."""
    return (2 * numerator + denominator) // (2 * denominator)


def _hundredths(value: int) -> int | None:
    """A hundredths-of-a-percent value as whole percent; out-of-range values are garbage."""
    percent = _round_half_up(value, 100)
    return percent if percent <= 100 else None


# --- decoding --------------------------------------------------------------------------------


class _Collector:
    """Accumulates per-item fields; precedence between fields is settled in :meth:`items`."""

    def __init__(self) -> None:
        self.fields: dict[str, dict[str, int]] = {}
        self.counters: dict[str, int] = {}

    def put(self, item: str, field: str, value: int | None) -> None:
        if value is not None:
            self.fields.setdefault(item, {})[field] = value

    def items(self) -> list[BrotherItem]:
        result = []
        for item, (name, kind, color) in _ITEM_SPECS.items():
            fields = self.fields.get(item)
            if not fields:
                continue
            percent = fields.get("percent", fields.get("alt", fields.get("coarse")))
            result.append(
                BrotherItem(
                    key=f"brother.{item}",
                    name=name,
                    kind=kind,
                    color=color,
                    percent=percent,
                    pages_remaining=fields.get("pages"),
                    status=fields.get("status"),
                )
            )
        return result


def _decode_maintenance(
    blob: bytes, table: Mapping[int, tuple[str, _Field]], laser: bool, out: _Collector
) -> None:
    legacy = _legacy_body(blob)
    if legacy is not None:
        for pos in range(0, len(legacy), _LEGACY_RECORD):
            code, level, maximum = legacy[pos], legacy[pos + 3], legacy[pos + 4]
            entry = table.get(code)
            if entry is None or entry[1] == "status" or maximum == 0 or level > maximum:
                continue
            out.put(entry[0], entry[1], _round_half_up(level * 100, maximum))
        return
    for code, raw in _records(blob):
        value = int.from_bytes(raw, "big")
        entry = table.get(code)
        if entry is not None:
            item, field = entry
            if field in ("percent", "alt"):
                # Hundredths only make sense as a 4-byte value; a 1-byte value under a percent
                # code (HL-5350DN: 41 01 01 03) is a state, not 0.03 %.
                out.put(item, field, _hundredths(value) if len(raw) == _MAX_VALUE_BYTES else None)
            elif field == "coarse":
                out.put(item, field, value if value <= 100 else None)
            else:
                out.put(item, field, value)
        elif laser and code in _LASER_MAINTENANCE_COUNTERS:
            out.counters[_LASER_MAINTENANCE_COUNTERS[code]] = value


def _codes(blob: bytes | None) -> set[int]:
    if blob is None:
        return set()
    if (legacy := _legacy_body(blob)) is not None:
        return {legacy[i] for i in range(0, len(legacy), _LEGACY_RECORD)}
    return {code for code, _ in _records(blob)}


_INK_MODEL = re.compile(r"^(?:DCP|MFC)-[JT]\d", re.I)


def detect_marking(values: Mapping[str, SnmpValue]) -> Marking:
    """Whether the supplies are toner or ink: the codes are the same, the consumable is not.

    The device ID decides when it is conclusive ("CID:Brother Laser ...", or an inkjet model
    line: DCP-J/MFC-J/DCP-T/MFC-T). Otherwise the blobs do: every laser in the corpus reports a
    drum or a next-care page count, which an inkjet never has.
    """
    raw_id = values.get(BROTHER_DEVICE_ID_OID)
    text = raw_id.decode("latin-1") if isinstance(raw_id, bytes) else raw_id
    if isinstance(text, str):
        fields = parse_device_id(text)
        if "laser" in fields.get("CID", "").lower():
            return "toner"
        if _INK_MODEL.match(fields.get("MDL", fields.get("MODEL", ""))):
            return "ink"
    if _codes(blob_bytes(values.get(BROTHER_MAINTENANCE_OID))) & _LASER_ONLY_CODES:
        return "toner"
    if _codes(blob_bytes(values.get(BROTHER_NEXT_CARE_OID))):
        return "toner"
    return "ink"


def decode_blobs(values: Mapping[str, SnmpValue], *, marking: Marking | None = None) -> BrotherData | None:
    """Supplies and counters from the Brother blobs in a GET result keyed by OID.

    None when none of the three blobs is present. ``marking`` overrides the toner/ink guess of
    :func:`detect_marking`. Ink models carry no drum, belt or next-care data: those codes are
    ignored for them (as the reference library does).
    """
    blobs = {oid: blob_bytes(values.get(oid)) for oid in BLOB_OIDS}
    if all(blob is None for blob in blobs.values()):
        return None
    if marking is None:
        marking = detect_marking(values)
    laser = marking == "toner"
    out = _Collector()

    counters_blob = blobs[BROTHER_COUNTERS_OID]
    if counters_blob is not None:
        for code, raw in _records(counters_blob):
            if code in _COUNTER_CODES:
                out.counters[_COUNTER_CODES[code]] = int.from_bytes(raw, "big")

    maintenance_blob = blobs[BROTHER_MAINTENANCE_OID]
    if maintenance_blob is not None:
        table = _LASER_MAINTENANCE if laser else _INK_MAINTENANCE
        _decode_maintenance(maintenance_blob, table, laser, out)

    next_care_blob = blobs[BROTHER_NEXT_CARE_OID]
    if laser and next_care_blob is not None:
        for code, raw in _records(next_care_blob):
            if code in _LASER_NEXT_CARE:
                out.put(_LASER_NEXT_CARE[code], "pages", int.from_bytes(raw, "big"))

    return BrotherData(items=out.items(), counters=dict(sorted(out.counters.items())))


def to_supplies(data: BrotherData, low_threshold: int) -> list[Supply]:
    """The items as :class:`Supply` rows (``source="brother_private"``), levels as Printer-MIB ones."""
    supplies = []
    for item in data.items:
        level = supply_level(item.percent, 100, False, low_threshold)
        supplies.append(
            Supply(
                key=item.key,
                name=item.name,
                kind=item.kind,
                color=item.color,
                type=None,
                unit="percent" if item.percent is not None else None,
                level=item.percent,
                max_capacity=100 if item.percent is not None else None,
                percent=level.percent,
                state=level.state,
                receptacle=False,
                source="brother_private",
            )
        )
    return supplies
