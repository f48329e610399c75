"""Turn the bieniu/brother test fixtures into snmprec recordings.

The fixtures (and the library's expected values) live in the shared corpus beside the checkout,
``../shared/corpus/bieniu-brother`` (Apache-2.0); they are read from there at test time and never
copied into this repository. A fixture maps OIDs to what the library's ``_get_data`` returned:
a list of hex records for the three blobs, a decoded string for everything else, or null.
"""

from __future__ import annotations

import codecs
import re

SYS_DESCR_OID = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID_OID = "1.3.6.1.2.1.1.2.0"
BROTHER_SYS_OBJECT_ID = "1.3.6.1.4.1.2435.2.3.9.1"
FIRMWARE_OID = "1.3.6.1.4.1.2435.2.3.9.4.2.1.5.5.17.0"
CHARSET_OID = "1.3.6.1.2.1.43.7.1.1.4.1.1"
MAC_PREFIX = "1.3.6.1.2.1.2.2.1.6."

# Fixture strings that are numbers in the real MIB, with their snmprec type tags.
_NUMERIC_TYPES: tuple[tuple[str, str], ...] = (
    ("1.3.6.1.2.1.1.3.", "67"),  # sysUpTime: TimeTicks
    ("1.3.6.1.2.1.43.10.2.1.4.", "65"),  # prtMarkerLifeCount: Counter32
    ("1.3.6.1.2.1.43.7.1.1.4.", "2"),  # prtLocalizationCharacterSet: INTEGER (IANA MIBenum)
)
# The MIBenum values the fixtures use, as Python codecs (text is stored in the printer's charset).
_CHARSETS = {"4": "latin-1", "5": "iso8859-2", "8": "iso8859-5", "12": "iso8859-9", "106": "utf-8"}
_CHARSETS["2004"] = "hp-roman8"

_HEX = re.compile(r"(?:[0-9A-Fa-f]{2})*")
_MAC = re.compile(r"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}")
_PLAIN = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?")  # printable ASCII, no edge spaces


def _oid_key(oid: str) -> tuple[int, ...]:
    return tuple(int(part) for part in oid.split("."))


def _encoding(fixture: dict[str, object]) -> str:
    charset = fixture.get(CHARSET_OID)
    name = _CHARSETS.get(str(charset), "utf-8")
    codecs.lookup(name)
    return name


def _text_record(oid: str, text: str, encoding: str) -> tuple[str, str]:
    for prefix, tag in _NUMERIC_TYPES:
        if oid.startswith(prefix) and text.strip().isdigit():
            return tag, text.strip()
    if oid.startswith(MAC_PREFIX) and _MAC.fullmatch(text):
        return "4x", text.replace(":", "").lower()
    if _PLAIN.fullmatch(text) and "|" not in text:
        return "4", text
    try:
        raw = text.encode(encoding)
    except UnicodeEncodeError:
        raw = text.encode("utf-8")
    return "4x", raw.hex()


def fixture_to_snmprec(fixture: dict[str, object]) -> str:
    """snmprec text (``OID|type|value`` lines in numeric OID order) serving a fixture's values.

    Hex-record lists become one OCTET STRING blob with the 0xFF terminator the printers send;
    strings become OCTET STRINGs (hex-encoded in the printer's charset when they are not plain
    ASCII or would not survive the line format); known numeric objects keep their SNMP types;
    nulls are left out. sysDescr and sysObjectID are added when absent so the recording is
    recognised as a Brother device.
    """
    encoding = _encoding(fixture)
    records: dict[str, tuple[str, str]] = {}
    for oid, value in fixture.items():
        if value is None:
            continue
        if isinstance(value, bool):
            raise ValueError(f"{oid}: unexpected boolean")
        if isinstance(value, list):
            joined = "".join(str(part) for part in value)
            if not _HEX.fullmatch(joined):
                raise ValueError(f"{oid}: blob records are not hex: {value!r}")
            records[oid] = ("4x", joined.lower() + "ff")
        elif isinstance(value, int):
            records[oid] = ("2", str(value))
        elif isinstance(value, str):
            records[oid] = _text_record(oid, value, encoding)
        else:
            raise ValueError(f"{oid}: unsupported value {value!r}")
    if SYS_DESCR_OID not in records:
        firmware = fixture.get(FIRMWARE_OID)
        version = firmware if isinstance(firmware, str) and firmware else "unknown"
        records[SYS_DESCR_OID] = _text_record(
            SYS_DESCR_OID, f"Brother NC-xxxx, Firmware Ver.{version}", encoding
        )
    records.setdefault(SYS_OBJECT_ID_OID, ("6", BROTHER_SYS_OBJECT_ID))
    ordered = sorted(records.items(), key=lambda record: _oid_key(record[0]))
    lines = [f"{oid}|{tag}|{value}" for oid, (tag, value) in ordered]
    return "\n".join(lines) + "\n"


def parse_snmprec(text: str) -> dict[str, int | bytes | str]:
    """The values an SNMP GET would return for a snmprec text, typed as ``mqtt_agent.snmp`` does."""
    values: dict[str, int | bytes | str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        oid, tag, value = line.split("|", 2)
        if tag == "4x":
            values[oid] = bytes.fromhex(value)
        elif tag == "4":
            values[oid] = value.encode("latin-1")
        elif tag in ("2", "65", "66", "67", "70"):
            values[oid] = int(value)
        else:
            values[oid] = value
    return values
