"""Printer-MIB semantics as pure functions: levels, colours, kinds, descriptions, error bits."""

from __future__ import annotations

import pytest

from mqtt_agent import mib
from mqtt_agent.printer_mib import (
    clean_description,
    color_from_text,
    decode_error_state,
    normalize_colorant,
    overall_status,
    supply_kind,
    supply_level,
    supply_rows,
    tray_level,
)
from mqtt_agent.text import decode_mac, decode_text, parse_device_id


@pytest.mark.parametrize(
    ("level", "maximum", "receptacle", "percent", "state", "estimated"),
    [
        (22050, 45000, False, 49, "ok", False),
        (0, 45000, False, 0, "empty", False),  # a real zero is empty, never 100 %
        (1, 45000, False, 0, "low", False),  # rounds to 0 % but is not empty yet
        (900, 10000, False, 9, "low", False),
        (150, 100, False, 100, "ok", False),  # above max: clamped
        (-3, -2, False, None, "some_remaining", False),
        (-2, 100, False, None, "unknown", False),
        (-1, -1, False, None, "unrestricted", False),
        (-100, 100, False, None, "unknown", False),
        (70, -2, False, 70, "ok", True),  # no capacity: level read as a percentage
        (4000, -2, False, None, "unknown", False),
        (6030, 6700, True, 10, "ok", False),  # waste ink: 90 % room left = 10 % full
        (500, 6700, True, 93, "nearly_full", False),
        (0, 6700, True, 100, "full", False),
        (-3, -2, True, None, "some_remaining", False),
        (None, 100, False, None, "unknown", False),
    ],
)
def test_supply_level(level, maximum, receptacle, percent, state, estimated) -> None:
    result = supply_level(level, maximum, receptacle, low_threshold=10)
    assert (result.percent, result.state, result.estimated) == (percent, state, estimated)


def test_tray_level_needs_a_capacity() -> None:
    assert tray_level(181, 550, 10).percent == 33
    assert tray_level(-3, 1, 10).state == "some_remaining"
    assert tray_level(40, -2, 10).percent is None  # sheets, not a percentage


@pytest.mark.parametrize(
    ("text", "color"),
    [
        ("Black Toner Cartridge", "black"),
        ("Toner (Cyan)", "cyan"),
        ("Cartouche de toner noir", "black"),
        ("Tonerkartusche Gelb", "yellow"),
        ("Toner giallo", "yellow"),
        ("黑色碳粉", "black"),
        ("洋紅色碳粉", "magenta"),
        ("黃色碳粉", "yellow"),
        ("青色碳粉", "cyan"),
        ("TK-8527C", "cyan"),
        ("TK-5240K", "black"),
        ("CLT-M504S", "magenta"),
        ("Light Cyan Ink", "light_cyan"),
        ("Photo Black Ink Cartridge", "photo_black"),
        ("Drum Unit", None),
        ("Imaging Unit", None),
    ],
)
def test_color_from_text(text, color) -> None:
    assert color_from_text(text) == color


def test_colorant_names() -> None:
    assert normalize_colorant("black") == "black"
    assert normalize_colorant("Very Deep Black") == "black"
    assert normalize_colorant("unknown") is None
    assert normalize_colorant("Clear") == "clear"


@pytest.mark.parametrize(
    ("type_code", "text", "kind"),
    [
        (3, "Black Toner", "toner"),
        (4, "Waste Toner Box", "waste"),
        (9, "Drum", "drum"),
        (None, "Waste Toner Container", "waste"),
        (None, "Drum Cartridge (R1)", "drum"),
        (1, "Maintenance Kit", "maintenance_kit"),
        (1, "Tray 1 Retard Roller Life", "roller"),
        (None, "Image Transfer Belt Unit", "transfer_unit"),
        (None, "Fusing Unit", "fuser"),
        (None, "Ozone Filter", "filter"),
        (None, "Canon Cartridge 719/719H", "other"),
        (None, "TK-8527C", "toner"),
        (21, "PK-3010S", "toner"),
    ],
)
def test_supply_kind(type_code, text, kind) -> None:
    assert supply_kind(type_code, text) == kind


@pytest.mark.parametrize(
    ("raw", "name", "part"),
    [
        ("Black Toner, PN 006R01509;SN48178080E0000481", "Black Toner", "006R01509"),
        ("Black Toner Cartridge S/N:CRUM-16011234567", "Black Toner Cartridge", None),
        ("Cyan Toner Cartridge OKI DATA CORP", "Cyan Toner Cartridge", None),
        ("Black Cartridge HP CF410A", "Black Cartridge HP CF410A", "CF410A"),
        ("TK-8527C", "TK-8527C", "TK-8527C"),
    ],
)
def test_clean_description(raw, name, part) -> None:
    assert clean_description(raw) == (name, part)


def test_decode_text_renderings() -> None:
    assert decode_text(b"Black Toner\x00\x00 ") == "Black Toner"
    assert decode_text("E9 BB 91 E8 89 B2 E7 A2 B3 E7 B2 89") == "黑色碳粉"
    two_line = "Black Cartridge \n38 32 37 41 20 48 50 20 43 46 33 30 30 41 00 "
    assert decode_text(two_line) == "Black Cartridge 827A HP CF300A"
    assert decode_text(b"\x00\x00") is None
    assert decode_text("Gr\xfcn".encode("latin-1")) == "Grün"  # not UTF-8: Latin-1
    assert decode_text(b"Schwarz", "hp-roman8") == "Schwarz"


def test_mac_and_device_id() -> None:
    assert decode_mac(bytes.fromhex("3c2af4bff51b")) == "3c:2a:f4:bf:f5:1b"
    assert decode_mac(b"\x00" * 6) is None
    assert decode_mac(b"") is None
    fields = parse_device_id("MFG:Brother;CMD:PJL,HBP;MDL:DCP-L3550CDW;CLS:PRINTER;")
    assert fields["MFG"] == "Brother" and fields["MDL"] == "DCP-L3550CDW"


@pytest.mark.parametrize(
    ("raw", "errors"),
    [
        (b"\x00", []),
        (b"\x00\x00", []),
        (b"\x80\x00", ["low_paper"]),
        (b"\x20\x00", ["low_toner"]),
        (b"\x01\x00", ["service_requested"]),
        (b" ", ["low_toner"]),  # Epson sends a single space: 0x20
        (b"\x0c\x02", ["door_open", "jammed", "overdue_preventive_maintenance"]),
        (b"\x00\x80", ["input_tray_missing"]),
        (b"", []),
        (None, []),
    ],
)
def test_error_state_bits(raw, errors) -> None:
    assert decode_error_state(raw) == errors


def test_overall_status() -> None:
    assert overall_status(2, 3, []) == "idle"
    assert overall_status(2, 4, []) == "printing"
    assert overall_status(3, 3, ["low_toner"]) == "warning"
    assert overall_status(5, 1, ["jammed"]) == "error"
    assert overall_status(2, 3, ["door_open"]) == "error"
    assert overall_status(None, None, []) == "unknown"


def test_supply_rows_use_the_colorant_table() -> None:
    """The supply index is not the colour: the colorant index says which colorant it is."""
    columns = {
        mib.PRT_SUPPLY_DESCRIPTION: {"1.1": b"TK-8527", "1.2": b"Toner Cartridge", "1.3": b"Waste Toner Box"},
        mib.PRT_SUPPLY_COLORANT_INDEX: {"1.1": 4, "1.2": 1, "1.3": 0},
        mib.PRT_SUPPLY_TYPE: {"1.1": 3, "1.2": 3, "1.3": 4},
        mib.PRT_SUPPLY_CLASS: {"1.1": 3, "1.2": 3, "1.3": 4},
        mib.PRT_SUPPLY_MAX_CAPACITY: {"1.1": 15000, "1.2": 15000, "1.3": -2},
        mib.PRT_SUPPLY_LEVEL: {"1.1": 7000, "1.2": 100, "1.3": -3},
    }
    colorants = {"1.1": b"black", "1.4": b"yellow"}
    rows = supply_rows(columns, colorants)
    assert [r.color for r in rows] == ["yellow", "black", None]
    assert [r.receptacle for r in rows] == [False, False, True]
    assert rows[2].kind == "waste"
