#!/usr/bin/env python3
"""Print the corpus compatibility table (Markdown) for ``docs/compatibility.md``.

Polls every LibreNMS recording of the shared corpus (``<repo>/../shared/corpus``) through the real
agent, exactly as ``tests/agent/test_corpus.py`` does, and lines the results up with LibreNMS's
expected values. Needs snmpsim installed. Usage::

    python scripts/compat_table.py > /tmp/table.md
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests" / "agent"))
sys.path.insert(0, str(REPO_ROOT))

import corpus  # noqa: E402  (the test helpers, shared on purpose)

from mqtt_agent import mib  # noqa: E402
from mqtt_agent.errors import NotAPrinter  # noqa: E402
from mqtt_agent.printer_mib import supply_level, supply_rows  # noqa: E402

GROUP_LABELS = {
    "stub": "detection stubs",
    "negative": "non-printer negatives",
    "context_half": "context halves polled on their own",
    "supplies": "recordings with expected supplies",
}


def checkmk_row() -> tuple[str, int, int] | None:
    """The Checkmk OKI table run through our pure functions: (table row, matched, expected)."""
    if not corpus.CHECKMK_DATASET.is_file():
        return None
    info, checks = corpus.load_checkmk_dataset()
    columns, colorants = corpus.checkmk_columns(info)
    expected = corpus.checkmk_expected(checks)
    rows = supply_rows(columns, colorants)
    matched = 0
    for row, item in zip(rows, corpus.checkmk_items(rows, info, expected), strict=True):
        level = columns[mib.PRT_SUPPLY_LEVEL][row.key]
        percent = supply_level(level, row.max_capacity, row.receptacle, corpus.LOW_THRESHOLD).percent
        matched += percent == expected[item]
    cell = (
        f"| `checkmk/printer_supply_dataset.py` | OKI colour laser (a table, not a walk: unit-tested) "
        f"| {matched}/{len(expected)} | — | drums have colorant 0: Checkmk borrows the toners' colour order, "
        "we leave their colour empty |"
    )
    return cell, matched, len(expected)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=corpus.CORPUS_DIR, help="the shared corpus folder")
    args = parser.parse_args()
    if not corpus.corpus_available(args.corpus):
        print(f"corpus not found at {args.corpus}", file=sys.stderr)
        return 2

    recordings = corpus.librenms_recordings(args.corpus)
    outcomes = corpus.run_corpus(recordings, args.corpus)
    results = []
    for rec in recordings:
        result = corpus.compare(rec, outcomes[rec.name])
        snapshot = outcomes[rec.name].snapshot
        if snapshot is not None:
            result.identity_notes = corpus.identity_notes(rec, snapshot)
        results.append(result)

    checkmk = checkmk_row()
    brother = len(corpus.brother_fixture_entries(args.corpus))
    print(corpus.markdown_table(results, brother, checkmk[0] if checkmk else None))

    polled = [r for r in results if r.outcome is not None]
    accepted = [r for r in polled if r.outcome and r.outcome.snapshot is not None]
    supplies = [sum(x) for x in zip(*(r.count("supply") for r in accepted), strict=True)] or [0, 0]
    trays = [sum(x) for x in zip(*(r.count("tray") for r in accepted), strict=True)] or [0, 0]
    kinds = Counter((table, kind) for r in accepted for table, kind, _text in r.differences)
    rejected = Counter(r.recording.group for r in polled if r not in accepted)
    why = ", ".join(f"{n} {GROUP_LABELS[g]}" for g, n in sorted(rejected.items(), key=lambda i: -i[1]))
    print()
    print(
        f"**Totals:** {len(polled)} LibreNMS recordings polled ({len(accepted)} printers reported, "
        f"{sum(rejected.values())} rejected as not printers: {why}); "
        f"supply rows matched {supplies[0]}/{supplies[1]}, tray rows matched {trays[0]}/{trays[1]}"
        + (f"; Checkmk table rows matched {checkmk[1]}/{checkmk[2]}" if checkmk else "")
        + f"; {brother} Brother fixtures covered elsewhere."
    )
    print()
    print("Deliberate differences by kind:")
    print()
    for (table, kind), count in sorted(kinds.items(), key=lambda item: (item[0][0], -item[1])):
        print(f"- {table} rows, {kind}: {count}")
    errors = [
        r for r in results if r.outcome and r.outcome.error and not isinstance(r.outcome.error, NotAPrinter)
    ]
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
