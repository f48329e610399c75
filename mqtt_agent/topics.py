"""Every MQTT topic the agent uses, in one place (documented in docs/mqtt.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Topics:
    base: str = "printer_supplies"
    discovery_prefix: str = "homeassistant"
    agent_id: str = "agent"

    @property
    def agent_availability(self) -> str:
        """``online``/``offline`` (retained; ``offline`` is also the agent's last will)."""
        return f"{self.base}/agent/{self.agent_id}/availability"

    @property
    def agent_printers(self) -> str:
        """Retained JSON list of the printer ids this agent publishes (used to clean up removals)."""
        return f"{self.base}/agent/{self.agent_id}/printers"

    @property
    def agent_state(self) -> str:
        """Retained JSON: discovery progress, network cost per printer, cycle figures."""
        return f"{self.base}/agent/{self.agent_id}/state"

    @property
    def agent_command(self) -> str:
        """JSON commands for this agent (discover, add, remove, monitor, unmonitor, poll_now, list)."""
        return f"{self.base}/agent/{self.agent_id}/command"

    @property
    def agent_response(self) -> str:
        """JSON replies to commands, carrying the command's ``id`` (not retained)."""
        return f"{self.base}/agent/{self.agent_id}/response"

    @property
    def agent_discovery(self) -> str:
        """Home Assistant discovery of the agent's own device (discover button, progress, …)."""
        return f"{self.discovery_prefix}/device/printer_supplies_agent_{self.agent_id}/config"

    @property
    def integration_status(self) -> str:
        """``online``/``offline`` (retained), published by the Home Assistant integration.

        While it says ``online`` each printer's device also gets order buttons, a last-order sensor
        and catalog attributes on its supply sensors, all fed by the integration's topics below.
        """
        return f"{self.base}/integration/status"

    @property
    def ha_status(self) -> str:
        """Home Assistant's birth/last-will topic."""
        return f"{self.discovery_prefix}/status"

    def printer_state(self, printer_id: str) -> str:
        return f"{self.base}/printer/{printer_id}/state"

    def printer_availability(self, printer_id: str) -> str:
        return f"{self.base}/printer/{printer_id}/availability"

    def printer_event(self, printer_id: str) -> str:
        """Supply events as JSON (not retained): low, reorder_point, empty, replaced."""
        return f"{self.base}/printer/{printer_id}/event"

    def printer_set(self, printer_id: str) -> str:
        """JSON settings for one printer, e.g. ``{"reorder_point": {"supply": "1.1", "percent": 25}}``."""
        return f"{self.base}/printer/{printer_id}/set"

    def printer_catalog(self, printer_id: str) -> str:
        """Retained JSON published by the integration: catalog data per supply and the last order."""
        return f"{self.base}/printer/{printer_id}/catalog"

    def printer_order(self, printer_id: str) -> str:
        """Order-button presses, ``{"supply": key}``; the integration places the order."""
        return f"{self.base}/printer/{printer_id}/order"

    @property
    def printer_set_all(self) -> str:
        return f"{self.base}/printer/+/set"

    def discovery(self, printer_id: str) -> str:
        return f"{self.discovery_prefix}/device/printer_supplies_{printer_id}/config"
