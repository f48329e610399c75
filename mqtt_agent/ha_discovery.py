"""Home Assistant MQTT discovery: one device-based payload per printer.

Every entity reads the printer's single retained JSON state topic and picks its value out with a
template keyed by the supply/tray key (never by list position, so reordered rows cannot swap
values). Abbreviated keys are Home Assistant's own; ``object_id``/``default_entity_id`` are left
out on purpose (see docs/home-assistant-notes in the architecture page): entity ids follow from the
device and entity names on every Home Assistant version.
"""

from __future__ import annotations

import json
from typing import Any

from . import __version__
from .events import EVENT_TYPES
from .model import PrinterSnapshot, Supply, Tray
from .topics import Topics

ORIGIN = {
    "name": "Printer Supplies agent",
    "sw": __version__,
}

STATUS_OPTIONS = ["idle", "printing", "warmup", "warning", "error", "testing", "unknown"]

_KIND_ICONS = {
    "toner": "mdi:printer-3d-nozzle",
    "ink": "mdi:water",
    "ribbon": "mdi:ribbon",
    "drum": "mdi:cylinder",
    "developer": "mdi:flask",
    "fuser": "mdi:fire",
    "transfer_unit": "mdi:swap-horizontal",
    "waste": "mdi:delete-variant",
    "maintenance_kit": "mdi:wrench",
    "roller": "mdi:rotate-right",
    "staples": "mdi:paperclip",
    "cleaner": "mdi:broom",
    "filter": "mdi:air-filter",
    "other": "mdi:printer",
}

LOW_STATES = ("low", "empty")
FULL_STATES = ("nearly_full", "full")


def uid_part(key: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in key)


def _pick(collection: str, key: str, attribute: str) -> str:
    """Template selecting one attribute of the row with this key; renders None when absent."""
    return (
        f"{{{{ (value_json.{collection} | selectattr('key', 'eq', '{key}')"
        f" | map(attribute='{attribute}') | first) | default(None) }}}}"
    )


def _row_attributes(collection: str, key: str) -> str:
    return (
        f"{{{{ (value_json.{collection} | selectattr('key', 'eq', '{key}') | first)"
        " | default({}, true) | tojson }}"
    )


def _unique_names(names: list[str]) -> list[str]:
    """Entity names must differ within a device: number repeated ones ("Black Toner Cartridge 2")."""
    seen: dict[str, int] = {}
    result = []
    for name in names:
        count = seen.get(name.lower(), 0) + 1
        seen[name.lower()] = count
        result.append(name if count == 1 else f"{name} {count}")
    return result


def device_name(snapshot: PrinterSnapshot) -> str:
    ident = snapshot.identity
    if ident.vendor and ident.model:
        if ident.model.lower().startswith(ident.vendor.lower()):
            return ident.model
        return f"{ident.vendor} {ident.model}"
    return ident.model or ident.sys_name or snapshot.host


def build(
    snapshot: PrinterSnapshot,
    topics: Topics,
    display_name: str | None = None,
    *,
    monitored: bool = True,
    switchable: bool = False,
    integration: bool = False,
) -> dict[str, Any]:
    """The device-based discovery payload for one printer.

    ``switchable`` printers (those in the inventory) get a "Monitored" switch; an unmonitored
    printer keeps its device with only that switch, so it can be switched back on from Home
    Assistant. ``integration``: the Home Assistant integration says it is online, so each supply
    gets an order button, the printer a last-order sensor, and supply sensors read their
    attributes from the integration's catalog topic.

    Home Assistant keeps a component that is merely left out of a device payload; it removes one
    whose entry holds only its platform. So every component this printer could have but does not
    have now (unmonitored, integration offline) is sent as ``{"p": platform}``: the entities go
    away cleanly, also after a restart of the agent, and a marker for an entity Home Assistant
    never had is ignored.
    """
    device, components = _components(
        snapshot, topics, display_name, monitored=monitored, switchable=switchable, integration=integration
    )
    if not (monitored and integration):
        _, everything = _components(
            snapshot, topics, display_name, monitored=True, switchable=switchable, integration=True
        )
        for key, component in everything.items():
            components.setdefault(key, {"p": component["p"]})
    return {
        "dev": device,
        "o": ORIGIN,
        "stat_t": topics.printer_state(snapshot.id),
        "avty": [{"t": topics.agent_availability}, {"t": topics.printer_availability(snapshot.id)}],
        "avty_mode": "all",
        "qos": 1,
        "cmps": components,
    }


def _components(
    snapshot: PrinterSnapshot,
    topics: Topics,
    display_name: str | None,
    *,
    monitored: bool,
    switchable: bool,
    integration: bool,
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    pid = snapshot.id
    ident = snapshot.identity
    state_topic = topics.printer_state(pid)
    device: dict[str, Any] = {
        "ids": [f"printer_supplies_{pid}"],
        "name": display_name or device_name(snapshot),
        "mf": ident.vendor,
        "mdl": ident.model,
        "sn": ident.serial,
        "sw": ident.firmware,
    }
    if ident.mac:
        device["cns"] = [["mac", ident.mac]]
    if snapshot.port == 161:
        host = f"[{snapshot.host}]" if ":" in snapshot.host else snapshot.host
        device["cu"] = f"http://{host}/"
    device = {k: v for k, v in device.items() if v is not None}

    components: dict[str, dict[str, Any]] = {}
    if switchable:
        components[f"{pid}_monitored"] = {
            "p": "switch",
            "uniq_id": f"{pid}_monitored",
            "name": "Monitored",
            "ent_cat": "config",
            "ic": "mdi:eye-check",
            "cmd_t": topics.agent_command,
            "pl_on": json.dumps({"command": "monitor", "printer": pid}),
            "pl_off": json.dumps({"command": "unmonitor", "printer": pid}),
            "val_tpl": "{{ 'ON' if value_json.monitored else 'OFF' }}",
            "stat_on": "ON",
            "stat_off": "OFF",
        }
    if not monitored:
        return device, components
    supply_names = _unique_names([s.name for s in snapshot.supplies])
    for supply, name in zip(snapshot.supplies, supply_names, strict=True):
        components.update(_supply_components(pid, supply, name, state_topic))
        components.update(_reorder_components(pid, supply, name, topics))
        if integration:
            _add_order_components(components, pid, supply, name, topics)
    if integration and snapshot.supplies:
        components[f"{pid}_last_order"] = {
            "p": "sensor",
            "uniq_id": f"{pid}_last_order",
            "name": "Last order",
            "ic": "mdi:truck-delivery",
            "stat_t": topics.printer_catalog(pid),
            "val_tpl": "{{ (value_json.last_order or {}).status | default(None) }}",
            "json_attr_t": topics.printer_catalog(pid),
            "json_attr_tpl": "{{ (value_json.last_order or {}) | tojson }}",
            "avty": [{"t": topics.integration_status}],
        }
    if snapshot.supplies:
        components[f"{pid}_supply_event"] = {
            "p": "event",
            "uniq_id": f"{pid}_supply_event",
            "name": "Supply event",
            "ic": "mdi:printer-alert",
            "stat_t": topics.printer_event(pid),
            "evt_typ": list(EVENT_TYPES),
        }
    tray_names = _unique_names([t.name for t in snapshot.trays])
    for tray, name in zip(snapshot.trays, tray_names, strict=True):
        components.update(_tray_components(pid, tray, name, state_topic))
    for counter in sorted(snapshot.counters):
        components[f"{pid}_counter_{counter}"] = {
            "p": "sensor",
            "uniq_id": f"{pid}_counter_{counter}",
            "name": COUNTER_NAMES.get(counter, f"{counter.replace('_', ' ').capitalize()} pages"),
            "unit_of_meas": "pages",
            "stat_cla": "total_increasing",
            "ic": "mdi:counter",
            "val_tpl": f"{{{{ value_json.counters.{counter} | default(None) }}}}",
        }
    components[f"{pid}_status"] = {
        "p": "sensor",
        "uniq_id": f"{pid}_status",
        "name": "Status",
        "dev_cla": "enum",
        "ops": STATUS_OPTIONS,
        "ic": "mdi:printer",
        "val_tpl": "{{ value_json.status }}",
        "json_attr_tpl": (
            "{{ {'errors': value_json.errors, 'device_status': value_json.device_status,"
            " 'printer_status': value_json.printer_status,"
            " 'alerts': value_json.alerts | map(attribute='description') | list} | tojson }}"
        ),
        "json_attr_t": state_topic,
    }
    components[f"{pid}_problem"] = {
        "p": "binary_sensor",
        "uniq_id": f"{pid}_problem",
        "name": "Problem",
        "dev_cla": "problem",
        "val_tpl": "{{ 'ON' if value_json.problem else 'OFF' }}",
    }
    for name, field_name, unit in NETWORK_SENSORS:
        components[f"{pid}_network_{field_name}"] = {
            "p": "sensor",
            "uniq_id": f"{pid}_network_{field_name}",
            "name": name,
            "ent_cat": "diagnostic",
            "stat_t": topics.agent_state,
            "ic": "mdi:lan",
            "val_tpl": (
                f"{{{{ (value_json.network['{pid}'] | default({{}})).{field_name} | default(None) }}}}"
            ),
            **unit,
        }
    return device, components


# Per-printer network cost, read from the agent's state topic (one message per cycle for all).
NETWORK_SENSORS: tuple[tuple[str, str, dict[str, str]], ...] = (
    (
        "SNMP bytes per poll",
        "last_poll_bytes",
        {"unit_of_meas": "B", "dev_cla": "data_size", "stat_cla": "measurement"},
    ),
    ("SNMP requests per poll", "last_poll_requests", {"stat_cla": "measurement"}),
    (
        "SNMP bytes total",
        "bytes",
        {"unit_of_meas": "B", "dev_cla": "data_size", "stat_cla": "total_increasing"},
    ),
)


COUNTER_NAMES = {
    "total": "Total pages",
    "mono": "Black and white pages",
    "color": "Colour pages",
    "duplex": "Duplex pages",
}


def _supply_components(pid: str, supply: Supply, name: str, state_topic: str) -> dict[str, dict[str, Any]]:
    base = f"{pid}_supply_{uid_part(supply.key)}"
    low_states = FULL_STATES if supply.receptacle else LOW_STATES
    states = ", ".join(f"'{s}'" for s in low_states)
    return {
        base: {
            "p": "sensor",
            "uniq_id": base,
            "name": name,
            "unit_of_meas": "%",
            "stat_cla": "measurement",
            "ic": _KIND_ICONS.get(supply.kind, "mdi:printer"),
            "val_tpl": _pick("supplies", supply.key, "percent"),
            "json_attr_t": state_topic,
            "json_attr_tpl": _row_attributes("supplies", supply.key),
        },
        f"{base}_alert": {
            "p": "binary_sensor",
            "uniq_id": f"{base}_alert",
            "name": f"{name} {'full' if supply.receptacle else 'low'}",
            "dev_cla": "problem",
            "val_tpl": (
                f"{{{{ 'ON' if ((value_json.supplies | selectattr('key', 'eq', '{supply.key}')"
                f" | map(attribute='state') | first) | default('unknown')) in [{states}] else 'OFF' }}}}"
            ),
        },
    }


def _reorder_components(pid: str, supply: Supply, name: str, topics: Topics) -> dict[str, dict[str, Any]]:
    """The reorder-point number, and one device trigger per event type, for one supply."""
    base = f"{pid}_supply_{uid_part(supply.key)}"
    # Home Assistant fills in the number; the rest is fixed JSON naming the supply.
    command = '{"reorder_point": {"supply": ' + json.dumps(supply.key) + ', "percent": {{ value | int }}}}'

    components: dict[str, dict[str, Any]] = {
        f"{base}_reorder_point": {
            "p": "number",
            "uniq_id": f"{base}_reorder_point",
            "name": f"{name} reorder point",
            "ent_cat": "config",
            "ic": "mdi:cart-arrow-down",
            "unit_of_meas": "%",
            "min": 0,
            "max": 100,
            "step": 1,
            "mode": "box",
            "cmd_t": topics.printer_set(pid),
            "cmd_tpl": command,
            "val_tpl": _pick("supplies", supply.key, "reorder_point"),
        }
    }
    for event in EVENT_TYPES:
        components[f"{base}_trigger_{event}"] = {
            "p": "device_automation",
            "automation_type": "trigger",
            "type": event,
            "subtype": name,
            "topic": topics.printer_event(pid),
            "payload": f"{event}:{supply.key}",
            "value_template": "{{ value_json.event_type }}:{{ value_json.supply }}",
        }
    return components


def _add_order_components(
    components: dict[str, dict[str, Any]], pid: str, supply: Supply, name: str, topics: Topics
) -> None:
    """While the integration is online: an order button, and catalog attributes on the sensor.

    The integration publishes, per printer, the supply rows of the state merged with what the
    catalog says (part number, price, lead time, storefront link) and the supply's last order, so
    the sensor's attributes come from that one topic and lose nothing of the state's row.
    """
    base = f"{pid}_supply_{uid_part(supply.key)}"
    components[base]["json_attr_t"] = topics.printer_catalog(pid)
    components[base]["json_attr_tpl"] = (
        f"{{{{ (value_json.supplies | default({{}}))[{json.dumps(supply.key)}]"
        " | default({}, true) | tojson }}"
    )
    components[f"{base}_order"] = {
        "p": "button",
        "uniq_id": f"{base}_order",
        "name": f"Order {name}",
        "ic": "mdi:cart-plus",
        "cmd_t": topics.printer_order(pid),
        "pl_prs": json.dumps({"supply": supply.key}),
        "avty": [{"t": topics.integration_status}],
    }


def _tray_components(pid: str, tray: Tray, name: str, state_topic: str) -> dict[str, dict[str, Any]]:
    base = f"{pid}_tray_{uid_part(tray.key)}"
    return {
        base: {
            "p": "sensor",
            "uniq_id": base,
            "name": name,
            "unit_of_meas": "%",
            "stat_cla": "measurement",
            "ic": "mdi:tray",
            "val_tpl": _pick("trays", tray.key, "percent"),
            "json_attr_t": state_topic,
            "json_attr_tpl": _row_attributes("trays", tray.key),
        }
    }


def agent_payload(topics: Topics) -> dict[str, Any]:
    """The agent's own device: discovery button and progress, poll-now button, fleet figures."""
    aid = f"agent_{topics.agent_id}"

    def command(name: str) -> str:
        return json.dumps({"command": name})

    components: dict[str, dict[str, Any]] = {
        f"{aid}_discover": {
            "p": "button",
            "uniq_id": f"{aid}_discover",
            "name": "Discover printers",
            "ic": "mdi:radar",
            "cmd_t": topics.agent_command,
            "pl_prs": command("discover"),
        },
        f"{aid}_poll_now": {
            "p": "button",
            "uniq_id": f"{aid}_poll_now",
            "name": "Poll now",
            "ic": "mdi:refresh",
            "cmd_t": topics.agent_command,
            "pl_prs": command("poll_now"),
        },
        f"{aid}_discovery_running": {
            "p": "binary_sensor",
            "uniq_id": f"{aid}_discovery_running",
            "name": "Discovery running",
            "dev_cla": "running",
            "val_tpl": "{{ 'ON' if value_json.discovery.running else 'OFF' }}",
        },
        f"{aid}_discovery_progress": {
            "p": "sensor",
            "uniq_id": f"{aid}_discovery_progress",
            "name": "Discovery progress",
            "unit_of_meas": "%",
            "ic": "mdi:progress-clock",
            "val_tpl": "{{ value_json.discovery.progress }}",
            "json_attr_t": topics.agent_state,
            "json_attr_tpl": "{{ value_json.discovery | tojson }}",
        },
        f"{aid}_printers": {
            "p": "sensor",
            "uniq_id": f"{aid}_printers",
            "name": "Printers monitored",
            "ic": "mdi:printer-check",
            "stat_cla": "measurement",
            "val_tpl": "{{ value_json.printers_monitored }}",
        },
        f"{aid}_cycle_bytes": {
            "p": "sensor",
            "uniq_id": f"{aid}_cycle_bytes",
            "name": "SNMP bytes per poll cycle",
            "ent_cat": "diagnostic",
            "unit_of_meas": "B",
            "dev_cla": "data_size",
            "stat_cla": "measurement",
            "val_tpl": "{{ value_json.last_cycle.bytes | default(None) }}",
        },
        f"{aid}_cycle_seconds": {
            "p": "sensor",
            "uniq_id": f"{aid}_cycle_seconds",
            "name": "Poll cycle duration",
            "ent_cat": "diagnostic",
            "unit_of_meas": "s",
            "dev_cla": "duration",
            "stat_cla": "measurement",
            "val_tpl": "{{ value_json.last_cycle.seconds | default(None) }}",
        },
    }
    return {
        "dev": {
            "ids": [f"printer_supplies_{aid}"],
            "name": f"Printer Supplies agent {topics.agent_id}",
            "mf": "Printer Supplies",
            "mdl": "SNMP agent",
            "sw": __version__,
        },
        "o": ORIGIN,
        "stat_t": topics.agent_state,
        "avty": [{"t": topics.agent_availability}],
        "qos": 1,
        "cmps": components,
    }
