"""The integration at work: agent messages in (through Home Assistant's MQTT integration), bus
events, notifications, repairs, orders at the real supplies cloud, service actions, the store.

MQTT here is Home Assistant's own integration with the harness's mocked paho client: messages are
injected with ``async_fire_mqtt_message`` and what the integration publishes is read from the
mock. tests/ha/test_end_to_end.py repeats the essentials with a real broker and a real agent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cloud_support import CloudService, SiteKey
from conftest import settle
from homeassistant.components import persistent_notification
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Event, HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from jsonschema import Draft202012Validator
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.diagnostics import get_diagnostics_for_config_entry

from custom_components.printer_supplies.const import DOMAIN

REPO = Path(__file__).resolve().parents[2]

BASE = "printer_supplies"
PID = "hp_vnb3r12345"
AGENT = "office"
OPTIONS = {"reorder_point": 20, "notify_targets": [], "approval": False, "auto_order": False}


def hp_state(black: int = 64, cyan: int = 38, magenta: int = 47, yellow: int = 42) -> dict[str, Any]:
    """The agent's state JSON of the demo HP (only the members the integration reads matter).

    By default every supply is above its reorder point (20 %): the tests bring them down.
    """

    def toner(key: str, color: str, part: str, percent: int) -> dict[str, Any]:
        state = "ok" if percent > 10 else "low"
        return {
            "key": key,
            "name": f"{color.capitalize()} Cartridge HP {part}",
            "kind": "toner",
            "color": color,
            "percent": percent,
            "state": state,
            "receptacle": False,
            "part_number": part,
            "reorder_point": 20,
        }

    return {
        "id": PID,
        "host": "192.0.2.15",
        "vendor": "HP",
        "model": "Color LaserJet Pro M454dw",
        "serial": "VNB3R12345",
        "monitored": True,
        "counters": {"total": 10000},
        "supplies": [
            toner("1.1", "black", "W2030A", black),
            toner("1.2", "cyan", "W2031A", cyan),
            toner("1.3", "magenta", "W2033A", magenta),
            toner("1.4", "yellow", "W2032A", yellow),
        ],
    }


def agent_event(event_type: str, supply: str = "1.4", percent: int = 12) -> dict[str, Any]:
    state = hp_state()
    row = next(s for s in state["supplies"] if s["key"] == supply)
    return {
        "event_type": event_type,
        "printer_id": PID,
        "supply": supply,
        "supply_name": row["name"],
        "kind": "toner",
        "color": row["color"],
        "part_number": row["part_number"],
        "percent": percent,
        "state": "low" if percent <= 10 else "ok",
        "receptacle": False,
        "reorder_point": 20,
        "at": "2026-11-25T11:20:03+00:00",
    }


class Agent:
    """Plays the agent's side of the MQTT contract towards Home Assistant."""

    def __init__(self, hass: HomeAssistant, mqtt_mock: Any) -> None:
        self.hass, self.mqtt = hass, mqtt_mock
        self.commands: list[dict[str, Any]] = []
        self.answer: Any = lambda command: {"ok": True}
        mqtt_mock.async_publish.side_effect = self._published

    async def _published(self, topic: str, payload: Any, qos: int = 0, retain: bool = False) -> None:
        if topic == f"{BASE}/agent/{AGENT}/command":
            command = json.loads(payload)
            self.commands.append(command)
            reply = self.answer(command)
            if reply is not None and "id" in command:
                body = {"id": command["id"], "command": command["command"], **reply}
                self.hass.loop.call_soon(
                    async_fire_mqtt_message, self.hass, f"{BASE}/agent/{AGENT}/response", json.dumps(body)
                )

    async def announce(self, state: dict[str, Any] | None = None) -> None:
        """What an agent publishes (retained) on connect: availability, printers, state, discovery."""
        async_fire_mqtt_message(self.hass, f"{BASE}/agent/{AGENT}/availability", "online", retain=True)
        async_fire_mqtt_message(
            self.hass, f"{BASE}/agent/{AGENT}/printers", json.dumps({PID: "192.0.2.15:161"})
        )
        device = {
            "dev": {"ids": [f"printer_supplies_{PID}"], "name": "HP Color LaserJet Pro M454dw", "mf": "HP"},
            "o": {"name": "Printer Supplies agent"},
            "stat_t": f"{BASE}/printer/{PID}/state",
            "cmps": {
                f"{PID}_supply_1_4": {
                    "p": "sensor",
                    "uniq_id": f"{PID}_supply_1_4",
                    "name": "Yellow Cartridge HP W2032A",
                    "unit_of_meas": "%",
                    "val_tpl": "{{ (value_json.supplies | selectattr('key', 'eq', '1.4') | first).percent }}",
                }
            },
        }
        async_fire_mqtt_message(
            self.hass, f"homeassistant/device/printer_supplies_{PID}/config", json.dumps(device)
        )
        await self.state(state or hp_state())

    async def state(self, state: dict[str, Any]) -> None:
        async_fire_mqtt_message(self.hass, f"{BASE}/printer/{PID}/state", json.dumps(state))
        await self.hass.async_block_till_done()

    async def event(self, event: dict[str, Any]) -> None:
        async_fire_mqtt_message(self.hass, f"{BASE}/printer/{PID}/event", json.dumps(event))
        await self.hass.async_block_till_done()

    def published(self, topic: str) -> list[Any]:
        return [c.args[1] for c in self.mqtt.async_publish.call_args_list if c.args[0] == topic]


async def setup(
    hass: HomeAssistant,
    mqtt_mock: Any,
    cloud: CloudService | None = None,
    site: SiteKey | None = None,
    **options: Any,
) -> tuple[MockConfigEntry, Agent]:
    data: dict[str, Any] = {"base_topic": BASE}
    if cloud is not None and site is not None:
        data |= {"cloud_url": cloud.base_url, "api_key": site.key}
    entry = MockConfigEntry(domain=DOMAIN, unique_id=BASE, data=data, options={**OPTIONS, **options})
    entry.add_to_hass(hass)
    agent = Agent(hass, mqtt_mock)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    if entry.runtime_data.cloud is not None:
        entry.runtime_data.cloud.backoff = 0.01
    await agent.announce()
    return entry, agent


def capture(hass: HomeAssistant, event_type: str) -> list[Event]:
    events: list[Event] = []

    @callback
    def record(event: Event) -> None:
        events.append(event)

    hass.bus.async_listen(event_type, record)
    return events


def notifications(hass: HomeAssistant) -> dict[str, Any]:
    return dict(persistent_notification._async_get_or_create_notifications(hass))


def phone(hass: HomeAssistant) -> list[ServiceCall]:
    """A phone's notify action (what the mobile app integration registers), recording its calls."""
    calls: list[ServiceCall] = []

    @callback
    def record(call: ServiceCall) -> None:
        calls.append(call)

    hass.services.async_register("notify", "mobile_app_phone", record)
    return calls


def count_orders(cloud: CloudService, site: SiteKey) -> int:
    return cloud.count_orders(site.site_id)


async def test_reorder_point_once_per_crossing_cleared_on_replacement(
    hass: HomeAssistant, mqtt_mock: Any, cloud_service: CloudService, site: SiteKey
) -> None:
    calls = phone(hass)
    entry, agent = await setup(
        hass, mqtt_mock, cloud_service, site, notify_targets=["notify.mobile_app_phone"], approval=True
    )
    reorder = capture(hass, "printer_supplies_reorder_point")
    replaced = capture(hass, "printer_supplies_supply_replaced")
    low = capture(hass, "printer_supplies_supply_low")

    await agent.event(agent_event("reorder_point"))
    await agent.event(agent_event("reorder_point"))  # a redelivery of the same crossing
    await agent.event(agent_event("low", percent=9))
    assert len(reorder) == 1 and len(low) == 1
    device = dr.async_get(hass).async_get_device(identifiers={("mqtt", f"printer_supplies_{PID}")})
    assert device is not None
    data = reorder[0].data
    assert data["device_id"] == device.id and data["printer_id"] == PID
    assert data["printer"] == "HP Color LaserJet Pro M454dw"
    assert (data["supply"], data["level"], data["part_number"]) == ("1.4", 12, "W2032A")
    assert data["storefront_url"].startswith(
        f"{cloud_service.base_url}/store/W2032A?site={site.site_id}&sig="
    )

    # One persistent notification, one repair whose link is the storefront, one phone message.
    [note] = [n for n in notifications(hass).values() if n["notification_id"].startswith(DOMAIN)]
    assert "Yellow Cartridge HP W2032A is at 12 %" in note["message"] and "109.90 EUR" in note["message"]
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"reorder_{PID}_1_4")
    assert issue is not None and issue.learn_more_url == data["storefront_url"]
    assert issue.translation_placeholders["part_number"] == "W2032A"
    assert len(calls) == 1
    actions = [a["action"].split("|")[0] for a in calls[0].data["data"]["actions"]]
    assert actions == ["PRINTER_SUPPLIES_APPROVE", "PRINTER_SUPPLIES_SNOOZE"]
    assert calls[0].data["data"]["url"] == data["storefront_url"]
    assert count_orders(cloud_service, site) == 0  # approval on, auto-order off: nothing ordered

    # A new cartridge: everything is cleared, and the next crossing is a new one.
    await agent.event(agent_event("replaced", percent=100))
    assert len(replaced) == 1 and replaced[0].data["level"] == 100
    assert not [n for n in notifications(hass) if n.startswith(DOMAIN)]
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"reorder_{PID}_1_4") is None
    await agent.event(agent_event("reorder_point", percent=19))
    assert len(reorder) == 2 and len(calls) == 2
    assert entry.runtime_data.data["generations"][f"{PID}_1_4"] == 1


async def test_order_button_and_action_never_order_twice(
    hass: HomeAssistant, mqtt_mock: Any, cloud_service: CloudService, site: SiteKey
) -> None:
    _entry, agent = await setup(hass, mqtt_mock, cloud_service, site)
    placed = capture(hass, "printer_supplies_order_placed")
    # The agent's "Order" button publishes {"supply": key} on the printer's order topic.
    async_fire_mqtt_message(hass, f"{BASE}/printer/{PID}/order", '{"supply": "1.2"}')
    await hass.async_block_till_done()
    async_fire_mqtt_message(hass, f"{BASE}/printer/{PID}/order", '{"supply": "1.2"}')  # pressed twice
    await hass.async_block_till_done()
    assert count_orders(cloud_service, site) == 1 and len(placed) == 1
    assert placed[0].data["part_number"] == "W2031A" and placed[0].data["source"] == "button"

    # The action on the same supply returns the open order instead of ordering again.
    response = await hass.services.async_call(
        DOMAIN, "place_order", {"printer_id": PID, "supply": "1.2"}, blocking=True, return_response=True
    )
    [order] = response["orders"]
    assert order["already_ordered"] is True and order["id"] == placed[0].data["id"]
    assert order["status"] == "pending" and order["total_price"] == 109.9
    assert count_orders(cloud_service, site) == 1

    # The printer's catalog topic tells the agent's entities: last order, part and storefront per supply.
    catalog = json.loads(agent.published(f"{BASE}/printer/{PID}/catalog")[-1])
    schema = json.loads((REPO / "docs" / "schemas" / "printer-catalog.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    for payload in agent.published(f"{BASE}/printer/{PID}/catalog"):
        assert not list(Draft202012Validator(schema).iter_errors(json.loads(payload)))
    assert catalog["last_order"]["id"] == order["id"] and catalog["last_order"]["source"] == "button"
    cyan = catalog["supplies"]["1.2"]
    assert cyan["percent"] == 38 and cyan["state"] == "ok"  # the state's row, merged
    assert cyan["catalog_part_number"] == "W2031A" and cyan["price"] == 109.9 and cyan["lead_time_days"] == 2
    assert cyan["order_status"] == "pending" and cyan["storefront_url"].startswith(cloud_service.base_url)

    # By supply sensor entity (named by the agent's unique id) and with a quantity and a note.
    response = await hass.services.async_call(
        DOMAIN,
        "place_order",
        {
            "entity_id": "sensor.hp_color_laserjet_pro_m454dw_yellow_cartridge_hp_w2032a",
            "quantity": 2,
            "note": "Room 4",
        },
        blocking=True,
        return_response=True,
    )
    [yellow] = response["orders"]
    assert yellow["part_number"] == "W2032A" and yellow["quantity"] == 2 and "already_ordered" not in yellow
    # A whole printer: every supply at or below its reorder point (magenta 17 %, yellow 12 %).
    await agent.state(hp_state(magenta=17, yellow=12))
    response = await hass.services.async_call(
        DOMAIN, "place_order", {"printer_id": PID}, blocking=True, return_response=True
    )
    assert sorted(o["part_number"] for o in response["orders"]) == ["W2032A", "W2033A"]
    assert count_orders(cloud_service, site) == 3

    # After the cyan cartridge is replaced, the next one can be ordered.
    await agent.event(agent_event("replaced", supply="1.2", percent=100))
    response = await hass.services.async_call(
        DOMAIN,
        "place_order",
        {"printer_id": PID, "supply": "Cyan Cartridge HP W2031A"},
        blocking=True,
        return_response=True,
    )
    assert "already_ordered" not in response["orders"][0]
    assert count_orders(cloud_service, site) == 4

    # Bad requests get clear errors.
    with pytest.raises(ServiceValidationError, match="has no supply"):
        await hass.services.async_call(
            DOMAIN, "place_order", {"printer_id": PID, "supply": "9.9"}, blocking=True
        )
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN, "place_order", {"printer_id": "nope", "supply": "1.1"}, blocking=True
        )
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(DOMAIN, "place_order", {}, blocking=True)


async def test_order_follows_status_until_delivered(
    hass: HomeAssistant, mqtt_mock: Any, cloud_service: CloudService, site: SiteKey
) -> None:
    entry, agent = await setup(hass, mqtt_mock, cloud_service, site)
    statuses = capture(hass, "printer_supplies_order_status")
    response = await hass.services.async_call(
        DOMAIN, "place_order", {"printer_id": PID, "supply": "1.1"}, blocking=True, return_response=True
    )
    order_id = response["orders"][0]["id"]
    cloud_service.set_status(order_id, "confirmed")
    cloud_service.set_status(order_id, "shipped", carrier="DHL", tracking_number="JD0001")
    async_fire_time_changed(hass, dt_util.utcnow() + dt_util.dt.timedelta(minutes=31))
    await settle(hass)
    assert [e.data["status"] for e in statuses] == ["shipped"]
    assert (
        statuses[0].data["tracking_number"] == "JD0001" and statuses[0].data["previous_status"] == "pending"
    )
    last = json.loads(agent.published(f"{BASE}/printer/{PID}/catalog")[-1])["last_order"]
    assert (last["status"], last["carrier"]) == ("shipped", "DHL")
    cloud_service.set_status(order_id, "delivered")
    await entry.runtime_data.async_refresh_orders()
    await entry.runtime_data.async_refresh_orders()  # delivered: no longer followed
    assert [e.data["status"] for e in statuses] == ["shipped", "delivered"]
    # A delivered order is closed: the same cartridge generation may be ordered again (new key).
    response = await hass.services.async_call(
        DOMAIN, "place_order", {"printer_id": PID, "supply": "1.1"}, blocking=True, return_response=True
    )
    assert response["orders"][0]["id"] != order_id


async def test_auto_order_at_the_reorder_point(
    hass: HomeAssistant, mqtt_mock: Any, cloud_service: CloudService, site: SiteKey
) -> None:
    entry, agent = await setup(hass, mqtt_mock, cloud_service, site, auto_order=True, approval=False)
    placed = capture(hass, "printer_supplies_order_placed")
    await agent.event(agent_event("reorder_point"))
    await agent.event(agent_event("reorder_point"))
    await settle(hass)
    assert count_orders(cloud_service, site) == 1 and placed[0].data["source"] == "auto"
    [note] = [n for n in notifications(hass).values() if n["notification_id"].startswith(DOMAIN)]
    assert f"Ordered: {placed[0].data['id']}" in note["message"]
    # The reorder point also sent the fleet to the cloud.
    await hass.async_block_till_done()
    assert entry.runtime_data.data["last_sync"]["reason"] == "reorder_point"
    assert entry.runtime_data.data["last_sync"]["result"]["printers"] == 1


async def test_approve_and_snooze_from_the_phone(
    hass: HomeAssistant, mqtt_mock: Any, cloud_service: CloudService, site: SiteKey
) -> None:
    calls = phone(hass)
    _entry, agent = await setup(
        hass,
        mqtt_mock,
        cloud_service,
        site,
        notify_targets=["notify.mobile_app_phone"],
        auto_order=True,
        approval=True,
    )
    await agent.event(agent_event("reorder_point"))
    assert count_orders(cloud_service, site) == 0  # waits for approval
    approve, snooze = (a["action"] for a in calls[0].data["data"]["actions"])

    hass.bus.async_fire("mobile_app_notification_action", {"action": snooze})
    await hass.async_block_till_done()
    async_fire_time_changed(hass, dt_util.utcnow() + dt_util.dt.timedelta(hours=24, minutes=1))
    await settle(hass)
    assert len(calls) == 2  # reminded after the snooze

    hass.bus.async_fire("mobile_app_notification_action", {"action": approve})
    await hass.async_block_till_done()
    hass.bus.async_fire("mobile_app_notification_action", {"action": approve})  # tapped twice
    await hass.async_block_till_done()
    assert count_orders(cloud_service, site) == 1
    # Actions of another entry or another app are none of ours.
    hass.bus.async_fire("mobile_app_notification_action", {"action": "SOMETHING_ELSE"})
    await hass.async_block_till_done()


async def test_store_survives_a_restart(
    hass: HomeAssistant, mqtt_mock: Any, cloud_service: CloudService, site: SiteKey
) -> None:
    calls = phone(hass)
    entry, agent = await setup(
        hass, mqtt_mock, cloud_service, site, notify_targets=["notify.mobile_app_phone"]
    )
    await agent.event(agent_event("reorder_point"))
    response = await hass.services.async_call(
        DOMAIN, "place_order", {"printer_id": PID, "supply": "1.4"}, blocking=True, return_response=True
    )
    order_id = response["orders"][0]["id"]

    # Home Assistant restarts: the entry is unloaded and set up again from its store.
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await agent.announce(hp_state(yellow=12))  # the retained state, as the agent left it
    await agent.event(agent_event("reorder_point"))  # the same crossing again: nothing new
    assert len(calls) == 1
    response = await hass.services.async_call(
        DOMAIN, "place_order", {"printer_id": PID, "supply": "1.4"}, blocking=True, return_response=True
    )
    assert response["orders"][0] == {**response["orders"][0], "id": order_id, "already_ordered": True}
    assert count_orders(cloud_service, site) == 1


async def test_pending_order_is_sent_after_a_restart(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    mqtt_mock: Any,
    cloud_service: CloudService,
    site: SiteKey,
) -> None:
    """Home Assistant stopped between saving an order and hearing back: it sends it again, once."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=BASE,
        data={"base_topic": BASE, "cloud_url": cloud_service.base_url, "api_key": site.key},
        options=OPTIONS,
    )
    entry.add_to_hass(hass)
    key = "0b5e2a43-7d1c-5c3e-9a51-1f0e4c7a2b11"
    body = {
        "part_number": "W2030A",
        "quantity": 1,
        "printer_id": PID,
        "printer_model": "HP Color LaserJet Pro M454dw",
        "supply_key": "1.1",
        "note": None,
    }
    # The request may or may not have reached the cloud before the stop; here it had.
    first = cloud_service.api(site.key).call("createOrder", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201
    record = {
        "idempotency_key": key,
        "printer_id": PID,
        "supply": "1.1",
        "supply_name": "Black",
        "generation": 0,
        "requested_at": "2026-11-25T10:00:00+00:00",
        "source": "button",
        "body": body,
        "status": "submitting",
        "order": None,
    }
    hass_storage[f"{DOMAIN}.{entry.entry_id}"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"{DOMAIN}.{entry.entry_id}",
        "data": {"orders": {key: record}},
    }
    Agent(hass, mqtt_mock)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await settle(hass)
    stored = entry.runtime_data.data["orders"][key]
    assert stored["status"] == "pending" and stored["order"]["id"] == first.json()["id"]
    assert count_orders(cloud_service, site) == 1


async def test_services_forward_to_the_agent(hass: HomeAssistant, mqtt_mock: Any) -> None:
    entry, agent = await setup(hass, mqtt_mock)
    agent.answer = lambda c: {"ok": True, "result": {"command": c["command"], "echo": c}}

    response = await hass.services.async_call(DOMAIN, "poll_now", {}, blocking=True, return_response=True)
    assert response == {"agents": [AGENT]}
    response = await hass.services.async_call(
        DOMAIN, "discover", {"networks": ["192.0.2.0/24"]}, blocking=True, return_response=True
    )
    assert response["result"]["echo"]["networks"] == ["192.0.2.0/24"]
    response = await hass.services.async_call(
        DOMAIN,
        "add_printer",
        {"host": "192.0.2.40", "name": "Reception"},
        blocking=True,
        return_response=True,
    )
    assert response["printer"]["echo"] | {"id": None} == {
        "command": "add",
        "host": "192.0.2.40",
        "name": "Reception",
        "id": None,
    }
    device = dr.async_get(hass).async_get_device(identifiers={("mqtt", f"printer_supplies_{PID}")})
    response = await hass.services.async_call(
        DOMAIN, "remove_printer", {"device_id": device.id}, blocking=True, return_response=True
    )
    assert response["printer"]["echo"]["printer"] == PID
    assert [c["command"] for c in agent.commands] == ["poll_now", "discover", "add", "remove"]

    agent.answer = lambda c: {"ok": False, "error": "192.0.2.99 does not answer SNMP"}
    with pytest.raises(HomeAssistantError, match="does not answer SNMP"):
        await hass.services.async_call(DOMAIN, "add_printer", {"host": "192.0.2.99"}, blocking=True)
    agent.answer = lambda c: None  # the agent is gone
    entry.runtime_data.reply_timeout = 0.2
    with pytest.raises(HomeAssistantError, match="did not answer"):
        await hass.services.async_call(DOMAIN, "poll_now", {}, blocking=True)
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(DOMAIN, "poll_now", {"agent": "elsewhere"}, blocking=True)
    # Without a cloud, ordering says what is missing.
    with pytest.raises(ServiceValidationError, match="No supplies cloud"):
        await hass.services.async_call(
            DOMAIN, "place_order", {"printer_id": PID, "supply": "1.1"}, blocking=True
        )


async def test_default_reorder_point_goes_to_the_agent(hass: HomeAssistant, mqtt_mock: Any) -> None:
    _entry, agent = await setup(hass, mqtt_mock, reorder_point=25)
    async_fire_mqtt_message(hass, f"{BASE}/agent/{AGENT}/state", json.dumps({"default_reorder_point": 20}))
    await hass.async_block_till_done()
    assert agent.commands[-1] == {"command": "set_default_reorder_point", "percent": 25}
    async_fire_mqtt_message(hass, f"{BASE}/agent/{AGENT}/state", json.dumps({"default_reorder_point": 25}))
    await hass.async_block_till_done()
    assert len(agent.commands) == 1


async def test_removed_printer_clears_everything(
    hass: HomeAssistant, mqtt_mock: Any, cloud_service: CloudService, site: SiteKey
) -> None:
    entry, agent = await setup(hass, mqtt_mock, cloud_service, site)
    await agent.event(agent_event("reorder_point"))
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"reorder_{PID}_1_4") is not None
    async_fire_mqtt_message(hass, f"{BASE}/printer/{PID}/state", "")  # the agent removed it
    await hass.async_block_till_done()
    assert PID not in entry.runtime_data.printers
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"reorder_{PID}_1_4") is None
    assert agent.published(f"{BASE}/printer/{PID}/catalog")[-1] == ""


async def test_hostile_messages_are_ignored(hass: HomeAssistant, mqtt_mock: Any) -> None:
    entry, _agent = await setup(hass, mqtt_mock)
    for topic, payload in [
        (f"{BASE}/printer/{PID}/state", "not json"),
        (f"{BASE}/printer/{PID}/state", "[1, 2]"),
        (f"{BASE}/printer/{PID}/event", '{"event_type": "explode"}'),
        (f"{BASE}/printer/{PID}/event", '{"event_type": "low"}'),
        (f"{BASE}/printer/{PID}/order", "nonsense"),
        (f"{BASE}/agent/{AGENT}/response", "{"),
        (f"{BASE}/agent/{AGENT}/printers", "7"),
        (f"{BASE}/agent/{AGENT}/state", "]"),
    ]:
        async_fire_mqtt_message(hass, topic, payload)
        await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.printers[PID].supplies["1.1"].percent == 64


async def test_diagnostics_redact_secrets(
    hass: HomeAssistant, hass_client: Any, mqtt_mock: Any, cloud_service: CloudService, site: SiteKey
) -> None:
    entry, _agent = await setup(hass, mqtt_mock, cloud_service, site)
    await hass.services.async_call(DOMAIN, "place_order", {"printer_id": PID, "supply": "1.1"}, blocking=True)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = json.dumps(diagnostics)
    assert site.key not in text and "sig=" not in text
    assert diagnostics["entry"]["data"]["api_key"] == "**REDACTED**"
    assert diagnostics["cloud_answered_last_request"] is True
    assert diagnostics["printers"][PID]["supplies"]["1.1"]["part_number"] == "W2030A"
    assert diagnostics["orders"][0]["order"]["part_number"] == "W2030A"
    assert diagnostics["orders"][0]["idempotency_key"] == "**REDACTED**"


async def test_daily_fleet_sync_and_eligibility(
    hass: HomeAssistant, mqtt_mock: Any, cloud_service: CloudService, site: SiteKey
) -> None:
    entry, agent = await setup(hass, mqtt_mock, cloud_service, site)
    async_fire_time_changed(hass, dt_util.utcnow() + dt_util.dt.timedelta(minutes=61))
    await settle(hass)
    last_sync = entry.runtime_data.data["last_sync"]
    assert last_sync["reason"] == "daily" and last_sync["result"]["printers"] == 1
    assert last_sync["result"]["bytes_per_printer"] < 400
    # The cloud counts the day: the printer's eligibility says it was synced today.
    eligibility = json.loads(agent.published(f"{BASE}/printer/{PID}/catalog")[-1])["eligibility"]
    assert eligibility["printer_id"] == PID and eligibility["eligible"] is False
    assert eligibility["last_sync_day"] == dt_util.now().date().isoformat()
    assert eligibility["monitored_days"] == 1 and eligibility["reasons"]
    # Once a day: the next hourly check sends nothing.
    async_fire_time_changed(hass, dt_util.utcnow() + dt_util.dt.timedelta(minutes=122))
    await settle(hass)
    assert entry.runtime_data.data["last_sync"] == last_sync


async def test_what_happened_while_home_assistant_was_away_is_caught_up(
    hass: HomeAssistant, mqtt_mock: Any, cloud_service: CloudService, site: SiteKey
) -> None:
    """The agent fires events once and does not retain them: a supply already past its reorder
    point when the integration starts, or replaced meanwhile, is read from the state."""
    reorder = capture(hass, "printer_supplies_reorder_point")
    replaced = capture(hass, "printer_supplies_supply_replaced")
    entry, agent = await setup(hass, mqtt_mock, cloud_service, site)
    await agent.state(hp_state(yellow=12))  # yellow crossed while nobody listened
    assert [(e.data["supply"], e.data["level"]) for e in reorder] == [("1.4", 12)]
    assert reorder[0].data["part_number"] == "W2032A"
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"reorder_{PID}_1_4") is not None
    # The agent's own event for that crossing, late, and the next polls: nothing twice.
    await agent.event(agent_event("reorder_point"))
    await agent.state(hp_state(yellow=11))
    assert len(reorder) == 1
    assert len([n for n in notifications(hass) if n.startswith(DOMAIN)]) == 1

    # Replaced while Home Assistant was down: the state shows a full cartridge.
    await agent.state(hp_state(yellow=100))
    assert [e.data["level"] for e in replaced] == [100]
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"reorder_{PID}_1_4") is None
    assert entry.runtime_data.data["generations"][f"{PID}_1_4"] == 1

    # A lowered reorder point ends an alert without a new cartridge.
    await agent.state(hp_state(magenta=15))
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"reorder_{PID}_1_3") is not None
    lowered = hp_state(magenta=15)
    lowered["supplies"][2]["reorder_point"] = 5
    await agent.state(lowered)
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"reorder_{PID}_1_3") is None
    assert f"{PID}_1_3" not in entry.runtime_data.data["generations"]
    assert len(replaced) == 1


async def test_the_integrations_own_device_and_sensors(
    hass: HomeAssistant, mqtt_mock: Any, cloud_service: CloudService, site: SiteKey
) -> None:
    entry, agent = await setup(hass, mqtt_mock, cloud_service, site)
    entities = er.async_get(hass)

    def state(domain: str, key: str) -> Any:
        entity_id = entities.async_get_entity_id(domain, DOMAIN, f"{entry.entry_id}_{key}")
        assert entity_id is not None, key
        return hass.states.get(entity_id)

    # One service device of its own, apart from the printer's (which stays MQTT's alone).
    own = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, entry.entry_id)})
    assert own is not None and own.entry_type is dr.DeviceEntryType.SERVICE
    printer = dr.async_get(hass).async_get_device(identifiers={("mqtt", f"printer_supplies_{PID}")})
    assert entry.entry_id not in printer.config_entries
    assert state("sensor", "to_reorder").state == "0"
    await settle(hass)
    assert state("binary_sensor", "cloud").state == "on"  # the catalog lookups were answered

    await agent.event(agent_event("reorder_point"))
    await hass.services.async_call(DOMAIN, "place_order", {"printer_id": PID, "supply": "1.4"}, blocking=True)
    to_reorder = state("sensor", "to_reorder")
    assert to_reorder.state == "1" and to_reorder.attributes["supplies"][0]["part_number"] == "W2032A"
    assert to_reorder.attributes["supplies"][0]["ordered"].startswith("ord_")
    open_orders = state("sensor", "open_orders")
    assert open_orders.state == "1" and open_orders.attributes["orders"][0]["status"] == "pending"
    await settle(hass)  # the reorder-point fleet sync
    assert state("sensor", "last_sync").state != "unknown"

    # The cloud goes away: the connectivity sensor says so, and comes back with it.
    entry.runtime_data.cloud.url = "http://127.0.0.1:9"
    entry.runtime_data.cloud.backoff = 0.01
    await entry.runtime_data.async_refresh_orders()
    assert state("binary_sensor", "cloud").state == "off"
    assert "cannot reach" in state("binary_sensor", "cloud").attributes["last_error"]
    entry.runtime_data.cloud.url = cloud_service.base_url
    await entry.runtime_data.async_refresh_orders()
    assert state("binary_sensor", "cloud").state == "on"

    await agent.event(agent_event("replaced", percent=100))
    assert state("sensor", "to_reorder").state == "0"


async def test_a_broker_that_is_away_at_setup_means_retry(hass: HomeAssistant, mqtt_mock: Any) -> None:
    async def refuse(*args: Any, **kwargs: Any) -> None:
        raise HomeAssistantError("The client is not currently connected.")

    mqtt_mock.async_publish.side_effect = refuse
    entry = MockConfigEntry(domain=DOMAIN, unique_id=BASE, data={"base_topic": BASE}, options=OPTIONS)
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    # Back: the retry sets it up.
    agent = Agent(hass, mqtt_mock)
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    await agent.announce()
    # Later publishing failures are logged, not raised: the state still updates the model.
    mqtt_mock.async_publish.side_effect = refuse
    await agent.state(hp_state(black=50))
    assert entry.runtime_data.printers[PID].supplies["1.1"].percent == 50
    mqtt_mock.async_publish.side_effect = agent._published
    await agent.state(hp_state(black=49))
    assert (
        json.loads(agent.published(f"{BASE}/printer/{PID}/catalog")[-1])["supplies"]["1.1"]["percent"] == 49
    )


async def test_notify_entities_failing_targets_and_failed_automatic_orders(
    hass: HomeAssistant, mqtt_mock: Any, cloud_service: CloudService, site: SiteKey
) -> None:
    sent: list[ServiceCall] = []

    @callback
    def send_message(call: ServiceCall) -> None:
        sent.append(call)

    async def broken(call: ServiceCall) -> None:
        raise HomeAssistantError("the push service is down")

    hass.states.async_set("notify.office_display", "unknown")  # a notify entity
    hass.services.async_register("notify", "send_message", send_message)
    hass.services.async_register("notify", "mobile_app_broken", broken)
    entry, agent = await setup(
        hass,
        mqtt_mock,
        cloud_service,
        site,
        notify_targets=["notify.office_display", "notify.mobile_app_broken", "light.kitchen"],
        auto_order=True,
        approval=False,
    )
    # A model the dealer's catalog does not carry: the automatic order fails, and says so.
    state = hp_state(yellow=12)
    state["vendor"], state["model"] = "Acme", "Prototype 9000"
    state["supplies"][3]["part_number"] = None
    await agent.state(state)
    await settle(hass)
    [note] = [n for n in notifications(hass).values() if n["notification_id"].startswith(DOMAIN)]
    assert "The automatic order failed" in note["message"] and "no part" in note["message"]
    # The notify entity got its message (no buttons: entities have none); the broken target and
    # the one that is not a notify target cost nothing else.
    [message] = sent
    assert message.data["entity_id"] == "notify.office_display" and "12 %" in message.data["message"]
    assert count_orders(cloud_service, site) == 0

    # An approval arriving after the supply was replaced does nothing.
    alert_id = f"{PID}_1_4"
    await agent.event(agent_event("replaced", percent=100))
    hass.bus.async_fire(
        "mobile_app_notification_action", {"action": f"PRINTER_SUPPLIES_APPROVE|{entry.entry_id}|{alert_id}"}
    )
    await hass.async_block_till_done()
    assert count_orders(cloud_service, site) == 0


async def test_service_targets_that_are_not_printers_get_clear_errors(
    hass: HomeAssistant, mqtt_mock: Any
) -> None:
    entry, _agent = await setup(hass, mqtt_mock)
    hass.states.async_set("sensor.kitchen_temperature", "21")
    er.async_get(hass).async_get_or_create(
        "sensor", "demo", "kitchen", suggested_object_id="kitchen_temperature"
    )
    other = MockConfigEntry(domain="demo")
    other.add_to_hass(hass)
    lamp = dr.async_get(hass).async_get_or_create(
        config_entry_id=other.entry_id, identifiers={("demo", "lamp")}
    )
    for data, message in [
        ({"entity_id": "sensor.kitchen_temperature"}, "is not a supply sensor"),
        ({"device_id": lamp.id}, "is not a Printer Supplies printer"),
        ({"config_entry_id": "nope", "printer_id": PID}, "not set up"),
    ]:
        with pytest.raises(ServiceValidationError, match=message):
            await hass.services.async_call(DOMAIN, "remove_printer", data, blocking=True)
    # The agent goes offline: nobody to poll.
    async_fire_mqtt_message(hass, f"{BASE}/agent/{AGENT}/availability", "offline")
    await hass.async_block_till_done()
    with pytest.raises(HomeAssistantError, match="No Printer Supplies agent is online"):
        await hass.services.async_call(DOMAIN, "poll_now", {}, blocking=True)
    # A second entry: actions that cannot tell which one is meant ask for it.
    second = MockConfigEntry(
        domain=DOMAIN, unique_id="branch", data={"base_topic": "branch"}, options=OPTIONS
    )
    second.add_to_hass(hass)
    assert await hass.config_entries.async_setup(second.entry_id)
    with pytest.raises(ServiceValidationError, match="give config_entry_id"):
        await hass.services.async_call(DOMAIN, "discover", {}, blocking=True)
    assert entry.state is ConfigEntryState.LOADED
