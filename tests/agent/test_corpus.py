"""The shared corpus of real printer recordings, replayed through the real agent over real SNMP.

One snmpsim process serves every LibreNMS recording (community = file stem); each is polled once
with ``PrinterReader.poll()``. For every row LibreNMS expects we check that LibreNMS's own rules,
applied to the raw values we read, reproduce its number (we read the right row), and that our
percent/state follow our rules (computed independently in ``corpus.py``). Recordings without
Printer-MIB data, and the non-printer negatives, must be rejected with ``NotAPrinter``.

The corpus lives beside the checkout (``../shared/corpus``); without it these tests skip. The
Brother private-MIB fixtures are covered by ``test_brother.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from mqtt_agent import mib
from mqtt_agent.errors import NotAPrinter
from mqtt_agent.model import PrinterSnapshot, Supply
from mqtt_agent.printer_mib import clean_description, color_from_text, supply_level, supply_rows
from mqtt_agent.text import decode_text

try:  # the test directory may or may not be a package
    from . import corpus
except ImportError:
    import corpus  # type: ignore[no-redef]

AVAILABLE = corpus.corpus_available()
RECORDINGS = corpus.librenms_recordings() if AVAILABLE else []
BY_NAME = {r.name: r for r in RECORDINGS}


def _params(groups: set[str]) -> list[Any]:
    chosen = [pytest.param(r, id=r.name) for r in RECORDINGS if r.group in groups]
    return chosen or [pytest.param(None, marks=pytest.mark.skip(reason=f"{corpus.CORPUS_DIR} is absent"))]


@pytest.fixture(scope="module")
def polled() -> Iterator[dict[str, corpus.PollOutcome]]:
    """Start snmpsim once for the module and poll every LibreNMS recording through the agent."""
    if not AVAILABLE:
        pytest.skip(f"{corpus.CORPUS_DIR} is absent")
    sim = corpus.CorpusSimulator(RECORDINGS)
    try:
        sim.start()
        asyncio.run(sim.wait_ready(timeout=60))
        yield asyncio.run(corpus.poll_recordings(sim.port, [r.name for r in RECORDINGS]))
    finally:
        sim.stop()


def _snapshot(polled: dict[str, corpus.PollOutcome], name: str) -> PrinterSnapshot:
    outcome = polled[name]
    assert outcome.error is None, f"{name}: {type(outcome.error).__name__}: {outcome.error}"
    assert outcome.snapshot is not None
    return outcome.snapshot


def _supply(snapshot: PrinterSnapshot, key: str) -> Supply:
    return next(s for s in snapshot.supplies if s.key == key)


# --- every row LibreNMS expects ----------------------------------------------------------------


@pytest.mark.corpus
@pytest.mark.parametrize("rec", _params({"supplies"}))
def test_supply_rows_match_librenms(rec: corpus.Recording, polled: dict[str, corpus.PollOutcome]) -> None:
    _snapshot(polled, rec.name)
    result = corpus.compare(rec, polled[rec.name])
    rows = [r for r in result.rows if r.table == "supply"]
    assert rows, "LibreNMS expects supplies here"
    for row in rows:
        where = f"{rec.name} {row.key} {row.expected_descr!r}"
        assert row.ours is not None, f"{where}: not reported"
        assert row.name_ok, f"{where}: our name is {row.ours.name!r}"
        assert row.raw_ok, f"{where}: raw {row.ours.level}/{row.ours.max_capacity} != recorded {row.raw}"
        # (a) LibreNMS's rules on our raw values give LibreNMS's numbers.
        assert row.librenms_from_ours == row.expected_percent, where
        assert row.capacity_from_ours == row.expected_capacity, where
        if row.poller_percent is not None:
            assert row.librenms_poll_from_ours == row.poller_percent, f"{where} (poller)"
        # (b) our percent and state follow our own rules.
        assert row.ours_follow_our_rules, f"{where}: ours {row.ours} vs rules {row.oracle}"
        if row.librenms_from_ours != row.ours.percent:
            assert row.difference is not None, f"{where}: unexplained difference"


@pytest.mark.corpus
@pytest.mark.parametrize("rec", _params({"supplies"}))
def test_tray_rows_match_librenms(rec: corpus.Recording, polled: dict[str, corpus.PollOutcome]) -> None:
    _snapshot(polled, rec.name)
    result = corpus.compare(rec, polled[rec.name])
    for row in (r for r in result.rows if r.table == "tray"):
        where = f"{rec.name} tray {row.key} {row.expected_descr!r}"
        assert row.ours is not None, f"{where}: not reported"
        assert row.name_ok and row.raw_ok, f"{where}: ours {row.ours} vs recorded {row.raw}"
        assert row.librenms_from_ours == row.expected_percent, where
        assert row.capacity_from_ours == row.expected_capacity, where
        if row.poller_percent is not None:
            assert row.librenms_poll_from_ours == row.poller_percent, f"{where} (poller)"
        assert row.ours_follow_our_rules, f"{where}: ours {row.ours} vs rules {row.oracle}"


@pytest.mark.corpus
@pytest.mark.parametrize("rec", _params({"supplies"}))
def test_every_recorded_row_is_reported(rec: corpus.Recording, polled: dict[str, corpus.PollOutcome]) -> None:
    """Rows LibreNMS leaves out (-2, unnamed trays) are still ours to report, as unknown or by index."""
    snapshot = _snapshot(polled, rec.name)
    assert {s.key for s in snapshot.supplies} == set(rec.raw_supplies())
    assert {t.key for t in snapshot.trays} == set(rec.raw_trays())
    for supply in snapshot.supplies:
        raw = rec.raw_supplies()[supply.key]
        receptacle = corpus.expected_receptacle(raw["class"], raw["type"], raw["descr"])
        oracle = corpus.our_supply_level(raw["level"], raw["max"], receptacle)
        assert (supply.percent, supply.state, supply.receptacle) == (oracle.percent, oracle.state, receptacle)
    for tray in snapshot.trays:
        raw = rec.raw_trays()[tray.key]
        oracle = corpus.our_tray_level(raw["level"], raw["max"])
        assert (tray.percent, tray.state) == (oracle.percent, oracle.state)
    extras = corpus.compare(rec, polled[rec.name]).extras
    assert not [text for _table, kind, text in extras if kind.startswith("unexplained")]


@pytest.mark.corpus
@pytest.mark.parametrize("rec", _params({"supplies"}))
def test_kind_and_colour_where_the_description_says_it(
    rec: corpus.Recording, polled: dict[str, corpus.PollOutcome]
) -> None:
    snapshot = _snapshot(polled, rec.name)
    for supply in snapshot.supplies:
        raw = rec.raw_supplies()[supply.key]
        kind = corpus.expected_kind(raw["type"], raw["descr"])
        if kind is not None:
            assert supply.kind == kind, f"{rec.name} {supply.key} {raw['descr']!r}"
        assert supply.color == corpus.expected_colour(raw["descr"]), (
            f"{rec.name} {supply.key} {raw['descr']!r}"
        )


# --- hand-written expectations for well-known rows ---------------------------------------------

SPOT_CHECKS: list[tuple[str, str, dict[str, Any]]] = [
    # Canon waste ink: 6030 of 6700 units of *space left* -> 10 % full (LibreNMS shows 90 %).
    (
        "canonprinter_tm",
        "1.6",
        {
            "kind": "waste",
            "receptacle": True,
            "level": 6030,
            "max_capacity": 6700,
            "percent": 10,
            "state": "ok",
        },
    ),
    ("canonprinter_tm", "1.1", {"name": "CANON Matte Black Ink Tank", "color": "matte_black", "percent": 80}),
    # Sharp waste toner: 100 with capacity -2 -> empty bin, level read as a percentage.
    ("sharp", "1.5", {"receptacle": True, "percent": 0, "estimated": True, "state": "ok"}),
    ("sharp", "1.14", {"name": "Fusing Unit", "kind": "fuser", "percent": None, "state": "unknown"}),
    ("utax", "1.2", {"receptacle": True, "percent": None, "state": "some_remaining"}),
    # A Kyocera-style part number: "PK" here is not Epson's photo black.
    ("utax", "1.1", {"kind": "toner", "color": None, "part_number": "PK-3010S", "percent": 89}),
    ("brother", "1.1", {"kind": "toner", "color": "black", "percent": None, "state": "some_remaining"}),
    ("brother", "1.2", {"kind": "drum", "percent": 96}),
    # A genuine 0 is empty, not LibreNMS's Brother "0 means full".
    ("brother_hl5370dw", "1.1", {"level": 0, "percent": 0, "state": "empty", "estimated": True}),
    ("ricoh_mpc2503", "1.1", {"name": "黑色碳粉", "kind": "toner", "color": "black", "percent": 80}),
    ("ricoh_mpc2503", "1.2", {"name": "廢棄碳粉", "kind": "waste", "receptacle": True, "percent": 0}),
    ("ricoh_mpc2503", "1.3", {"name": "青色碳粉", "color": "cyan"}),
    ("ricoh_mpc2503", "1.4", {"name": "洋紅色碳粉", "color": "magenta"}),
    ("ricoh_mpc2503", "1.5", {"name": "黃色碳粉", "color": "yellow", "percent": 20}),
    (
        "jetdirect",
        "1.3",
        {
            "name": "Magenta Cartridge HP CF413A This description is longer than 32",
            "color": "magenta",
            "part_number": "CF413A",
        },
    ),
    ("xerox", "1.1", {"name": "Black Toner", "part_number": "006R01509", "color": "black", "percent": 20}),
    ("xerox", "1.9", {"name": "Fuser", "part_number": None, "kind": "fuser"}),
    (
        "xerox",
        "1.10",
        {"name": "Waste Toner Container", "receptacle": True, "percent": 95, "state": "nearly_full"},
    ),
    ("konica", "1.1", {"name": "Toner (Cyan)", "kind": "toner", "color": "cyan", "percent": 29}),
    ("konica", "1.12", {"name": "Developer Cartridge (Black)", "kind": "developer", "color": "black"}),
    ("konica", "1.13", {"kind": "waste", "receptacle": True, "state": "some_remaining"}),
    ("okilan_9450g", "1.1", {"name": "Black Toner Cartridge", "color": "black", "percent": 59}),
    ("samsungprinter_m4080fx", "1.1", {"name": "Black Toner Cartridge", "percent": 88}),
    ("samsungprinter_m4080fx", "1.2", {"name": "Fuser", "kind": "fuser", "percent": 75}),
    ("fujifilmprinter_c7580", "1.31", {"name": "Black Toner 2", "percent": 90}),
    ("epson", "1.1", {"kind": "ink", "color": "black", "percent": 1, "state": "low"}),
    ("dell-laser_s5830dn", "1.3", {"kind": "maintenance_kit", "percent": 83}),
]


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("name", "key", "want"),
    [pytest.param(*case, id=f"{case[0]}-{case[1]}") for case in SPOT_CHECKS]
    if AVAILABLE
    else [pytest.param("", "", {}, marks=pytest.mark.skip(reason="corpus absent"))],
)
def test_well_known_rows(
    name: str, key: str, want: dict[str, Any], polled: dict[str, corpus.PollOutcome]
) -> None:
    supply = _supply(_snapshot(polled, name), key)
    got = {field: getattr(supply, field) for field in want}
    assert got == want


# --- SNMP context fallback (HP Jetdirect) ------------------------------------------------------


@pytest.mark.corpus
def test_jetdirect_supplies_found_in_the_jetdirect_context(polled: dict[str, corpus.PollOutcome]) -> None:
    """The default context has only the system group; the Printer-MIB answers as ``public@Jetdirect``."""
    snapshot = _snapshot(polled, "jetdirect_supplies_context")
    assert snapshot.context == "Jetdirect"
    assert [(s.name, s.percent) for s in snapshot.supplies] == [
        ("Black Cartridge", 61),
        ("Cyan Cartridge", 47),
        ("Magenta Cartridge", 72),
        ("Yellow Cartridge", 55),
    ]
    assert snapshot.identity.model == "Color LaserJet Test"  # identity still from the default context


@pytest.mark.corpus
def test_jetdirect_context_pair_answers_in_the_default_context(polled: dict[str, corpus.PollOutcome]) -> None:
    """This pair's default half already holds the supplies (its @Jetdirect half only a device ID),
    so no fallback is needed: same result as the plain ``jetdirect`` recording."""
    snapshot = _snapshot(polled, "jetdirect_context")
    assert snapshot.context is None
    plain = _snapshot(polled, "jetdirect")
    assert [(s.name, s.percent) for s in snapshot.supplies] == [(s.name, s.percent) for s in plain.supplies]


# --- not printers ------------------------------------------------------------------------------


@pytest.mark.corpus
@pytest.mark.parametrize("rec", _params({"stub", "negative", "context_half"}))
def test_recordings_without_printer_mib_are_rejected(
    rec: corpus.Recording, polled: dict[str, corpus.PollOutcome]
) -> None:
    """Detection stubs (sysDescr/sysObjectID only), the negatives (hrDevicePrinter rows but no
    Printer-MIB) and a context half polled on its own (no system group) are not printers.

    ``xerox_apeosport`` has one Printer-MIB object (prtGeneralSerialNumber) and nothing the agent
    could report, so it is rejected as well; a real ApeosPort would answer the supplies table.
    """
    outcome = polled[rec.name]
    assert outcome.snapshot is None
    assert isinstance(outcome.error, NotAPrinter), f"{rec.name}: {outcome.error!r}"


# --- identity ----------------------------------------------------------------------------------

# What we report for every recording we accept: (vendor, model, serial).
IDENTITIES: dict[str, tuple[str, str | None, str | None]] = {
    "brother": ("Brother", "MFC-8440", "000A5J431816"),
    "brother_hl5370dw": ("Brother", "HL-5370DW", "B9J154306"),
    "canonprinter_lbp": ("Canon", "LBP6670", "MKRA012345"),
    "canonprinter_tm": ("Canon", "TM-5300", None),
    "dell-laser_s5830dn": ("Dell", "S5830dn", "7XQ1R92-132-13"),
    "epson": ("Epson", "WF-C5790BA", "X3B8022793"),
    "fujifilmprinter_c7580": ("Fujifilm", "Apeos C7580", "TC101642170085"),
    "fujifilmprinter_c810": ("Fujifilm", "ApeosPro C810", "TC101630131338"),
    "jetdirect": ("HP", "Color LaserJet M452nw", "AAA0A00000"),
    "jetdirect_context": ("HP", "Color LaserJet M452nw", "AAA0A00000"),
    "jetdirect_m130nw": ("HP", "LaserJet MFP M129-M134", "VNCRC48198"),
    "jetdirect_m252dw": ("HP", "Color LaserJet Pro M252dw", "VNB3J99999"),
    "jetdirect_supplies_context": ("HP", "Color LaserJet Test", "TEST000000"),
    "konica": ("Konica Minolta", "Develop ineo+ 280", None),
    "konica_2": ("Konica Minolta", "bizhub 25e", None),
    "okilan_9450g": ("OKI", "MC873", None),
    "ricoh_mpc2503": ("Ricoh", "MP C2503", "E216R220016"),
    "samsungprinter_m4080fx": ("Samsung", "M408x", None),
    "sharp": ("Sharp", "MX-3570N", "6509415X00"),
    "utax": ("UTAX", "P-4532DN", "R9L0309954"),
    "xerox": ("Xerox", "AltaLink C8045", None),
}


@pytest.mark.corpus
@pytest.mark.parametrize("rec", _params({"supplies"}))
def test_identity(rec: corpus.Recording, polled: dict[str, corpus.PollOutcome]) -> None:
    """Our model/serial agree with LibreNMS's where it has them, except for its known quirks."""
    ident = _snapshot(polled, rec.name).identity
    assert (ident.vendor, ident.model, ident.serial) == IDENTITIES[rec.name]
    expected = rec.expected.get("os") or {}
    if expected.get("hardware") and rec.name not in corpus.IDENTITY_QUIRKS:
        assert ident.model == corpus.librenms_model(expected["hardware"], ident.vendor)
    if rec.name in corpus.IDENTITY_QUIRKS:
        assert ident.model == corpus.IDENTITY_QUIRKS[rec.name][0]
    if expected.get("serial"):
        assert ident.serial == expected["serial"]


# --- the whole corpus ---------------------------------------------------------------------------


@pytest.mark.corpus
def test_corpus_totals(polled: dict[str, corpus.PollOutcome]) -> None:
    """Every expected row matched; every difference from LibreNMS is one of the deliberate kinds."""
    assert len(polled) == len(RECORDINGS) == 69  # 63 LibreNMS recordings (2 context halves) + 6 negatives
    results = [corpus.compare(r, polled[r.name]) for r in RECORDINGS if r.group == "supplies"]
    supplies = [sum(x) for x in zip(*(r.count("supply") for r in results), strict=True)]
    trays = [sum(x) for x in zip(*(r.count("tray") for r in results), strict=True)]
    assert supplies == [128, 128]  # matched, expected
    assert trays == [28, 28]
    kinds = {kind for r in results for _table, kind, _text in r.differences}
    assert kinds <= {
        corpus.DIFF_SOME_REMAINING,
        corpus.DIFF_UNRESTRICTED,
        corpus.DIFF_RECEPTACLE,
        corpus.DIFF_ZERO,
        corpus.DIFF_CLAMP,
        corpus.DIFF_EXTRA_UNKNOWN,
        corpus.DIFF_EXTRA_UNNAMED,
    }
    assert max(o.seconds for o in polled.values()) < 20


# --- Checkmk's OKI table: our pure functions ----------------------------------------------------


@pytest.mark.corpus
def test_checkmk_oki_table() -> None:
    """Checkmk's table (descr, unit, max, level, class, colorant) through ``supply_rows``/``supply_level``.

    OKI names every toner and drum the same; the colour comes from the colorant table, which Checkmk
    puts in front of the item name ("Black Toner Cartridge ...").
    """
    if not corpus.CHECKMK_DATASET.is_file():
        pytest.skip(f"{corpus.CHECKMK_DATASET} is absent")
    info, checks = corpus.load_checkmk_dataset()
    columns, colorants = corpus.checkmk_columns(info)
    rows = supply_rows(columns, colorants)
    expected = corpus.checkmk_expected(checks)
    assert len(rows) == len(info[1]) == len(expected)
    ours: dict[str, tuple[int | None, str]] = {}
    for row, item in zip(rows, corpus.checkmk_items(rows, info, expected), strict=True):
        level = columns[mib.PRT_SUPPLY_LEVEL][row.key]
        lvl = supply_level(level, row.max_capacity, row.receptacle, corpus.LOW_THRESHOLD)
        ours[item] = (lvl.percent, lvl.state)
    assert {item: percent for item, (percent, _state) in ours.items()} == expected
    assert ours["Black Toner Cartridge OKI DATA CORP"] == (30, "ok")
    assert ours["Cyan Toner Cartridge OKI DATA CORP"] == (10, "low")
    assert ours["Black Image Drum Unit OKI DATA CORP"] == (2, "low")
    assert ours["Belt Unit OKI DATA CORP"] == (79, "ok")
    assert ours["Waste Toner box OKI DATA CORP"] == (None, "unknown")  # max 1, level -2
    by_name = {r.name: r for r in rows}
    assert by_name["Waste Toner box"].receptacle and by_name["Waste Toner box"].color is None
    assert by_name["ZFoobar"].unit == "tenthsOfMilliliters"
    assert by_name["ZFoobar"].color == "black"  # colorant 5, "very deep black"
    assert all(r.class_code is None for r in rows if r.name != "ZFoobar")  # the text "class" is not a number


# --- description decoding that the trimmed recordings do not exercise ----------------------------


def test_hp_two_line_description_both_forms() -> None:
    """net-snmp renders a NUL-terminated HP description as text plus a hex dump; the wire has bytes."""
    rendered = b"Black Cartridge \n38 32 37 41 20 48 50 20 43 46 33 30 30 41 00 "
    assert decode_text(rendered) == "Black Cartridge 827A HP CF300A"
    assert decode_text(b"Black Cartridge 827A HP CF300A\x00") == "Black Cartridge 827A HP CF300A"
    assert clean_description("Black Cartridge 827A HP CF300A") == ("Black Cartridge 827A HP CF300A", "CF300A")


def test_net_snmp_hex_rendering_of_utf8() -> None:
    assert decode_text(b"E9 BB 91 E8 89 B2 E7 A2 B3 E7 B2 89") == "黑色碳粉"


@pytest.mark.parametrize(
    ("text", "name", "part"),
    [
        ("Black Toner, PN 006R01509;SN48178080E0000481", "Black Toner", "006R01509"),
        ("Fuser, PN unknown;SNunknown", "Fuser", None),
        ("Black Toner Cartridge S/N:CRUM-", "Black Toner Cartridge", None),
        ("Fuser S/N:", "Fuser", None),
        ("Yellow Image Drum Unit OKI DATA CORP", "Yellow Image Drum Unit", None),
    ],
)
def test_description_suffixes(text: str, name: str, part: str | None) -> None:
    assert clean_description(text) == (name, part)


@pytest.mark.parametrize(
    ("text", "colour"),
    [
        ("TK-8527C", "cyan"),
        ("TK-8527K", "black"),
        ("CLT-K504S", "black"),
        ("CLT-Y504S", "yellow"),
        ("PK-3010S", None),  # UTAX/TA toner kit: not Epson's "PK" (photo black)
        ("MK-3130 Maintenance Kit", None),  # Kyocera maintenance kit: not "MK" (matte black)
        ("Ink PK", "photo_black"),
        ("Schwarz Toner", "black"),
        ("Toner Noir", "black"),
        ("Toner Giallo", "yellow"),
        ("Toner (Cyan)", "cyan"),
    ],
)
def test_colour_from_description(text: str, colour: str | None) -> None:
    assert color_from_text(text) == colour


def test_snmprec_sanitising_drops_anonymised_oids() -> None:
    text = "1.3.6.1.2.1.1.1.0|4|x\n1.3.6.1.2.1.4.20.1.2.10.xx.xx.100|2|13\n1.3.6.1.2.1.1.3.0|67|5\n"
    clean, dropped = corpus.sanitise_snmprec(text)
    assert dropped == 1
    assert clean == "1.3.6.1.2.1.1.1.0|4|x\n1.3.6.1.2.1.1.3.0|67|5\n"


@pytest.mark.parametrize(
    ("level", "max_capacity", "os", "expected"),
    [
        (-3, -2, "sharp", 50),
        (-1, 100, "konica", 0),
        (-2, 100, "konica", None),
        (0, -2, "brother", 100),
        (1, -2, "brother", 5),
        (-100, 100, "ricoh", 0),
        (9, -2, "sharp", 9),
        (11501, 12000, "brother", 96),
        (150, 100, "xerox", 150),  # no upper clamp
        (1, 8, "xerox", 13),  # 12.5 rounds away from zero
    ],
)
def test_librenms_oracle(level: int, max_capacity: int, os: str, expected: int | None) -> None:
    assert corpus.librenms_percent(level, max_capacity, os) == expected
