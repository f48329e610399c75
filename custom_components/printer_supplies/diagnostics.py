"""Diagnostics: what the integration knows, with the API key and storefront links redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import CONF_API_KEY

if TYPE_CHECKING:
    from . import PrinterSuppliesConfigEntry

# A storefront link is signed for the site: anyone holding it can order, so it is a secret too.
TO_REDACT = {CONF_API_KEY, "storefront_url", "idempotency_key"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: PrinterSuppliesConfigEntry
) -> dict[str, Any]:
    hub = entry.runtime_data
    printers = {
        pid: {
            **asdict(printer),
            "supplies": {
                k: {f: v for f, v in asdict(s).items() if f != "row"} for k, s in printer.supplies.items()
            },
        }
        for pid, printer in hub.printers.items()
    }
    return async_redact_data(
        {
            "entry": {"title": entry.title, "data": dict(entry.data), "options": dict(entry.options)},
            "cloud_configured": hub.cloud is not None,
            "cloud_answered_last_request": hub.cloud_ok,
            "last_cloud_error": hub.last_error,
            "agents": {
                a: {**asdict(info), "printers": sorted(info.printers)} for a, info in hub.agents.items()
            },
            "printers": printers,
            "alerts": hub.data["alerts"],
            "orders": list(hub.data["orders"].values()),
            "generations": hub.data["generations"],
            "catalog": hub.data["catalog"],
            "eligibility": hub.data["eligibility"],
            "last_sync": hub.data["last_sync"],
        },
        TO_REDACT,
    )
