"""Sensors of the service device: supplies at their reorder point, open orders, last fleet sync."""

from __future__ import annotations

import datetime as dt
from typing import Any

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity, SensorStateClass
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import PrinterSuppliesConfigEntry
from .entity import PrinterSuppliesEntity

PARALLEL_UPDATES = 0  # pushed, never polled


async def async_setup_entry(
    hass: HomeAssistant, entry: PrinterSuppliesConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    hub = entry.runtime_data
    entities: list[SensorEntity] = [ToReorderSensor(hub, entry, "to_reorder")]
    if hub.cloud is not None:
        entities += [OpenOrdersSensor(hub, entry, "open_orders"), LastSyncSensor(hub, entry, "last_sync")]
    async_add_entities(entities)


class ToReorderSensor(PrinterSuppliesEntity, SensorEntity):
    """How many supplies are at their reorder point (open alerts), with the list."""

    _attr_state_class = SensorStateClass.MEASUREMENT

    @property
    def native_value(self) -> int:
        return len(self.hub.data["alerts"])

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        return {
            "supplies": [
                {
                    "printer": alert["printer_name"],
                    "printer_id": alert["printer_id"],
                    "supply": alert["supply_name"],
                    "level": alert.get("level"),
                    "part_number": alert.get("part_number"),
                    "ordered": alert.get("order_id"),
                }
                for alert in self.hub.data["alerts"].values()
            ]
        }


class OpenOrdersSensor(PrinterSuppliesEntity, SensorEntity):
    """Orders placed through the integration that are not delivered or cancelled yet."""

    _attr_state_class = SensorStateClass.MEASUREMENT

    @property
    def native_value(self) -> int:
        return len(self.hub.open_orders())

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        return {"orders": self.hub.open_orders()}


class LastSyncSensor(PrinterSuppliesEntity, SensorEntity):
    """When the fleet was last sent to the supplies cloud."""

    _attr_device_class = SensorDeviceClass.TIMESTAMP

    @property
    def native_value(self) -> dt.datetime | None:
        last = self.hub.data.get("last_sync") or {}
        return dt.datetime.fromisoformat(last["at"]) if last.get("at") else None

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        last = self.hub.data.get("last_sync") or {}
        result = last.get("result") or {}
        return {
            "reason": last.get("reason"),
            "printers": result.get("printers"),
            "bytes": result.get("bytes"),
        }
