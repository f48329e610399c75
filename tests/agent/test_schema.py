"""The MQTT contract: state JSON and discovery payloads against docs/schemas, templates against state.

A simulated fleet (snmpsim, the demo printers) is polled over real SNMP with the real reader, once
as started and once after some printing (which raises low/empty alerts), and every snapshot and
discovery payload is checked against the published JSON Schemas. The discovery templates are then
rendered with Jinja2 against the state JSON, the way Home Assistant renders them.
"""

from __future__ import annotations

import asyncio
import copy
import json
import random
import re
from pathlib import Path
from typing import Any, get_args

import pytest
from conftest import sim_network
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jsonschema import Draft202012Validator

from mqtt_agent import ha_discovery, mib
from mqtt_agent.events import EVENT_TYPES
from mqtt_agent.model import PrinterSnapshot, PrinterStatus, SupplyKind, SupplyState
from mqtt_agent.reader import PrinterReader
from mqtt_agent.simulator import SnmpSimulator, demo_fleet
from mqtt_agent.snmp import SnmpClient, SnmpTarget
from mqtt_agent.topics import Topics

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"
LOW = ("low", "empty")
FULL = ("nearly_full", "full")


def _load(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


STATE_SCHEMA = _load("printer-state.schema.json")
DISCOVERY_SCHEMA = _load("discovery.schema.json")
STATE = Draft202012Validator(STATE_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
DISCOVERY = Draft202012Validator(DISCOVERY_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _errors(validator: Draft202012Validator, instance: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(instance)]


# --- the fleet --------------------------------------------------------------------------------


async def _poll_fleet() -> list[PrinterSnapshot]:
    fleet = demo_fleet(5, sim_network())
    sim = SnmpSimulator(fleet)
    try:
        sim.start()
    except RuntimeError as exc:  # snmpsim not installed
        pytest.skip(str(exc))
    client = SnmpClient()
    try:
        await sim.wait_ready()
        readers = [PrinterReader(client, SnmpTarget(p.address, p.port)) for p in fleet]
        snapshots = []
        for reader in readers:
            await reader.poll()  # static tables
            snapshots.append(await reader.poll())  # steady state: one GET
        rng = random.Random(3)
        for printer in fleet:
            printer.print_pages(400, rng)  # wears supplies down and raises alerts
            sim.write(printer)
        snapshots += [await reader.poll() for reader in readers]
        return snapshots
    finally:
        client.close()
        sim.stop()


@pytest.fixture(scope="module")
def snapshots() -> list[PrinterSnapshot]:
    return asyncio.run(_poll_fleet())


@pytest.fixture(scope="module")
def states(snapshots: list[PrinterSnapshot]) -> list[dict[str, Any]]:
    # Through a JSON round trip, as a subscriber receives it on the state topic.
    return [json.loads(json.dumps({**s.to_json(), "monitored": True})) for s in snapshots]


# --- the schemas themselves ------------------------------------------------------------------


@pytest.mark.parametrize("schema", [STATE_SCHEMA, DISCOVERY_SCHEMA], ids=["state", "discovery"])
def test_schemas_are_valid_draft_2020_12(schema: dict[str, Any]) -> None:
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_state_schema_enums_match_the_code() -> None:
    props = STATE_SCHEMA["properties"]
    defs = STATE_SCHEMA["$defs"]
    assert set(props["status"]["enum"]) == set(get_args(PrinterStatus))
    assert set(props["errors"]["items"]["enum"]) == set(mib.PRINTER_ERROR_BITS)
    assert set(props["device_status"]["enum"]) == {*mib.HR_DEVICE_STATUS_NAMES.values(), None}
    assert set(props["printer_status"]["enum"]) == {*mib.HR_PRINTER_STATUS_NAMES.values(), None}
    assert set(props["counter_unit"]["enum"]) == {*mib.COUNTER_UNITS.values(), None}
    supply = defs["supply"]["properties"]
    assert set(supply["state"]["enum"]) == set(get_args(SupplyState))
    assert set(supply["kind"]["enum"]) == set(get_args(SupplyKind))
    assert set(supply["type"]["enum"]) == {*mib.SUPPLY_TYPES.values(), None}
    assert set(supply["unit"]["enum"]) == {*mib.SUPPLY_UNITS.values(), None}
    assert set(supply["source"]["enum"]) == {"printer_mib", "brother_private"}
    tray = defs["tray"]["properties"]
    assert set(tray["state"]["enum"]) == set(get_args(SupplyState)) - set(FULL)
    assert set(tray["kind"]["enum"]) == {*mib.INPUT_TYPES.values(), None}
    assert set(tray["unit"]["enum"]) == {*mib.CAPACITY_UNITS.values(), None}
    alert = defs["alert"]["properties"]
    assert set(alert["severity"]["enum"]) == set(mib.ALERT_SEVERITIES.values())
    assert set(alert["group"]["enum"]) == {*mib.ALERT_GROUPS.values(), None}
    assert set(alert["training_level"]["enum"]) == {*mib.ALERT_TRAINING_LEVELS.values(), None}


# --- state ------------------------------------------------------------------------------------


def test_fleet_covers_the_interesting_cases(states: list[dict[str, Any]]) -> None:
    """Guards the other tests against a fleet that no longer exercises what they check."""
    supplies = [s for state in states for s in state["supplies"]]
    assert len(states) == 10
    assert {s["state"] for s in supplies} >= {"ok", "low", "empty", "some_remaining"}
    assert any(s["percent"] is None for s in supplies)
    assert any(s["receptacle"] for s in supplies)
    assert any(s["source"] == "brother_private" for s in supplies)
    assert any(state["alerts"] for state in states)
    assert any(a["supply_key"] for state in states for a in state["alerts"])
    assert all(state["trays"] and state["counters"] for state in states)


def test_states_validate(states: list[dict[str, Any]]) -> None:
    for state in states:
        assert _errors(STATE, state) == [], state["id"]


def test_state_keys_are_exactly_the_documented_ones(states: list[dict[str, Any]]) -> None:
    """Every key is always present, and none is undocumented (the top level is open for consumers)."""
    documented = set(STATE_SCHEMA["properties"]) - {"traffic"}
    # `monitored` is added by the publisher on the MQTT state topic; `poll --json` has no such notion.
    assert set(STATE_SCHEMA["required"]) == documented - {"monitored"}
    for state in states:
        assert set(state) == documented, state["id"]


def test_poll_json_traffic_is_allowed(states: list[dict[str, Any]]) -> None:
    body = {**states[0], "traffic": {"requests": 1, "bytes": 812}}
    assert _errors(STATE, body) == []


def _mutations() -> list[tuple[str, Any]]:
    def supply(field: str, value: Any) -> Any:
        def apply(state: dict[str, Any]) -> None:
            state["supplies"][0][field] = value

        return apply

    def top(field: str, value: Any) -> Any:
        def apply(state: dict[str, Any]) -> None:
            state[field] = value

        return apply

    def drop(field: str) -> Any:
        def apply(state: dict[str, Any]) -> None:
            del state[field]

        return apply

    def extra_supply_key(state: dict[str, Any]) -> None:
        state["supplies"][0]["colour"] = "black"

    def number_without_state(state: dict[str, Any]) -> None:
        state["supplies"][0].update(state="some_remaining", percent=50)

    return [
        ("percent as text", supply("percent", "70%")),
        ("percent above 100", supply("percent", 101)),
        ("unknown supply state", supply("state", "almost_empty")),
        ("unknown kind", supply("kind", "paper")),
        ("receptacle as text", supply("receptacle", "yes")),
        ("misspelt supply key", extra_supply_key),
        ("some_remaining with a number", number_without_state),
        ("unknown status", top("status", "sleeping")),
        ("status missing", drop("status")),
        ("supplies missing", drop("supplies")),
        ("negative counter", top("counters", {"total": -1})),
        ("unknown error bit", top("errors", ["toner_on_fire"])),
        ("bad mac", top("mac", "A0-8C-FD-12-34-56")),
        ("tray state full", lambda s: s["trays"][0].update(state="full")),
    ]


@pytest.mark.parametrize(("label", "mutate"), _mutations(), ids=[m[0] for m in _mutations()])
def test_mutated_state_fails(states: list[dict[str, Any]], label: str, mutate: Any) -> None:
    state = copy.deepcopy(next(s for s in states if s["supplies"] and s["trays"]))
    assert _errors(STATE, state) == []
    mutate(state)
    assert _errors(STATE, state), label


# --- discovery --------------------------------------------------------------------------------


def _uid(printer_id: str, collection: str, key: str) -> str:
    # The documented rule: every character of the key that is not alphanumeric becomes "_".
    return f"{printer_id}_{collection}_{re.sub(r'[^0-9A-Za-z]', '_', key)}"


def test_discovery_validates(snapshots: list[PrinterSnapshot]) -> None:
    topics = Topics()
    for snapshot, integration in [(s, i) for s in snapshots for i in (False, True)]:
        payload = json.loads(json.dumps(ha_discovery.build(snapshot, topics, integration=integration)))
        assert _errors(DISCOVERY, payload) == [], snapshot.id
        assert payload["stat_t"] == topics.printer_state(snapshot.id)
        assert [a["t"] for a in payload["avty"]] == [
            topics.agent_availability,
            topics.printer_availability(snapshot.id),
        ]
        assert payload["avty_mode"] == "all"
        assert payload["dev"]["ids"] == [f"printer_supplies_{snapshot.id}"]
        for key, component in payload["cmps"].items():
            if component["p"] == "device_automation":  # triggers have no entity, so no unique id
                assert component["automation_type"] == "trigger"
                assert component["topic"] == topics.printer_event(snapshot.id)
                continue
            if len(component) == 1:  # a removal marker
                assert not integration and key.endswith(("_order", "_last_order")), key
                continue
            assert component["uniq_id"] == key


def test_discovery_components_cover_the_state(snapshots: list[PrinterSnapshot]) -> None:
    for snapshot in snapshots:
        cmps = ha_discovery.build(snapshot, Topics())["cmps"]
        pid = snapshot.id
        expected = {f"{pid}_status", f"{pid}_problem"}
        for supply in snapshot.supplies:
            expected |= {_uid(pid, "supply", supply.key), _uid(pid, "supply", supply.key) + "_alert"}
        expected |= {_uid(pid, "tray", tray.key) for tray in snapshot.trays}
        expected |= {f"{pid}_counter_{name}" for name in snapshot.counters}
        expected |= {f"{pid}_network_{field}" for _name, field, _unit in ha_discovery.NETWORK_SENSORS}
        for supply in snapshot.supplies:
            expected.add(_uid(pid, "supply", supply.key) + "_reorder_point")
            expected |= {_uid(pid, "supply", supply.key) + f"_trigger_{e}" for e in EVENT_TYPES}
        if snapshot.supplies:
            expected.add(f"{pid}_supply_event")
        order = {_uid(pid, "supply", s.key) + "_order" for s in snapshot.supplies}
        if snapshot.supplies:
            order.add(f"{pid}_last_order")
        assert {k for k, c in cmps.items() if len(c) > 1} == expected
        # Order entities exist only while the integration is online; until then, removal markers.
        assert {k for k, c in cmps.items() if len(c) == 1} == order
        online = ha_discovery.build(snapshot, Topics(), integration=True)["cmps"]
        assert set(online) == expected | order and all(len(c) > 1 for c in online.values())
        names = [c["name"].lower() for c in online.values() if "name" in c]  # triggers have type/subtype
        assert len(names) == len(set(names)), "entity names must be unique within a device"


def test_discovery_with_other_topics_and_display_name(snapshots: list[PrinterSnapshot]) -> None:
    topics = Topics(base="site/a", discovery_prefix="ha", agent_id="branch-1")
    payload = ha_discovery.build(snapshots[0], topics, display_name="Reception")
    assert _errors(DISCOVERY, payload) == []
    assert payload["dev"]["name"] == "Reception"
    assert payload["avty"][0]["t"] == "site/a/agent/branch-1/availability"
    assert topics.discovery(snapshots[0].id) == f"ha/device/printer_supplies_{snapshots[0].id}/config"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p.pop("stat_t"),
        lambda p: p.pop("cmps"),
        lambda p: p["dev"].pop("ids"),
        lambda p: p.update(avty_mode="sometimes"),
        lambda p: p.update(qos=3),
        lambda p: next(iter(p["cmps"].values())).pop("uniq_id"),
        lambda p: next(iter(p["cmps"].values())).pop("val_tpl"),
        lambda p: next(iter(p["cmps"].values())).pop("p"),
        lambda p: p["avty"].append({"topic": "x"}),
        lambda p: p.update(stat_t="printer_supplies/printer/+/state"),
    ],
    ids=[
        "no stat_t",
        "no cmps",
        "no device ids",
        "bad avty_mode",
        "bad qos",
        "no uniq_id",
        "no val_tpl",
        "no platform",
        "avty without t",
        "wildcard topic",
    ],
)
def test_mutated_discovery_fails(snapshots: list[PrinterSnapshot], mutate: Any) -> None:
    payload = json.loads(json.dumps(ha_discovery.build(snapshots[0], Topics())))
    mutate(payload)
    assert _errors(DISCOVERY, payload)


# --- templates --------------------------------------------------------------------------------

ENV = ImmutableSandboxedEnvironment()
ENV.filters["tojson"] = json.dumps


def render(template: str, state: dict[str, Any]) -> str:
    return ENV.from_string(template).render(value_json=state).strip()


def _as_value(number: int | None) -> str:
    return "None" if number is None else str(number)


def test_templates_render_the_state(snapshots: list[PrinterSnapshot]) -> None:
    for snapshot in snapshots:
        state = json.loads(json.dumps(snapshot.to_json()))
        cmps = ha_discovery.build(snapshot, Topics())["cmps"]
        pid = snapshot.id
        for supply in state["supplies"]:
            sensor = cmps[_uid(pid, "supply", supply["key"])]
            assert render(sensor["val_tpl"], state) == _as_value(supply["percent"])
            assert json.loads(render(sensor["json_attr_tpl"], state)) == supply
            alert = cmps[_uid(pid, "supply", supply["key"]) + "_alert"]
            bad = FULL if supply["receptacle"] else LOW
            assert render(alert["val_tpl"], state) == ("ON" if supply["state"] in bad else "OFF")
        for tray in state["trays"]:
            sensor = cmps[_uid(pid, "tray", tray["key"])]
            assert render(sensor["val_tpl"], state) == _as_value(tray["percent"])
            assert json.loads(render(sensor["json_attr_tpl"], state)) == tray
        for name, value in state["counters"].items():
            rendered = render(cmps[f"{pid}_counter_{name}"]["val_tpl"], state)
            assert int(rendered) == value
        status = cmps[f"{pid}_status"]
        assert render(status["val_tpl"], state) == state["status"]
        assert render(status["val_tpl"], state) in status["ops"]
        assert json.loads(render(status["json_attr_tpl"], state)) == {
            "errors": state["errors"],
            "device_status": state["device_status"],
            "printer_status": state["printer_status"],
            "alerts": [a["description"] for a in state["alerts"]],
        }
        assert render(cmps[f"{pid}_problem"]["val_tpl"], state) == ("ON" if state["problem"] else "OFF")


def test_alert_sensor_follows_every_state(snapshots: list[PrinterSnapshot]) -> None:
    snapshot = next(s for s in snapshots if any(x.receptacle for x in s.supplies))
    cmps = ha_discovery.build(snapshot, Topics())["cmps"]
    for index, supply in enumerate(snapshot.supplies):
        template = cmps[_uid(snapshot.id, "supply", supply.key) + "_alert"]["val_tpl"]
        for value in get_args(SupplyState):
            state = json.loads(json.dumps(snapshot.to_json()))
            state["supplies"][index]["state"] = value
            bad = FULL if supply.receptacle else LOW
            assert render(template, state) == ("ON" if value in bad else "OFF"), (supply.key, value)


def test_templates_for_missing_rows_render_none(snapshots: list[PrinterSnapshot]) -> None:
    """A row or counter that left the state renders "None" (unknown in Home Assistant), never fails."""
    for snapshot in snapshots:
        cmps = ha_discovery.build(snapshot, Topics(), integration=True)["cmps"]
        empty = {**json.loads(json.dumps(snapshot.to_json())), "supplies": [], "trays": [], "counters": {}}
        for uid, component in cmps.items():
            if uid.endswith(("_status", "_problem")) or component["p"] == "button":
                continue
            if uid.endswith("_last_order"):  # reads the integration's catalog topic
                for catalog in ({}, {"last_order": None}):
                    assert render(component["val_tpl"], catalog) == "None"
                    assert json.loads(render(component["json_attr_tpl"], catalog)) == {}
                assert render(component["val_tpl"], {"last_order": {"status": "shipped"}}) == "shipped"
                continue
            if component.get("json_attr_t", "").endswith("/catalog"):  # the supply's catalog row
                assert json.loads(render(component["json_attr_tpl"], {})) == {}, uid
                assert json.loads(render(component["json_attr_tpl"], {"supplies": {}})) == {}, uid
                component = {k: v for k, v in component.items() if k != "json_attr_tpl"}
            if "_network_" in uid:  # reads the agent's state topic: a printer it has no figures for
                assert render(component["val_tpl"], {"network": {}}) == "None", uid
                continue
            if component["p"] in ("device_automation", "event"):  # read the event topic, tested apart
                continue
            expected = "OFF" if component["p"] == "binary_sensor" else "None"
            assert render(component["val_tpl"], empty) == expected, uid
            if "json_attr_tpl" in component:
                assert json.loads(render(component["json_attr_tpl"], empty)) == {}, uid


def test_null_percent_renders_none(snapshots: list[PrinterSnapshot]) -> None:
    snapshot = snapshots[0]
    state = json.loads(json.dumps(snapshot.to_json()))
    cmps = ha_discovery.build(snapshot, Topics())["cmps"]
    for row in state["supplies"] + state["trays"]:
        row["percent"] = None
    for supply in state["supplies"]:
        assert render(cmps[_uid(snapshot.id, "supply", supply["key"])]["val_tpl"], state) == "None"
    for tray in state["trays"]:
        assert render(cmps[_uid(snapshot.id, "tray", tray["key"])]["val_tpl"], state) == "None"


def test_trigger_templates_match_event_payloads(snapshots: list[PrinterSnapshot]) -> None:
    """A device trigger fires when its template, applied to an event, gives its payload."""
    from mqtt_agent.events import SupplyEvent

    snapshot = snapshots[0]
    cmps = ha_discovery.build(snapshot, Topics())["cmps"]
    triggers = [c for c in cmps.values() if c["p"] == "device_automation"]
    assert len(triggers) == len(snapshot.supplies) * len(EVENT_TYPES)
    for supply in snapshot.supplies:
        for event in EVENT_TYPES:
            payload = SupplyEvent(event, snapshot.id, supply).to_json("2026-11-25T10:00:00+00:00")
            firing = [t for t in triggers if render(t["value_template"], payload) == t["payload"]]
            assert [(t["type"], t["payload"]) for t in firing] == [(event, f"{event}:{supply.key}")]
