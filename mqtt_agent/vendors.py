"""Vendor knowledge as data: who made a device, and where its identity and page counters live.

Enterprise numbers are IANA's; the OIDs are the vendors' private MIB objects as documented in
``docs/printer-mib.md``. The code that uses these tables is short and generic.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from . import mib
from .model import Identity
from .snmp import SnmpValue
from .text import decode_mac, decode_text, parse_device_id

ENTERPRISE_VENDORS: dict[int, str] = {
    11: "HP",
    236: "Samsung",
    253: "Xerox",
    297: "Fujifilm",
    367: "Ricoh",
    641: "Lexmark",
    674: "Dell",
    683: "Zebra",
    1129: "Toshiba",
    1248: "Epson",
    1347: "Kyocera",
    1602: "Canon",
    2001: "OKI",
    2385: "Sharp",
    2435: "Brother",
    10642: "Zebra",
    18334: "Konica Minolta",
    28708: "Fujifilm",
    40093: "Pantum",
}

# sysDescr / hrDeviceDescr / device-ID manufacturer keywords, checked in order. OEM brands keep their
# own name (a Savin is sold and ordered as a Savin) even though the engine is someone else's.
VENDOR_KEYWORDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(rx, re.I))
    for name, rx in (
        ("Brother", r"\bbrother\b"),
        ("Canon", r"\bcanon\b"),
        ("Develop", r"\bdevelop\b"),
        ("Konica Minolta", r"konica|minolta"),
        ("Dell", r"\bdell\b"),
        ("Epson", r"\bepson\b"),
        ("Fujifilm", r"fujifilm|fuji xerox|fujixerox"),
        ("Xerox", r"\bxerox\b"),
        ("Gestetner", r"\bgestetner\b"),
        ("Lanier", r"\blanier\b"),
        ("Savin", r"\bsavin\b"),
        ("NRG", r"\bnrg\b"),
        ("Ricoh", r"\bricoh\b"),
        ("UTAX", r"\butax\b|\bta_utax\b|triumph-adler"),
        ("Copystar", r"\bcopystar\b"),
        ("Kyocera", r"kyocera|ecosys|taskalfa"),
        ("Lexmark", r"\blexmark\b"),
        ("OKI", r"\boki\b|okilan|okidata"),
        ("Samsung", r"\bsamsung\b"),
        ("Sharp", r"\bsharp\b"),
        ("Toshiba", r"\btoshiba\b"),
        ("Zebra", r"\bzebra"),
        ("Pantum", r"\bpantum\b"),
        ("HP", r"\bhp\b|hewlett|jetdirect|laserjet|officejet|deskjet"),
    )
)


@dataclass(frozen=True)
class VendorOids:
    model: tuple[str, ...] = ()
    serial: tuple[str, ...] = ()
    firmware: tuple[str, ...] = ()
    device_id: tuple[str, ...] = ()
    # page counters read every poll: counter name -> OIDs whose values are added up
    counters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


_KYOCERA_FUNCTIONS = (1, 2, 4)  # print, copy, fax
VENDOR_OIDS: dict[int, VendorOids] = {
    11: VendorOids(
        model=("1.3.6.1.4.1.11.2.3.9.4.2.1.1.3.2.0",),
        serial=("1.3.6.1.4.1.11.2.3.9.4.2.1.1.3.3.0",),
        firmware=("1.3.6.1.4.1.11.2.3.9.4.2.1.1.3.6.0",),
        device_id=("1.3.6.1.4.1.11.2.3.9.1.1.7.0",),
        counters={
            "total": ("1.3.6.1.4.1.11.2.3.9.4.2.1.4.1.2.5.0",),
            "mono": ("1.3.6.1.4.1.11.2.3.9.4.2.1.4.1.2.6.0",),
            "color": ("1.3.6.1.4.1.11.2.3.9.4.2.1.4.1.2.7.0",),
            "duplex": ("1.3.6.1.4.1.11.2.3.9.4.2.1.4.1.2.22.0",),
        },
    ),
    2435: VendorOids(
        serial=("1.3.6.1.4.1.2435.2.3.9.4.2.1.5.5.1.0",),
        firmware=("1.3.6.1.4.1.2435.2.4.3.1240.6.5.0", "1.3.6.1.4.1.2435.2.3.9.4.2.1.5.5.17.0"),
        device_id=("1.3.6.1.4.1.2435.2.3.9.1.1.7.0",),
    ),
    367: VendorOids(
        model=("1.3.6.1.4.1.367.3.2.1.1.1.1.0",),
        serial=("1.3.6.1.4.1.367.3.2.1.2.1.4.0",),
        firmware=("1.3.6.1.4.1.367.3.2.1.1.1.2.0",),
    ),
    1347: VendorOids(
        model=("1.3.6.1.4.1.1347.43.5.1.1.1.1",),
        serial=("1.3.6.1.4.1.1347.43.5.1.1.28.1",),
        firmware=("1.3.6.1.4.1.1347.43.5.4.1.5.1.1",),
        counters={
            "total": ("1.3.6.1.4.1.1347.43.10.1.1.12.1.1",),
            "mono": tuple(f"1.3.6.1.4.1.1347.42.3.1.2.1.1.{f}.1" for f in _KYOCERA_FUNCTIONS),
            "color": tuple(
                f"1.3.6.1.4.1.1347.42.3.1.2.1.1.{f}.{m}" for f in _KYOCERA_FUNCTIONS for m in (2, 3)
            ),
        },
    ),
    18334: VendorOids(
        model=("1.3.6.1.4.1.18334.1.1.1.1.6.2.1.0",),
        firmware=("1.3.6.1.4.1.18334.1.1.1.1.6.1.0",),
        counters={
            "mono": ("1.3.6.1.4.1.18334.1.1.1.5.7.2.2.1.5.1.1", "1.3.6.1.4.1.18334.1.1.1.5.7.2.2.1.5.1.2"),
            "color": ("1.3.6.1.4.1.18334.1.1.1.5.7.2.2.1.5.2.1", "1.3.6.1.4.1.18334.1.1.1.5.7.2.2.1.5.2.2"),
            "duplex": ("1.3.6.1.4.1.18334.1.1.1.5.7.2.1.3.0",),
        },
    ),
    1602: VendorOids(
        model=("1.3.6.1.4.1.1602.1.1.1.1.0",),
        firmware=("1.3.6.1.4.1.1602.1.1.1.4.0",),
        counters={
            "total": ("1.3.6.1.4.1.1602.1.11.1.3.1.4.301",),
            "color": ("1.3.6.1.4.1.1602.1.11.1.3.1.4.106",),
            "mono": ("1.3.6.1.4.1.1602.1.11.1.3.1.4.109",),
        },
    ),
    253: VendorOids(device_id=("1.3.6.1.4.1.253.8.51.1.2.1.20.1",)),
    683: VendorOids(
        model=("1.3.6.1.4.1.683.1.4.0",),
        serial=("1.3.6.1.4.1.683.1.5.0",),
        firmware=("1.3.6.1.4.1.683.1.9.0",),
    ),
    1248: VendorOids(
        model=("1.3.6.1.4.1.1248.1.2.2.1.1.1.2.1",),
        serial=("1.3.6.1.4.1.1248.1.2.2.1.1.1.5.1",),
    ),
}
VENDOR_OIDS[10642] = VENDOR_OIDS[683]


def enterprise_of(sys_object_id: str | None) -> int | None:
    if not sys_object_id:
        return None
    parts = sys_object_id.strip(".").split(".")
    if len(parts) > 6 and parts[:6] == ["1", "3", "6", "1", "4", "1"]:
        try:
            return int(parts[6])
        except ValueError:
            return None
    return None


def vendor_oids(enterprise: int | None) -> VendorOids:
    return VENDOR_OIDS.get(enterprise or 0, VendorOids())


def identity_oids(enterprise: int | None, device_index: int) -> list[str]:
    """Scalars read once per printer (and on refresh) to build its identity."""
    oids = vendor_oids(enterprise)
    return [
        mib.SYS_DESCR,
        mib.SYS_OBJECT_ID,
        mib.SYS_NAME,
        mib.SYS_LOCATION,
        f"{mib.HR_DEVICE_DESCR}.{device_index}",
        f"{mib.PRT_GENERAL_SERIAL_NUMBER}.{device_index}",
        f"{mib.PRT_GENERAL_PRINTER_NAME}.{device_index}",
        f"{mib.PRT_LOCALIZATION_CHARSET}.{device_index}.1",
        mib.PPM_IEEE1284_DEVICE_ID,
        f"{mib.IF_PHYS_ADDRESS}.1",
        f"{mib.IF_PHYS_ADDRESS}.2",
        *oids.model,
        *oids.serial,
        *oids.firmware,
        *oids.device_id,
    ]


# IANA MIBenum values printers use in prtLocalizationCharacterSet.
CHARSETS: dict[int, str] = {
    3: "ascii",
    4: "latin-1",
    5: "iso8859-2",
    8: "iso8859-5",
    12: "iso8859-9",
    17: "shift_jis",
    18: "euc_jp",
    106: "utf-8",
    113: "gbk",
    1015: "utf-16",
    2004: "hp-roman8",
    2025: "gb2312",
    2026: "big5",
}


def charset_of(values: Mapping[str, SnmpValue], device_index: int) -> str | None:
    raw = values.get(f"{mib.PRT_LOCALIZATION_CHARSET}.{device_index}.1")
    return CHARSETS.get(raw) if isinstance(raw, int) else None


def _first_text(values: Mapping[str, SnmpValue], oids: tuple[str, ...], charset: str | None) -> str | None:
    for oid in oids:
        text = decode_text(values.get(oid), charset)
        if text and text.strip("0 ") and text.lower() not in {"unknown", "n/a", "<private>"}:
            return text
    return None


def vendor_from_text(*texts: str | None) -> str | None:
    for text in texts:
        if not text:
            continue
        for name, pattern in VENDOR_KEYWORDS:
            if pattern.search(text):
                return name
    return None


_SERIES = re.compile(r"\s+series\b.*$", re.I)
_DESCR_MODEL = (
    re.compile(r"^Samsung\s+(.+?)\s*(?:Series)?\s*;", re.I),
    re.compile(r"^(?:FUJI )?Xerox\s+(.+?)\s*;", re.I),
    re.compile(r"^Lexmark\s+(\S+)\s+version", re.I),
    re.compile(r"Attached to\s+(.+?)\s+Rev\.", re.I),
    re.compile(r"^(?:Dell|TOSHIBA)\s+(.+?)\s+version\s", re.I),
    re.compile(r"\bPID:\s*(?:HP\s+)?([^,]+)", re.I),
    re.compile(
        r"^(?:KONICA MINOLTA|SHARP|RICOH|Canon|FUJIFILM|Konica Minolta)\s+(.+?)(?:\s+[\d.]+)?(?:\s*/.*)?$"
    ),
)
_FIRMWARE_PATTERNS = (
    re.compile(r"Firmware Ver\.?\s*([\w.]+)", re.I),
    re.compile(r"\bversion\s+([A-Z0-9]+\.[\w.]+)", re.I),
    re.compile(r";\s*V([\d.]+[\w.]*)", re.I),
    re.compile(r"\bRev\.\s*([\w.]+)", re.I),
    re.compile(r"\bSystem\s+([\d.]+)", re.I),
    re.compile(r"\bFW:?\s*([\w.]+)", re.I),
)
_DESCR_SERIAL = re.compile(r"\b(?:SN|S/N)[:\s]\s*([A-Z0-9-]{5,})", re.I)


def clean_model(model: str, vendor: str | None) -> str:
    model = _SERIES.sub("", model).strip()
    prefixes = [vendor] if vendor else []
    prefixes += ["Hewlett-Packard", "HP", "KONICA MINOLTA", "Konica Minolta", "Brother", "EPSON"]
    for prefix in prefixes:
        if prefix and model.lower().startswith(prefix.lower() + " "):
            model = model[len(prefix) + 1 :].strip()
    return model


def build_identity(values: Mapping[str, SnmpValue], device_index: int) -> Identity:
    """Vendor, model, serial, firmware and MAC from the identity scalars."""
    charset = charset_of(values, device_index)
    sys_descr = decode_text(values.get(mib.SYS_DESCR))
    oid_value = values.get(mib.SYS_OBJECT_ID)
    sys_object_id = oid_value if isinstance(oid_value, str) else None
    enterprise = enterprise_of(sys_object_id)
    oids = vendor_oids(enterprise)
    device_id = _first_text(values, (mib.PPM_IEEE1284_DEVICE_ID, *oids.device_id), None)
    fields = parse_device_id(device_id)
    hr_descr = decode_text(values.get(f"{mib.HR_DEVICE_DESCR}.{device_index}"), charset)
    if hr_descr and hr_descr.lower().startswith(("generic", "unknown")):
        hr_descr = None

    vendor = vendor_from_text(
        fields.get("MFG") or fields.get("MANUFACTURER"), sys_descr, hr_descr
    ) or ENTERPRISE_VENDORS.get(enterprise or 0)

    model = fields.get("MDL") or fields.get("MODEL") or _first_text(values, oids.model, charset) or hr_descr
    if not model and sys_descr:
        for pattern in _DESCR_MODEL:
            match = pattern.search(sys_descr)
            if match:
                model = match.group(1).strip()
                break
    if model:
        model = clean_model(model, vendor)

    serial = _first_text(values, (f"{mib.PRT_GENERAL_SERIAL_NUMBER}.{device_index}", *oids.serial), None)
    if not serial and sys_descr:
        match = _DESCR_SERIAL.search(sys_descr)
        serial = match.group(1) if match else None
    if model and serial:
        # Lexmark-built printers (Dell, Toshiba) append service tag and engine firmware to
        # hrDeviceDescr: "Dell S5830dn 7XQ1R92 LW62.DN4.P636" with serial "7XQ1R92-132-13".
        words = model.split()
        tag = serial.split("-")[0]
        if len(tag) >= 5 and tag in words[1:]:
            model = " ".join(words[: words.index(tag)])

    firmware = _first_text(values, oids.firmware, None)
    source = firmware or sys_descr or ""
    for pattern in _FIRMWARE_PATTERNS:
        match = pattern.search(source)
        if match:
            firmware = match.group(1).rstrip(".,;")
            break

    mac = decode_mac(values.get(f"{mib.IF_PHYS_ADDRESS}.1")) or decode_mac(
        values.get(f"{mib.IF_PHYS_ADDRESS}.2")
    )
    sys_name = decode_text(values.get(mib.SYS_NAME))
    location = decode_text(values.get(mib.SYS_LOCATION))
    return Identity(
        vendor=vendor,
        model=model,
        serial=serial,
        firmware=firmware,
        mac=mac,
        sys_name=None if sys_name == "<private>" else sys_name,
        sys_descr=sys_descr,
        sys_object_id=sys_object_id,
        location=None if location == "<private>" else location,
        device_id=device_id,
        printer_name=decode_text(values.get(f"{mib.PRT_GENERAL_PRINTER_NAME}.{device_index}"), charset),
    )


def vendor_counters(enterprise: int | None, values: Mapping[str, SnmpValue]) -> dict[str, int]:
    """Sum each vendor counter's OIDs; counters with no answering OID are left out."""
    result: dict[str, int] = {}
    for name, oids in vendor_oids(enterprise).counters.items():
        numbers = [v for o in oids if isinstance(v := values.get(o), int) and v >= 0]
        if numbers:
            result[name] = sum(numbers)
    return result
