"""Printer-MIB (RFC 3805) and Host Resources (RFC 2790) semantics: raw values -> typed model.

Pure functions over plain values; nothing here talks to the network. The rules, and every place
they differ from LibreNMS, are written down in ``docs/printer-mib.md``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from . import mib
from .model import Alert, SupplyKind, SupplyState, Tray
from .snmp import SnmpValue
from .text import decode_text

Column = Mapping[str, SnmpValue]  # instance suffix -> value

# --- supply kind -----------------------------------------------------------------------------

_KIND_BY_TYPE: dict[int, SupplyKind] = {
    3: "toner",
    4: "waste",
    5: "ink",
    6: "ink",
    7: "ribbon",
    8: "waste",
    9: "drum",
    10: "developer",
    11: "fuser",
    12: "ink",
    13: "ribbon",
    14: "waste",
    15: "fuser",
    16: "cleaner",
    17: "fuser",
    18: "cleaner",
    19: "fuser",
    20: "transfer_unit",
    21: "toner",
    22: "fuser",
    24: "waste",
    26: "waste",
    29: "staples",
    32: "staples",
    35: "toner",
    36: "ink",
}

# Checked in order; the first match wins (waste before toner: "Waste Toner Box" is waste).
_KIND_KEYWORDS: tuple[tuple[SupplyKind, re.Pattern[str]], ...] = (
    ("waste", re.compile(r"waste|resttoner|r[eé]siduel|residu|廢|废|回収", re.I)),
    ("maintenance_kit", re.compile(r"maint|wartung|entretien", re.I)),
    ("drum", re.compile(r"drum|trommel|tambour|opc|photo ?conductor|imaging unit|image unit|感光|鼓", re.I)),
    ("developer", re.compile(r"developer|entwickler|d[ée]veloppeur|現像|显影", re.I)),
    ("fuser", re.compile(r"fuser|fusing|fixier|fixing|four\b|定着|定影", re.I)),
    ("transfer_unit", re.compile(r"transfer|belt|bias|transfert|band|転写|转印", re.I)),
    ("roller", re.compile(r"roller|rolle|rouleau|retard|pick ?up", re.I)),
    ("staples", re.compile(r"stapl|heft|agrafe", re.I)),
    ("filter", re.compile(r"filter|filtre", re.I)),
    ("cleaner", re.compile(r"clean", re.I)),
    ("toner", re.compile(r"toner|碳粉|トナー|墨粉", re.I)),
    ("ink", re.compile(r"\bink|tinte|encre|tinta|inchiostro|インク|墨水", re.I)),
    ("ribbon", re.compile(r"ribbon|farbband", re.I)),
)

# Kinds a type code of other(1)/unknown(2) or an absent column should be guessed for.
_VAGUE_TYPES = {None, 1, 2}


def supply_kind(type_code: int | None, description: str) -> SupplyKind:
    """The supply kind from prtMarkerSuppliesType, falling back to keywords in the description."""
    if type_code not in _VAGUE_TYPES and type_code in _KIND_BY_TYPE:
        return _KIND_BY_TYPE[type_code]
    for kind, pattern in _KIND_KEYWORDS:
        if pattern.search(description):
            return kind
    if type_code not in _VAGUE_TYPES and isinstance(type_code, int) and type_code in mib.SUPPLY_TYPES:
        return "other"
    return "toner" if _PART_ONLY.match(description) else "other"


# --- colour ----------------------------------------------------------------------------------

# Phrases before single words: "light cyan" is not "cyan". Latin words match on word boundaries.
_COLOR_WORDS: tuple[tuple[str, str], ...] = (
    # "PK"/"MK" alone are Epson photo/matte black; "PK-3010S", "MK-3130" are Kyocera/UTAX part numbers.
    ("photo_black", r"photo ?black|photo ?schwarz|noir photo|\bpk\b(?!-)"),
    ("matte_black", r"matte? ?black|matt ?schwarz|noir mat|\bmk\b(?!-)"),
    ("light_cyan", r"light ?cyan|photo ?cyan|hell ?cyan|cyan clair"),
    ("light_magenta", r"light ?magenta|vivid ?light ?magenta|photo ?magenta|hell ?magenta|magenta clair"),
    ("light_black", r"light ?black|gr[ae]y|grau|gris"),
    ("black", r"black|schwarz|noir|nero|negro|preto|zwart|svart|sort|czarn|黑|ブラック|검정"),
    ("cyan", r"cyan|cyaan|ciano|cian|青|シアン|시안"),
    ("magenta", r"magenta|洋紅|洋红|品红|マゼンタ|마젠타"),
    ("yellow", r"yellow|gelb|jaune|giallo|amarillo|amarelo|geel|\bgul|黃|黄|イエロー|노랑"),
    ("red", r"\bred\b|\brot\b|rouge"),
    ("green", r"\bgreen\b|gr[üu]n\b|\bvert\b"),
    ("blue", r"\bblue\b|\bblau\b|\bbleu\b"),
    ("orange", r"\borange\b"),
    ("violet", r"\bviolet\b"),
    ("white", r"\bwhite\b|\bwei(ss|ß)\b|\bblanc\b"),
)
_COLOR_PATTERNS = tuple((name, re.compile(rx, re.I)) for name, rx in _COLOR_WORDS)

# Part numbers that end in the colour letter: Kyocera TK-8527C, Samsung CLT-K504S is handled by prefix.
_PART_SUFFIX = re.compile(r"\b[A-Z]{1,4}-?\d{2,5}([KCMY])\b")
_PART_PREFIX = re.compile(r"\bCLT-([KCMY])\d{3,4}[A-Z]?\b")
_LETTER_COLOR = {"K": "black", "C": "cyan", "M": "magenta", "Y": "yellow"}
_PART_ONLY = re.compile(r"^[A-Z]{1,4}-?\d{2,5}[A-Z]{0,2}$")


def normalize_colorant(value: str | None) -> str | None:
    """A prtMarkerColorantValue ("black", "Photo Black", "unknown") as a colour name or None."""
    if not value:
        return None
    text = value.strip().lower()
    if text in {"", "other", "unknown", "none", "n/a"}:
        return None
    for name, pattern in _COLOR_PATTERNS:
        if pattern.search(text):
            return name
    return "_".join(text.split())[:32]


def color_from_text(description: str) -> str | None:
    """Colour from keywords (several languages) or a colour-letter part number in a description."""
    for name, pattern in _COLOR_PATTERNS:
        if pattern.search(description):
            return name
    for rx in (_PART_PREFIX, _PART_SUFFIX):
        match = rx.search(description)
        if match:
            return _LETTER_COLOR[match.group(1)]
    return None


# --- description clean-up and part numbers ---------------------------------------------------

_PN_SUFFIX = re.compile(r",\s*PN\s*([^;,]+)(?:[;,].*)?$", re.I)
_SN_SUFFIX = re.compile(r"\s+S/N:.*$", re.I)
_VENDOR_SUFFIX = re.compile(r"\s+OKI DATA CORP$", re.I)
_HP_PART = re.compile(r"\bHP\s+([A-Z]{1,3}\d{2,4}[A-Z]{0,2})\b")
_GENERIC_PART = re.compile(
    r"\b(TK-?\d{3,5}[A-Z]?|TN-?\d{3,4}[A-Z]{0,2}|DR-?\d{3,4}[A-Z]{0,2}|CLT-[A-Z]\d{3,4}[A-Z]?|"
    r"MLT-[A-Z]\d{3,4}[A-Z]?|T\d{4}[A-Z]?(?:/T\d{4}[A-Z]?)*|\d{3}R\d{5}|C\d{4}[A-Z]\d{3})\b"
)


def clean_description(text: str) -> tuple[str, str | None]:
    """(display name, part number) from a cleaned supply description."""
    part: str | None = None
    match = _PN_SUFFIX.search(text)
    if match:
        part = match.group(1).strip()
        if part.lower() in {"unknown", "n/a", "none"}:  # Xerox: "Fuser, PN unknown;SNunknown"
            part = None
        text = text[: match.start()].strip()
    text = _SN_SUFFIX.sub("", text)
    text = _VENDOR_SUFFIX.sub("", text).strip()
    if part is None:
        hp = _HP_PART.search(text)
        generic = _GENERIC_PART.search(text)
        if hp:
            part = hp.group(1)
        elif generic:
            part = generic.group(1)
        elif _PART_ONLY.match(text):
            part = text
    return text or "Supply", part


# --- levels ----------------------------------------------------------------------------------


def _round_half_up(value: float) -> int:
    return int(value + 0.5) if value >= 0 else -int(-value + 0.5)


@dataclass(frozen=True, slots=True)
class Level:
    percent: int | None
    state: SupplyState
    estimated: bool


def supply_level(level: int | None, max_capacity: int | None, receptacle: bool, low_threshold: int) -> Level:
    """Percent and state of a supply.

    Containers report the remaining percentage; receptacles (waste) report how full they are, i.e.
    100 minus the remaining space (the MIB gives receptacles' level as *remaining space*).
    """
    if level is None or level == -2 or level < -3:
        return Level(None, "unknown", False)
    if level == -1:
        return Level(None, "unrestricted", False)
    if level == -3:
        return Level(None, "some_remaining", False)
    estimated = False
    if max_capacity is not None and max_capacity > 0:
        remaining = min(100.0, level * 100.0 / max_capacity)
    elif level <= 100:
        # No usable capacity (-1, -2, 0): printers that do this report the level as a percentage.
        remaining = float(level)
        estimated = True
    else:
        return Level(None, "unknown", False)
    if receptacle:
        fill = 100.0 - remaining
        if remaining <= 0:
            state: SupplyState = "full"
        elif fill >= 100 - low_threshold:
            state = "nearly_full"
        else:
            state = "ok"
        return Level(_round_half_up(fill), state, estimated)
    if level == 0:
        state = "empty"
    elif remaining <= low_threshold:
        state = "low"
    else:
        state = "ok"
    return Level(_round_half_up(remaining), state, estimated)


def tray_level(level: int | None, max_capacity: int | None, low_threshold: int) -> Level:
    """Trays are containers of paper: same rules, but a level is never a bare percentage."""
    if level is not None and level >= 0 and (max_capacity is None or max_capacity <= 0):
        return Level(None, "ok" if level > 0 else "empty", False)
    return supply_level(level, max_capacity, False, low_threshold)


def is_receptacle(class_code: int | None, type_code: int | None, kind: SupplyKind) -> bool:
    if class_code == mib.SUPPLY_CLASS_RECEPTACLE:
        return True
    if class_code == mib.SUPPLY_CLASS_CONSUMED:
        return False
    return type_code in mib.WASTE_SUPPLY_TYPES or kind == "waste"


# --- static table rows -----------------------------------------------------------------------


def as_int(value: SnmpValue | None) -> int | None:
    """An integer column value; garbage (strings, OIDs) becomes None instead of an exception."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, bytes):
        try:
            return int(value.decode("ascii").strip())
        except (UnicodeDecodeError, ValueError):
            return None
    return None


@dataclass(frozen=True, slots=True)
class SupplyRow:
    """The rarely changing part of a supply row, read at discovery and on refresh."""

    key: str
    name: str
    part_number: str | None
    kind: SupplyKind
    type_code: int | None
    class_code: int | None
    unit: str | None
    max_capacity: int | None
    color: str | None
    receptacle: bool


def supply_rows(
    columns: Mapping[str, Column], colorants: Column, charset: str | None = None
) -> list[SupplyRow]:
    """Static supply rows from the walked prtMarkerSuppliesTable and prtMarkerColorantTable columns."""
    descriptions = columns.get(mib.PRT_SUPPLY_DESCRIPTION, {})
    levels = columns.get(mib.PRT_SUPPLY_LEVEL, {})
    keys = sorted(set(descriptions) | set(levels), key=_index_key)
    rows = []
    for key in keys:
        raw_text = decode_text(descriptions.get(key), charset) or f"Supply {key.split('.')[-1]}"
        name, part = clean_description(raw_text)
        type_code = as_int(columns.get(mib.PRT_SUPPLY_TYPE, {}).get(key))
        class_code = as_int(columns.get(mib.PRT_SUPPLY_CLASS, {}).get(key))
        kind = supply_kind(type_code, raw_text)
        unit_code = as_int(columns.get(mib.PRT_SUPPLY_UNIT, {}).get(key))
        colorant_index = as_int(columns.get(mib.PRT_SUPPLY_COLORANT_INDEX, {}).get(key))
        color = None
        if colorant_index and colorant_index > 0:
            device = key.split(".")[0]
            color = normalize_colorant(decode_text(colorants.get(f"{device}.{colorant_index}")))
        if color is None and kind not in {"waste", "fuser", "transfer_unit", "roller", "filter"}:
            color = color_from_text(raw_text)
        rows.append(
            SupplyRow(
                key=key,
                name=name,
                part_number=part,
                kind=kind,
                type_code=type_code,
                class_code=class_code,
                unit=mib.SUPPLY_UNITS.get(unit_code) if unit_code is not None else None,
                max_capacity=as_int(columns.get(mib.PRT_SUPPLY_MAX_CAPACITY, {}).get(key)),
                color=color,
                receptacle=is_receptacle(class_code, type_code, kind),
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class TrayRow:
    key: str
    name: str
    kind: str | None
    unit: str | None
    max_capacity: int | None
    media: str | None


def tray_rows(columns: Mapping[str, Column], charset: str | None = None) -> list[TrayRow]:
    names = columns.get(mib.PRT_INPUT_NAME, {})
    descriptions = columns.get(mib.PRT_INPUT_DESCRIPTION, {})
    maxima = columns.get(mib.PRT_INPUT_MAX_CAPACITY, {})
    levels = columns.get(mib.PRT_INPUT_CURRENT_LEVEL, {})
    keys = sorted(set(names) | set(descriptions) | set(maxima) | set(levels), key=_index_key)
    rows = []
    for key in keys:
        name = (
            decode_text(names.get(key), charset)
            or decode_text(descriptions.get(key), charset)
            or f"Tray {key.split('.')[-1]}"
        )
        type_code = as_int(columns.get(mib.PRT_INPUT_TYPE, {}).get(key))
        unit_code = as_int(columns.get(mib.PRT_INPUT_CAPACITY_UNIT, {}).get(key))
        rows.append(
            TrayRow(
                key=key,
                name=name,
                kind=mib.INPUT_TYPES.get(type_code) if type_code is not None else None,
                unit=mib.CAPACITY_UNITS.get(unit_code) if unit_code is not None else None,
                max_capacity=as_int(maxima.get(key)),
                media=decode_text(columns.get(mib.PRT_INPUT_MEDIA_NAME, {}).get(key), charset),
            )
        )
    return rows


def _index_key(suffix: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in suffix.split("."))
    except ValueError:
        return (1 << 30,)


# --- sub-unit status, trays ------------------------------------------------------------------


def subunit_status(value: int | None) -> list[str]:
    """PrtSubUnitStatusTC: availability plus alert/offline/transitioning flags."""
    if value is None or value < 0:
        return []
    availability = {
        0: "available_idle",
        2: "available_standby",
        4: "available_active",
        6: "available_busy",
        1: "unavailable_on_request",
        3: "unavailable_broken",
        5: "unknown",
    }.get(value & 7, "unknown")
    flags = [availability]
    if value & 8:
        flags.append("non_critical_alert")
    if value & 16:
        flags.append("critical_alert")
    if value & 32:
        flags.append("offline")
    if value & 64:
        flags.append("transitioning")
    return flags


def make_tray(row: TrayRow, level: int | None, status: int | None, low_threshold: int) -> Tray:
    lvl = tray_level(level, row.max_capacity, low_threshold)
    return Tray(
        key=row.key,
        name=row.name,
        kind=row.kind,
        media=row.media,
        unit=row.unit,
        level=level,
        max_capacity=row.max_capacity,
        percent=lvl.percent,
        state=lvl.state,
        status=subunit_status(status),
    )


# --- printer status --------------------------------------------------------------------------


def decode_error_state(value: SnmpValue | None) -> list[str]:
    """hrPrinterDetectedErrorState bits (both octets; bit 0 = MSB of the first octet)."""
    raw: bytes
    if isinstance(value, bytes):
        raw = value
        text = value.decode("latin-1").strip()
        if _HEX_RENDERING.match(text) and len(raw) > 2:
            raw = bytes.fromhex(text.replace(" ", ""))
    elif isinstance(value, int):
        raw = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big") if value >= 0 else b""
    else:
        return []
    errors = []
    for bit, name in enumerate(mib.PRINTER_ERROR_BITS):
        octet, offset = divmod(bit, 8)
        if octet < len(raw) and raw[octet] & (0x80 >> offset):
            errors.append(name)
    return errors


_HEX_RENDERING = re.compile(r"^[0-9A-Fa-f]{2}( [0-9A-Fa-f]{2})*$")


def overall_status(device_status: int | None, printer_status: int | None, errors: list[str]) -> str:
    """One status word for dashboards: error > warning > what the printer is doing."""
    if device_status == 5 or any(e in mib.BLOCKING_ERRORS for e in errors):
        return "error"
    if device_status == 3 or errors:
        return "warning"
    if device_status == 4:
        return "testing"
    name = mib.HR_PRINTER_STATUS_NAMES.get(printer_status or 0)
    if name in {"idle", "printing", "warmup"}:
        return name
    if device_status == 2:
        return "idle"
    return "unknown"


# --- alerts ----------------------------------------------------------------------------------


def alerts(columns: Mapping[str, Column], charset: str | None = None) -> list[Alert]:
    codes = columns.get(mib.PRT_ALERT_CODE, {})
    severities = columns.get(mib.PRT_ALERT_SEVERITY, {})
    keys = sorted(set(codes) | set(severities), key=_index_key)
    result = []
    for key in keys:
        code = as_int(codes.get(key))
        group = as_int(columns.get(mib.PRT_ALERT_GROUP, {}).get(key))
        group_index = as_int(columns.get(mib.PRT_ALERT_GROUP_INDEX, {}).get(key))
        description = decode_text(columns.get(mib.PRT_ALERT_DESCRIPTION, {}).get(key), charset) or ""
        # Brother's idle "Sleep" row: group, index and code all zero, empty text. Not an alert.
        if not code and not group and not group_index and not description:
            continue
        severity = as_int(severities.get(key))
        training = as_int(columns.get(mib.PRT_ALERT_TRAINING_LEVEL, {}).get(key))
        device = key.split(".")[0]
        linked = f"{device}.{group_index}" if group_index and group_index > 0 else None
        result.append(
            Alert(
                key=key,
                severity=mib.ALERT_SEVERITIES.get(severity or 0, "other"),
                training_level=mib.ALERT_TRAINING_LEVELS.get(training) if training else None,
                group=mib.ALERT_GROUPS.get(group) if group else None,
                group_index=group_index,
                location=as_int(columns.get(mib.PRT_ALERT_LOCATION, {}).get(key)),
                code=mib.ALERT_CODES.get(code or 0, f"code_{code}") if code else "other",
                code_value=code,
                description=description,
                time=as_int(columns.get(mib.PRT_ALERT_TIME, {}).get(key)),
                supply_key=linked if group == mib.ALERT_GROUP_SUPPLIES else None,
                tray_key=linked if group == mib.ALERT_GROUP_INPUT else None,
            )
        )
    return result
