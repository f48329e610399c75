"""Turning the strings printers send into clean text.

Printers send OCTET STRINGs in whatever charset their firmware likes, sometimes with trailing NULs
or padding. Recordings made with net-snmp may hold *renderings* instead of the bytes: a string of
hex byte groups ("E9 BB 91 ..."), or a text prefix followed by a hex dump on a second line (the HP
"two-line" form). Both the raw and the rendered forms are decoded here.
"""

from __future__ import annotations

import re

from .snmp import SnmpValue

_HEX_GROUPS = re.compile(r"^\s*(?:[0-9A-Fa-f]{2}\s+)+[0-9A-Fa-f]{2}\s*$")
_UPPER_HEX_GROUPS = re.compile(r"^\s*(?:[0-9A-F]{2}\s+)*[0-9A-F]{2}\s*$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

MAX_TEXT = 255


def _bytes_to_str(raw: bytes, charset: str | None = None) -> str:
    raw = raw.replace(b"\x00", b"")
    for encoding in (charset, "utf-8"):
        if encoding:
            try:
                return raw.decode(encoding)
            except (UnicodeDecodeError, LookupError):
                continue
    return raw.decode("latin-1")


def _hex_to_str(text: str, charset: str | None) -> str:
    return _bytes_to_str(bytes.fromhex("".join(text.split())), charset)


def decode_text(value: SnmpValue | None, charset: str | None = None) -> str | None:
    """Clean printable text from an SNMP string value; None when nothing printable is left."""
    if value is None:
        return None
    text = _bytes_to_str(value, charset) if isinstance(value, bytes) else str(value)
    if "\n" in text:
        # HP two-line rendering: a text line followed by lines that are upper-case hex byte groups.
        parts = []
        for line in text.split("\n"):
            parts.append(_hex_to_str(line, charset) if _UPPER_HEX_GROUPS.match(line) else line)
        text = "".join(parts)
    elif _HEX_GROUPS.match(text) and len(text.split()) >= 2:
        decoded = _hex_to_str(text, charset)
        if decoded.isprintable():
            text = decoded
    text = _CONTROL.sub(" ", text)
    text = " ".join(text.split())
    if not text:
        return None
    return text[:MAX_TEXT]


def decode_mac(value: SnmpValue | None) -> str | None:
    """A 6-byte physical address as aa:bb:cc:dd:ee:ff; None when absent or all zero."""
    if not isinstance(value, bytes):
        return None
    raw = value
    if len(raw) != 6:
        # Some recordings render it as text ("3C 2A F4 ..." or "3c:2a:...").
        cleaned = re.sub(r"[^0-9A-Fa-f]", "", raw.decode("latin-1"))
        if len(cleaned) != 12:
            return None
        raw = bytes.fromhex(cleaned)
    if not any(raw):
        return None
    return ":".join(f"{b:02x}" for b in raw)


def parse_device_id(text: str | None) -> dict[str, str]:
    """IEEE 1284 device ID ``KEY:value;KEY:value;`` -> dict with upper-case keys."""
    fields: dict[str, str] = {}
    if not text:
        return fields
    for part in text.split(";"):
        key, sep, val = part.partition(":")
        if sep and key.strip():
            fields[key.strip().upper()] = val.strip()
    return fields
