"""Replay the shared printer corpus through the real agent and judge the results.

The corpus (``<repo>/../shared/corpus``, see its ``MANIFEST.md``) holds snmpsim recordings of real
printers together with the values LibreNMS computes from them. LibreNMS is a useful oracle for
*which rows* a printer has and what their raw numbers are, but its percentages encode choices we
deliberately do not make (``-3`` is 50 %, receptacles are not inverted, Brother status codes...).
So every row is checked twice:

* LibreNMS's rules applied to the raw ``level``/``max_capacity`` we read must give LibreNMS's
  number: this proves we read the right row and the right values;
* our own rules, computed here independently of ``mqtt_agent``, must give what we report.

Where the two answers differ, the difference is classified (``DIFF_*``) so that
``scripts/compat_table.py`` can print it and the tests can refuse unexplained ones.

Nothing here is copied from LibreNMS or Checkmk; their behaviour is re-stated from the research
notes (``shared/docs/printer-mib-rules.md`` §2, §4, §10).
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Literal

from mqtt_agent import mib
from mqtt_agent.errors import NotAPrinter
from mqtt_agent.model import PrinterSnapshot, Supply, Tray
from mqtt_agent.reader import PrinterReader
from mqtt_agent.snmp import SnmpAuth, SnmpClient, SnmpTarget

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS_DIR = REPO_ROOT.parent / "shared" / "corpus"
MANIFEST = CORPUS_DIR / "manifest.json"
CHECKMK_DATASET = CORPUS_DIR / "checkmk" / "printer_supply_dataset.py"
HOST = "127.0.0.1"

# Our agent's default "low" threshold (percent), as used by PrinterReader.
LOW_THRESHOLD = 10

Group = Literal["supplies", "stub", "negative", "context_half"]


def corpus_available(corpus: Path = CORPUS_DIR) -> bool:
    return (corpus / "manifest.json").is_file()


# --- the manifest ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Recording:
    """One LibreNMS ``.snmprec`` file and what the manifest knows about it."""

    name: str  # file stem; snmpsim serves it to this community
    file: str  # path relative to the corpus
    group: Group
    entry: dict[str, Any]
    # For a pair whose Printer-MIB lives in the "@Jetdirect" half: that half's manifest analysis.
    context_analysis: dict[str, Any] | None = None

    @property
    def expected(self) -> dict[str, Any]:
        return self.entry.get("expected") or {}

    @property
    def os(self) -> str:
        return str(self.entry.get("librenms_os") or "")

    @property
    def hardware(self) -> str:
        return str((self.expected.get("os") or {}).get("hardware") or "")

    @property
    def analysis(self) -> dict[str, Any]:
        return self.entry.get("analysis") or {}

    def expected_rows(self, phase: str = "discovery") -> list[dict[str, Any]]:
        return list(self.expected.get(f"printer_supplies_{phase}") or [])

    def _printer_mib(self) -> dict[str, Any]:
        if not self.analysis.get("supplies") and self.context_analysis:
            return self.context_analysis
        return self.analysis

    def raw_supplies(self) -> dict[str, dict[str, Any]]:
        """The recording's supply rows as parsed by the corpus builder, by index ("1.3")."""
        return {row["index"]: row for row in self._printer_mib().get("supplies") or []}

    def raw_trays(self) -> dict[str, dict[str, Any]]:
        return {row["index"]: row for row in self._printer_mib().get("trays") or []}


def load_manifest(corpus: Path = CORPUS_DIR) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    return rows


def librenms_recordings(corpus: Path = CORPUS_DIR) -> list[Recording]:
    """Every LibreNMS recording (positives, detection stubs, context halves and negatives)."""
    result = []
    entries = load_manifest(corpus)
    by_file = {str(e["file"]): e for e in entries}
    for entry in entries:
        file = str(entry["file"])
        if not file.startswith("librenms/") or not file.endswith(".snmprec"):
            continue
        name = Path(file).stem
        group: Group
        if file.startswith("librenms/negative/"):
            group = "negative"
        elif "@" in name:
            group = "context_half"
        elif (entry.get("expected") or {}).get("printer_supplies_discovery"):
            group = "supplies"
        else:
            group = "stub"
        half = by_file.get(file.replace(".snmprec", "@Jetdirect.snmprec"))
        context = half.get("analysis") if half and "@" not in name else None
        result.append(Recording(name, file, group, entry, context))
    return result


def brother_fixture_entries(corpus: Path = CORPUS_DIR) -> list[dict[str, Any]]:
    return [e for e in load_manifest(corpus) if str(e["file"]).startswith("bieniu-brother/")]


# --- snmpsim ---------------------------------------------------------------------------------

_NUMERIC_OID = re.compile(r"^\d+(?:\.\d+)*$")


def sanitise_snmprec(text: str) -> tuple[str, int]:
    """Drop lines snmpsim cannot serve; returns (text, number of dropped lines).

    The Windows negative was anonymised with ``xx`` inside OIDs (``...4.20.1.2.10.xx.xx.100``).
    snmpsim indexes such a file but then fails on every GET that lands near those lines and
    sends no answer at all, which would look like a dead device rather than a non-printer.
    """
    kept, dropped = [], 0
    for line in text.splitlines():
        oid, sep, rest = line.partition("|")
        if line and (not sep or "|" not in rest or not _NUMERIC_OID.match(oid)):
            dropped += 1
            continue
        kept.append(line)
    return "\n".join(kept) + "\n", dropped


def free_udp_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class CorpusSimulator:
    """One snmpsim process serving every LibreNMS recording, each to its own community."""

    def __init__(self, recordings: Sequence[Recording], corpus: Path = CORPUS_DIR) -> None:
        self.recordings = list(recordings)
        self.corpus = corpus
        self._tmp = tempfile.TemporaryDirectory(prefix="printer-corpus-")
        self.workdir = Path(self._tmp.name)
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.dropped_lines: dict[str, int] = {}

    def _write_data(self) -> Path:
        data = self.workdir / "data"
        data.mkdir(parents=True, exist_ok=True)
        for rec in self.recordings:
            text = (self.corpus / rec.file).read_text(encoding="utf-8", errors="surrogateescape")
            clean, dropped = sanitise_snmprec(text)
            if dropped:
                self.dropped_lines[rec.name] = dropped
            (data / f"{rec.name}.snmprec").write_text(clean, encoding="utf-8", errors="surrogateescape")
        return data

    def start(self) -> None:
        exe = shutil.which(
            "snmpsim-command-responder", path=str(Path(sys.executable).parent)
        ) or shutil.which("snmpsim-command-responder")
        if exe is None:
            raise RuntimeError("snmpsim-command-responder is not installed")
        data = self._write_data()
        cache = self.workdir / "cache"
        cache.mkdir(exist_ok=True)
        self.port = free_udp_port()
        args = [
            exe,
            f"--cache-dir={cache}",
            f"--data-dir={data}",
            f"--agent-udpv4-endpoint={HOST}:{self.port}",
            "--log-level=error",
            "--logging-method=null",
        ]
        env = {**os.environ, "SNMPSIM_ALLOW_ROOT": "true"}
        self.process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    async def wait_ready(self, timeout: float = 60.0) -> None:
        """snmpsim indexes every file before it answers; wait for the first and last community."""
        probes = [self.recordings[0].name, self.recordings[-1].name]
        client = SnmpClient()
        deadline = time.monotonic() + timeout
        try:
            for community in probes:
                target = SnmpTarget(HOST, self.port, SnmpAuth(community=community), timeout=0.5, retries=0)
                while True:
                    if self.process is not None and self.process.poll() is not None:
                        err = (
                            self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                        )
                        raise RuntimeError(f"snmpsim exited: {err[-2000:]}")
                    with contextlib.suppress(Exception):
                        if await client.get(target, [mib.SYS_OBJECT_ID, mib.SYS_DESCR]):
                            break
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"snmpsim did not answer community {community!r} in {timeout}s")
                    await asyncio.sleep(0.2)
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()
        self.process = None
        self._tmp.cleanup()


@dataclass
class PollOutcome:
    name: str
    snapshot: PrinterSnapshot | None = None
    error: BaseException | None = None
    seconds: float = 0.0


async def poll_recordings(
    port: int,
    names: Iterable[str],
    *,
    timeout: float = 2.0,
    retries: int = 1,
    concurrency: int = 32,
) -> dict[str, PollOutcome]:
    """Poll each recording once with a fresh PrinterReader, concurrently over one SnmpClient.

    Detection stubs cost one full timeout each (the agent tries the ``Jetdirect`` context, which
    snmpsim does not answer for them), hence the concurrency.
    """
    client = SnmpClient()
    gate = asyncio.Semaphore(concurrency)

    async def one(name: str) -> PollOutcome:
        outcome = PollOutcome(name)
        target = SnmpTarget(HOST, port, SnmpAuth(community=name), timeout=timeout, retries=retries)
        async with gate:
            start = time.monotonic()
            try:
                outcome.snapshot = await PrinterReader(client, target).poll()
            except Exception as exc:  # recorded, judged by the caller
                outcome.error = exc
            outcome.seconds = time.monotonic() - start
        return outcome

    try:
        results = await asyncio.gather(*(one(n) for n in names))
    finally:
        client.close()
    return {r.name: r for r in results}


def run_corpus(recordings: Sequence[Recording], corpus: Path = CORPUS_DIR) -> dict[str, PollOutcome]:
    """Start snmpsim, poll every recording, stop snmpsim (for the script)."""
    sim = CorpusSimulator(recordings, corpus)
    sim.start()
    try:
        asyncio.run(sim.wait_ready())
        return asyncio.run(poll_recordings(sim.port, [r.name for r in recordings]))
    finally:
        sim.stop()


# --- LibreNMS's rules (the oracle for "did we read the right row") ----------------------------

# Brother status-code table LibreNMS applies to raw 0..3 on brother devices (not MFC-L8850).
_BROTHER_CODES = {0: 100, 1: 5, 2: 0, 3: 1}
_RICOH_FAMILY = {"ricoh", "nrg", "lanier"}


def php_round(value: float) -> int:
    """Round half away from zero, as PHP's round() does (Python's round() is half-to-even)."""
    quantised = Decimal(str(abs(value))).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(quantised) if value >= 0 else -int(quantised)


def librenms_capacity(max_capacity: int | None) -> int:
    """LibreNMS replaces a missing, zero or negative supply capacity with 100."""
    return max_capacity if max_capacity is not None and max_capacity > 0 else 100


def librenms_percent(
    level: int | None, max_capacity: int | None, os: str, hardware: str = "", *, polling: bool = False
) -> int | None:
    """The percentage LibreNMS shows for a supply row; None when it drops the row.

    ``polling`` models the one place where its poller differs from discovery: a row whose level was
    0 at discovery is thereafter read from Ricoh's private OID, which non-Ricoh devices lack (0 %).
    """
    if level is None or level == -2:
        return None
    if level == 0 and polling:
        return 0
    if os == "brother" and "MFC-L8850" not in hardware and level in _BROTHER_CODES:
        # At discovery a 0 first goes through the Ricoh fallback, which on brother yields "0" again.
        return _BROTHER_CODES[level]
    if level == -3:
        return 50
    if level == -1:
        return 0
    if level == -100 and os in _RICOH_FAMILY:
        return 0
    capacity = librenms_capacity(max_capacity)
    if level < 0:
        return 0
    return php_round(level * 100 / capacity)


def librenms_tray_percent(
    level: int | None, max_capacity: int | None, os: str = "", hardware: str = "", *, polling: bool = False
) -> int | None:
    """The percentage LibreNMS shows for a paper tray; None when it drops the row.

    Discovery has its own tray arithmetic; polling sends trays through the supply function with the
    stored capacity (so Brother's status-code table hits trays too).
    """
    if level is None or level == -2:
        return None
    if polling:
        if os == "brother" and "MFC-L8850" not in hardware and level in _BROTHER_CODES:
            return _BROTHER_CODES[level]
        if level == -3:
            return 50
        if level < 0 or max_capacity is None or max_capacity <= 0:
            return 0
        return php_round(level * 100 / max_capacity)
    if level == -3:
        return 50
    if level < 0 or max_capacity is None or max_capacity <= 0:
        return 0
    return php_round(round(level * 100 / max_capacity, 2))


# --- our rules, restated independently of mqtt_agent -----------------------------------------

WASTE_TYPE_LABELS = {"wasteToner", "wasteInk", "wasteWax", "wasteWater", "wastePaper"}
_VAGUE_TYPE_LABELS = {None, "other", "unknown"}


@dataclass(frozen=True)
class OurLevel:
    percent: int | None
    state: str
    estimated: bool = False


def _half_up(value: float) -> int:
    return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def expected_receptacle(class_code: int | None, type_label: str | None, description: str) -> bool:
    """Class 4 is a receptacle, class 3 is not; without a class, waste types (or, when the type
    column is missing too, the word "waste" in the description) make it one."""
    if class_code == 4:
        return True
    if class_code == 3:
        return False
    if type_label in WASTE_TYPE_LABELS:
        return True
    return type_label in _VAGUE_TYPE_LABELS and bool(re.search(r"waste|廢|废", description, re.I))


def our_supply_level(
    level: int | None, max_capacity: int | None, receptacle: bool, low: int = LOW_THRESHOLD
) -> OurLevel:
    """RFC 3805 semantics: -3/-2/-1 are states, not numbers; receptacles report how full they are."""
    if level == -3:
        return OurLevel(None, "some_remaining")
    if level == -1:
        return OurLevel(None, "unrestricted")
    if level is None or level < 0:
        return OurLevel(None, "unknown")
    estimated = max_capacity is None or max_capacity <= 0
    if estimated:
        if level > 100:
            return OurLevel(None, "unknown")
        remaining = float(level)  # no capacity: the level is read as a percentage
    else:
        assert max_capacity is not None
        remaining = min(100.0, 100.0 * level / max_capacity)
    if receptacle:
        fill = 100.0 - remaining
        if remaining <= 0:
            state = "full"
        elif fill >= 100 - low:
            state = "nearly_full"
        else:
            state = "ok"
        return OurLevel(_half_up(fill), state, estimated)
    if level == 0:
        state = "empty"
    elif remaining <= low:
        state = "low"
    else:
        state = "ok"
    return OurLevel(_half_up(remaining), state, estimated)


def our_tray_level(level: int | None, max_capacity: int | None, low: int = LOW_THRESHOLD) -> OurLevel:
    """Trays: a percentage only against a real capacity; special values as for supplies."""
    if level is not None and level >= 0 and (max_capacity is None or max_capacity <= 0):
        return OurLevel(None, "empty" if level == 0 else "ok")
    return our_supply_level(level, max_capacity, False, low)


# Supply kind and colour "where the description (or the type column) clearly says it".
_KIND_BY_TYPE_LABEL = {
    "toner": "toner",
    "tonerCartridge": "toner",
    "wasteToner": "waste",
    "wasteInk": "waste",
    "ink": "ink",
    "inkCartridge": "ink",
    "opc": "drum",
    "developer": "developer",
    "fuser": "fuser",
    "transferUnit": "transfer_unit",
}
_KIND_WORDS = (
    ("waste", r"waste|廢"),
    ("maintenance_kit", r"maintenance"),
    ("drum", r"drum|imaging unit|photoconductive"),
    ("developer", r"developer"),
    ("fuser", r"fuser|fusing"),
    ("transfer_unit", r"transfer|belt"),
    ("roller", r"roller"),
    ("filter", r"filter"),
    ("toner", r"toner|碳粉"),
    ("ink", r"\bink\b"),
)
_COLOUR_WORDS = {
    "black": r"black|黑",
    "cyan": r"cyan|青",
    "magenta": r"magenta|洋紅",
    "yellow": r"yellow|黃",
}


def expected_kind(type_label: str | None, description: str) -> str | None:
    """The kind a reader would name; None when neither column nor words say it (e.g. "Cartridge")."""
    if type_label in _KIND_BY_TYPE_LABEL:
        return _KIND_BY_TYPE_LABEL[type_label]
    for kind, rx in _KIND_WORDS:
        if re.search(rx, description, re.I):
            return kind
    return None


def expected_colour(description: str) -> str | None:
    """The colour named in a description, or None when it names none (or several)."""
    if re.search(r"matte? black", description, re.I):
        return "matte_black"
    found = [c for c, rx in _COLOUR_WORDS.items() if re.search(rx, description, re.I)]
    return found[0] if len(found) == 1 else None


def norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def descr_matches(expected_descr: str, our_name: str) -> bool:
    """Our name is LibreNMS's description with vendor suffixes (", PN", " S/N:", OKI's) cut."""
    return norm(expected_descr).startswith(norm(our_name)) and bool(our_name)


# --- comparing one recording -----------------------------------------------------------------

# Kinds of deliberate difference, for counting.
DIFF_SOME_REMAINING = "-3 reported as some_remaining"
DIFF_UNRESTRICTED = "-1 reported as unrestricted"
DIFF_RECEPTACLE = "receptacle reported as fill"
DIFF_ZERO = "level 0 reported as empty"
DIFF_CLAMP = "level above capacity clamped to 100"
DIFF_EXTRA_UNKNOWN = "row LibreNMS drops (-2) reported as unknown"
DIFF_EXTRA_UNNAMED = "trays without prtInputName reported under their index (counted per recording)"


@dataclass
class RowCheck:
    """One expected LibreNMS row next to what we reported."""

    table: Literal["supply", "tray"]
    key: str
    expected_descr: str
    expected_percent: int
    expected_capacity: int | None
    poller_percent: int | None = None
    ours: Supply | Tray | None = None
    raw: dict[str, Any] | None = None
    librenms_from_ours: int | None = None
    librenms_poll_from_ours: int | None = None
    capacity_from_ours: int | None = None
    oracle: OurLevel | None = None
    receptacle_expected: bool = False
    name_ok: bool = False
    raw_ok: bool = False
    difference: tuple[str, str] | None = None  # (kind, text)

    @property
    def matched(self) -> bool:
        """We have the row, under a matching name, and LibreNMS's rules on our raw values agree."""
        return (
            self.ours is not None
            and self.name_ok
            and self.librenms_from_ours == self.expected_percent
            and (self.poller_percent is None or self.librenms_poll_from_ours == self.poller_percent)
        )

    @property
    def ours_follow_our_rules(self) -> bool:
        if self.ours is None or self.oracle is None:
            return False
        receptacle = getattr(self.ours, "receptacle", False)
        return (
            self.ours.percent == self.oracle.percent
            and self.ours.state == self.oracle.state
            and receptacle == self.receptacle_expected
            and getattr(self.ours, "estimated", False) == self.oracle.estimated
        )


@dataclass
class RecordingResult:
    recording: Recording
    outcome: PollOutcome | None
    rows: list[RowCheck] = field(default_factory=list)
    extras: list[tuple[str, str, str]] = field(default_factory=list)  # (table, kind, text): only ours
    identity_notes: list[str] = field(default_factory=list)

    def count(self, table: str) -> tuple[int, int]:
        rows = [r for r in self.rows if r.table == table]
        return sum(r.matched for r in rows), len(rows)

    @property
    def differences(self) -> list[tuple[str, str, str]]:
        """(table, kind, text) for every deliberate difference from LibreNMS."""
        found = [(r.table, *r.difference) for r in self.rows if r.difference]
        return found + self.extras


def _key_from_oid(oid: str, index: int, prefix: str) -> str:
    oid = oid.lstrip(".")
    if oid.startswith(prefix + "."):
        return oid[len(prefix) + 1 :]
    return f"1.{index}"  # a private OID (LibreNMS's Ricoh fallback): the standard row of that index


def _label(name: str) -> str:
    return name if len(name) <= 48 else name[:45] + "..."


def _difference(row: RowCheck) -> tuple[str, str] | None:
    """Classify why our number differs from LibreNMS's (None when it does not)."""
    ours = row.ours
    if ours is None or not row.matched:
        return None
    name = _label(ours.name)
    shown = row.poller_percent if row.poller_percent is not None else row.expected_percent
    ln = f"LibreNMS {row.expected_percent} %"
    if row.poller_percent is not None and row.poller_percent != row.expected_percent:
        ln = f"LibreNMS {row.expected_percent} % at discovery, {row.poller_percent} % when polling"
    if ours.level == -3:
        return DIFF_SOME_REMAINING, f"{name}: -3 reported as some_remaining ({ln})"
    if ours.level == -1:
        return DIFF_UNRESTRICTED, f"{name}: -1 reported as unrestricted ({ln})"
    if isinstance(ours, Supply) and ours.receptacle:
        if ours.percent == row.expected_percent and shown == row.expected_percent:
            return None
        return DIFF_RECEPTACLE, f"{name}: receptacle, {ours.percent} % full ({ln})"
    if ours.level == 0 and (row.expected_percent != 0 or shown != 0):
        return DIFF_ZERO, f"{name}: level 0 reported as empty, 0 % ({ln})"
    if ours.percent is not None and ours.percent != row.expected_percent:
        return DIFF_CLAMP, f"{name}: {ours.percent} % ({ln})"
    return None


def compare(recording: Recording, outcome: PollOutcome | None) -> RecordingResult:
    """Line up LibreNMS's expected rows with what the agent reported for one recording."""
    result = RecordingResult(recording, outcome)
    snapshot = outcome.snapshot if outcome else None
    supplies = {s.key: s for s in snapshot.supplies} if snapshot else {}
    trays = {t.key: t for t in snapshot.trays} if snapshot else {}
    raw_supplies, raw_trays = recording.raw_supplies(), recording.raw_trays()
    os_name, hardware = recording.os, recording.hardware
    poller = {
        (r["supply_oid"], r["supply_index"]): r["supply_current"] for r in recording.expected_rows("poller")
    }
    seen: set[tuple[str, str]] = set()

    for exp in recording.expected_rows():
        is_tray = exp["supply_type"] == "input"
        table: Literal["supply", "tray"] = "tray" if is_tray else "supply"
        prefix = mib.PRT_INPUT_CURRENT_LEVEL if is_tray else mib.PRT_SUPPLY_LEVEL
        key = _key_from_oid(exp["supply_oid"], int(exp["supply_index"]), prefix)
        row = RowCheck(
            table=table,
            key=key,
            expected_descr=str(exp["supply_descr"]),
            expected_percent=int(exp["supply_current"]),
            expected_capacity=exp.get("supply_capacity"),
            poller_percent=poller.get((exp["supply_oid"], exp["supply_index"])),
        )
        seen.add((table, key))
        ours: Supply | Tray | None = (trays if is_tray else supplies).get(key)
        row.ours = ours
        row.raw = (raw_trays if is_tray else raw_supplies).get(key)
        if ours is not None:
            row.name_ok = descr_matches(row.expected_descr, ours.name)
            raw = row.raw or {}
            row.raw_ok = ours.level == raw.get("level") and ours.max_capacity == raw.get("max")
            if is_tray:
                row.librenms_from_ours = librenms_tray_percent(ours.level, ours.max_capacity)
                row.librenms_poll_from_ours = librenms_tray_percent(
                    ours.level, ours.max_capacity, os_name, hardware, polling=True
                )
                row.capacity_from_ours = ours.max_capacity
                row.oracle = our_tray_level(raw.get("level"), raw.get("max"))
            else:
                row.librenms_from_ours = librenms_percent(ours.level, ours.max_capacity, os_name, hardware)
                row.librenms_poll_from_ours = librenms_percent(
                    ours.level, ours.max_capacity, os_name, hardware, polling=True
                )
                row.capacity_from_ours = librenms_capacity(ours.max_capacity)
                row.receptacle_expected = expected_receptacle(
                    raw.get("class"), raw.get("type"), str(raw.get("descr") or "")
                )
                row.oracle = our_supply_level(raw.get("level"), raw.get("max"), row.receptacle_expected)
            row.difference = _difference(row)
        result.rows.append(row)

    if snapshot is not None:
        for supply in snapshot.supplies:
            if ("supply", supply.key) not in seen and supply.source == "printer_mib":
                if supply.level == -2:
                    text = f"{_label(supply.name)}: -2 reported as unknown (LibreNMS drops the row)"
                    result.extras.append(("supply", DIFF_EXTRA_UNKNOWN, text))
                else:
                    result.extras.append(("supply", "unexplained extra", f"{supply.name}: not in LibreNMS"))
        unnamed = []
        for tray in snapshot.trays:
            if ("tray", tray.key) in seen:
                continue
            raw_name = (raw_trays.get(tray.key) or {}).get("name")
            if tray.level == -2:
                text = f"{_label(tray.name)}: -2 reported as unknown (LibreNMS drops the row)"
                result.extras.append(("tray", DIFF_EXTRA_UNKNOWN, text))
            elif not (raw_name or "").strip():
                unnamed.append(tray.name)
            else:
                result.extras.append(("tray", "unexplained extra", f"{tray.name}: not in LibreNMS"))
        if unnamed:
            text = (
                f"{', '.join(unnamed)}: no prtInputName, reported under their index "
                "(LibreNMS skips unnamed trays)"
            )
            result.extras.append(("tray", DIFF_EXTRA_UNNAMED, text))
    return result


# --- identity --------------------------------------------------------------------------------

# Where LibreNMS's hardware string is a quirk of its own (or of the recording), what we report.
IDENTITY_QUIRKS: dict[str, tuple[str, str]] = {
    "brother": (
        "MFC-8440",
        "the recording's IEEE 1284 device ID says MDL:MFC-8440; LibreNMS reads the mDNS name (MFC-L2710DW)",
    ),
    "brother_hl5370dw": ("HL-5370DW", "LibreNMS appends the MAC address in brackets"),
}


def librenms_model(hardware: str, vendor: str | None) -> str:
    """LibreNMS's hardware string without the vendor prefix we do not repeat in the model."""
    for prefix in (vendor or "", "HP", "Hewlett-Packard"):
        if prefix and hardware.lower().startswith(prefix.lower() + " "):
            return hardware[len(prefix) + 1 :]
    return hardware


def identity_notes(recording: Recording, snapshot: PrinterSnapshot) -> list[str]:
    """Model/serial differences from LibreNMS worth listing (quirks and things only we find)."""
    expected = recording.expected.get("os") or {}
    ident = snapshot.identity
    notes = []
    hardware, serial = expected.get("hardware"), expected.get("serial")
    if recording.name in IDENTITY_QUIRKS:
        notes.append(f"model {ident.model!r} ({IDENTITY_QUIRKS[recording.name][1]})")
    elif not hardware and ident.model:
        notes.append(f"model {ident.model!r} (LibreNMS has none)")
    if not serial and ident.serial:
        notes.append(f"serial {ident.serial!r} (LibreNMS has none)")
    return notes


# --- Checkmk's table -------------------------------------------------------------------------


def _literal(tree: ast.Module, name: str) -> Any:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise KeyError(name)


def load_checkmk_dataset(path: Path = CHECKMK_DATASET) -> tuple[list[list[list[str]]], list[Any]]:
    """(string table, expected check results) from Checkmk's dataset, read as literals only."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return _literal(tree, "info"), _literal(tree, "checks")[""]


def checkmk_columns(info: list[list[list[str]]]) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The string table as walked columns (``{column OID: {"1.n": value}}``) plus colorants.

    Rows are (description, unit, max, level, class, colorant index); numbers arrive as int, the
    placeholder text ``class`` as bytes, as a broken agent might send them.
    """
    colorants = {index: value.encode() for index, value in info[0]}
    columns: dict[str, dict[str, Any]] = {
        mib.PRT_SUPPLY_DESCRIPTION: {},
        mib.PRT_SUPPLY_UNIT: {},
        mib.PRT_SUPPLY_MAX_CAPACITY: {},
        mib.PRT_SUPPLY_LEVEL: {},
        mib.PRT_SUPPLY_CLASS: {},
        mib.PRT_SUPPLY_COLORANT_INDEX: {},
    }

    def value(text: str) -> int | bytes:
        return int(text) if re.fullmatch(r"-?\d+", text) else text.encode()

    for n, (descr, unit, max_capacity, level, class_code, colorant) in enumerate(info[1], start=1):
        key = f"1.{n}"
        columns[mib.PRT_SUPPLY_DESCRIPTION][key] = descr.encode()
        columns[mib.PRT_SUPPLY_UNIT][key] = value(unit)
        columns[mib.PRT_SUPPLY_MAX_CAPACITY][key] = value(max_capacity)
        columns[mib.PRT_SUPPLY_LEVEL][key] = value(level)
        columns[mib.PRT_SUPPLY_CLASS][key] = value(class_code)
        columns[mib.PRT_SUPPLY_COLORANT_INDEX][key] = value(colorant)
    return columns, colorants


def checkmk_expected(checks: list[Any]) -> dict[str, int | None]:
    """Item name -> Checkmk's "Remaining" percent (None for its "Unknown level")."""
    result: dict[str, int | None] = {}
    for item, _params, outputs in checks:
        text = outputs[0][1]
        match = re.search(r"Remaining: (\d+)%", text)
        result[item] = int(match.group(1)) if match else None
    return result


def checkmk_items(
    rows: Sequence[Any], info: list[list[list[str]]], expected: dict[str, int | None]
) -> list[str]:
    """Checkmk's item name for each of our rows, in row order.

    Checkmk names an item by its description, with the colorant's name in front where there is one.
    The drums have colorant 0: Checkmk then reuses the toners' colour order, which we do not (their
    colour stays None), so they are paired with Checkmk's remaining items in order.
    """
    items: list[str] = []
    for row, (descr, *_rest) in zip(rows, info[1], strict=True):
        names = (descr, f"{(row.color or '').capitalize()} {descr}")
        exact = [i for i in expected if i in names]
        items.append(
            exact[0] if exact else next(i for i in expected if i.endswith(f" {descr}") and i not in items)
        )
    return items


# --- the Markdown table ----------------------------------------------------------------------

REJECTED = "not a printer (no Printer-MIB): rejected"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def describe_outcome(result: RecordingResult) -> tuple[str, str, str, str]:
    """(vendor/model, supplies, trays, differences) cells for one recording."""
    rec, outcome = result.recording, result.outcome
    snap = outcome.snapshot if outcome else None
    if snap is None:
        error = outcome.error if outcome else None
        if isinstance(error, NotAPrinter):
            if rec.group == "context_half":
                base = rec.name.split("@")[0]
                verdict = f"SNMP-context half of `{base}` (no system group on its own): rejected"
            elif rec.group == "negative":
                verdict = "not a printer (hrDevicePrinter rows, no Printer-MIB): rejected"
            elif rec.analysis.get("printer_mib"):
                verdict = f"{REJECTED} (only prtGeneral rows, no supplies, trays or markers)"
            else:
                verdict = REJECTED
            return "—", "—", "—", verdict
        return "—", "—", "—", f"ERROR: {type(error).__name__}: {error}"
    ident = snap.identity
    who = " ".join(p for p in (ident.vendor, ident.model) if p) or "—"
    s_ok, s_all = result.count("supply")
    t_ok, t_all = result.count("tray")
    notes = [text for _table, _kind, text in result.differences]
    if snap.context:
        notes.insert(0, f"Printer-MIB found in SNMP context `{snap.context}`")
    notes += result.identity_notes
    return who, f"{s_ok}/{s_all}", f"{t_ok}/{t_all}", "; ".join(notes) or "none"


def markdown_table(results: Sequence[RecordingResult], brother_fixtures: int, checkmk: str | None) -> str:
    lines = [
        "| file | vendor / model we report | supplies matched / expected | trays matched / expected "
        "| deliberate differences |",
        "|---|---|---|---|---|",
    ]
    for result in results:
        who, sup, trays, diff = describe_outcome(result)
        lines.append(f"| `{result.recording.file}` | {_cell(who)} | {sup} | {trays} | {_cell(diff)} |")
    if checkmk:
        lines.append(checkmk)
    lines.append(
        f"| `bieniu-brother/fixtures/*.json` ({brother_fixtures} files) | Brother (private MIB blobs) "
        "| — | — | covered by `tests/agent/test_brother.py` |"
    )
    return "\n".join(lines)
