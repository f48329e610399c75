"""The long-running service: inventory, poller, discovery and publisher wired together.

Printers come from two places: the configuration file (always monitored) and the inventory
(found by discovery or added by hand; monitored or not, switchable from the CLI, MQTT commands
and Home Assistant). Before every poll cycle the poller's set is reconciled with both, so changes
made by another process (the CLI) take effect on the next cycle, and changes made through MQTT
take effect at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from dataclasses import asdict, replace
from typing import Any

from . import __version__, events
from .config import Settings, split_host_port
from .errors import AgentError, ConfigError
from .inventory import Inventory, InventoryPrinter, Source
from .model import Identity, PrinterSnapshot
from .poller import CycleReport, Poller, PollResult
from .publisher import Publisher
from .reader import PrinterReader
from .snmp import SnmpClient

_LOG = logging.getLogger(__name__)


async def identify(settings: Settings, client: SnmpClient, address: str) -> tuple[PrinterSnapshot, str]:
    """Poll ``host[:port]`` with each credentials profile in turn: (snapshot, profile that answered)."""
    host, port = split_host_port(address, 0)
    errors = []
    for profile in settings.profiles():
        target = settings.profile_target(host, port or None, profile.name)
        try:
            snapshot = await PrinterReader(client, target, low_threshold=settings.low_threshold).poll()
        except AgentError as exc:
            errors.append(f"{profile.name}: {exc}")
            continue
        return snapshot, profile.name
    raise AgentError(f"{address}: not added, no profile got an answer from a printer ({'; '.join(errors)})")


def inventory_entry(snapshot: PrinterSnapshot, profile: str, source: Source, host: str) -> InventoryPrinter:
    ident = snapshot.identity
    return InventoryPrinter(
        id=snapshot.id,
        host=host,
        port=snapshot.port,
        vendor=ident.vendor,
        model=ident.model,
        serial=ident.serial,
        mac=ident.mac,
        profile=profile,
        source=source,
    )


def _identity_only_snapshot(printer: InventoryPrinter) -> PrinterSnapshot:
    """What is known of a printer that is not polled: its identity from the inventory, nothing else."""
    identity = Identity(
        vendor=printer.vendor,
        model=printer.model,
        serial=printer.serial,
        firmware=None,
        mac=printer.mac,
        sys_name=None,
        sys_descr=None,
        sys_object_id=None,
        location=None,
        device_id=None,
        printer_name=printer.name,
    )
    return PrinterSnapshot(
        id=printer.id,
        host=printer.host,
        port=printer.port,
        identity=identity,
        status="unknown",
        device_status=None,
        printer_status=None,
        errors=[],
        problem=False,
        supplies=[],
        trays=[],
        counters={},
        counter_unit=None,
        alerts=[],
    )


class Agent:
    """Polls the configured and inventoried printers and publishes them until cancelled."""

    def __init__(
        self, settings: Settings, snmp: SnmpClient | None = None, inventory: Inventory | None = None
    ) -> None:
        self.settings = settings
        self.snmp = snmp or SnmpClient()
        self.inventory = inventory or Inventory(settings.inventory_path)
        self.publisher = Publisher(settings.mqtt, settings.agent_id)
        self.poller = Poller(
            self.snmp,
            interval=settings.poll_interval,
            concurrency=settings.concurrency,
            low_threshold=settings.low_threshold,
            static_refresh=settings.static_refresh,
            listener=self._on_result,
            on_cycle=self._on_cycle,
        )
        self.poller.before_cycle = self.reconcile
        self._config_keys: set[str] = set()
        for printer in settings.printers:
            polled = self.poller.add(settings.printer_target(printer), printer.name)
            self._config_keys.add(polled.key)
        # inventory id -> poller key, for the inventory printers being polled
        self._inventory_keys: dict[str, str] = {}
        self.publisher.configured_keys = self._known_keys
        self.publisher.command_handler = self.handle_command
        self.publisher.set_handler = self.apply_setting
        self.discovery: dict[str, Any] = {"running": False, "progress": 0, "last_run": None}
        self._sweep: asyncio.Task[dict[str, Any]] | None = None
        self._cycle: dict[str, Any] | None = None
        # Per printer, loaded from the inventory on first use: reorder points, event memory.
        self._reorder: dict[str, dict[str, int]] = {}
        self._memory: dict[str, dict[str, events.Memory]] = {}
        stored = self.inventory.default_reorder_point()
        # The reorder point of supplies without their own: set by command, else the configuration's.
        self.default_reorder_point = settings.reorder_point if stored is None else stored

    def _known_keys(self) -> set[str]:
        keys = set(self._config_keys)
        keys.update(p.address for p in self.inventory.all())
        return keys

    # --- inventory -> poller ------------------------------------------------------------------

    async def reconcile(self) -> None:
        """Make the poller and the published devices match the configuration and the inventory."""
        printers = self.inventory.all()
        wanted = {p.id: p for p in printers if p.monitored and p.address not in self._config_keys}
        for printer_id, key in list(self._inventory_keys.items()):
            current = wanted.get(printer_id)
            if current is None or current.address != key:
                self.poller.remove(key)
                del self._inventory_keys[printer_id]
        for printer_id, printer in wanted.items():
            if printer_id not in self._inventory_keys:
                target = self.settings.profile_target(printer.host, printer.port, printer.profile)
                self.poller.add(target, printer.name, printer_id=printer.id)
                self._inventory_keys[printer_id] = target.label
        known = {p.id for p in printers}
        for printer in printers:
            if not printer.monitored:
                snapshot = self.publisher.snapshot(printer.id) or _identity_only_snapshot(printer)
                await self.publisher.update(
                    snapshot, printer.name, printer.address, monitored=False, switchable=True
                )
        config_ids = {p.printer_id for p in self.poller.printers.values() if p.key in self._config_keys}
        for printer_id in self.publisher.published_ids() - known - config_ids:
            if printer_id not in {p.printer_id for p in self.poller.printers.values()}:
                await self.publisher.remove(printer_id)

    # --- poll results -------------------------------------------------------------------------

    def _points(self, printer_id: str) -> dict[str, int]:
        """Reorder points of a printer, read from the inventory once and then kept in memory."""
        points = self._reorder.get(printer_id)
        if points is None:
            points = self._reorder[printer_id] = self.inventory.reorder_points(printer_id)
        return points

    def with_reorder_points(self, snapshot: PrinterSnapshot) -> PrinterSnapshot:
        points = self._points(snapshot.id)
        default = self.default_reorder_point
        supplies = [replace(s, reorder_point=points.get(s.key, default)) for s in snapshot.supplies]
        return replace(snapshot, supplies=supplies)

    async def _publish_events(self, snapshot: PrinterSnapshot) -> None:
        memory = self._memory.get(snapshot.id)
        if memory is None:
            memory = self._memory[snapshot.id] = self.inventory.supply_memory(snapshot.id)

        def remember(key: str, fired: frozenset[str], left: int | None, state: str | None) -> None:
            # Levels move every poll: keep them in memory, and write to the inventory only when
            # what has fired or the state changes (all a restart needs to repeat nothing).
            old_fired, _old_left, old_state = memory.get(key, (None, None, None))
            memory[key] = (fired, left, state)
            if fired != old_fired or state != old_state:
                self.inventory.remember_supply(snapshot.id, key, fired, left, state)

        found = events.detect(
            snapshot,
            memory,
            self.default_reorder_point,
            self.settings.low_threshold,
            remember,
        )
        at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        for event in found:
            _LOG.info("%s: %s %s (%s)", snapshot.id, event.supply.name, event.event_type, event.supply.state)
            await self.publisher.publish_event(snapshot.id, event.to_json(at))

    async def apply_setting(self, printer_id: str, body: dict[str, Any]) -> None:
        """A printer's set topic: ``{"reorder_point": {"supply": "1.1", "percent": 25}}``."""
        setting = body.get("reorder_point")
        if not isinstance(setting, dict):
            raise AgentError('expected {"reorder_point": {"supply": …, "percent": …}}')
        supply, percent = setting.get("supply"), setting.get("percent")
        if not isinstance(supply, str) or isinstance(percent, bool) or not isinstance(percent, int | float):
            raise AgentError('"supply" must be a supply key and "percent" a number')
        snapshot = self.publisher.snapshot(printer_id)
        if snapshot is None or supply not in {s.key for s in snapshot.supplies}:
            raise AgentError(f"printer {printer_id} has no supply {supply!r}")
        self.inventory.set_reorder_point(printer_id, supply, round(percent))
        self._points(printer_id)[supply] = round(percent)
        polled = next((p for p in self.poller.printers.values() if p.printer_id == printer_id), None)
        updated = self.with_reorder_points(snapshot)
        await self.publisher.update(
            updated,
            polled.name if polled else None,
            polled.key if polled else None,
            monitored=True,
            switchable=bool(polled and polled.key not in self._config_keys),
        )
        await self._publish_events(updated)

    async def _on_result(self, result: PollResult) -> None:
        printer = result.printer
        if result.snapshot is not None:
            if result.became_available and printer.polls > 1:
                _LOG.info("%s (%s) answers again", printer.key, result.snapshot.id)
            snapshot = self.with_reorder_points(result.snapshot)
            await self._publish_events(snapshot)
            await self.publisher.update(
                snapshot,
                printer.name,
                printer.key,
                monitored=True,
                switchable=printer.key not in self._config_keys,
            )
        elif printer.printer_id is not None and result.became_unavailable:
            await self.publisher.set_available(printer.printer_id, False)

    async def _on_cycle(self, report: CycleReport) -> None:
        self._cycle = {
            "printers": report.printers,
            "ok": report.ok,
            "failed": report.failed,
            "seconds": round(report.seconds, 3),
            "bytes": report.traffic.bytes_total,
            "requests": report.traffic.requests,
            "at": round(time.time()),
        }
        await self.publish_state()

    def agent_state(self) -> dict[str, Any]:
        network: dict[str, dict[str, int]] = {}
        for polled in self.poller.printers.values():
            if polled.printer_id is None or polled.last_poll is None:
                continue
            address = polled.reader.address
            total = self.snmp.meter.get(address) if address else None
            last = polled.reader.last_poll_traffic
            network[polled.printer_id] = {
                "requests": total.requests if total else 0,
                "bytes": total.bytes_total if total else 0,
                "last_poll_requests": last.requests,
                "last_poll_bytes": last.bytes_total,
            }
        return {
            "agent_id": self.settings.agent_id,
            "version": __version__,
            "printers_monitored": len(self.poller.printers),
            "printers_known": len(self._config_keys) + len(self.inventory.all()),
            "default_reorder_point": self.default_reorder_point,
            "last_cycle": self._cycle,
            "discovery": self.discovery,
            "network": network,
        }

    async def publish_state(self) -> None:
        await self.publisher.publish_agent_state(self.agent_state())

    # --- commands (MQTT, and the CLI through the same functions) -------------------------------

    async def handle_command(self, command: dict[str, Any]) -> dict[str, Any]:
        name = command.get("command")
        try:
            if name == "poll_now":
                self.poller.poll_now()
                return {"ok": True}
            if name == "list":
                return {"ok": True, "result": [asdict(p) for p in self.inventory.all()]}
            if name == "set_reorder_point":
                printer_id = str(command.get("printer") or "")
                await self.apply_setting(
                    printer_id,
                    {"reorder_point": {"supply": command.get("supply"), "percent": command.get("percent")}},
                )
                return {"ok": True}
            if name == "set_default_reorder_point":
                return {"ok": True, "result": self.set_default_reorder_point(command.get("percent"))}
            if name == "add":
                return {"ok": True, "result": asdict(await self.add(str(command.get("host", "")), command))}
            if name in ("remove", "monitor", "unmonitor"):
                ref = str(command.get("printer") or command.get("host") or "")
                if not ref:
                    raise AgentError(f'"{name}" needs "printer" (an id or an address)')
                if name == "remove":
                    printer = self.inventory.remove(ref)
                    self._reorder.pop(printer.id, None)
                    self._memory.pop(printer.id, None)
                else:
                    printer = self.inventory.set_monitored(ref, name == "monitor")
                await self.reconcile()
                if name == "monitor":
                    self.poller.poll_now()
                return {"ok": True, "result": asdict(printer)}
            if name == "discover":
                networks = command.get("networks") or []
                if not isinstance(networks, list):
                    raise AgentError('"networks" must be a list of CIDRs')
                return {"ok": True, "result": await self.discover([str(n) for n in networks])}
        except (AgentError, ConfigError) as exc:
            return {"ok": False, "error": str(exc)}
        known = (
            "discover, add, remove, monitor, unmonitor, poll_now, list, set_reorder_point,"
            " set_default_reorder_point"
        )
        return {"ok": False, "error": f"unknown command {name!r}; known: {known}"}

    def set_default_reorder_point(self, percent: Any) -> dict[str, Any]:
        """The reorder point of every supply without its own; ``null`` restores the configuration's.

        Stored in the inventory (it survives restarts); the next poll, started at once, publishes
        the new points and fires what they cross.
        """
        if percent is not None and (isinstance(percent, bool) or not isinstance(percent, int | float)):
            raise AgentError('"percent" must be a number from 0 to 100, or null')
        value = None if percent is None else round(percent)
        self.inventory.set_default_reorder_point(value)
        self.default_reorder_point = self.settings.reorder_point if value is None else value
        self.poller.poll_now()
        return {"default_reorder_point": self.default_reorder_point}

    async def add(self, address: str, options: dict[str, Any] | None = None) -> InventoryPrinter:
        """Add a printer by IP or DNS name: identified first, so a typo never lands in the list."""
        if not address:
            raise AgentError('"add" needs "host" (an IP address or DNS name, optionally :port)')
        snapshot, profile = await identify(self.settings, self.snmp, address)
        host, _port = split_host_port(address)
        printer, change = self.inventory.record(inventory_entry(snapshot, profile, "manual", host))
        name = (options or {}).get("name")
        if isinstance(name, str) and name:
            printer = self.inventory.rename(printer.id, name)
        if change != "new" and not printer.monitored:
            printer = self.inventory.set_monitored(printer.id, True)
        _LOG.info("added %s (%s) at %s", printer.id, printer.model or "?", printer.address)
        await self.reconcile()
        self.poller.poll_now()
        return printer

    async def discover(self, networks: list[str]) -> dict[str, Any]:
        """Sweep ``networks`` (default: ``discovery.networks``, else the host's subnets); one at a time."""
        from .discovery import Candidate, SweepProgress, host_networks, parse_networks, sweep

        if self._sweep is not None and not self._sweep.done():
            raise AgentError("a discovery sweep is already running")
        parsed = parse_networks(networks or self.settings.discovery.networks) or host_networks()
        if not parsed:
            raise AgentError("no network to sweep: this host has no IPv4 subnet; name one")

        async def found(candidate: Candidate) -> None:
            await self.record(candidate)

        last_publish = 0.0

        async def progress(state: SweepProgress) -> None:
            nonlocal last_publish
            self.discovery.update(
                running=True,
                progress=round(100 * state.done / max(1, state.total)),
                done=state.done,
                total=state.total,
                found=state.printers,
            )
            if time.monotonic() - last_publish > 1.0:
                last_publish = time.monotonic()
                await self.publish_state()

        async def run() -> dict[str, Any]:
            self.discovery.update(running=True, progress=0)
            await self.publish_state()
            # A client of its own: pysnmp keeps state per address contacted, freed with the engine.
            client = SnmpClient()
            try:
                report = await sweep(
                    client,
                    parsed,
                    self.settings.profiles(),
                    self.settings.discovery,
                    port=self.settings.snmp.port,
                    on_progress=progress,
                    on_found=found,
                )
                summary = report.summary()
            finally:
                client.close()
                self.discovery["running"] = False
            self.discovery.update(progress=100, last_run=summary)
            await self.publish_state()
            return summary

        self._sweep = asyncio.create_task(run())
        return await self._sweep

    async def record(self, candidate: Any) -> None:
        """A printer found by any discovery path goes into the inventory (and gets polled)."""
        if getattr(candidate, "verdict", "printer") != "printer":
            return
        auto = self.settings.discovery.auto_monitor
        printer, change = self.inventory.record(candidate.to_inventory(auto), monitored_if_new=auto)
        if change != "seen":
            _LOG.info("%s printer %s (%s) at %s", change, printer.id, printer.model or "?", printer.address)
            await self.reconcile()
            self.poller.poll_now()

    # --- zero-sweep discovery -----------------------------------------------------------------

    async def _watch_mdns(self) -> None:
        try:
            from .discovery import probe
            from .zeroconf_watch import MdnsService, MdnsWatcher
        except ImportError as exc:  # zeroconf is optional for the agent
            _LOG.info("mDNS discovery off: %s", exc)
            return

        async def on_address(address: str, service: MdnsService) -> None:
            _LOG.debug("mDNS: %s at %s", service.name, address)
            candidate = await probe(
                self.snmp,
                address,
                self.settings.snmp.port,
                self.settings.profiles(),
                self.settings.discovery.timeout,
                self.settings.discovery.retries,
                source="mdns",
            )
            if candidate is not None:
                await self.record(candidate)

        watcher = MdnsWatcher(on_address)
        await watcher.start()
        try:
            await asyncio.Event().wait()
        finally:
            await watcher.stop()

    async def _watch_broadcast(self) -> None:
        try:
            from .broadcast import broadcast_addresses, broadcast_probe
            from .discovery import probe
        except ImportError as exc:
            _LOG.info("SNMP broadcast discovery off: %s", exc)
            return
        while True:
            destinations = broadcast_addresses()
            profile = self.settings.profiles()[0]
            if destinations and profile.version != "3":
                try:
                    replies = await broadcast_probe(
                        destinations, profile.community.get_secret_value(), self.settings.snmp.port
                    )
                except OSError as exc:
                    _LOG.warning("SNMP broadcast probe failed: %s", exc)
                    replies = []
                for reply in replies:
                    if reply.has_printer_mib:
                        candidate = await probe(
                            self.snmp,
                            reply.source,
                            self.settings.snmp.port,
                            self.settings.profiles(),
                            self.settings.discovery.timeout,
                            self.settings.discovery.retries,
                            source="broadcast",
                        )
                        if candidate is not None:
                            await self.record(candidate)
            await asyncio.sleep(self.settings.discovery.broadcast_interval)

    # --- run ----------------------------------------------------------------------------------

    async def run(self) -> None:
        await self.reconcile()
        tasks = [
            asyncio.create_task(self.publisher.run(), name="mqtt"),
            asyncio.create_task(self.poller.run(), name="poller"),
        ]
        if self.settings.discovery.mdns:
            tasks.append(asyncio.create_task(self._watch_mdns(), name="mdns"))
        if self.settings.discovery.broadcast:
            tasks.append(asyncio.create_task(self._watch_broadcast(), name="broadcast"))
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self._sweep is not None:
                self._sweep.cancel()
                with contextlib.suppress(BaseException):
                    await self._sweep
            self.snmp.close()
