"""Constants of the Printer Supplies integration."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "printer_supplies"

CONF_BASE_TOPIC: Final = "base_topic"
CONF_CLOUD_URL: Final = "cloud_url"
CONF_API_KEY: Final = "api_key"
CONF_REORDER_POINT: Final = "reorder_point"
CONF_NOTIFY_TARGETS: Final = "notify_targets"
CONF_APPROVAL: Final = "approval"
CONF_AUTO_ORDER: Final = "auto_order"

DEFAULT_BASE_TOPIC: Final = "printer_supplies"  # the agent's default mqtt.base_topic
DEFAULT_REORDER_POINT: Final = 20  # the agent's default reorder_point
DEFAULT_APPROVAL: Final = True
DEFAULT_AUTO_ORDER: Final = False

# Home Assistant bus events (docs/home-assistant.md lists their data).
EVENT_SUPPLY_LOW: Final = f"{DOMAIN}_supply_low"
EVENT_REORDER_POINT: Final = f"{DOMAIN}_reorder_point"
EVENT_SUPPLY_EMPTY: Final = f"{DOMAIN}_supply_empty"
EVENT_SUPPLY_REPLACED: Final = f"{DOMAIN}_supply_replaced"
EVENT_ORDER_PLACED: Final = f"{DOMAIN}_order_placed"
EVENT_ORDER_STATUS: Final = f"{DOMAIN}_order_status"

# The agent's event types and the bus event each becomes.
AGENT_EVENTS: Final = {
    "low": EVENT_SUPPLY_LOW,
    "reorder_point": EVENT_REORDER_POINT,
    "empty": EVENT_SUPPLY_EMPTY,
    "replaced": EVENT_SUPPLY_REPLACED,
}

# Actions of the phone notification (mobile_app) when orders need approval.
ACTION_APPROVE: Final = "PRINTER_SUPPLIES_APPROVE"
ACTION_SNOOZE: Final = "PRINTER_SUPPLIES_SNOOZE"
SNOOZE_HOURS: Final = 24

ORDER_DONE_STATES: Final = ("delivered", "cancelled")
ORDER_POLL_MINUTES: Final = 30
AGENT_REPLY_TIMEOUT: Final = 30.0
DISCOVER_REPLY_TIMEOUT: Final = 600.0
STORAGE_VERSION: Final = 1
