"""The agent's inventory: printers found by discovery or added by hand, in a small SQLite file.

Each printer keeps a stable id (vendor + serial where it has one, else its MAC), so when DHCP gives
it a new address the inventory updates the address and Home Assistant keeps the same device.
The credentials profile that answered is remembered per printer, as is whether it is *monitored*
(polled and published) or only known. SQLite (stdlib) because the data is small, must survive
restarts and power cuts, and needs no server; every write is one short transaction.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from .errors import AgentError

Source = Literal["manual", "sweep", "mdns", "broadcast", "config"]
Change = Literal["new", "moved", "seen"]

SCHEMA_VERSION = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS printers (
    id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    port INTEGER NOT NULL DEFAULT 161,
    name TEXT,
    vendor TEXT,
    model TEXT,
    serial TEXT,
    mac TEXT,
    profile TEXT,
    monitored INTEGER NOT NULL DEFAULT 1,
    source TEXT NOT NULL,
    added_at REAL NOT NULL,
    last_seen REAL
);
CREATE INDEX IF NOT EXISTS printers_address ON printers (host, port);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reorder_points (
    printer_id TEXT NOT NULL,
    supply_key TEXT NOT NULL,
    percent INTEGER NOT NULL,
    PRIMARY KEY (printer_id, supply_key)
);
CREATE TABLE IF NOT EXISTS supply_memory (
    printer_id TEXT NOT NULL,
    supply_key TEXT NOT NULL,
    fired TEXT NOT NULL,
    remaining INTEGER,
    state TEXT,
    PRIMARY KEY (printer_id, supply_key)
);
"""


class InventoryError(AgentError):
    """The inventory file cannot be used, or a printer is not in it."""


@dataclass(frozen=True, slots=True)
class InventoryPrinter:
    id: str
    host: str
    port: int = 161
    name: str | None = None
    vendor: str | None = None
    model: str | None = None
    serial: str | None = None
    mac: str | None = None
    profile: str | None = None
    monitored: bool = True
    source: Source = "manual"
    added_at: float = 0.0
    last_seen: float | None = None

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


_COLUMNS = (
    "id",
    "host",
    "port",
    "name",
    "vendor",
    "model",
    "serial",
    "mac",
    "profile",
    "monitored",
    "source",
    "added_at",
    "last_seen",
)


# Built from the fixed column names above, never from input.
_INSERT = f"INSERT INTO printers ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)})"  # noqa: S608


def _row(row: sqlite3.Row) -> InventoryPrinter:
    data = dict(row)
    data["monitored"] = bool(data["monitored"])
    return InventoryPrinter(**data)


class Inventory:
    """Thread-safe access to the inventory file (tiny, so calls are synchronous)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
            self._db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )
        except (OSError, sqlite3.Error) as exc:
            raise InventoryError(f"inventory {path}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                yield self._db
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._db.execute("ROLLBACK")
                raise InventoryError(f"inventory {self.path}: {exc}") from exc

    # --- reading -------------------------------------------------------------------------------

    def all(self) -> list[InventoryPrinter]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM printers ORDER BY host, port").fetchall()
        return [_row(r) for r in rows]

    def monitored(self) -> list[InventoryPrinter]:
        return [p for p in self.all() if p.monitored]

    def find(self, ref: str) -> InventoryPrinter | None:
        """By id, by ``host``/``host:port``, or by serial or MAC."""
        with self._lock:
            row = self._db.execute("SELECT * FROM printers WHERE id = ?", (ref,)).fetchone()
            if row is None:
                host, _, port = ref.rpartition(":") if ref.count(":") == 1 else (ref, "", "")
                if port.isdigit():
                    row = self._db.execute(
                        "SELECT * FROM printers WHERE host = ? AND port = ?", (host, int(port))
                    ).fetchone()
                else:
                    row = self._db.execute(
                        "SELECT * FROM printers WHERE host = ? OR serial = ? OR mac = ? ORDER BY port",
                        (ref, ref, ref.lower()),
                    ).fetchone()
        return _row(row) if row is not None else None

    def get(self, ref: str) -> InventoryPrinter:
        printer = self.find(ref)
        if printer is None:
            raise InventoryError(f"no printer {ref!r} in the inventory")
        return printer

    # --- writing -------------------------------------------------------------------------------

    def record(
        self, found: InventoryPrinter, *, monitored_if_new: bool = True
    ) -> tuple[InventoryPrinter, Change]:
        """Insert a found printer, or update the one that is already known.

        Known means: the same id, else the same serial (and vendor) or MAC. A known printer at a new
        address is *moved*: its address changes, its id, name and monitored flag stay.
        """
        now = time.time()
        with self._tx() as db:
            row = db.execute("SELECT * FROM printers WHERE id = ?", (found.id,)).fetchone()
            if row is None and found.serial:
                row = db.execute(
                    "SELECT * FROM printers WHERE serial = ? "
                    "AND (vendor IS ? OR vendor IS NULL OR ? IS NULL)",
                    (found.serial, found.vendor, found.vendor),
                ).fetchone()
            if row is None and found.mac:
                row = db.execute("SELECT * FROM printers WHERE mac = ?", (found.mac,)).fetchone()
            if row is None:
                new = replace(found, added_at=now, last_seen=now, monitored=monitored_if_new)
                db.execute(_INSERT, tuple(getattr(new, c) for c in _COLUMNS))
                return new, "new"
            known = _row(row)
            change: Change = "moved" if (known.host, known.port) != (found.host, found.port) else "seen"
            updated = replace(
                known,
                host=found.host,
                port=found.port,
                vendor=found.vendor or known.vendor,
                model=found.model or known.model,
                serial=found.serial or known.serial,
                mac=found.mac or known.mac,
                profile=found.profile or known.profile,
                last_seen=now,
            )
            db.execute(
                "UPDATE printers SET host=?, port=?, vendor=?, model=?, serial=?, mac=?, profile=?, "
                "last_seen=? WHERE id=?",
                (
                    updated.host,
                    updated.port,
                    updated.vendor,
                    updated.model,
                    updated.serial,
                    updated.mac,
                    updated.profile,
                    updated.last_seen,
                    known.id,
                ),
            )
            return updated, change

    def set_monitored(self, ref: str, monitored: bool) -> InventoryPrinter:
        printer = self.get(ref)
        with self._tx() as db:
            db.execute("UPDATE printers SET monitored = ? WHERE id = ?", (int(monitored), printer.id))
        return replace(printer, monitored=monitored)

    def rename(self, ref: str, name: str | None) -> InventoryPrinter:
        printer = self.get(ref)
        with self._tx() as db:
            db.execute("UPDATE printers SET name = ? WHERE id = ?", (name, printer.id))
        return replace(printer, name=name)

    def remove(self, ref: str) -> InventoryPrinter:
        printer = self.get(ref)
        with self._tx() as db:
            db.execute("DELETE FROM printers WHERE id = ?", (printer.id,))
            db.execute("DELETE FROM reorder_points WHERE printer_id = ?", (printer.id,))
            db.execute("DELETE FROM supply_memory WHERE printer_id = ?", (printer.id,))
        return printer

    # --- per-supply settings and memory (any printer, configured or inventoried) --------------

    def reorder_points(self, printer_id: str) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute(
                "SELECT supply_key, percent FROM reorder_points WHERE printer_id = ?", (printer_id,)
            ).fetchall()
        return {row[0]: int(row[1]) for row in rows}

    def set_reorder_point(self, printer_id: str, supply_key: str, percent: int) -> None:
        if not 0 <= percent <= 100:
            raise InventoryError(f"a reorder point is a percentage from 0 to 100, not {percent}")
        with self._tx() as db:
            db.execute(
                "INSERT INTO reorder_points (printer_id, supply_key, percent) VALUES (?, ?, ?) "
                "ON CONFLICT (printer_id, supply_key) DO UPDATE SET percent = excluded.percent",
                (printer_id, supply_key, percent),
            )

    def default_reorder_point(self) -> int | None:
        """The default reorder point set by command (it overrides the configuration's), if any."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'default_reorder_point'").fetchone()
        return int(row[0]) if row else None

    def set_default_reorder_point(self, percent: int | None) -> None:
        """Store the default reorder point; ``None`` goes back to the configuration's."""
        if percent is not None and not 0 <= percent <= 100:
            raise InventoryError(f"a reorder point is a percentage from 0 to 100, not {percent}")
        with self._tx() as db:
            if percent is None:
                db.execute("DELETE FROM meta WHERE key = 'default_reorder_point'")
            else:
                db.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('default_reorder_point', ?)",
                    (str(percent),),
                )

    def supply_memory(self, printer_id: str) -> dict[str, tuple[frozenset[str], int | None, str | None]]:
        """What the event detector remembered per supply: (events fired, remaining %, state)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT supply_key, fired, remaining, state FROM supply_memory WHERE printer_id = ?",
                (printer_id,),
            ).fetchall()
        return {r[0]: (frozenset(filter(None, r[1].split(","))), r[2], r[3]) for r in rows}

    def remember_supply(
        self,
        printer_id: str,
        supply_key: str,
        fired: frozenset[str],
        remaining: int | None,
        state: str | None,
    ) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO supply_memory (printer_id, supply_key, fired, remaining, state) "
                "VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (printer_id, supply_key) DO UPDATE SET fired = excluded.fired, "
                "remaining = excluded.remaining, state = excluded.state",
                (printer_id, supply_key, ",".join(sorted(fired)), remaining, state),
            )
