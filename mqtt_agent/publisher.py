"""Publishes printers to MQTT: retained JSON state, availability and Home Assistant discovery.

aiomqtt (asyncio on top of paho-mqtt 2) keeps one connection; when it drops, the publisher
reconnects with back-off and re-publishes everything it holds, so a broker restart loses nothing.
States are published only when their content changes; discovery only when the set of entities
changes, and again whenever Home Assistant announces itself (``homeassistant/status`` = online).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiomqtt

from . import ha_discovery
from .config import MqttSettings
from .model import PrinterSnapshot
from .topics import Topics

_LOG = logging.getLogger(__name__)

ONLINE = "online"
OFFLINE = "offline"
MAX_PENDING_EVENTS = 1000


@dataclass(slots=True)
class _Published:
    # Digests of the last state and discovery payloads sent: enough to publish only on change,
    # without keeping kilobytes of JSON per printer in memory.
    state: bytes | None = None
    discovery: bytes | None = None
    available: bool | None = None
    sent_available: bool | None = None
    snapshot: PrinterSnapshot | None = None
    display_name: str | None = None
    key: str | None = None  # the configured address ("host:port") this printer is polled at
    monitored: bool = True
    switchable: bool = False  # an inventory printer: Home Assistant gets a "Monitored" switch


def _dumps(payload: Any) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, sort_keys=False)


class Publisher:
    """Owns the MQTT connection. Safe to call before it is connected: it publishes on connect."""

    def __init__(self, settings: MqttSettings, agent_id: str) -> None:
        self.settings = settings
        self.topics = Topics(settings.base_topic, settings.discovery_prefix, agent_id)
        self._client: aiomqtt.Client | None = None
        self._printers: dict[str, _Published] = {}
        self._removed: set[str] = set()
        self._lock = asyncio.Lock()
        self.connected = asyncio.Event()
        self.messages_sent = 0
        # Printers a previous run published, {id: configured address}; kept until proven stale.
        self._previous: dict[str, str] = {}
        self._inventory_sent: str | None = None
        # Which configured addresses exist; set by the service (default: keep everything).
        self.configured_keys: Callable[[], set[str]] | None = None
        # Answers JSON commands arriving on the agent's command topic; set by the service.
        self.command_handler: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]] | None = None
        # Applies JSON settings arriving on a printer's set topic (reorder points); set by the service.
        self.set_handler: Callable[[str, dict[str, Any]], Awaitable[None]] | None = None
        self._agent_state: str | None = None
        self._pending_events: list[tuple[str, str]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        # The Home Assistant integration's retained status: while online, order entities exist.
        self.integration_online = False

    # --- public API used by the service --------------------------------------------------------

    async def update(
        self,
        snapshot: PrinterSnapshot,
        display_name: str | None = None,
        key: str | None = None,
        *,
        monitored: bool = True,
        switchable: bool = False,
    ) -> None:
        """A fresh poll: publish state (if changed), discovery (if changed), availability online."""
        entry = self._printers.setdefault(snapshot.id, _Published())
        entry.snapshot = snapshot
        entry.display_name = display_name
        entry.key = key or f"{snapshot.host}:{snapshot.port}"
        entry.monitored = monitored
        entry.switchable = switchable
        entry.available = True
        self._removed.discard(snapshot.id)
        async with self._lock:
            if self._client is not None:
                await self._publish_printer(self._client, snapshot.id, entry, force=False)
                await self._publish_inventory(self._client)

    def snapshot(self, printer_id: str) -> PrinterSnapshot | None:
        entry = self._printers.get(printer_id)
        return entry.snapshot if entry else None

    def published_ids(self) -> set[str]:
        return set(self._printers)

    async def publish_agent_state(self, state: dict[str, Any]) -> None:
        """The agent's retained state (discovery progress, network cost); sent when it changes."""
        payload = _dumps(state)
        self._agent_state = payload
        async with self._lock:
            if self._client is not None:
                await self._send(self._client, self.topics.agent_state, payload)

    async def set_available(self, printer_id: str, available: bool) -> None:
        entry = self._printers.setdefault(printer_id, _Published())
        entry.available = available
        async with self._lock:
            if self._client is not None and entry.sent_available != available:
                await self._send(
                    self._client, self.topics.printer_availability(printer_id), _avail(available)
                )
                entry.sent_available = available

    async def remove(self, printer_id: str) -> None:
        """Forget a printer: its entities disappear from Home Assistant and its topics are cleared."""
        self._printers.pop(printer_id, None)
        self._previous.pop(printer_id, None)
        self._removed.add(printer_id)
        async with self._lock:
            if self._client is not None:
                await self._clear_printer(self._client, printer_id)
                await self._publish_inventory(self._client)

    # --- connection loop -----------------------------------------------------------------------

    def _client_args(self) -> dict[str, Any]:
        s = self.settings
        args: dict[str, Any] = {
            "hostname": s.host,
            "port": s.port,
            "identifier": s.client_id or f"printer-supplies-{self.topics.agent_id}",
            "keepalive": s.keepalive,
            "will": aiomqtt.Will(self.topics.agent_availability, OFFLINE, qos=1, retain=True),
        }
        if s.username:
            args["username"] = s.username
            args["password"] = s.password.get_secret_value() if s.password else None
        if s.tls:
            context = ssl.create_default_context(cafile=str(s.ca_file) if s.ca_file else None)
            if s.cert_file:
                context.load_cert_chain(str(s.cert_file), str(s.key_file) if s.key_file else None)
            if s.tls_insecure:
                context.check_hostname = False
            args["tls_context"] = context
        return args

    async def run(self) -> None:
        """Connect, publish, listen; reconnect with back-off until cancelled."""
        delay = 1.0
        while True:
            try:
                async with aiomqtt.Client(**self._client_args()) as client:
                    _LOG.info("connected to MQTT broker %s:%s", self.settings.host, self.settings.port)
                    delay = 1.0
                    try:
                        await self._on_connect(client)
                        async for message in client.messages:
                            await self._on_message(client, message)
                    except asyncio.CancelledError:
                        # Shutting down: say so (retained) before the connection closes cleanly.
                        with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
                            async with asyncio.timeout(2):
                                await self._send(client, self.topics.agent_availability, OFFLINE)
                        raise
            except aiomqtt.MqttError as exc:
                _LOG.warning(
                    "MQTT broker %s:%s: %s; retrying in %.0f s",
                    self.settings.host,
                    self.settings.port,
                    exc,
                    delay,
                )
            finally:
                self._client = None
                self.connected.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60.0)

    async def _on_connect(self, client: aiomqtt.Client) -> None:
        await client.subscribe(self.topics.ha_status, qos=1)
        await client.subscribe(self.topics.agent_command, qos=1)
        await client.subscribe(self.topics.printer_set_all, qos=1)
        # Subscribed before the inventory is read, so its retained status arrives first and the
        # first discovery already has (or lacks) the order entities: no remove-and-add flicker.
        await client.subscribe(self.topics.integration_status, qos=1)
        previous = await self._read_retained_inventory(client)
        async with self._lock:
            self._client = client
            self._inventory_sent = None
            configured = self.configured_keys() if self.configured_keys is not None else None
            self._previous = {}
            for printer_id, key in sorted(previous.items()):
                if printer_id in self._printers:
                    continue
                if configured is not None and key not in configured:
                    # Still configured printers keep their device even while they do not answer.
                    _LOG.info("removing printer %s (%s): no longer configured", printer_id, key)
                    await self._clear_printer(client, printer_id)
                else:
                    self._previous[printer_id] = key
            for printer_id, entry in list(self._printers.items()):
                await self._publish_printer(client, printer_id, entry, force=True)
            await self._publish_inventory(client)
            await self._publish_agent(client)
            await self._send(client, self.topics.agent_availability, ONLINE)
            pending, self._pending_events = self._pending_events, []
            for topic, payload in pending:
                await self._send(client, topic, payload, retain=False)
        self.connected.set()

    async def _publish_agent(self, client: aiomqtt.Client) -> None:
        if self._agent_state is not None:
            await self._send(client, self.topics.agent_state, self._agent_state)
        if self.settings.discovery:
            await self._send(
                client, self.topics.agent_discovery, _dumps(ha_discovery.agent_payload(self.topics))
            )

    async def _read_retained_inventory(self, client: aiomqtt.Client) -> dict[str, str]:
        """The printers a previous run of this agent published (retained), to clean up removals."""
        topic = self.topics.agent_printers
        await client.subscribe(topic, qos=1)
        found: dict[str, str] = {}
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                async for message in client.messages:
                    if message.topic.matches(topic):
                        found = _parse_inventory(message.payload)
                        break
                    if message.topic.matches(self.topics.integration_status):
                        self.integration_online = _is_online(message.payload)
        await client.unsubscribe(topic)
        return found

    async def _on_message(self, client: aiomqtt.Client, message: aiomqtt.Message) -> None:
        if message.topic.matches(self.topics.agent_command):
            # Commands may take a while (a sweep): answer from a task, keep reading messages.
            task = asyncio.create_task(self._answer(client, message.payload))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        if message.topic.matches(self.topics.printer_set_all):
            await self._apply_set(message)
            return
        if message.topic.matches(self.topics.integration_status):
            online = _is_online(message.payload)
            if online != self.integration_online:
                self.integration_online = online
                _LOG.info(
                    "the Home Assistant integration is %s: order entities %s",
                    ONLINE if online else OFFLINE,
                    "added" if online else "removed",
                )
                async with self._lock:
                    for printer_id, entry in list(self._printers.items()):
                        await self._publish_discovery(client, printer_id, entry, force=False)
            return
        if message.topic.matches(self.topics.ha_status):
            if _is_online(message.payload):
                _LOG.info("Home Assistant is online: announcing %d printers again", len(self._printers))
                async with self._lock:
                    for printer_id, entry in list(self._printers.items()):
                        await self._publish_discovery(client, printer_id, entry, force=True)
                    await self._publish_agent(client)

    async def publish_event(self, printer_id: str, event: dict[str, Any]) -> None:
        """A supply event (not retained: it happened once; the state topic says how things are).

        Events that happen while the broker is away are kept (the newest ``MAX_PENDING_EVENTS``)
        and sent, in order, once it is back.
        """
        message = (self.topics.printer_event(printer_id), _dumps(event))
        async with self._lock:
            if self._client is None:
                self._pending_events.append(message)
                del self._pending_events[:-MAX_PENDING_EVENTS]
                return
            await self._send(self._client, *message, retain=False)

    async def _apply_set(self, message: aiomqtt.Message) -> None:
        printer_id = str(message.topic).split("/")[-2]
        try:
            raw = message.payload
            body = json.loads(raw.decode() if isinstance(raw, bytes | bytearray) else str(raw))
            if not isinstance(body, dict):
                raise ValueError("a JSON object is expected")
            if self.set_handler is not None:
                await self.set_handler(printer_id, body)
        except Exception as exc:  # a bad setting is logged, never fatal
            _LOG.warning("ignored setting for printer %s: %s", printer_id, exc)

    async def _answer(self, client: aiomqtt.Client, raw: Any) -> None:
        request_id: Any = None
        try:
            text = raw.decode() if isinstance(raw, bytes | bytearray) else str(raw)
            command = json.loads(text)
            if not isinstance(command, dict) or not isinstance(command.get("command"), str):
                raise ValueError('a command is a JSON object with a "command" string')
            request_id = command.get("id")
            if self.command_handler is None:
                raise ValueError("this agent takes no commands")
            reply = {"id": request_id, "command": command["command"], **await self.command_handler(command)}
        except (ValueError, UnicodeDecodeError) as exc:
            reply = {"id": request_id, "ok": False, "error": str(exc)}
        except Exception as exc:  # a command must never take the agent down
            _LOG.exception("command failed")
            reply = {"id": request_id, "ok": False, "error": f"{exc.__class__.__name__}: {exc}"}
        with contextlib.suppress(aiomqtt.MqttError):
            await client.publish(self.topics.agent_response, _dumps(reply), qos=1, retain=False)
            self.messages_sent += 1

    # --- publishing ----------------------------------------------------------------------------

    async def _send(
        self, client: aiomqtt.Client, topic: str, payload: str | bytes, retain: bool = True
    ) -> None:
        await client.publish(topic, payload, qos=1, retain=retain)
        self.messages_sent += 1

    async def _publish_printer(
        self, client: aiomqtt.Client, printer_id: str, entry: _Published, force: bool
    ) -> None:
        snapshot = entry.snapshot
        if snapshot is not None:
            state = _dumps({**snapshot.to_json(), "monitored": entry.monitored})
            digest = _digest(state)
            if force or digest != entry.state:
                await self._send(client, self.topics.printer_state(printer_id), state)
                entry.state = digest
            await self._publish_discovery(client, printer_id, entry, force)
        if entry.available is not None and (force or entry.sent_available != entry.available):
            await self._send(client, self.topics.printer_availability(printer_id), _avail(entry.available))
            entry.sent_available = entry.available

    async def _publish_discovery(
        self, client: aiomqtt.Client, printer_id: str, entry: _Published, force: bool
    ) -> None:
        if not self.settings.discovery or entry.snapshot is None:
            return
        # Discovery depends only on what entities exist and what the device is called: compare
        # that (cheap) every poll, build the payload only when it changed.
        digest = _digest(repr((_discovery_shape(entry), self.integration_online)))
        if force or digest != entry.discovery:
            payload = _dumps(
                ha_discovery.build(
                    entry.snapshot,
                    self.topics,
                    entry.display_name,
                    monitored=entry.monitored,
                    switchable=entry.switchable,
                    integration=self.integration_online,
                )
            )
            await self._send(client, self.topics.discovery(printer_id), payload)
            entry.discovery = digest

    async def _publish_inventory(self, client: aiomqtt.Client) -> None:
        inventory = dict(self._previous)
        inventory.update({pid: entry.key or "" for pid, entry in self._printers.items()})
        for gone in self._removed:
            inventory.pop(gone, None)
        payload = _dumps(dict(sorted(inventory.items())))
        if payload != self._inventory_sent:
            await self._send(client, self.topics.agent_printers, payload)
            self._inventory_sent = payload

    async def _clear_printer(self, client: aiomqtt.Client, printer_id: str) -> None:
        # An empty retained payload removes the device from Home Assistant and clears the topic.
        await self._send(client, self.topics.discovery(printer_id), b"")
        await self._send(client, self.topics.printer_state(printer_id), b"")
        await self._send(client, self.topics.printer_availability(printer_id), b"")
        await self._send(client, self.topics.printer_catalog(printer_id), b"")


def _discovery_shape(entry: _Published) -> tuple[object, ...]:
    """Everything the discovery payload is made of (not the levels, which change every poll)."""
    snap = entry.snapshot
    assert snap is not None
    ident = snap.identity
    return (
        entry.display_name,
        entry.monitored,
        entry.switchable,
        snap.host,
        snap.port,
        ident.vendor,
        ident.model,
        ident.serial,
        ident.firmware,
        ident.mac,
        ident.sys_name,
        tuple((s.key, s.name, s.kind, s.receptacle) for s in snap.supplies),
        tuple((t.key, t.name) for t in snap.trays),
        tuple(sorted(snap.counters)),
    )


def _digest(payload: str) -> bytes:
    return hashlib.blake2b(payload.encode(), digest_size=16).digest()


def _is_online(payload: Any) -> bool:
    """``online`` (any case, spaces around ignored); anything else, empty included, is offline."""
    if isinstance(payload, bytes | bytearray):
        payload = payload.decode(errors="replace")
    return str(payload).strip().lower() == ONLINE


def _avail(available: bool) -> str:
    return ONLINE if available else OFFLINE


def _parse_inventory(payload: Any) -> dict[str, str]:
    """``{printer id: configured address}``; anything else (garbage, old formats) means nothing known."""
    try:
        data = json.loads(payload)
    except (TypeError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items()}
