"""The long-running service: poller and publisher wired together."""

from __future__ import annotations

import asyncio
import logging

from .config import Settings
from .poller import Poller, PollResult
from .publisher import Publisher
from .snmp import SnmpClient

_LOG = logging.getLogger(__name__)


class Agent:
    """Polls the configured printers and publishes them until cancelled."""

    def __init__(self, settings: Settings, snmp: SnmpClient | None = None) -> None:
        self.settings = settings
        self.snmp = snmp or SnmpClient()
        self.publisher = Publisher(settings.mqtt, settings.agent_id)
        self.poller = Poller(
            self.snmp,
            interval=settings.poll_interval,
            concurrency=settings.concurrency,
            low_threshold=settings.low_threshold,
            static_refresh=settings.static_refresh,
            listener=self._on_result,
        )
        for printer in settings.printers:
            self.poller.add(settings.printer_target(printer), printer.name)
        self.publisher.configured_keys = lambda: set(self.poller.printers)

    async def _on_result(self, result: PollResult) -> None:
        printer = result.printer
        if result.snapshot is not None:
            if result.became_available and printer.polls > 1:
                _LOG.info("%s (%s) answers again", printer.key, result.snapshot.id)
            await self.publisher.update(result.snapshot, printer.name, printer.key)
        elif printer.printer_id is not None and result.became_unavailable:
            await self.publisher.set_available(printer.printer_id, False)

    async def run(self) -> None:
        publisher = asyncio.create_task(self.publisher.run(), name="mqtt")
        poller = asyncio.create_task(self.poller.run(), name="poller")
        try:
            await asyncio.gather(publisher, poller)
        finally:
            for task in (poller, publisher):
                task.cancel()
            await asyncio.gather(poller, publisher, return_exceptions=True)
            self.snmp.close()
