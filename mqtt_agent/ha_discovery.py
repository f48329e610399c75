"""Home Assistant MQTT discovery: one device-based payload per printer.

Every entity reads the printer's single retained JSON state topic and picks its value out with a
template keyed by the supply/tray key (never by list position, so reordered rows cannot swap
values). Abbreviated keys are Home Assistant's own; ``object_id``/``default_entity_id`` are left
out on purpose (see docs/home-assistant-notes in the architecture page): entity ids follow from the
device and entity names on every Home Assistant version.
"""

from __future__ import annotations

from typing import Any

from . import __version__
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


def discovery_payload(
    snapshot: PrinterSnapshot, topics: Topics, display_name: str | None = None
) -> dict[str, Any]:
    """The device-based discovery payload for one printer."""
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
    supply_names = _unique_names([s.name for s in snapshot.supplies])
    for supply, name in zip(snapshot.supplies, supply_names, strict=True):
        components.update(_supply_components(pid, supply, name, state_topic))
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
    return {
        "dev": device,
        "o": ORIGIN,
        "stat_t": state_topic,
        "avty": [{"t": topics.agent_availability}, {"t": topics.printer_availability(pid)}],
        "avty_mode": "all",
        "qos": 1,
        "cmps": components,
    }


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


def build(snapshot: PrinterSnapshot, topics: Topics, display_name: str | None = None) -> dict[str, Any]:
    return discovery_payload(snapshot, topics, display_name)
