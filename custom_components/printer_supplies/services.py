"""Service actions: place_order, and four that forward to the agent's MQTT command topic."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er

from .const import DISCOVER_REPLY_TIMEOUT, DOMAIN
from .models import uid_part

if TYPE_CHECKING:
    from .hub import PrinterSuppliesHub

ATTR_ENTRY = "config_entry_id"
ATTR_DEVICE = "device_id"
ATTR_ENTITY = "entity_id"
ATTR_PRINTER = "printer_id"
ATTR_SUPPLY = "supply"
ATTR_QUANTITY = "quantity"
ATTR_NOTE = "note"
ATTR_AGENT = "agent"
ATTR_NETWORKS = "networks"
ATTR_HOST = "host"
ATTR_NAME = "name"

_BASE = {vol.Optional(ATTR_ENTRY): cv.string, vol.Optional(ATTR_AGENT): cv.string}
_PRINTER_TARGET = {
    vol.Optional(ATTR_DEVICE): cv.string,
    vol.Optional(ATTR_ENTITY): cv.entity_id,
    vol.Optional(ATTR_PRINTER): cv.string,
}

PLACE_ORDER_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_ENTRY): cv.string,
        **_PRINTER_TARGET,
        vol.Optional(ATTR_SUPPLY): cv.string,
        vol.Optional(ATTR_QUANTITY, default=1): vol.All(vol.Coerce(int), vol.Range(min=1, max=100)),
        vol.Optional(ATTR_NOTE): vol.All(cv.string, vol.Length(max=1000)),
    }
)
POLL_NOW_SCHEMA = vol.Schema(_BASE)
DISCOVER_SCHEMA = vol.Schema({**_BASE, vol.Optional(ATTR_NETWORKS): vol.All(cv.ensure_list, [cv.string])})
ADD_PRINTER_SCHEMA = vol.Schema(
    {**_BASE, vol.Required(ATTR_HOST): cv.string, vol.Optional(ATTR_NAME): cv.string}
)
REMOVE_PRINTER_SCHEMA = vol.Schema({**_BASE, **_PRINTER_TARGET})


def _hub(hass: HomeAssistant, call: ServiceCall, printer_id: str | None = None) -> PrinterSuppliesHub:
    """The entry the call is for: the one named, the one that knows the printer, or the only one."""
    entries = [e for e in hass.config_entries.async_entries(DOMAIN) if e.state is ConfigEntryState.LOADED]
    wanted = call.data.get(ATTR_ENTRY)
    if wanted:
        entries = [e for e in entries if e.entry_id == wanted]
    elif printer_id:
        entries = [e for e in entries if printer_id in e.runtime_data.printers] or entries
    if not entries:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="not_loaded")
    if len(entries) > 1:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="choose_entry")
    hub: PrinterSuppliesHub = entries[0].runtime_data
    return hub


def _printer_and_supply(hass: HomeAssistant, call: ServiceCall) -> tuple[str, str | None]:
    """The printer id (and supply key, when the target is a supply sensor) a call points at."""
    supply = call.data.get(ATTR_SUPPLY)
    if entity_id := call.data.get(ATTR_ENTITY):
        entry = er.async_get(hass).async_get(entity_id)
        unique_id = entry.unique_id if entry and entry.platform == "mqtt" else ""
        printer_id, sep, rest = unique_id.partition("_supply_")
        if not sep:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="not_a_supply",
                translation_placeholders={"entity": entity_id},
            )
        hub = _hub(hass, call, printer_id)
        printer = hub.printers.get(printer_id)
        uid = rest.removesuffix("_reorder_point").removesuffix("_alert").removesuffix("_order")
        match = next(
            (s.key for s in (printer.supplies.values() if printer else []) if uid_part(s.key) == uid), None
        )
        return printer_id, supply or match or uid
    if device_id := call.data.get(ATTR_DEVICE):
        device = dr.async_get(hass).async_get(device_id)
        ids = [
            i
            for d, i in (device.identifiers if device else set())
            if d == "mqtt" and i.startswith("printer_supplies_")
        ]
        if not ids:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="not_a_printer",
                translation_placeholders={"device": device_id},
            )
        return ids[0].removeprefix("printer_supplies_"), supply
    if printer_id := call.data.get(ATTR_PRINTER):
        return printer_id, supply
    raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_target")


async def _place_order(call: ServiceCall) -> ServiceResponse:
    hass = call.hass
    printer_id, supply = _printer_and_supply(hass, call)
    hub = _hub(hass, call, printer_id)
    if supply is None:
        # A whole printer: every supply at or below its reorder point.
        printer = hub.printer(printer_id)
        keys = [s.key for s in printer.supplies.values() if s.at_reorder_point]
        if not keys:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="nothing_to_order",
                translation_placeholders={"printer": printer.name},
            )
    else:
        keys = [supply]
    orders = []
    for key in keys:
        orders.append(
            await hub.async_place_order(
                printer_id,
                key,
                quantity=call.data[ATTR_QUANTITY],
                note=call.data.get(ATTR_NOTE),
                source="action",
            )
        )
    return {"orders": orders}


async def _poll_now(call: ServiceCall) -> ServiceResponse:
    hub = _hub(call.hass, call)
    agents = (
        [call.data[ATTR_AGENT]]
        if call.data.get(ATTR_AGENT)
        else sorted(a for a, info in hub.agents.items() if info.online)
    )
    if not agents:
        agents = [hub.agent_for()]  # raises the "no agent" error
    for agent in agents:
        await hub.async_agent_command(hub.agent_for(agent), {"command": "poll_now"})
    return {"agents": agents}


async def _discover(call: ServiceCall) -> ServiceResponse:
    hub = _hub(call.hass, call)
    agent = hub.agent_for(call.data.get(ATTR_AGENT))
    command: dict[str, Any] = {"command": "discover"}
    if call.data.get(ATTR_NETWORKS):
        command["networks"] = call.data[ATTR_NETWORKS]
    reply = await hub.async_agent_command(agent, command, timeout=DISCOVER_REPLY_TIMEOUT)
    return {"agent": agent, "result": reply.get("result")}


async def _add_printer(call: ServiceCall) -> ServiceResponse:
    hub = _hub(call.hass, call)
    agent = hub.agent_for(call.data.get(ATTR_AGENT))
    command = {"command": "add", "host": call.data[ATTR_HOST]}
    if call.data.get(ATTR_NAME):
        command["name"] = call.data[ATTR_NAME]
    reply = await hub.async_agent_command(agent, command, timeout=120)
    return {"agent": agent, "printer": reply.get("result")}


async def _remove_printer(call: ServiceCall) -> ServiceResponse:
    printer_id, _supply = _printer_and_supply(call.hass, call)
    hub = _hub(call.hass, call, printer_id)
    agent = hub.agent_for(call.data.get(ATTR_AGENT), printer_id)
    reply = await hub.async_agent_command(agent, {"command": "remove", "printer": printer_id})
    return {"agent": agent, "printer": reply.get("result")}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    hass.services.async_register(
        DOMAIN,
        "place_order",
        _place_order,
        schema=PLACE_ORDER_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    for name, handler, schema in (
        ("poll_now", _poll_now, POLL_NOW_SCHEMA),
        ("discover", _discover, DISCOVER_SCHEMA),
        ("add_printer", _add_printer, ADD_PRINTER_SCHEMA),
        ("remove_printer", _remove_printer, REMOVE_PRINTER_SCHEMA),
    ):
        hass.services.async_register(
            DOMAIN, name, handler, schema=schema, supports_response=SupportsResponse.OPTIONAL
        )
