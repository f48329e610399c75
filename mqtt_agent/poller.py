"""Polls every printer on a schedule, concurrently with a bound, and reports results.

A printer that stops answering is reported unavailable once and polled again every cycle; when it
answers again its tables are re-read (it may have been swapped or reconfigured) and it is reported
available. Results go to a listener, so the poller knows nothing of MQTT.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from .errors import AgentError
from .model import PrinterSnapshot
from .reader import PrinterReader
from .snmp import SnmpClient, SnmpTarget, Traffic

_LOG = logging.getLogger(__name__)


@dataclass(slots=True)
class PolledPrinter:
    """One printer the poller looks after."""

    key: str  # "host:port" as configured
    reader: PrinterReader
    name: str | None = None
    snapshot: PrinterSnapshot | None = None
    printer_id: str | None = None
    available: bool | None = None
    error: str | None = None
    failures: int = 0
    polls: int = 0
    last_poll: float | None = None


@dataclass(frozen=True, slots=True)
class PollResult:
    printer: PolledPrinter
    snapshot: PrinterSnapshot | None
    error: str | None
    became_available: bool
    became_unavailable: bool


Listener = Callable[[PollResult], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class CycleReport:
    printers: int
    ok: int
    failed: int
    seconds: float
    traffic: Traffic


class Poller:
    def __init__(
        self,
        client: SnmpClient,
        *,
        interval: float = 300.0,
        concurrency: int = 64,
        low_threshold: int = 10,
        static_refresh: float = 86400.0,
        listener: Listener | None = None,
        on_cycle: Callable[[CycleReport], Awaitable[None]] | None = None,
    ) -> None:
        self.client = client
        self.interval = interval
        self.low_threshold = low_threshold
        self.static_refresh = static_refresh
        self.listener = listener
        self.on_cycle = on_cycle
        self.before_cycle: Callable[[], Awaitable[None]] | None = None
        self.printers: dict[str, PolledPrinter] = {}
        self._semaphore = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self.last_cycle: CycleReport | None = None

    def add(
        self, target: SnmpTarget, name: str | None = None, printer_id: str | None = None
    ) -> PolledPrinter:
        key = target.label
        reader = PrinterReader(
            self.client,
            target,
            low_threshold=self.low_threshold,
            static_max_age=self.static_refresh,
            fixed_id=printer_id,
        )
        printer = self.printers[key] = PolledPrinter(key=key, reader=reader, name=name, printer_id=printer_id)
        return printer

    def remove(self, key: str) -> PolledPrinter | None:
        return self.printers.pop(key, None)

    def poll_now(self) -> None:
        """Start the next cycle right away."""
        self._wake.set()

    async def poll_printer(self, printer: PolledPrinter) -> PollResult:
        async with self._semaphore:
            error: str | None = None
            snapshot: PrinterSnapshot | None = None
            was_available = printer.available
            try:
                snapshot = await printer.reader.poll()
            except AgentError as exc:  # timeouts, SNMP errors, not a printer: one line in the log
                error = str(exc)
            except Exception as exc:  # a hostile or broken answer must never stop the agent
                _LOG.exception("%s: unexpected error while polling", printer.key)
                error = f"{printer.key}: unexpected error: {exc.__class__.__name__}: {exc}"
            printer.polls += 1
            printer.last_poll = time.time()
            if snapshot is not None:
                printer.snapshot = snapshot
                printer.printer_id = printer.printer_id or snapshot.id
                printer.available = True
                printer.error = None
                printer.failures = 0
            else:
                printer.error = error
                printer.failures += 1
                printer.available = False
                printer.reader.invalidate()
                if was_available is not False:
                    _LOG.warning("%s", error)
            result = PollResult(
                printer=printer,
                snapshot=snapshot,
                error=error,
                became_available=snapshot is not None and was_available is not True,
                became_unavailable=snapshot is None and was_available is not False,
            )
        if self.listener is not None:
            await self.listener(result)
        return result

    async def poll_all(self, printers: Iterable[PolledPrinter] | None = None) -> CycleReport:
        chosen = list(printers if printers is not None else self.printers.values())
        started = time.monotonic()
        before = self.client.meter.total().snapshot()
        results = await asyncio.gather(*(self.poll_printer(p) for p in chosen))
        ok = sum(1 for r in results if r.snapshot is not None)
        report = CycleReport(
            printers=len(chosen),
            ok=ok,
            failed=len(chosen) - ok,
            seconds=time.monotonic() - started,
            traffic=self.client.meter.total().minus(before),
        )
        self.last_cycle = report
        return report

    async def run(self) -> None:
        """Poll every ``interval`` seconds (cycle start to cycle start) until cancelled."""
        while True:
            started = time.monotonic()
            self._wake.clear()
            if self.before_cycle is not None:
                try:
                    await self.before_cycle()
                except Exception:  # a broken inventory file must not stop polling the rest
                    _LOG.exception("could not update the list of printers")
            report = await self.poll_all()
            _LOG.info(
                "polled %d printers in %.2f s: %d ok, %d not answering, %d bytes",
                report.printers,
                report.seconds,
                report.ok,
                report.failed,
                report.traffic.bytes_total,
            )
            if self.on_cycle is not None:
                await self.on_cycle(report)
            remaining = self.interval - (time.monotonic() - started)
            if remaining > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=remaining)
