"""The integration's runtime: follows the fleet over MQTT and turns reorder points into action.

Everything on a printer's device page comes from the agent's MQTT discovery (one device per printer
on every Home Assistant version). This object only listens and acts:

* the agent's retained printer states become a typed model (``models.py``);
* the agent's supply events become Home Assistant bus events, and at a reorder point a persistent
  notification, a repair issue and messages to the configured notify targets (once per crossing,
  cleared when the supply is replaced);
* order-button presses, approved notifications and the ``place_order`` action share one path to
  the supplies cloud, keyed so that nothing is ever ordered twice;
* what the cloud knows (part, price, storefront link, last order) goes back to the printer's
  device through a retained topic the agent's discovery reads.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from homeassistant.components import mqtt, persistent_notification
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryNotReady, HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .cloud import CloudAuthError, CloudClient, CloudError
from .const import (
    ACTION_APPROVE,
    ACTION_SNOOZE,
    AGENT_EVENTS,
    AGENT_REPLY_TIMEOUT,
    CONF_API_KEY,
    CONF_APPROVAL,
    CONF_AUTO_ORDER,
    CONF_BASE_TOPIC,
    CONF_CLOUD_URL,
    CONF_NOTIFY_TARGETS,
    CONF_REORDER_POINT,
    DEFAULT_APPROVAL,
    DEFAULT_AUTO_ORDER,
    DEFAULT_BASE_TOPIC,
    DEFAULT_REORDER_POINT,
    DOMAIN,
    EVENT_ORDER_PLACED,
    EVENT_ORDER_STATUS,
    ORDER_DONE_STATES,
    ORDER_POLL_MINUTES,
    SNOOZE_HOURS,
    STORAGE_VERSION,
)
from .models import Printer, Supply, parse_printer, uid_part

_LOGGER = logging.getLogger(__name__)

ONLINE = "online"
OFFLINE = "offline"
# Fields of a cloud order kept in the store and published to the last-order sensor.
ORDER_FIELDS = ("id", "status", "part_number", "description", "quantity", "total_price", "currency")
CATALOG_RETRY = dt.timedelta(hours=1)
# The agent's rules (mqtt_agent/events.py): an event re-arms this far above its threshold, and a
# level jumping up this much is a new cartridge.
HYSTERESIS = 5
REPLACED_JUMP = 20
SYNC_CHECK = dt.timedelta(hours=1)
KEY_NAMESPACE = uuid.UUID("6f1c1d52-4c52-4a8e-9f43-0d7c35c1e5a1")


@dataclass(slots=True)
class AgentInfo:
    """What one agent under the base topic has told us."""

    online: bool = False
    printers: set[str] = field(default_factory=set)
    default_reorder_point: int | None = None


def _decode(payload: Any) -> str:
    if isinstance(payload, bytes | bytearray):
        return payload.decode(errors="replace")
    return str(payload)


def _now() -> dt.datetime:
    return dt_util.utcnow()


def order_summary(order: dict[str, Any]) -> dict[str, Any]:
    """The part of a cloud order people and automations need."""
    summary = {k: order.get(k) for k in ORDER_FIELDS}
    summary["supply"] = order.get("supply_key")
    summary["placed_at"] = order.get("created_at")
    shipment = order.get("shipment") or {}
    summary["carrier"] = shipment.get("carrier")
    summary["tracking_number"] = shipment.get("tracking_number")
    return summary


class PrinterSuppliesHub:
    """One config entry's runtime (``entry.runtime_data``)."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        self.hass = hass
        self.entry = entry
        self.base: str = entry.data.get(CONF_BASE_TOPIC, DEFAULT_BASE_TOPIC)
        url, key = entry.data.get(CONF_CLOUD_URL), entry.data.get(CONF_API_KEY)
        self.cloud: CloudClient | None = (
            CloudClient(hass, url, key, listener=self._cloud_result) if url and key else None
        )
        # Whether the cloud answered the last request (None: not asked yet).
        self.cloud_ok: bool | None = None
        self.printers: dict[str, Printer] = {}
        self.agents: dict[str, AgentInfo] = {}
        self.store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry.entry_id}")
        self.data: dict[str, Any] = _empty_data()
        self._unsubs: list[CALLBACK_TYPE] = []
        self._replies: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._published: dict[str, str] = {}
        self._reminders: dict[str, CALLBACK_TYPE] = {}
        self._order_locks: dict[str, asyncio.Lock] = {}
        self._lookups: set[str] = set()  # catalog keys being looked up
        self._sent_default: dict[str, int] = {}
        self.last_error: str | None = None
        self.reply_timeout = AGENT_REPLY_TIMEOUT
        self._poll_lock = asyncio.Lock()

    # --- options --------------------------------------------------------------------------------

    @property
    def reorder_point(self) -> int:
        return int(self.entry.options.get(CONF_REORDER_POINT, DEFAULT_REORDER_POINT))

    @property
    def approval(self) -> bool:
        return bool(self.entry.options.get(CONF_APPROVAL, DEFAULT_APPROVAL))

    @property
    def auto_order(self) -> bool:
        return bool(self.entry.options.get(CONF_AUTO_ORDER, DEFAULT_AUTO_ORDER))

    @property
    def notify_targets(self) -> list[str]:
        return list(self.entry.options.get(CONF_NOTIFY_TARGETS, []))

    # --- topics -----------------------------------------------------------------------------------

    @property
    def status_topic(self) -> str:
        return f"{self.base}/integration/status"

    def catalog_topic(self, printer_id: str) -> str:
        return f"{self.base}/printer/{printer_id}/catalog"

    def command_topic(self, agent_id: str) -> str:
        return f"{self.base}/agent/{agent_id}/command"

    # --- life cycle -------------------------------------------------------------------------------

    async def async_start(self) -> None:
        stored = await self.store.async_load()
        if isinstance(stored, dict):
            self.data = {**_empty_data(), **stored}
        subscriptions: list[tuple[str, Callable[[mqtt.ReceiveMessage], Any]]] = [
            (f"{self.base}/printer/+/state", self._on_state),
            (f"{self.base}/printer/+/event", self._on_event),
            (f"{self.base}/printer/+/order", self._on_order_button),
            (f"{self.base}/agent/+/response", self._on_response),
            (f"{self.base}/agent/+/printers", self._on_agent_printers),
            (f"{self.base}/agent/+/availability", self._on_agent_availability),
            (f"{self.base}/agent/+/state", self._on_agent_state),
        ]
        for topic, handler in subscriptions:
            self._unsubs.append(await mqtt.async_subscribe(self.hass, topic, handler, qos=1))
        # Online only with a cloud to order from: without one, order buttons could do nothing.
        status = ONLINE if self.cloud is not None else OFFLINE
        try:
            await mqtt.async_publish(self.hass, self.status_topic, status, qos=1, retain=True)
        except HomeAssistantError as exc:  # the broker is not reachable (yet): Home Assistant retries
            for unsub in self._unsubs:
                unsub()
            self._unsubs.clear()
            raise ConfigEntryNotReady(f"cannot publish on {self.status_topic}: {exc}") from exc
        self._unsubs.append(
            self.hass.bus.async_listen("mobile_app_notification_action", self._on_notification_action)
        )
        self._unsubs.append(
            async_track_time_interval(
                self.hass,
                self._poll_orders,
                dt.timedelta(minutes=ORDER_POLL_MINUTES),
                cancel_on_shutdown=True,
            )
        )
        self._unsubs.append(
            async_track_time_interval(self.hass, self._daily_sync, SYNC_CHECK, cancel_on_shutdown=True)
        )
        for alert_id, alert in self.data["alerts"].items():
            self._schedule_reminder(alert_id, alert)
        # Orders a restart interrupted, or the cloud did not confirm, go out again under the same
        # key: the cloud answers with the order it made, if it made one.
        for record in list(self.data["orders"].values()):
            if record.get("status") in ("submitting", "failed"):
                self.entry.async_create_background_task(
                    self.hass,
                    self._resubmit(record),
                    f"{DOMAIN} resubmit {record['idempotency_key']}",
                )

    async def async_stop(self, *, going_away: bool) -> None:
        """Unsubscribe; when the integration is disabled or removed, its order entities go too."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        for cancel in self._reminders.values():
            cancel()
        self._reminders.clear()
        for future in self._replies.values():
            future.cancel()
        await self.store.async_save(self.data)
        if going_away:
            # The agent removes the order buttons, last-order sensors and catalog attributes.
            await self._publish(self.status_topic, OFFLINE)

    async def async_clear_topics(self) -> None:
        """The integration is deleted: clear every retained topic it published."""
        stored = await self.store.async_load()
        published = set(self._published) | set((stored or {}).get("published", []))
        for printer_id in sorted(published):
            await self._publish(self.catalog_topic(printer_id), "")
        await self._publish(self.status_topic, "")

    # --- MQTT messages -------------------------------------------------------------------------

    @staticmethod
    def _segment(topic: str, index: int) -> str:
        return topic.split("/")[index]

    async def _on_state(self, msg: mqtt.ReceiveMessage) -> None:
        printer_id = self._segment(msg.topic, -2)
        text = _decode(msg.payload)
        if not text:
            await self._forget_printer(printer_id)
            return
        try:
            printer = parse_printer(json.loads(text))
        except ValueError as exc:
            _LOGGER.warning("ignored the state of printer %s: %s", printer_id, exc)
            return
        self.printers[printer.id] = printer
        await self._catch_up(printer)  # first: it looks up what it notifies about, then cached
        self._lookup_catalog(printer)
        await self._publish_catalog(printer.id)

    async def _catch_up(self, printer: Printer) -> None:
        """What the agent's events said while Home Assistant was not listening, read from the state.

        The agent fires each event once, not retained. A supply found at or below its reorder point
        without an alert (the integration was just set up, or Home Assistant was down at the
        crossing) is handled as if its event had come. An alert whose supply is well above its
        reorder point again is over: replaced when the level jumped by ``REPLACED_JUMP`` or more
        since the alert (a new cartridge generation), else just cleared (the reorder point was
        lowered, for example).
        """
        if not printer.monitored:
            return
        for supply in printer.supplies.values():
            alert = self.data["alerts"].get(_alert_id(printer.id, supply.key))
            if alert is None:
                if supply.at_reorder_point:
                    await self.async_handle_event(_event_from_state(printer, supply, "reorder_point"))
                continue
            left, point = supply.left, supply.reorder_point
            if left is None or point is None or left <= point + HYSTERESIS:
                continue
            level, now = alert.get("level"), supply.percent or 0
            jump = (level - now if supply.receptacle else now - level) if isinstance(level, int) else 0
            if jump >= REPLACED_JUMP:  # containers refilled, receptacles (waste bins) emptied
                await self.async_handle_event(_event_from_state(printer, supply, "replaced"))
            else:
                self._clear_alert(_alert_id(printer.id, supply.key))
                self.store.async_delay_save(lambda: self.data, 1)

    async def _on_event(self, msg: mqtt.ReceiveMessage) -> None:
        try:
            event = json.loads(_decode(msg.payload))
            if not isinstance(event, dict) or event.get("event_type") not in AGENT_EVENTS:
                raise ValueError("not a supply event")
            if not isinstance(event.get("supply"), str):
                raise ValueError("the event names no supply")
        except ValueError as exc:
            _LOGGER.warning("ignored a message on %s: %s", msg.topic, exc)
            return
        event.setdefault("printer_id", self._segment(msg.topic, -2))
        await self.async_handle_event(event)

    async def _on_order_button(self, msg: mqtt.ReceiveMessage) -> None:
        printer_id = self._segment(msg.topic, -2)
        try:
            body = json.loads(_decode(msg.payload))
            supply = body["supply"]
        except (ValueError, KeyError, TypeError):
            _LOGGER.warning('ignored an order request on %s: expected {"supply": key}', msg.topic)
            return
        try:
            await self.async_place_order(printer_id, str(supply), source="button")
        except HomeAssistantError as exc:
            # A press has no caller to answer: tell the people who pressed it.
            persistent_notification.async_create(
                self.hass,
                f"The order could not be placed: {exc}",
                title="Printer supplies: order failed",
                notification_id=f"{DOMAIN}_order_failed_{printer_id}_{supply}",
            )

    @callback
    def _on_response(self, msg: mqtt.ReceiveMessage) -> None:
        try:
            reply = json.loads(_decode(msg.payload))
        except ValueError:
            return
        if not isinstance(reply, dict):
            return
        future = self._replies.pop(str(reply.get("id")), None)
        if future is not None and not future.done():
            future.set_result(reply)

    @callback
    def _on_agent_printers(self, msg: mqtt.ReceiveMessage) -> None:
        agent = self.agents.setdefault(self._segment(msg.topic, -2), AgentInfo())
        try:
            listed = json.loads(_decode(msg.payload) or "{}")
        except ValueError:
            return
        agent.printers = set(listed) if isinstance(listed, dict | list) else set()

    @callback
    def _on_agent_availability(self, msg: mqtt.ReceiveMessage) -> None:
        agent = self.agents.setdefault(self._segment(msg.topic, -2), AgentInfo())
        agent.online = _decode(msg.payload).strip().lower() == ONLINE

    async def _on_agent_state(self, msg: mqtt.ReceiveMessage) -> None:
        agent_id = self._segment(msg.topic, -2)
        agent = self.agents.setdefault(agent_id, AgentInfo())
        try:
            state = json.loads(_decode(msg.payload) or "{}")
        except ValueError:
            return
        value = state.get("default_reorder_point") if isinstance(state, dict) else None
        agent.default_reorder_point = value if isinstance(value, int) else None
        # The integration's default reorder point is every agent's default; an older agent that
        # does not report one is left alone.
        wanted = self.reorder_point
        if agent.default_reorder_point is not None and agent.default_reorder_point != wanted:
            if self._sent_default.get(agent_id) != wanted:
                self._sent_default[agent_id] = wanted
                try:
                    await self._publish_command(
                        agent_id, {"command": "set_default_reorder_point", "percent": wanted}
                    )
                except HomeAssistantError as exc:
                    self._sent_default.pop(agent_id, None)  # tried again with the agent's next state
                    _LOGGER.warning("could not send the default reorder point to %s: %s", agent_id, exc)

    async def _forget_printer(self, printer_id: str) -> None:
        """The agent removed the printer: its alerts, notifications and catalog data go too."""
        self.printers.pop(printer_id, None)
        for alert_id in [a for a, alert in self.data["alerts"].items() if alert["printer_id"] == printer_id]:
            self._clear_alert(alert_id)
        if printer_id in self.data["published"]:
            self.data["published"].remove(printer_id)
        if self._published.pop(printer_id, None) is not None:
            await self._publish(self.catalog_topic(printer_id), "")
        self.store.async_delay_save(lambda: self.data, 5)

    # --- supply events -------------------------------------------------------------------------

    async def async_handle_event(self, event: dict[str, Any]) -> None:
        """An agent supply event: a bus event always; at a reorder point, notifications and orders."""
        printer_id = str(event["printer_id"])
        key = event["supply"]
        kind = event["event_type"]
        alert_id = _alert_id(printer_id, key)
        if kind == "replaced":
            self.data["generations"][alert_id] = self._generation(printer_id, key) + 1
            self._clear_alert(alert_id)
            self.store.async_delay_save(lambda: self.data, 1)
        generation = self._generation(printer_id, key)
        known = self.data["alerts"].get(alert_id)
        if kind == "reorder_point" and known is not None and known.get("generation") == generation:
            # Once per crossing, also when the agent's event arrives twice (QoS 1 redelivery) or
            # Home Assistant restarts in between.
            return
        match = await self._catalog_for_event(printer_id, event)
        self.hass.bus.async_fire(AGENT_EVENTS[kind], self._event_data(printer_id, event, match))
        if kind != "reorder_point":
            return
        alert = {
            "printer_id": printer_id,
            "supply": key,
            "supply_name": event.get("supply_name") or key,
            "printer_name": self._printer_name(printer_id),
            "generation": generation,
            "level": event.get("percent"),
            "reorder_point": event.get("reorder_point"),
            "part_number": (match or {}).get("part_number") or event.get("part_number"),
            "storefront_url": (match or {}).get("storefront_url"),
            "price": (match or {}).get("price"),
            "currency": (match or {}).get("currency"),
            "lead_time_days": (match or {}).get("lead_time_days"),
            "at": _now().isoformat(),
            "snoozed_until": None,
            "order_id": None,
        }
        self.data["alerts"][alert_id] = alert
        await self.store.async_save(self.data)
        self._changed()
        self._notify_persistent(alert_id, alert)
        self._create_repair(alert_id, alert)
        if self.cloud is not None:
            self.entry.async_create_background_task(
                self.hass, self._sync("reorder_point"), f"{DOMAIN} reorder-point sync"
            )
        if self.auto_order and not self.approval and self.cloud is not None:
            try:
                await self.async_place_order(printer_id, key, source="auto")
            except HomeAssistantError as exc:
                _LOGGER.warning("automatic order for %s %s failed: %s", printer_id, key, exc)
                alert["order_error"] = str(exc)
                self._notify_persistent(alert_id, alert)
        await self._notify_targets(alert_id, alert)

    def _event_data(
        self, printer_id: str, event: dict[str, Any], match: dict[str, Any] | None
    ) -> dict[str, Any]:
        return {
            "printer_id": printer_id,
            "printer": self._printer_name(printer_id),
            "device_id": self._device_id(printer_id),
            "supply": event.get("supply"),
            "supply_name": event.get("supply_name"),
            "kind": event.get("kind"),
            "color": event.get("color"),
            "level": event.get("percent"),
            "state": event.get("state"),
            "reorder_point": event.get("reorder_point"),
            "part_number": (match or {}).get("part_number") or event.get("part_number"),
            "storefront_url": (match or {}).get("storefront_url"),
        }

    def _generation(self, printer_id: str, key: str) -> int:
        return int(self.data["generations"].get(_alert_id(printer_id, key), 0))

    def _device(self, printer_id: str) -> dr.DeviceEntry | None:
        registry = dr.async_get(self.hass)
        return registry.async_get_device(identifiers={("mqtt", f"printer_supplies_{printer_id}")})

    def _device_id(self, printer_id: str) -> str | None:
        device = self._device(printer_id)
        return device.id if device else None

    def _printer_name(self, printer_id: str) -> str:
        device = self._device(printer_id)
        if device is not None:
            return device.name_by_user or device.name or printer_id
        printer = self.printers.get(printer_id)
        return printer.name if printer else printer_id

    # --- notifications -------------------------------------------------------------------------

    def _message(self, alert: dict[str, Any]) -> str:
        level = alert.get("level")
        lines = [
            f"{alert['supply_name']} is at {level} %"
            if level is not None
            else f"{alert['supply_name']} is low",
        ]
        if alert.get("reorder_point") is not None:
            lines[0] += f" (reorder point {alert['reorder_point']} %)."
        else:
            lines[0] += "."
        if alert.get("part_number"):
            offer = f"Part {alert['part_number']}"
            if alert.get("price") is not None:
                offer += f", {alert['price']:.2f} {alert.get('currency') or ''}".rstrip()
            if alert.get("lead_time_days") is not None:
                offer += f", delivered in about {alert['lead_time_days']} days"
            lines.append(offer + ".")
        if alert.get("order_id"):
            lines.append(f"Ordered: {alert['order_id']}.")
        elif alert.get("order_error"):
            lines.append(f"The automatic order failed: {alert['order_error']}")
        if alert.get("storefront_url"):
            lines.append(f"[Open the storefront]({alert['storefront_url']})")
        return "\n\n".join(lines)

    def _title(self, alert: dict[str, Any]) -> str:
        return f"{alert['printer_name']}: {alert['supply_name']} at its reorder point"

    def _notify_persistent(self, alert_id: str, alert: dict[str, Any]) -> None:
        persistent_notification.async_create(
            self.hass, self._message(alert), title=self._title(alert), notification_id=f"{DOMAIN}_{alert_id}"
        )

    def _create_repair(self, alert_id: str, alert: dict[str, Any]) -> None:
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            f"reorder_{alert_id}",
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            learn_more_url=alert.get("storefront_url"),
            translation_key="reorder_point",
            translation_placeholders={
                "printer": alert["printer_name"],
                "supply": alert["supply_name"],
                "level": "?" if alert.get("level") is None else str(alert["level"]),
                "part_number": alert.get("part_number") or "?",
            },
        )

    async def _notify_targets(self, alert_id: str, alert: dict[str, Any]) -> None:
        """A message to each notify target; phones get Approve/Snooze when orders need approval."""
        title, message = (
            self._title(alert),
            self._message(alert).replace("[Open the storefront](", "Storefront: "),
        )
        message = message.rstrip(")") if alert.get("storefront_url") else message
        for target in self.notify_targets:
            domain, _, name = target.partition(".")
            if domain != "notify" or not name:
                _LOGGER.warning("notify target %s is not a notify entity or action", target)
                continue
            try:
                if self.hass.states.get(target) is not None:  # a notify entity
                    await self.hass.services.async_call(
                        "notify",
                        "send_message",
                        {"entity_id": target, "title": title, "message": message},
                        blocking=True,
                    )
                    continue
                data: dict[str, Any] = {}
                if alert.get("storefront_url"):
                    data["url"] = data["clickAction"] = alert["storefront_url"]
                if self.approval and self.cloud is not None and not alert.get("order_id"):
                    data["actions"] = [
                        {
                            "action": f"{ACTION_APPROVE}|{self.entry.entry_id}|{alert_id}",
                            "title": "Approve order",
                        },
                        {"action": f"{ACTION_SNOOZE}|{self.entry.entry_id}|{alert_id}", "title": "Snooze"},
                    ]
                payload: dict[str, Any] = {"title": title, "message": message}
                if data:
                    payload["data"] = data
                await self.hass.services.async_call("notify", name, payload, blocking=True)
            except HomeAssistantError as exc:
                _LOGGER.warning("could not notify %s: %s", target, exc)

    def _clear_alert(self, alert_id: str) -> None:
        if self.data["alerts"].pop(alert_id, None) is None:
            return
        persistent_notification.async_dismiss(self.hass, f"{DOMAIN}_{alert_id}")
        ir.async_delete_issue(self.hass, DOMAIN, f"reorder_{alert_id}")
        self._changed()
        if (cancel := self._reminders.pop(alert_id, None)) is not None:
            cancel()

    async def _on_notification_action(self, event: Event) -> None:
        action = str(event.data.get("action", ""))
        kind, _, rest = action.partition("|")
        entry_id, _, alert_id = rest.partition("|")
        if kind not in (ACTION_APPROVE, ACTION_SNOOZE) or entry_id != self.entry.entry_id:
            return
        alert = self.data["alerts"].get(alert_id)
        if alert is None:
            _LOGGER.info("ignored %s for an alert that is over (%s)", kind, alert_id)
            return
        if kind == ACTION_SNOOZE:
            alert["snoozed_until"] = (_now() + dt.timedelta(hours=SNOOZE_HOURS)).isoformat()
            await self.store.async_save(self.data)
            self._schedule_reminder(alert_id, alert)
            return
        try:
            await self.async_place_order(alert["printer_id"], alert["supply"], source="approval")
        except HomeAssistantError as exc:
            alert["order_error"] = str(exc)
            self._notify_persistent(alert_id, alert)

    def _schedule_reminder(self, alert_id: str, alert: dict[str, Any]) -> None:
        until = alert.get("snoozed_until")
        if not until or alert.get("order_id"):
            return
        if (cancel := self._reminders.pop(alert_id, None)) is not None:
            cancel()
        delay = max((dt.datetime.fromisoformat(until) - _now()).total_seconds(), 1.0)

        async def remind(_now: dt.datetime) -> None:
            self._reminders.pop(alert_id, None)
            current = self.data["alerts"].get(alert_id)
            if current is not None and not current.get("order_id"):
                current["snoozed_until"] = None
                await self._notify_targets(alert_id, current)

        self._reminders[alert_id] = async_call_later(self.hass, delay, remind)

    # --- catalog --------------------------------------------------------------------------------

    @staticmethod
    def _catalog_key(printer: Printer, supply: Supply) -> str:
        return "|".join((printer.full_model, supply.kind, supply.color or "", supply.part_number or ""))

    def cached_match(self, printer: Printer, supply: Supply) -> dict[str, Any] | None:
        cached = self.data["catalog"].get(self._catalog_key(printer, supply))
        return cached.get("match") if cached else None

    def _lookup_catalog(self, printer: Printer) -> None:
        """Look up, in the background, the supplies of this printer the catalog cache lacks."""
        if self.cloud is None:
            return
        now = _now()
        for supply in printer.supplies.values():
            cached = self.data["catalog"].get(self._catalog_key(printer, supply))
            if cached is not None and (
                cached.get("match") is not None
                or now - dt.datetime.fromisoformat(cached["at"]) < CATALOG_RETRY
            ):
                continue
            if self._catalog_key(printer, supply) in self._lookups:
                continue
            self.entry.async_create_background_task(
                self.hass, self._fetch_match(printer, supply), f"{DOMAIN} catalog lookup"
            )

    async def _match(self, printer: Printer, supply: Supply) -> dict[str, Any] | None:
        """The catalog's part for a supply: from the cache, else asked (None without a cloud)."""
        match = self.cached_match(printer, supply)
        if match is None and self.cloud is not None:
            match = await self._fetch_match(printer, supply)
        return match

    async def _fetch_match(self, printer: Printer, supply: Supply) -> dict[str, Any] | None:
        assert self.cloud is not None
        key = self._catalog_key(printer, supply)
        self._lookups.add(key)
        try:
            match = await self.cloud.find_part(
                printer.full_model, supply.kind, supply.color, supply.part_number
            )
        except CloudError as exc:
            _LOGGER.debug("catalog lookup for %s %s failed: %s", printer.id, supply.key, exc.detail)
            return None
        finally:
            self._lookups.discard(key)
        self.data["catalog"][key] = {"match": match, "at": _now().isoformat()}
        self.store.async_delay_save(lambda: self.data, 10)
        await self._publish_catalog(printer.id)
        return match

    async def _catalog_for_event(self, printer_id: str, event: dict[str, Any]) -> dict[str, Any] | None:
        printer = self.printers.get(printer_id)
        supply = printer.supply(event["supply"]) if printer else None
        if printer is None or supply is None:
            return None
        return await self._match(printer, supply)

    async def _publish_catalog(self, printer_id: str) -> None:
        """The retained catalog topic: state rows merged with catalog data and orders."""
        printer = self.printers.get(printer_id)
        if printer is None:
            return
        supplies: dict[str, dict[str, Any]] = {}
        for supply in printer.supplies.values():
            match = self.cached_match(printer, supply) or {}
            order = self._active_order(printer_id, supply.key)
            supplies[supply.key] = {
                **supply.row,
                "catalog_part_number": match.get("part_number"),
                "description": match.get("description"),
                "price": match.get("price"),
                "currency": match.get("currency"),
                "lead_time_days": match.get("lead_time_days"),
                "storefront_url": match.get("storefront_url"),
                "order_id": (order or {}).get("id"),
                "order_status": (order or {}).get("status"),
            }
        payload = json.dumps(
            {
                "supplies": supplies,
                "last_order": self.last_order(printer_id),
                "eligibility": self.data["eligibility"].get(printer_id),
            },
            separators=(",", ":"),
        )
        if self._published.get(printer_id) != payload:
            self._published[printer_id] = payload
            if printer_id not in self.data["published"]:
                self.data["published"].append(printer_id)
                self.store.async_delay_save(lambda: self.data, 5)
            if not await self._publish(self.catalog_topic(printer_id), payload):
                self._published.pop(printer_id, None)  # sent again with the next change

    # --- orders ---------------------------------------------------------------------------------

    def _records(self, printer_id: str, key: str) -> list[dict[str, Any]]:
        return sorted(
            (r for r in self.data["orders"].values() if r["printer_id"] == printer_id and r["supply"] == key),
            key=lambda r: r["requested_at"],
        )

    def _active_order(self, printer_id: str, key: str) -> dict[str, Any] | None:
        for record in reversed(self._records(printer_id, key)):
            if record.get("order"):
                return order_summary(record["order"])
        return None

    def last_order(self, printer_id: str) -> dict[str, Any] | None:
        records = [
            r for r in self.data["orders"].values() if r["printer_id"] == printer_id and r.get("order")
        ]
        if not records:
            return None
        latest = max(records, key=lambda r: r["requested_at"])
        return {**order_summary(latest["order"]), "source": latest.get("source")}

    def printer(self, printer_id: str) -> Printer:
        """A printer the agent has published, else a clear error."""
        printer = self.printers.get(printer_id)
        if printer is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unknown_printer",
                translation_placeholders={"printer": printer_id},
            )
        return printer

    async def async_place_order(
        self,
        printer_id: str,
        supply_ref: str,
        *,
        quantity: int = 1,
        note: str | None = None,
        source: str = "action",
    ) -> dict[str, Any]:
        """Order one supply: the single path for buttons, approvals, automatic orders and the action.

        The Idempotency-Key comes from the printer, the supply, the supply's cartridge generation
        (counted by replacements) and how many orders of that generation are already closed. A
        retry, a restart or a second press while an order is open finds that order (here, or at
        the cloud, which replays it) and never orders twice.
        """
        if self.cloud is None:
            raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_cloud")
        printer = self.printer(printer_id)
        supply = printer.supply(supply_ref)
        if supply is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unknown_supply",
                translation_placeholders={"printer": printer.name, "supply": supply_ref},
            )
        lock = self._order_locks.setdefault(_alert_id(printer_id, supply.key), asyncio.Lock())
        async with lock:
            return await self._place_locked(printer, supply, quantity, note, source)

    async def _place_locked(
        self, printer: Printer, supply: Supply, quantity: int, note: str | None, source: str
    ) -> dict[str, Any]:
        assert self.cloud is not None
        generation = self._generation(printer.id, supply.key)
        mine = [r for r in self._records(printer.id, supply.key) if r["generation"] == generation]
        for record in reversed(mine):
            order = record.get("order")
            if order and order.get("status") not in ORDER_DONE_STATES:
                return {**order_summary(order), "already_ordered": True}
        closed = sum(1 for r in mine if (r.get("order") or {}).get("status") in ORDER_DONE_STATES)
        match = await self._match(printer, supply)
        if match is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="no_catalog_match",
                translation_placeholders={"printer": printer.name, "supply": supply.name},
            )
        for _ in range(3):
            key = self._idempotency_key(printer.id, supply.key, generation, closed)
            record = self.data["orders"].get(key) or {
                "idempotency_key": key,
                "printer_id": printer.id,
                "supply": supply.key,
                "supply_name": supply.name,
                "generation": generation,
                "requested_at": _now().isoformat(),
                "source": source,
                "body": {
                    "part_number": match["part_number"],
                    "quantity": quantity,
                    "printer_id": printer.id,
                    "printer_model": printer.full_model[:120],
                    "supply_key": supply.key,
                    "note": note,
                },
                "status": "submitting",
                "order": None,
            }
            self.data["orders"][key] = record
            await self.store.async_save(self.data)  # before the request: a restart resends it
            order = await self._submit(record)
            if (
                order.get("status") in ORDER_DONE_STATES
                and order.get("created_at", "") < record["requested_at"]
            ):
                # The cloud replayed an order of an earlier, closed round (the store was reset):
                # this round is a new one.
                closed += 1
                continue
            return order_summary(order)
        raise HomeAssistantError(translation_domain=DOMAIN, translation_key="order_loop")

    def _idempotency_key(self, printer_id: str, key: str, generation: int, closed: int) -> str:
        scope = self.entry.unique_id or self.entry.entry_id
        return str(uuid.uuid5(KEY_NAMESPACE, f"{scope}|{printer_id}|{key}|{generation}|{closed}"))

    @callback
    def _cloud_result(self, error: CloudError | None) -> None:
        """Every cloud request's outcome: logged once per change, shown by the connectivity sensor.

        A refused key (401) asks the user for a new one (reauthentication).
        """
        ok = error is None or isinstance(error, CloudAuthError)  # a refusal is an answer
        if error is not None:
            self.last_error = error.detail
        if isinstance(error, CloudAuthError):
            self.entry.async_start_reauth(self.hass)
        if ok != self.cloud_ok:
            if not ok and error is not None:
                _LOGGER.warning("the supplies cloud is unavailable: %s", error.detail)
            elif self.cloud_ok is False:
                _LOGGER.info("the supplies cloud answers again")
            self.cloud_ok = ok
            self._changed()

    @callback
    def _changed(self) -> None:
        """Tell the integration's own entities to show the new figures."""
        async_dispatcher_send(self.hass, signal_update(self.entry.entry_id))

    def open_orders(self) -> list[dict[str, Any]]:
        """Orders placed and not yet delivered or cancelled, oldest first."""
        records = sorted(self.data["orders"].values(), key=lambda r: r["requested_at"])
        return [
            {**order_summary(r["order"]), "printer_id": r["printer_id"], "source": r.get("source")}
            for r in records
            if r.get("order") and r["order"].get("status") not in ORDER_DONE_STATES
        ]

    async def _submit(self, record: dict[str, Any]) -> dict[str, Any]:
        assert self.cloud is not None
        try:
            order = await self.cloud.create_order(record["body"], record["idempotency_key"])
        except CloudError as exc:
            if exc.status is not None and 400 <= exc.status < 500 and exc.status != 429:
                # Refused: this body will never be accepted under this key; forget the attempt.
                self.data["orders"].pop(record["idempotency_key"], None)
            else:
                record["status"] = "failed"
                record["error"] = exc.detail
            await self.store.async_save(self.data)
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="order_failed",
                translation_placeholders={"error": exc.detail},
            ) from exc
        record["order"] = order
        record["status"] = order.get("status")
        record.pop("error", None)
        await self.store.async_save(self.data)
        alert = self.data["alerts"].get(_alert_id(record["printer_id"], record["supply"]))
        if alert is not None and alert.get("generation") == record["generation"]:
            alert["order_id"] = order.get("id")
            alert.pop("order_error", None)
            self._notify_persistent(_alert_id(record["printer_id"], record["supply"]), alert)
        self.hass.bus.async_fire(
            EVENT_ORDER_PLACED,
            {
                **order_summary(order),
                "printer_id": record["printer_id"],
                "device_id": self._device_id(record["printer_id"]),
                "source": record["source"],
            },
        )
        await self._publish_catalog(record["printer_id"])
        self._changed()
        return order

    async def _resubmit(self, record: dict[str, Any]) -> None:
        try:
            await self._submit(record)
        except HomeAssistantError as exc:
            _LOGGER.warning("an order interrupted by a restart could not be sent again: %s", exc)

    async def _poll_orders(self, _now: dt.datetime | None = None) -> None:
        """Follow open orders until they are delivered or cancelled."""
        if self.cloud is None:
            return
        async with self._poll_lock:  # the timer and a manual refresh never report a change twice
            await self._poll_orders_locked()

    async def _poll_orders_locked(self) -> None:
        assert self.cloud is not None
        for record in list(self.data["orders"].values()):
            if record.get("status") == "failed":
                await self._resubmit(record)
                continue
            order = record.get("order")
            if not order or order.get("status") in ORDER_DONE_STATES:
                continue
            try:
                fresh = await self.cloud.get_order(order["id"])
            except CloudError as exc:
                _LOGGER.debug("order %s: %s", order["id"], exc.detail)
                continue
            if fresh.get("status") != order.get("status"):
                record["order"] = fresh
                record["status"] = fresh.get("status")
                self.hass.bus.async_fire(
                    EVENT_ORDER_STATUS,
                    {
                        **order_summary(fresh),
                        "previous_status": order.get("status"),
                        "printer_id": record["printer_id"],
                        "device_id": self._device_id(record["printer_id"]),
                    },
                )
                await self._publish_catalog(record["printer_id"])
                self._changed()
        await self.store.async_save(self.data)

    async def async_refresh_orders(self) -> None:
        await self._poll_orders()

    # --- fleet sync and eligibility ----------------------------------------------------------------

    def fleet_report(self) -> list[dict[str, Any]]:
        """The compact per-printer report of docs/cloud-api.yaml (FleetPrinterReport)."""
        report = []
        for printer in self.printers.values():
            if not printer.monitored:
                continue
            supplies = ",".join(
                f"{s.kind}{'/' + s.color.lower()[:32] if s.color else ''}:"
                f"{(s.part_number or '').replace(',', ' ').replace(':', ' ')[:64]}:"
                f"{s.percent if s.percent is not None else s.state}"
                for s in printer.supplies.values()
            )
            report.append(
                {
                    "id": printer.id,
                    "vendor": printer.vendor,
                    "model": printer.model,
                    "pages": printer.total_pages,
                    "supplies": supplies or None,
                }
            )
        return report

    async def _sync(self, reason: str) -> dict[str, Any] | None:
        if self.cloud is None:
            return None
        printers = self.fleet_report()
        if not printers:
            return None
        day = dt_util.now().date().isoformat()
        try:
            result: dict[str, Any] | None = None
            for start in range(0, len(printers), 1000):
                result = await self.cloud.sync_fleet(
                    {"day": day, "reason": reason, "printers": printers[start : start + 1000]}
                )
        except CloudError as exc:
            _LOGGER.warning("fleet sync (%s) failed: %s", reason, exc.detail)
            return None
        self.data["last_sync"] = {"day": day, "reason": reason, "result": result, "at": _now().isoformat()}
        self.store.async_delay_save(lambda: self.data, 5)
        self._changed()
        return result

    async def _daily_sync(self, _now: dt.datetime | None = None) -> None:
        """Once a day: the fleet upload, then each printer's service-reward eligibility."""
        if self.cloud is None or not self.printers:
            return
        today = dt_util.now().date().isoformat()
        last = self.data.get("last_sync") or {}
        if last.get("day") == today and last.get("reason") == "daily":
            return
        if await self._sync("daily") is None:
            return
        await self.async_refresh_eligibility()

    async def async_refresh_eligibility(self) -> None:
        assert self.cloud is not None
        for printer_id in list(self.printers):
            try:
                self.data["eligibility"][printer_id] = await self.cloud.eligibility(printer_id)
            except CloudError:
                return  # the listener has logged it; tomorrow's sync tries again
            await self._publish_catalog(printer_id)
        self.store.async_delay_save(lambda: self.data, 5)

    # --- agent commands -------------------------------------------------------------------------

    def agent_for(self, agent_id: str | None = None, printer_id: str | None = None) -> str:
        """Which agent a command goes to: the one named, the printer's, or the only one online."""
        if agent_id:
            if agent_id not in self.agents:
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="unknown_agent",
                    translation_placeholders={"agent": agent_id},
                )
            return agent_id
        if printer_id:
            owners = [a for a, info in self.agents.items() if printer_id in info.printers]
            if owners:
                return owners[0]
        online = sorted(a for a, info in self.agents.items() if info.online)
        if len(online) == 1:
            return online[0]
        if not online:
            raise HomeAssistantError(translation_domain=DOMAIN, translation_key="no_agent")
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="choose_agent",
            translation_placeholders={"agents": ", ".join(online)},
        )

    async def _publish(self, topic: str, payload: str) -> bool:
        """Publish retained; a broker that is away is logged, never raised (False)."""
        try:
            await mqtt.async_publish(self.hass, topic, payload, qos=1, retain=True)
        except HomeAssistantError as exc:
            _LOGGER.warning("could not publish on %s: %s", topic, exc)
            return False
        return True

    async def _publish_command(self, agent_id: str, command: dict[str, Any]) -> None:
        await mqtt.async_publish(self.hass, self.command_topic(agent_id), json.dumps(command), qos=1)

    async def async_agent_command(
        self, agent_id: str, command: dict[str, Any], timeout: float | None = None
    ) -> dict[str, Any]:
        """Send a command to the agent and wait for its reply (docs/mqtt.md, Commands)."""
        timeout = self.reply_timeout if timeout is None else timeout
        request_id = uuid.uuid4().hex
        future: asyncio.Future[dict[str, Any]] = self.hass.loop.create_future()
        self._replies[request_id] = future
        try:
            await self._publish_command(agent_id, {**command, "id": request_id})
            async with asyncio.timeout(timeout):
                reply = await future
        except TimeoutError as exc:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="agent_timeout",
                translation_placeholders={"agent": agent_id, "seconds": f"{timeout:.0f}"},
            ) from exc
        finally:
            self._replies.pop(request_id, None)
        if not reply.get("ok"):
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="agent_refused",
                translation_placeholders={"agent": agent_id, "error": str(reply.get("error"))},
            )
        return reply


def signal_update(entry_id: str) -> str:
    """Dispatcher signal sent when anything the integration's own entities show has changed."""
    return f"{DOMAIN}_{entry_id}_update"


def _event_from_state(printer: Printer, supply: Supply, event_type: str) -> dict[str, Any]:
    """An agent event rebuilt from the printer's state (for what happened while nobody listened)."""
    return {
        "event_type": event_type,
        "printer_id": printer.id,
        "supply": supply.key,
        "supply_name": supply.name,
        "kind": supply.kind,
        "color": supply.color,
        "part_number": supply.part_number,
        "percent": supply.percent,
        "state": supply.state,
        "receptacle": supply.receptacle,
        "reorder_point": supply.reorder_point,
        "at": _now().isoformat(timespec="seconds"),
        "from_state": True,
    }


def _alert_id(printer_id: str, key: str) -> str:
    return f"{printer_id}_{uid_part(key)}"


def _empty_data() -> dict[str, Any]:
    return {
        "generations": {},
        "alerts": {},
        "orders": {},
        "catalog": {},
        "eligibility": {},
        "last_sync": None,
        "published": [],
    }
