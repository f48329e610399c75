"""The integration's own entities: a few fleet-wide figures on a service device of its own.

The printers' entities are the agent's (MQTT discovery); these describe the integration's work
(what is to be reordered, what is on order, the cloud) and live on one service device per entry,
never on a printer's device.
"""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity

from .const import DOMAIN
from .hub import PrinterSuppliesHub, signal_update


class PrinterSuppliesEntity(Entity):
    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, hub: PrinterSuppliesHub, entry: ConfigEntry, key: str) -> None:
        self.hub = hub
        self._attr_translation_key = key
        self._attr_unique_id = f"{entry.entry_id}_{key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry.entry_id)},
            name=entry.title,
            manufacturer="Printer Supplies",
            model="Reorder service",
            entry_type=DeviceEntryType.SERVICE,
        )

    async def async_added_to_hass(self) -> None:
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, signal_update(self.hub.entry.entry_id), self.async_write_ha_state
            )
        )
