"""Brother private-MIB blobs: decoded numbers against the bieniu/brother library's snapshot.

The fixtures and the snapshot (syrupy ``.ambr``) are read from the shared corpus beside the
checkout; the corpus tests skip when it is absent. Hand-made hostile blobs run everywhere.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import pytest

from mqtt_agent.brother import (
    BLOB_OIDS,
    BROTHER_COUNTERS_OID,
    BROTHER_DEVICE_ID_OID,
    BROTHER_MAINTENANCE_OID,
    BROTHER_NEXT_CARE_OID,
    BrotherData,
    BrotherItem,
    Marking,
    blob_bytes,
    decode_blobs,
    detect_marking,
    to_supplies,
)

try:  # the test directory may or may not be a package
    from .brother_fixtures import fixture_to_snmprec, parse_snmprec
except ImportError:
    from brother_fixtures import fixture_to_snmprec, parse_snmprec  # type: ignore[no-redef]

SHARED = Path(__file__).resolve().parents[3] / "shared"
CORPUS = SHARED / "corpus" / "bieniu-brother"
FIXTURES = CORPUS / "fixtures"
SNAPSHOT = CORPUS / "snapshots" / "test_init.ambr"

COLORS = ("black", "cyan", "magenta", "yellow")

# Where our decoder deliberately differs from the library's snapshot, and why.
# HL-5350DN's maintenance blob mixes record lengths (``31 01 01 01``: one-byte values); the
# library cuts every blob into 7-byte chunks, so from the second record on it reads misaligned
# garbage (black toner status 21037313, drum status lost). We follow the length byte.
KNOWN_DIFFERENCES: dict[str, dict[str, int | None]] = {
    "hl-5350dn": {"toner.black.status": 1, "drum.status": 3},
}


# --- snapshot parsing ------------------------------------------------------------------------

_BLOCK = re.compile(r"^# name: (\S+)\n(.*?)^# ---", re.M | re.S)
_INT_FIELD = re.compile(r"(\w+)=(None|-?\d+)(?=[,)\n])")
_MODEL = re.compile(r"model='([^']+)'")


def _snapshot_cases() -> dict[str, dict[str, int | None]]:
    """Fixture stem -> the library's integer sensor values (None where it had none)."""
    models: dict[str, str] = {}
    sensors: dict[str, dict[str, int | None]] = {}
    for name, body in _BLOCK.findall(SNAPSHOT.read_text(encoding="utf-8")):
        if name.endswith(".1") and "BrotherSensors(" in body:
            sensors[name[:-2]] = {
                key: None if raw == "None" else int(raw) for key, raw in _INT_FIELD.findall(body)
            }
        elif match := _MODEL.search(body):
            models[name] = match.group(1)
    return {models[test].lower(): values for test, values in sensors.items() if test in models}


def _corpus_params() -> list[Any]:
    if not SNAPSHOT.is_file():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{SHARED} is absent"))]
    cases = _snapshot_cases()
    return [pytest.param(stem, id=stem) for stem in sorted(cases) if (FIXTURES / f"{stem}.json").is_file()]


def _load(stem: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{stem}.json").read_text(encoding="utf-8"))
    return data


def _values(stem: str) -> dict[str, int | bytes | str]:
    """What a GET against the simulated printer returns: the fixture through snmprec and back."""
    return parse_snmprec(fixture_to_snmprec(_load(stem)))


# --- comparison in one vocabulary -----------------------------------------------------------

_PARTS = {
    "drum": ("drum_remaining_life", "drum_remaining_pages"),
    "belt": ("belt_unit_remaining_life", "belt_unit_remaining_pages"),
    "fuser": ("fuser_remaining_life", "fuser_unit_remaining_pages"),
    "laser": ("laser_remaining_life", "laser_unit_remaining_pages"),
    "pf_kit_1": ("pf_kit_1_remaining_life", "pf_kit_1_remaining_pages"),
    "pf_kit_mp": ("pf_kit_mp_remaining_life", "pf_kit_mp_remaining_pages"),
    **{f"drum.{c}": (f"{c}_drum_remaining_life", f"{c}_drum_remaining_pages") for c in COLORS},
}
_COUNTERS = {
    "mono": "bw_counter",
    "color": "color_counter",
    "duplex": "duplex_unit_pages_counter",
    "image": "image_counter",
    "drum": "drum_counter",
    **{f"image_{c}": f"{c}_counter" for c in COLORS},
    **{f"drum_{c}": f"{c}_drum_counter" for c in COLORS},
}


def _expected(stem: str, snap: dict[str, int | None]) -> dict[str, int | None]:
    exp: dict[str, int | None] = {}
    for marking in ("toner", "ink"):
        for c in COLORS:
            precise = snap[f"{c}_{marking}_remaining"]
            exp[f"{marking}.{c}.percent"] = precise if precise is not None else snap[f"{c}_{marking}"]
            exp[f"{marking}.{c}.status"] = snap[f"{c}_{marking}_status"]
    for part, (life, pages) in _PARTS.items():
        exp[f"{part}.percent"] = snap[life]
        exp[f"{part}.pages"] = snap[pages]
    exp["drum.status"] = snap["drum_status"]
    for ours, theirs in _COUNTERS.items():
        exp[f"counter.{ours}"] = snap[theirs]
    # The library falls back to prtMarkerLifeCount for page_counter; we only decode the blob.
    counters = _load(stem).get(BROTHER_COUNTERS_OID) or []
    has_total = any(str(record).startswith("00") for record in counters)
    exp["counter.total"] = snap["page_counter"] if has_total else None
    exp.update(KNOWN_DIFFERENCES.get(stem, {}))
    return exp


def _actual(data: BrotherData) -> dict[str, int | None]:
    items = {item.key.removeprefix("brother."): item for item in data.items}
    got: dict[str, int | None] = {}
    for marking in ("toner", "ink"):
        for c in COLORS:
            item = items.get(f"{marking}.{c}")
            got[f"{marking}.{c}.percent"] = item.percent if item else None
            got[f"{marking}.{c}.status"] = item.status if item else None
    for part in _PARTS:
        item = items.get(part)
        got[f"{part}.percent"] = item.percent if item else None
        got[f"{part}.pages"] = item.pages_remaining if item else None
    got["drum.status"] = items["drum"].status if "drum" in items else None
    for ours in (*_COUNTERS, "total"):
        got[f"counter.{ours}"] = data.counters.get(ours)
    unexpected = set(items) - {f"{m}.{c}" for m in ("toner", "ink") for c in COLORS} - set(_PARTS)
    assert not unexpected, f"items the snapshot has no name for: {unexpected}"
    return got


@pytest.mark.corpus
@pytest.mark.parametrize("stem", _corpus_params())
def test_matches_library_snapshot(stem: str) -> None:
    data = decode_blobs(_values(stem))
    assert data is not None
    expected = _expected(stem, _snapshot_cases()[stem])
    actual = _actual(data)
    assert {k: v for k, v in actual.items() if v is not None}  # something real was compared
    assert actual == expected


@pytest.mark.corpus
@pytest.mark.parametrize("stem", _corpus_params())
def test_items_are_well_formed(stem: str) -> None:
    data = decode_blobs(_values(stem))
    assert data is not None
    keys = [item.key for item in data.items]
    assert len(keys) == len(set(keys))
    for item in data.items:
        assert item.percent is None or 0 <= item.percent <= 100
        assert item.percent is not None or item.pages_remaining is not None or item.status is not None


def test_dcp_9020cdw_headline_numbers() -> None:
    """The numbers quoted in docs/printer-mib-rules.md, built by hand: no corpus needed."""

    def rec(code: int, value: int) -> bytes:
        return bytes([code, 1, 4]) + value.to_bytes(4, "big")

    maintenance = b"".join(
        [
            *(rec(0x6F, 9100), rec(0x70, 6100), rec(0x71, 5900), rec(0x72, 2000), rec(0x81, 100)),
            *(rec(0x79, 6800), rec(0x7A, 6800), rec(0x7B, 6800), rec(0x80, 6800)),
            *(rec(0x69, 8300), rec(0x6A, 9100), rec(0x6D, 9200), rec(0x7E, 4939)),
        ]
    )
    values = {
        BROTHER_MAINTENANCE_OID: maintenance + b"\xff",
        BROTHER_COUNTERS_OID: rec(0x00, 4939) + rec(0x01, 1762) + rec(0x02, 3177) + b"\xff",
        BROTHER_NEXT_CARE_OID: rec(0x88, 41160) + rec(0xA5, 10061) + b"\xff",
    }
    data = decode_blobs(values)
    assert data is not None
    by_key = {item.key: item for item in data.items}
    toner = [by_key[f"brother.toner.{c}"].percent for c in COLORS]
    assert toner == [91, 61, 59, 20]
    assert {by_key[f"brother.drum.{c}"].percent for c in COLORS} == {68}
    assert by_key["brother.drum.cyan"].pages_remaining == 10061
    assert by_key["brother.drum.cyan"].name == "Cyan Drum"
    belt = by_key["brother.belt"]
    assert (belt.percent, belt.pages_remaining, belt.kind) == (83, 41160, "transfer_unit")
    assert belt.name == "Belt Unit"
    assert by_key["brother.fuser"].percent == 91
    assert by_key["brother.pf_kit_1"].percent == 92
    assert data.counters == {"color": 3177, "drum_black": 4939, "mono": 1762, "total": 4939}


# --- fixtures that must not break anything ---------------------------------------------------


@pytest.mark.corpus
@pytest.mark.parametrize("stem", ["invalid", "incomplete"])
def test_library_bad_fixtures_do_not_raise(stem: str) -> None:
    if not (FIXTURES / f"{stem}.json").is_file():
        pytest.skip(f"{SHARED} is absent")
    data = decode_blobs(_values(stem))
    assert data is not None  # the blobs are there, only empty or partial
    if stem == "invalid":
        assert data == BrotherData(items=[], counters={})
    else:
        by_key = {item.key: item for item in data.items}
        assert by_key["brother.toner.black"].percent == 71
        assert by_key["brother.drum"].percent == 93
        assert data.counters == {"drum": 879}


def rec(code: int, value: int, length: int = 4) -> bytes:
    return bytes([code, 1, length]) + value.to_bytes(length, "big")


TONER_71 = rec(0x6F, 7100)


def _maint(blob: bytes | str, marking: Marking | None = "toner") -> BrotherData | None:
    return decode_blobs({BROTHER_MAINTENANCE_OID: blob}, marking=marking)


def _percents(data: BrotherData | None) -> dict[str, int | None]:
    assert data is not None
    return {item.key: item.percent for item in data.items}


def test_no_blob_is_none() -> None:
    assert decode_blobs({}) is None
    assert decode_blobs({BROTHER_MAINTENANCE_OID: 5, "1.3.6.1.2.1.1.1.0": b"Brother"}) is None
    assert decode_blobs({BROTHER_MAINTENANCE_OID: "not hex at all"}) is None


@pytest.mark.parametrize("blob", [b"", b"\xff", b"\xff\xff\xff", b"\xff" + TONER_71])
def test_empty_and_terminator_only(blob: bytes) -> None:
    empty = BrotherData(items=[], counters={})
    assert decode_blobs(dict.fromkeys(BLOB_OIDS, blob)) == empty


def test_with_and_without_terminator() -> None:
    assert _percents(_maint(TONER_71 + b"\xff")) == {"brother.toner.black": 71}
    assert _percents(_maint(TONER_71)) == {"brother.toner.black": 71}
    # A value whose last byte is 0xFF must not be mistaken for the terminator.
    assert _percents(_maint(rec(0x6F, 0x10FF))) == {"brother.toner.black": 44}  # 43.51 %


@pytest.mark.parametrize(
    "blob",
    [
        TONER_71 + rec(0x41, 9300)[:5],  # truncated value
        TONER_71 + b"\x41\x01",  # truncated header
        TONER_71 + b"\x41\x01\x09" + bytes(9),  # absurd length
        TONER_71 + b"\x41\x01\x00",  # zero length
        TONER_71 + b"\x41\x07\x04\x00\x00\x24\x54",  # wrong type byte
    ],
)
def test_broken_tail_keeps_what_came_before(blob: bytes) -> None:
    assert _percents(_maint(blob)) == {"brother.toner.black": 71}


def test_unknown_codes_and_odd_lengths_are_skipped() -> None:
    blob = rec(0xEE, 5) + rec(0x41, 3, length=1) + rec(0x63, 3, length=1) + TONER_71 + b"\xff"
    data = _maint(blob)
    assert data is not None
    by_key = {item.key: item for item in data.items}
    assert by_key["brother.toner.black"].percent == 71
    drum = by_key["brother.drum"]  # a one-byte value under a percent code is not 0.03 %
    assert (drum.percent, drum.status) == (None, 3)


def test_out_of_range_percent_is_unknown() -> None:
    assert _percents(_maint(rec(0x6F, 0xFFFFFFFF) + rec(0x70, 10049))) == {"brother.toner.cyan": 100}
    assert _percents(_maint(rec(0x81, 250))) == {}


def test_round_half_up() -> None:
    # 72.50 % -> 73 (Python's round() would give 72); 0.49 % -> 0
    assert _percents(_maint(rec(0x6F, 7250) + rec(0x70, 49))) == {
        "brother.toner.black": 73,
        "brother.toner.cyan": 0,
    }


def test_precise_percent_beats_coarse_level() -> None:
    assert _percents(_maint(rec(0x81, 80) + rec(0x6F, 7700))) == {"brother.toner.black": 77}
    assert _percents(_maint(rec(0x81, 80) + rec(0xA1, 7650))) == {"brother.toner.black": 77}
    assert _percents(_maint(rec(0x81, 80))) == {"brother.toner.black": 80}


def test_ink_ignores_laser_parts() -> None:
    blob = rec(0x41, 9300) + rec(0x69, 8000) + rec(0x70, 3500) + rec(0x33, 1)
    data = _maint(blob, marking="ink")
    assert data is not None
    assert [(i.key, i.kind, i.name, i.color, i.percent, i.status) for i in data.items] == [
        ("brother.ink.cyan", "ink", "Cyan Ink", "cyan", 35, None),
        ("brother.ink.magenta", "ink", "Magenta Ink", "magenta", None, 1),
    ]


def test_legacy_five_byte_records() -> None:
    blob = bytes.fromhex("a101020414a201020c14a301020614a401020b14ff")
    assert _percents(_maint(blob, marking=None)) == {
        "brother.ink.black": 20,
        "brother.ink.cyan": 60,
        "brother.ink.magenta": 30,
        "brother.ink.yellow": 55,
    }
    # a level above its maximum is garbage and skipped; the rest of the legacy blob still counts
    blob = bytes.fromhex("a101021514a201020a14ff")
    assert _percents(_maint(blob, marking="ink")) == {"brother.ink.cyan": 50}


@pytest.mark.parametrize(
    "rendering",
    [
        "6f010400001bbcff",
        "0x6F010400001BBCFF",
        "6f 01 04 00 00 1b bc ff",
        "6f:01:04:00:00:1b:bc",
        b"6f010400001bbcff",
    ],
)
def test_hex_renderings(rendering: str | bytes) -> None:
    assert blob_bytes(rendering) in (bytes.fromhex("6f010400001bbcff"), bytes.fromhex("6f010400001bbc"))
    assert _percents(_maint(rendering)) == {"brother.toner.black": 71}


def test_random_garbage_never_raises() -> None:
    rng = random.Random(20240611)
    for _ in range(3000):
        values: dict[str, bytes | str | int] = {}
        for oid in BLOB_OIDS:
            size = rng.choice([0, 1, 3, 5, 6, 7, 10, 14, 20, 35, 64, 300])
            blob = bytes(rng.getrandbits(8) for _ in range(size))
            if rng.random() < 0.3:  # plausible header, random payload
                blob = bytes([rng.getrandbits(8), 1, rng.choice([1, 2, 4, 200])]) + blob
            values[oid] = rng.choice([blob, blob.hex(), blob.hex().encode(), rng.getrandbits(16)])
        if rng.random() < 0.5:
            values[BROTHER_DEVICE_ID_OID] = bytes(rng.getrandbits(8) for _ in range(20))
        data = decode_blobs(values)
        if data is None:
            continue
        for item in data.items:
            assert item.percent is None or 0 <= item.percent <= 100
        assert all(isinstance(v, int) and v >= 0 for v in data.counters.values())
        to_supplies(data, 10)


def test_detect_marking() -> None:
    laser_id = b"MFG:Brother;MDL:DCP-J999W;CID:Brother Laser Type1;"
    assert detect_marking({BROTHER_DEVICE_ID_OID: laser_id}) == "toner"
    assert detect_marking({BROTHER_DEVICE_ID_OID: "MFG:Brother;MDL:MFC-T910DW;"}) == "ink"
    drum = rec(0x41, 9000)
    hl_5350 = {BROTHER_DEVICE_ID_OID: b"MDL:HL-5350DN series;", BROTHER_MAINTENANCE_OID: drum}
    assert detect_marking(hl_5350) == "toner"
    assert detect_marking({BROTHER_MAINTENANCE_OID: TONER_71}) == "ink"
    assert detect_marking({BROTHER_MAINTENANCE_OID: TONER_71, BROTHER_NEXT_CARE_OID: rec(0x82, 5)}) == "toner"


def test_to_supplies() -> None:
    data = BrotherData(
        items=[
            BrotherItem("brother.toner.yellow", "Yellow Toner", "toner", "yellow", 2, None, 2),
            BrotherItem("brother.drum", "Drum Unit", "drum", None, None, 7809),
        ],
        counters={},
    )
    toner, drum = to_supplies(data, low_threshold=10)
    assert (toner.percent, toner.state, toner.source, toner.kind) == (2, "low", "brother_private", "toner")
    assert (drum.percent, drum.state, drum.level, drum.max_capacity) == (None, "unknown", None, None)


# --- the snmprec helper ----------------------------------------------------------------------


@pytest.mark.corpus
def test_fixture_to_snmprec_format() -> None:
    if not (FIXTURES / "dcp-9020cdw.json").is_file():
        pytest.skip(f"{SHARED} is absent")
    fixture = _load("dcp-9020cdw")
    text = fixture_to_snmprec(fixture)
    assert text.endswith("\n")
    lines = text.splitlines()
    oids = [line.split("|", 1)[0] for line in lines]
    assert oids == sorted(oids, key=lambda oid: tuple(int(p) for p in oid.split(".")))
    assert oids.index(BROTHER_MAINTENANCE_OID) < oids.index(BROTHER_COUNTERS_OID)  # 8 < 10 numerically
    records = {oid: line.split("|", 2)[1:] for oid, line in zip(oids, lines, strict=True)}
    assert records[BROTHER_MAINTENANCE_OID] == ["4x", "".join(fixture[BROTHER_MAINTENANCE_OID]) + "ff"]
    assert records[BROTHER_NEXT_CARE_OID][1].startswith("a401040000274d")
    assert records["1.3.6.1.2.1.1.1.0"] == ["4", "Brother NC-xxxx, Firmware Ver.ZA1811191217"]
    assert records["1.3.6.1.2.1.1.2.0"] == ["6", "1.3.6.1.4.1.2435.2.3.9.1"]
    assert records["1.3.6.1.2.1.1.3.0"] == ["67", "7251895"]
    assert records["1.3.6.1.2.1.43.10.2.1.4.1.1"] == ["65", "4939"]
    assert records["1.3.6.1.2.1.43.7.1.1.4.1.1"] == ["2", "5"]
    assert records["1.3.6.1.2.1.2.2.1.6.1"] == ["4x", "aabbccddeeff"]
    assert records[BROTHER_DEVICE_ID_OID][0] == "4"
    # status text in the printer's charset (5 = latin2), hex because of the non-ASCII and padding
    status = records["1.3.6.1.4.1.2435.2.3.9.4.2.1.5.4.5.2.0"]
    assert status == ["4x", "TRYB UŚPIENIA      ".encode("iso8859-2").hex()]
    # nothing null, and every value parses back
    assert len(lines) == len([v for v in fixture.values() if v is not None]) + 2
    counters = bytes.fromhex("".join(fixture[BROTHER_COUNTERS_OID]) + "ff")
    assert parse_snmprec(text)[BROTHER_COUNTERS_OID] == counters


def test_fixture_to_snmprec_small() -> None:
    fixture = {
        BROTHER_COUNTERS_OID: [],
        "1.3.6.1.2.1.1.1.0": "Brother NC-9999, Firmware Ver.X",
        "1.3.6.1.4.1.2435.2.3.9.4.2.1.5.5.1.0": "a|b",
        "1.3.6.1.4.1.2435.2.3.9.4.2.1.5.5.17.0": None,
        "1.3.6.1.2.1.43.5.1.1.1.1": 3,
    }
    assert fixture_to_snmprec(fixture).splitlines() == [
        "1.3.6.1.2.1.1.1.0|4|Brother NC-9999, Firmware Ver.X",
        "1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.2435.2.3.9.1",
        "1.3.6.1.2.1.43.5.1.1.1.1|2|3",
        "1.3.6.1.4.1.2435.2.3.9.4.2.1.5.5.1.0|4x|617c62",
        f"{BROTHER_COUNTERS_OID}|4x|ff",
    ]
    with pytest.raises(ValueError, match="not hex"):
        fixture_to_snmprec({BROTHER_COUNTERS_OID: ["zz"]})


@pytest.mark.corpus
def test_snmprec_is_readable_by_snmpsim() -> None:
    grammar_module = pytest.importorskip("snmpsim.grammar.snmprec")
    if not FIXTURES.is_dir():
        pytest.skip(f"{SHARED} is absent")
    grammar = grammar_module.SnmprecGrammar()
    for path in sorted(FIXTURES.glob("*.json")):
        text = fixture_to_snmprec(json.loads(path.read_text(encoding="utf-8")))
        for line in text.splitlines():
            _, tag, _ = grammar.parse(line.encode("iso-8859-1"))
            assert tag.rstrip("x") in grammar.TAG_MAP, (path.name, line)
