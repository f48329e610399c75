"""End to end: a real Mosquitto, the real agent polling a simulated printer over SNMP (snmpsim),
Home Assistant's MQTT integration connected to that broker, this integration loaded against the
real supplies cloud.

The printer is one device, owned by MQTT discovery, whose page holds the supply sensors, the
reorder-point numbers, the order buttons and the event entity; a level dropping below its reorder
point gives exactly one Home Assistant event, one notification and (auto-order on) one order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from cloud_support import CloudService, SiteKey
from conftest import settle
from homeassistant.components import persistent_notification
from homeassistant.config_entries import ConfigEntryDisabler
from homeassistant.const import Platform
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printer_supplies.const import DOMAIN
from mqtt_agent.config import MqttSettings, PrinterSettings, Settings
from mqtt_agent.service import Agent
from mqtt_agent.simulator import SimPrinter, SnmpSimulator

BASE = "printer_supplies"


@contextlib.asynccontextmanager
async def running(agent: Agent) -> AsyncIterator[Agent]:
    task = asyncio.create_task(agent.run(), name="agent")
    try:
        yield agent
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def until(condition: Callable[[], Any], timeout: float = 20, what: str = "") -> Any:
    async with asyncio.timeout(timeout):
        while not (result := condition()):
            await asyncio.sleep(0.05)
    return result


async def test_one_device_one_event_one_notification_one_order(
    hass: HomeAssistant,
    mock_hass_config: None,
    socket_enabled: None,
    broker: tuple[str, int],
    fleet: tuple[list[SimPrinter], SnmpSimulator],
    cloud_service: CloudService,
    site: SiteKey,
    tmp_path: Any,
) -> None:
    printers, sim = fleet
    hp = printers[0]  # black 64 %, cyan 38 %, magenta 17 %, yellow 12 %
    host, port = broker

    # Home Assistant's MQTT integration on the real broker, then this integration: auto-order on.
    mqtt_entry = MockConfigEntry(domain="mqtt", data={"broker": host, "port": port, "discovery": True})
    mqtt_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mqtt_entry.entry_id)
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=BASE,
        data={"base_topic": BASE, "cloud_url": cloud_service.base_url, "api_key": site.key},
        options={"reorder_point": 10, "notify_targets": [], "approval": False, "auto_order": True},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    events: list[Event] = []

    @callback
    def record(event: Event) -> None:
        events.append(event)

    hass.bus.async_listen("printer_supplies_reorder_point", record)

    # The real agent: the printer polled over SNMP, published through the broker. Its reorder
    # point is 10 %, as the integration will tell it: nothing of this printer is below it yet.
    settings = Settings(
        agent_id="e2e",
        data_dir=tmp_path / "agent",
        reorder_point=10,
        discovery={"mdns": False, "broadcast": False},
        poll_interval=3600,
        snmp={"timeout": 1.0, "retries": 1},
        mqtt=MqttSettings(host=host, port=port, base_topic=BASE),
        printers=[PrinterSettings(host=f"{hp.address}:{hp.port}")],
    )
    agent = Agent(settings)
    async with running(agent):
        hub = entry.runtime_data
        printer = await until(lambda: next(iter(hub.printers.values()), None), what="the printer state")
        pid = printer.id

        # One device, owned by MQTT discovery, with everything on its page.
        devices = dr.async_get(hass)
        device = await until(
            lambda: devices.async_get_device(identifiers={("mqtt", f"printer_supplies_{pid}")})
        )
        assert device.config_entries == {mqtt_entry.entry_id}
        assert device.manufacturer == "HP" and device.model == "Color LaserJet Pro M454dw"
        entities = er.async_get(hass)

        def on_device(domain: str) -> list[er.RegistryEntry]:
            return [e for e in er.async_entries_for_device(entities, device.id) if e.domain == domain]

        # The order buttons exist once the agent has seen the integration online.
        buttons = await until(
            lambda: on_device(Platform.BUTTON) if len(on_device(Platform.BUTTON)) == 4 else None
        )
        assert sorted(b.original_name for b in buttons) == [
            "Order Black Cartridge HP W2030A",
            "Order Cyan Cartridge HP W2031A",
            "Order Magenta Cartridge HP W2033A",
            "Order Yellow Cartridge HP W2032A",
        ]
        numbers = on_device(Platform.NUMBER)
        assert len(numbers) == 4 and all(n.entity_category == "config" for n in numbers)
        assert len(on_device(Platform.EVENT)) == 1
        sensors = {e.original_name for e in on_device(Platform.SENSOR)}
        assert {"Black Cartridge HP W2030A", "Last order", "Status"} <= sensors
        all_printer_devices = [d for d in devices.devices.values() if d.name == device.name]
        assert len(all_printer_devices) == 1
        cyan = next(e.entity_id for e in on_device(Platform.SENSOR) if e.original_name.startswith("Cyan"))
        await until(lambda: (s := hass.states.get(cyan)) and s.state == "38")
        # The catalog reached the supply sensor's attributes through the integration's topic.
        await until(lambda: hass.states.get(cyan).attributes.get("catalog_part_number") == "W2031A")
        assert hass.states.get(cyan).attributes["storefront_url"].startswith(cloud_service.base_url)

        # Cyan drops below its reorder point; polled three times, it is one crossing.
        hp.supplies[1].level = 6
        sim.write(hp)
        for _ in range(3):
            await agent.poller.poll_all()
        await until(lambda: cloud_service.count_orders(site.site_id) >= 1, what="the order")
        await asyncio.sleep(1.0)  # room for anything that would come twice
        await settle(hass)

        assert len(events) == 1
        assert events[0].data["supply_name"] == "Cyan Cartridge HP W2031A" and events[0].data["level"] == 6
        assert events[0].data["device_id"] == device.id
        ours = [
            n
            for n in persistent_notification._async_get_or_create_notifications(hass)
            if n.startswith(DOMAIN)
        ]
        assert len(ours) == 1
        assert cloud_service.count_orders(site.site_id) == 1
        last_order = next(e.entity_id for e in on_device(Platform.SENSOR) if e.original_name == "Last order")
        await until(lambda: hass.states.get(last_order).state == "pending")
        assert hass.states.get(last_order).attributes["part_number"] == "W2031A"

        # Pressing the cyan order button now finds the open order: still one.
        cyan_button = next(b.entity_id for b in buttons if "Cyan" in b.original_name)
        await hass.services.async_call("button", "press", {"entity_id": cyan_button}, blocking=True)
        await asyncio.sleep(0.5)
        await settle(hass)
        assert cloud_service.count_orders(site.site_id) == 1

        # Disabling the integration takes the order entities away; the printer's device stays.
        await hass.config_entries.async_set_disabled_by(entry.entry_id, ConfigEntryDisabler.USER)
        await until(lambda: not on_device(Platform.BUTTON), what="the buttons to go")
        assert devices.async_get(device.id) is not None and len(on_device(Platform.NUMBER)) == 4
        assert not on_device(Platform.SENSOR)[0].disabled_by
    # MQTT disconnects while the broker still runs.
    assert await hass.config_entries.async_unload(mqtt_entry.entry_id)
