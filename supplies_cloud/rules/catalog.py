"""The dealer's catalog: model-name matching, lookups, and the CSV import.

Printers name themselves inconsistently ("HP Color LaserJet Pro M454dw", "COLOR LASERJET PRO
M454DW", "Brother HL-L8260CDW series", "EPSON WF-C5790 Series"), and dealers copy model names from
price lists that differ again. Matching therefore goes through a *model key*: the name with the
vendor prefix and filler words removed, lower-cased, letters and digits only. The printer's own
part number, where the printer reports one, is more precise than any name and wins.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal, get_args

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from ..models import CatalogItem, utcnow

# The agent's supply kinds (mqtt_agent.model.SupplyKind); the cloud does not import the agent.
Kind = Literal[
    "toner",
    "ink",
    "ribbon",
    "drum",
    "developer",
    "fuser",
    "transfer_unit",
    "waste",
    "maintenance_kit",
    "roller",
    "staples",
    "cleaner",
    "filter",
    "other",
]
KINDS: tuple[str, ...] = get_args(Kind)
# What dealers write in price lists for the agent's kinds.
_KIND_ALIASES = {
    "cartridge": "toner",
    "toner_cartridge": "toner",
    "ink_cartridge": "ink",
    "drum_unit": "drum",
    "imaging_unit": "drum",
    "belt": "transfer_unit",
    "belt_unit": "transfer_unit",
    "transfer_belt": "transfer_unit",
    "waste_toner": "waste",
    "waste_toner_box": "waste",
    "waste_box": "waste",
    "maintenance_box": "waste",
    "maintenance": "maintenance_kit",
    "fuser_unit": "fuser",
}
_COLOR_ALIASES = {"k": "black", "bk": "black", "blk": "black", "c": "cyan", "m": "magenta", "y": "yellow"}

# Longest first, so "kyocera mita" is removed whole rather than leaving "mita".
_VENDORS = sorted(
    (
        "hp",
        "hewlett packard",
        "hewlett-packard",
        "brother",
        "kyocera",
        "kyocera mita",
        "kyocera document solutions",
        "xerox",
        "fuji xerox",
        "fujifilm",
        "epson",
        "canon",
        "lexmark",
        "ricoh",
        "sharp",
        "konica minolta",
        "konica",
        "minolta",
        "oki",
        "samsung",
        "dell",
        "toshiba",
        "utax",
        "triumph-adler",
        "olivetti",
        "develop",
        "pantum",
    ),
    key=len,
    reverse=True,
)
_VENDOR_PREFIX = re.compile(r"^(?:" + "|".join(re.escape(v) for v in _VENDORS) + r")\b[\s:_-]*")
# Words that name the product family rather than the model: printers add them, price lists do not.
_FILLER = re.compile(
    r"\b(?:series|multifunction printer|multifunction|multi-function|mfp|all-in-one|printer)\b"
)
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_DIGIT = re.compile(r"\d")
# Containment matching needs a model number in the shorter key, or "laserjet" would match everything.
_MIN_CONTAINED = 4

MAX_PRICE_CENTS = 2_000_000_000  # fits a 32-bit integer column on every database
MAX_LEAD_TIME_DAYS = 365
MAX_YIELD_PAGES = 10_000_000

MatchedBy = Literal["part_number", "model"]


def normalize_model(text: str | None) -> str:
    """The matching key of a model name: no vendor prefix, no filler words, ``[a-z0-9]`` only.

    "HP Color LaserJet Pro M454dw", "Color LaserJet Pro M454dw" and "COLOR LASERJET PRO M454DW"
    all become ``colorlaserjetprom454dw``.
    """
    if not text:
        return ""
    name = text.casefold().replace("_", " ").strip()
    while True:  # "HP HP LaserJet …" and "Kyocera ECOSYS …" both occur in the wild
        stripped = _VENDOR_PREFIX.sub("", name, count=1)
        if stripped == name or not stripped:
            break
        name = stripped
    name = _FILLER.sub(" ", name)
    return _NOT_ALNUM.sub("", name)[:120]


def part_key(part_number: str) -> str:
    """Part numbers compared without case, spaces, dots and hyphens ("TN-247BK" = "tn247bk")."""
    return re.sub(r"[\s.\-]+", "", part_number).upper()


def _part_key_sql(column: ColumnElement[str] | InstrumentedAttribute[str]) -> ColumnElement[str]:
    # The same as part_key(), in SQL that SQLite and PostgreSQL both understand.
    for char in (" ", ".", "-"):
        column = func.replace(column, char, "")
    return func.upper(column)


@dataclass(frozen=True)
class Match:
    """A catalog row that fits what was asked, and why it fits."""

    item: CatalogItem
    matched_by: MatchedBy


def normalize_kind(text: str | None) -> str | None:
    """The agent's kind for a dealer's or a client's word for it; None when it is not one."""
    if not text:
        return None
    word = _NOT_ALNUM.sub("_", text.casefold()).strip("_")
    word = _KIND_ALIASES.get(word, word)
    return word if word in KINDS else None


def normalize_color(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    word = " ".join(text.casefold().split())
    return _COLOR_ALIASES.get(word, word)


def match(
    session: Session,
    model: str,
    kind: str | None = None,
    color: str | None = None,
    part_number: str | None = None,
) -> list[Match]:
    """Catalog rows for a printer's supply, best evidence first.

    1. the printer's own part number (one row per part; the row of the asked model preferred);
    2. else rows whose model key equals the asked model's key;
    3. else rows whose model key contains the asked key or is contained in it (the closest
       model keys only), so "LaserJet Pro M454" finds "Color LaserJet Pro M454dw" and back.
    ``kind`` and ``color`` narrow the model matches; a part number is precise on its own.
    """
    key = normalize_model(model)
    if part_number and part_number.strip():
        wanted = part_key(part_number)
        rows = session.scalars(
            select(CatalogItem)
            .where(CatalogItem.active.is_(True), _part_key_sql(CatalogItem.part_number) == wanted)
            .order_by(CatalogItem.id)
        ).all()
        if rows:
            best: dict[str, CatalogItem] = {}
            for row in rows:
                current = best.get(row.part_number)
                if current is None or (current.model_key != key and row.model_key == key):
                    best[row.part_number] = row
            return [Match(row, "part_number") for row in best.values()]
    if not key:
        return []
    wanted_kind = normalize_kind(kind) if kind else None
    wanted_color = normalize_color(color)

    def rows_for(model_keys: list[str]) -> list[CatalogItem]:
        query = select(CatalogItem).where(CatalogItem.active.is_(True), CatalogItem.model_key.in_(model_keys))
        if kind:
            query = query.where(CatalogItem.kind == (wanted_kind or kind))
        if wanted_color:
            query = query.where(CatalogItem.color == wanted_color)
        return list(session.scalars(query.order_by(CatalogItem.model_key, CatalogItem.kind, CatalogItem.id)))

    exact = rows_for([key])
    if exact:
        return [Match(row, "model") for row in exact]
    all_keys = session.scalars(select(CatalogItem.model_key).where(CatalogItem.active.is_(True)).distinct())
    near = [k for k in all_keys if k != key and _contains(k, key)]
    if not near:
        return []
    closest = min(abs(len(k) - len(key)) for k in near)
    return [Match(row, "model") for row in rows_for([k for k in near if abs(len(k) - len(key)) == closest])]


def _contains(a: str, b: str) -> bool:
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    return len(short) >= _MIN_CONTAINED and bool(_DIGIT.search(short)) and short in long


def items_by_part(session: Session, part_number: str) -> list[CatalogItem]:
    """Every active row of one part number (a part often fits several models), exact spelling first."""
    rows = session.scalars(
        select(CatalogItem)
        .where(CatalogItem.active.is_(True), _part_key_sql(CatalogItem.part_number) == part_key(part_number))
        .order_by(CatalogItem.id)
    ).all()
    exact = [r for r in rows if r.part_number == part_number]
    if exact:
        return [r for r in rows if r.part_number == exact[0].part_number]
    return [r for r in rows if r.part_number == rows[0].part_number] if rows else []


# --- import -------------------------------------------------------------------------------------

COLUMNS = (
    "vendor",
    "model",
    "kind",
    "color",
    "part_number",
    "description",
    "price",
    "currency",
    "lead_time_days",
    "yield_pages",
)
REQUIRED = ("model", "kind", "part_number", "price", "lead_time_days")
_PRICE = re.compile(r"^\d{1,9}(?:[.,]\d{1,2})?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAX_ERRORS_SHOWN = 20


class CatalogImportError(Exception):
    """The file was refused; ``errors`` are (line, message) pairs. Nothing was imported."""

    def __init__(self, errors: list[tuple[int, str]]) -> None:
        self.errors = errors
        shown = "; ".join(f"line {line}: {message}" for line, message in errors[:_MAX_ERRORS_SHOWN])
        more = len(errors) - _MAX_ERRORS_SHOWN
        super().__init__(shown + (f"; and {more} more" if more > 0 else ""))


@dataclass
class ImportReport:
    """What an import did, row by row counts."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    part_numbers: set[str] = field(default_factory=set)

    def __str__(self) -> str:
        return (
            f"{self.rows} rows ({len(self.part_numbers)} part numbers): {self.created} created, "
            f"{self.updated} updated, {self.unchanged} unchanged"
        )


@dataclass(frozen=True)
class _Row:
    line: int
    values: dict[str, object]


def import_csv(session: Session, path_or_text: str | Path, default_currency: str) -> ImportReport:
    """Insert or update catalog rows from CSV, keyed by (model key, part number).

    Every row is checked before anything is written, so a file with one bad row changes nothing
    and the error names every bad line. Rows not in the file are left as they are (a price list
    for one vendor does not delete another vendor's rows). The delimiter may be ``,``, ``;`` or a
    tab (spreadsheets export ``;`` in many locales); a UTF-8 byte-order mark is ignored.
    """
    text = _read(path_or_text)
    rows, errors = _parse(text, default_currency)
    if errors:
        raise CatalogImportError(errors)
    existing = {(i.model_key, i.part_number): i for i in session.scalars(select(CatalogItem))}
    report = ImportReport()
    now = utcnow()
    for row in rows:
        values = row.values
        report.rows += 1
        report.part_numbers.add(str(values["part_number"]))
        item = existing.get((str(values["model_key"]), str(values["part_number"])))
        if item is None:
            item = CatalogItem(**values, active=True, updated_at=now)
            session.add(item)
            existing[(item.model_key, item.part_number)] = item
            report.created += 1
            continue
        changed = {k: v for k, v in values.items() if getattr(item, k) != v}
        if not item.active:
            changed["active"] = True
        if changed:
            for name, value in changed.items():
                setattr(item, name, value)
            item.updated_at = now
            report.updated += 1
        else:
            report.unchanged += 1
    session.flush()
    return report


def _read(path_or_text: str | Path) -> str:
    if isinstance(path_or_text, Path):
        return path_or_text.read_text(encoding="utf-8-sig")
    if "\n" not in path_or_text and len(path_or_text) < 4096 and Path(path_or_text).is_file():
        return Path(path_or_text).read_text(encoding="utf-8-sig")
    return path_or_text.removeprefix("\ufeff")


def _parse(text: str, default_currency: str) -> tuple[list[_Row], list[tuple[int, str]]]:
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    errors: list[tuple[int, str]] = []
    try:
        header = [h.strip().casefold().replace(" ", "_") for h in next(reader)]
    except StopIteration:
        return [], [(1, "the file is empty")]
    unknown = [h for h in header if h not in COLUMNS]
    missing = [c for c in REQUIRED if c not in header]
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if unknown or missing or duplicated:
        problems = []
        if unknown:
            problems.append(f"unknown columns {', '.join(unknown)}")
        if missing:
            problems.append(f"missing columns {', '.join(missing)}")
        if duplicated:
            problems.append(f"repeated columns {', '.join(duplicated)}")
        return [], [(1, "; ".join(problems) + f" (the columns are: {', '.join(COLUMNS)})")]
    rows: list[_Row] = []
    seen: dict[tuple[str, str], int] = {}
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                errors.append((line, f"{len(cells)} fields where the header has {len(header)}"))
                continue
            raw = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
            values, problems = _row_values(raw, default_currency)
            if problems:
                errors.append((line, "; ".join(problems)))
                continue
            identity = (str(values["model_key"]), str(values["part_number"]))
            if identity in seen:
                errors.append((line, f"the same model and part number as line {seen[identity]}"))
                continue
            seen[identity] = line
            rows.append(_Row(line, values))
    except csv.Error as exc:
        errors.append((reader.line_num, f"not readable as CSV: {exc}"))
    if not rows and not errors:
        errors.append((2, "the file has a header but no rows"))
    return rows, errors


def _row_values(raw: dict[str, str], default_currency: str) -> tuple[dict[str, object], list[str]]:
    problems: list[str] = []

    def text(name: str, limit: int, required: bool = False) -> str | None:
        value = raw.get(name, "")
        if not value:
            if required:
                problems.append(f"{name} is empty")
            return None
        if _CONTROL.search(value):
            problems.append(f"{name} contains control characters")
        if len(value) > limit:
            problems.append(f"{name} is longer than {limit} characters")
        return value

    def integer(name: str, low: int, high: int, required: bool = False) -> int | None:
        value = raw.get(name, "")
        if not value:
            if required:
                problems.append(f"{name} is empty")
            return None
        if not value.isdigit() or not low <= int(value) <= high:
            problems.append(f"{name} {value!r} is not a whole number from {low} to {high}")
            return None
        return int(value)

    vendor = text("vendor", 80)
    model = text("model", 120, required=True)
    model_key = normalize_model(model)
    if model and not model_key:
        problems.append(f"model {model!r} has no letters or digits left after removing the vendor name")
    kind_text = text("kind", 32, required=True)
    kind = normalize_kind(kind_text)
    if kind_text and kind is None:
        problems.append(f"kind {kind_text!r} is not one of {', '.join(KINDS)}")
    color = normalize_color(text("color", 32))
    part_number = text("part_number", 64, required=True)
    if part_number and ("," in part_number or ":" in part_number):
        problems.append("part_number may not contain ',' or ':' (the fleet sync format uses them)")
    description = text("description", 255)
    price_cents = _price_cents(raw.get("price", ""), problems)
    currency = (raw.get("currency") or default_currency).upper()
    if not _CURRENCY.match(currency):
        problems.append(f"currency {currency!r} is not a three-letter ISO 4217 code")
    lead_time = integer("lead_time_days", 0, MAX_LEAD_TIME_DAYS, required=True)
    yield_pages = integer("yield_pages", 1, MAX_YIELD_PAGES)
    if problems:
        return {}, problems
    if not description:
        words = (vendor, part_number, color, (kind or "").replace("_", " "))
        description = " ".join(word for word in words if word)
    return {
        "vendor": vendor,
        "model": model,
        "model_key": model_key,
        "kind": kind,
        "color": color,
        "part_number": part_number,
        "description": description,
        "price_cents": price_cents,
        "currency": currency,
        "lead_time_days": lead_time,
        "yield_pages": yield_pages,
    }, problems


def _price_cents(value: str, problems: list[str]) -> int | None:
    if not value:
        problems.append("price is empty")
        return None
    if not _PRICE.match(value):
        problems.append(
            f"price {value!r} is not an amount like 89.90 (no currency sign, no thousands separator)"
        )
        return None
    try:
        cents = int(Decimal(value.replace(",", ".")) * 100)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        problems.append(f"price {value!r} is not a number")
        return None
    if cents > MAX_PRICE_CENTS:
        problems.append(f"price {value!r} is too large")
        return None
    return cents
