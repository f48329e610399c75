"""Printer Supplies: reorder points, notifications, storefront links and orders for Home Assistant.

The printers themselves are MQTT devices, announced by the Printer Supplies agent; this integration
follows them over MQTT and acts (see hub.py). Its own few entities (supplies to reorder, open
orders, last fleet sync, cloud connectivity) sit on a service device of its own.
"""

from __future__ import annotations

import logging

from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType

from .const import DOMAIN
from .hub import PrinterSuppliesHub
from .services import async_setup_services

_LOGGER = logging.getLogger(__name__)

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)
# The integration's own service device: fleet-wide figures (the printers are MQTT's devices).
PLATFORMS = [Platform.BINARY_SENSOR, Platform.SENSOR]

type PrinterSuppliesConfigEntry = ConfigEntry[PrinterSuppliesHub]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Service actions are registered once, whatever entries exist."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: PrinterSuppliesConfigEntry) -> bool:
    if not await mqtt.async_wait_for_mqtt_client(hass):
        raise ConfigEntryNotReady(translation_domain=DOMAIN, translation_key="mqtt_unavailable")
    hub = PrinterSuppliesHub(hass, entry)
    await hub.async_start()
    entry.runtime_data = hub
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def _async_options_updated(hass: HomeAssistant, entry: PrinterSuppliesConfigEntry) -> None:
    await hass.config_entries.async_reload(entry.entry_id)


async def async_unload_entry(hass: HomeAssistant, entry: PrinterSuppliesConfigEntry) -> bool:
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    # A reload keeps the order entities (their ids and settings survive); disabling removes them.
    await entry.runtime_data.async_stop(going_away=entry.disabled_by is not None)
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: PrinterSuppliesConfigEntry) -> None:
    """Deleted: clear the retained topics, so the agent drops the order entities everywhere."""
    hub = PrinterSuppliesHub(hass, entry)
    try:
        if await mqtt.async_wait_for_mqtt_client(hass):
            await hub.async_clear_topics()
    except Exception:
        _LOGGER.warning("could not clear the retained topics of %s", entry.title, exc_info=True)
    await hub.store.async_remove()
