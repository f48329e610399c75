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

    @property
    def printer_set_all(self) -> str:
        return f"{self.base}/printer/+/set"

    def discovery(self, printer_id: str) -> str:
        return f"{self.discovery_prefix}/device/printer_supplies_{printer_id}/config"
