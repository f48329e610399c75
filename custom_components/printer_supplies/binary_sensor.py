"""The service device's connectivity sensor: did the supplies cloud answer the last request?"""

from __future__ import annotations

from typing import Any

from homeassistant.components.binary_sensor import BinarySensorDeviceClass, BinarySensorEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import PrinterSuppliesConfigEntry
from .entity import PrinterSuppliesEntity

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant, entry: PrinterSuppliesConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    if entry.runtime_data.cloud is not None:
        async_add_entities([CloudConnectivity(entry.runtime_data, entry, "cloud")])


class CloudConnectivity(PrinterSuppliesEntity, BinarySensorEntity):
    _attr_device_class = BinarySensorDeviceClass.CONNECTIVITY
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    @property
    def is_on(self) -> bool | None:
        return self.hub.cloud_ok

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        return {"last_error": self.hub.last_error}
