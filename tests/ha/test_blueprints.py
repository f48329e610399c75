"""The automation blueprints in blueprints/automation/printer_supplies, and docs/dashboard.yaml.

Each blueprint is installed the way Home Assistant finds it (a file under the configuration's
blueprints/automation folder), used by an automation, fed the integration's bus event and judged by
the actions it calls: fake notify actions, and for the approval blueprint a fake
``printer_supplies.place_order`` (the real action is tested in test_hub.py). An automation whose
blueprint does not validate is set up "unavailable", so each test first checks it is on.

While a run waits for an answer, ``hass.async_block_till_done()`` would wait with it (the run is a
task Home Assistant tracks), so those tests let the loop turn until the run listens instead.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse, callback
from homeassistant.core import valid_entity_id as is_valid_entity_id
from homeassistant.exceptions import HomeAssistantError
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from homeassistant.util import slugify
from homeassistant.util.yaml import load_yaml_dict
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from mqtt_agent import ha_discovery
from mqtt_agent.model import Identity, PrinterSnapshot, Supply
from mqtt_agent.topics import Topics

REPO = Path(__file__).resolve().parents[2]
BLUEPRINTS = REPO / "blueprints" / "automation" / "printer_supplies"
DASHBOARD = REPO / "docs" / "dashboard.yaml"

AUTOMATION = "automation.printer_supplies_test"
PRINTER = "HP Color LaserJet Pro M454dw"
STOREFRONT = "https://supplies.example.com/p/W2030A"
BLACK = {
    "printer_id": "hp_vnb3r12345",
    "printer": PRINTER,
    "device_id": "5f0c3b3a9d2e4e0f8a7b6c5d4e3f2a1b",
    "supply": "1.1",
    "supply_name": "Black Cartridge HP W2030A",
    "kind": "toner",
    "color": "black",
    "level": 9,
    "state": "low",
    "reorder_point": 10,
    "part_number": "W2030A",
    "storefront_url": STOREFRONT,
}
CYAN = {
    **BLACK,
    "supply": "1.2",
    "supply_name": "Cyan Cartridge HP W2031A",
    "color": "cyan",
    "level": 10,
    "part_number": "W2031A",
    "storefront_url": None,
}
ORDER = {
    "id": "ord_0123456789abcdef",
    "status": "placed",
    "part_number": "W2030A",
    "quantity": 2,
    "total_price": 89.9,
    "currency": "EUR",
}


@pytest.fixture
async def config_dir(hass: HomeAssistant, tmp_path: Path) -> AsyncIterator[Path]:
    """A configuration folder of this test's own holding the blueprints.

    The harness's ``hass`` uses a folder inside the installed test package, shared by every test.
    At the end the automation is turned off, which stops a run still waiting for an answer (only
    when a test failed half-way) before the teardown waits for everything to finish.
    """
    hass.config.config_dir = str(tmp_path)
    target = Path(hass.config.path("blueprints/automation/printer_supplies"))
    await hass.async_add_executor_job(shutil.copytree, BLUEPRINTS, target)
    yield tmp_path
    if hass.states.get(AUTOMATION) is not None:
        await hass.services.async_call("automation", "turn_off", {"entity_id": AUTOMATION}, blocking=True)
        await hass.async_block_till_done()


def record(hass: HomeAssistant, domain: str, service: str, **kwargs: Any) -> list[ServiceCall]:
    """Register a fake action that records its calls."""
    calls: list[ServiceCall] = []

    @callback
    def handler(call: ServiceCall) -> None:
        calls.append(call)

    hass.services.async_register(domain, service, handler, **kwargs)
    return calls


@pytest.fixture
def phone(hass: HomeAssistant) -> list[ServiceCall]:
    return record(hass, "notify", "mobile_app_phone")


@pytest.fixture
def no_script_errors(caplog: pytest.LogCaptureFixture) -> Callable[[], None]:
    """Fails on any warning or error the automation logged (bad templates, invalid actions, ...)."""

    def check() -> None:
        problems = [
            r.getMessage()
            for r in caplog.records
            if r.levelno >= logging.WARNING
            and r.name.startswith(("homeassistant.components.automation", "homeassistant.helpers"))
        ]
        assert problems == []

    return check


async def use_blueprint(hass: HomeAssistant, blueprint: str, inputs: dict[str, Any]) -> None:
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "id": "printer_supplies_test",
                "alias": "Printer supplies test",
                "use_blueprint": {"path": f"printer_supplies/{blueprint}", "input": inputs},
            }
        },
    )
    await hass.async_block_till_done()
    state = hass.states.get(AUTOMATION)
    assert state is not None
    assert state.state == STATE_ON, state  # "unavailable" when the blueprint does not validate


async def reorder_point(hass: HomeAssistant, data: dict[str, Any]) -> None:
    hass.bus.async_fire("printer_supplies_reorder_point", data)
    await hass.async_block_till_done()


async def settle(done: Callable[[], bool], what: str) -> None:
    """Let the event loop turn until ``done()``."""
    for _ in range(500):
        if done():
            return
        await asyncio.sleep(0)
    pytest.fail(f"gave up waiting for {what}")


def running(hass: HomeAssistant) -> int:
    state = hass.states.get(AUTOMATION)
    assert state is not None
    return int(state.attributes["current"])


# --- notify at the reorder point ----------------------------------------------------------------


@pytest.mark.usefixtures("config_dir")
async def test_notify_action(
    hass: HomeAssistant, phone: list[ServiceCall], no_script_errors: Callable[[], None]
) -> None:
    await use_blueprint(
        hass,
        "notify_reorder_point.yaml",
        {"notify_action": "notify.mobile_app_phone", "message_prefix": "[Office] "},
    )
    hass.bus.async_fire("printer_supplies_supply_low", BLACK)  # other events are not its business
    await reorder_point(hass, BLACK)

    assert [call.data for call in phone] == [
        {
            "title": f"{PRINTER}: Black Cartridge HP W2030A",
            "message": (
                "[Office] Black Cartridge HP W2030A is at 9 % (reorder point 10 %). Part W2030A."
                f" Order it at {STOREFRONT}"
            ),
        }
    ]
    assert running(hass) == 0
    no_script_errors()


@pytest.mark.usefixtures("config_dir")
async def test_notify_with_little_to_say(
    hass: HomeAssistant, phone: list[ServiceCall], no_script_errors: Callable[[], None]
) -> None:
    """No level, reorder point, part number or storefront: a short message, and no prefix by default."""
    await use_blueprint(hass, "notify_reorder_point.yaml", {"notify_action": "notify.mobile_app_phone"})
    await reorder_point(
        hass,
        {
            **BLACK,
            "supply": "1.5",
            "supply_name": "Waste Toner Box",
            "level": None,
            "reorder_point": None,
            "part_number": None,
            "storefront_url": None,
        },
    )

    assert [call.data for call in phone] == [
        {"title": f"{PRINTER}: Waste Toner Box", "message": "Waste Toner Box is low."}
    ]
    no_script_errors()


@pytest.mark.usefixtures("config_dir")
async def test_notify_entity(
    hass: HomeAssistant, phone: list[ServiceCall], no_script_errors: Callable[[], None]
) -> None:
    """A notify entity (rather than a notify action) gets notify.send_message."""
    hass.states.async_set("notify.office_display", "unknown")
    sent = record(hass, "notify", "send_message")
    await use_blueprint(hass, "notify_reorder_point.yaml", {"notify_action": "notify.office_display"})
    await reorder_point(hass, CYAN)

    assert [call.data for call in sent] == [
        {
            "entity_id": ["notify.office_display"],
            "title": f"{PRINTER}: Cyan Cartridge HP W2031A",
            "message": "Cyan Cartridge HP W2031A is at 10 % (reorder point 10 %). Part W2031A.",
        }
    ]
    assert phone == []
    no_script_errors()


# --- order with approval ------------------------------------------------------------------------


@pytest.fixture
def place_order(hass: HomeAssistant) -> list[ServiceCall]:
    """A stand-in for the integration's action, answering like it does."""
    calls: list[ServiceCall] = []

    @callback
    def handler(call: ServiceCall) -> ServiceResponse:
        calls.append(call)
        part = {"1.1": "W2030A", "1.2": "W2031A"}[call.data["supply"]]
        return {"orders": [{**ORDER, "part_number": part, "quantity": call.data["quantity"]}]}

    hass.services.async_register(
        "printer_supplies", "place_order", handler, supports_response=SupportsResponse.OPTIONAL
    )
    return calls


def listening(hass: HomeAssistant) -> int:
    """Listeners for the Companion app's button events: two (Order, Ignore) per waiting run."""
    return hass.bus.async_listeners().get("mobile_app_notification_action", 0)


async def ask(hass: HomeAssistant, data: dict[str, Any]) -> None:
    """The reorder-point event, and on until the run waits for the answer."""
    before = listening(hass)
    hass.bus.async_fire("printer_supplies_reorder_point", data)
    await settle(lambda: listening(hass) == before + 2, "the question")


async def answer(hass: HomeAssistant, action: str, *, others_waiting: int = 0) -> None:
    """What the Companion app fires when a notification's button is tapped; on until the runs that
    are not waiting for something else are done."""
    hass.bus.async_fire("mobile_app_notification_action", {"action": action, "device_id": "phone"})
    await settle(lambda: running(hass) == others_waiting, "the answered run")
    if not others_waiting:
        await hass.async_block_till_done()


async def turn(hass: HomeAssistant) -> None:
    """A few turns of the loop: time for a run to react to something, if it wrongly would."""
    for _ in range(20):
        await asyncio.sleep(0)


def buttons(call: ServiceCall) -> dict[str, str]:
    """The question's buttons: title -> action id."""
    return {button["title"]: button["action"] for button in call.data["data"]["actions"]}


@pytest.mark.usefixtures("config_dir")
async def test_approved_order(
    hass: HomeAssistant,
    phone: list[ServiceCall],
    place_order: list[ServiceCall],
    no_script_errors: Callable[[], None],
) -> None:
    await use_blueprint(
        hass, "order_with_approval.yaml", {"notify_action": "notify.mobile_app_phone", "quantity": 2}
    )
    await ask(hass, BLACK)

    [question] = phone
    assert question.data["title"] == f"{PRINTER}: Black Cartridge HP W2030A"
    assert question.data["message"] == "Black Cartridge HP W2030A is at 9 %. Order 2 × W2030A?"
    actions = buttons(question)
    assert list(actions) == ["Order", "Ignore"]
    tag = question.data["data"]["tag"]
    run = tag.removeprefix("printer_supplies_")
    assert run  # the run's context id
    assert actions == {
        "Order": f"PRINTER_SUPPLIES_BP_ORDER_{run}",
        "Ignore": f"PRINTER_SUPPLIES_BP_IGNORE_{run}",
    }
    assert question.data["data"]["url"] == question.data["data"]["clickAction"] == STOREFRONT
    assert place_order == []
    assert running(hass) == 1

    await answer(hass, actions["Order"])

    assert [call.data for call in place_order] == [
        {
            "printer_id": "hp_vnb3r12345",
            "supply": "1.1",
            "quantity": 2,
            "note": "Approved from a phone notification",
        }
    ]
    assert [call.data for call in phone[1:]] == [
        {
            "title": f"{PRINTER}: Black Cartridge HP W2030A",
            "message": "Ordered 2 × W2030A: order ord_0123456789abcdef, 89.90 EUR.",
            "data": {"tag": tag},  # in place of the question
        }
    ]
    assert running(hass) == 0
    no_script_errors()


@pytest.mark.usefixtures("config_dir")
async def test_ignored(
    hass: HomeAssistant,
    phone: list[ServiceCall],
    place_order: list[ServiceCall],
    no_script_errors: Callable[[], None],
) -> None:
    await use_blueprint(hass, "order_with_approval.yaml", {"notify_action": "notify.mobile_app_phone"})
    await ask(hass, CYAN)
    [question] = phone
    assert question.data["message"] == "Cyan Cartridge HP W2031A is at 10 %. Order 1 × W2031A?"
    assert "url" not in question.data["data"]  # no storefront known

    # Other notifications' buttons (here the integration's own approval) are not the answer.
    for other in ("PRINTER_SUPPLIES_APPROVE|entry|hp_vnb3r12345|1.2", "PRINTER_SUPPLIES_BP_ORDER_other"):
        hass.bus.async_fire("mobile_app_notification_action", {"action": other})
    await turn(hass)
    assert running(hass) == 1

    await answer(hass, buttons(question)["Ignore"])
    assert running(hass) == 0
    await answer(hass, buttons(question)["Order"])  # too late: nobody is listening any more

    assert place_order == []
    assert len(phone) == 1
    no_script_errors()


@pytest.mark.usefixtures("config_dir")
async def test_no_answer(
    hass: HomeAssistant,
    phone: list[ServiceCall],
    place_order: list[ServiceCall],
    no_script_errors: Callable[[], None],
) -> None:
    """After the timeout (12 hours unless set) nothing is ordered and the question is withdrawn."""
    await use_blueprint(hass, "order_with_approval.yaml", {"notify_action": "notify.mobile_app_phone"})
    await ask(hass, BLACK)
    [question] = phone

    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(hours=11, minutes=59))
    await turn(hass)
    assert running(hass) == 1
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(hours=12, seconds=1))
    await settle(lambda: running(hass) == 0, "the timeout")
    await hass.async_block_till_done()

    assert running(hass) == 0
    assert place_order == []
    assert [call.data for call in phone[1:]] == [
        {"message": "clear_notification", "data": {"tag": question.data["data"]["tag"]}}
    ]
    no_script_errors()


@pytest.mark.usefixtures("config_dir")
async def test_several_questions_at_once(
    hass: HomeAssistant,
    phone: list[ServiceCall],
    place_order: list[ServiceCall],
    no_script_errors: Callable[[], None],
) -> None:
    await use_blueprint(hass, "order_with_approval.yaml", {"notify_action": "notify.mobile_app_phone"})
    await ask(hass, BLACK)
    await ask(hass, CYAN)
    black, cyan = phone
    assert running(hass) == 2
    assert buttons(black)["Order"] != buttons(cyan)["Order"]

    await answer(hass, buttons(cyan)["Order"], others_waiting=1)
    assert [(call.data["supply"], call.data["quantity"]) for call in place_order] == [("1.2", 1)]
    assert phone[2].data["message"] == "Ordered 1 × W2031A: order ord_0123456789abcdef, 89.90 EUR."
    await answer(hass, buttons(black)["Ignore"])

    assert len(place_order) == 1
    assert running(hass) == 0
    no_script_errors()


@pytest.mark.usefixtures("config_dir")
async def test_order_fails(hass: HomeAssistant, phone: list[ServiceCall]) -> None:
    """The phone hears of a failed order too (the integration refuses, the cloud is down, ...)."""

    @callback
    def refuse(call: ServiceCall) -> ServiceResponse:
        raise HomeAssistantError("The supplies cloud is not reachable")

    hass.services.async_register(
        "printer_supplies", "place_order", refuse, supports_response=SupportsResponse.OPTIONAL
    )
    await use_blueprint(hass, "order_with_approval.yaml", {"notify_action": "notify.mobile_app_phone"})
    await ask(hass, BLACK)
    await answer(hass, buttons(phone[0])["Order"])

    assert phone[1].data["message"] == "The order of W2030A failed; Settings → System → Logs says why."
    assert phone[1].data["data"] == {"tag": phone[0].data["data"]["tag"]}
    assert running(hass) == 0


# --- the example dashboard ----------------------------------------------------------------------


def entity_ids(node: Any) -> list[str]:
    """Every entity id a dashboard configuration names (entity, entities, target entity_id)."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("entity", "entity_id", "entities") and isinstance(value, str):
                found.append(value)
            elif key in ("entity_id", "entities") and isinstance(value, list):
                found.extend(v for v in value if isinstance(v, str))
            found.extend(entity_ids(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(entity_ids(item))
    return found


def hp_entity_ids() -> set[str]:
    """The entity ids Home Assistant gives the demo HP's MQTT entities (device name + entity name)."""
    toners = [("1.1", "black", "W2030A"), ("1.2", "cyan", "W2031A"), ("1.3", "magenta", "W2033A")]
    toners.append(("1.4", "yellow", "W2032A"))
    snapshot = PrinterSnapshot(
        id="hp_vnb3r12345",
        host="192.0.2.15",
        port=161,
        identity=Identity(
            vendor="HP",
            model="Color LaserJet Pro M454dw",
            serial="VNB3R12345",
            firmware=None,
            mac=None,
            sys_name=None,
            sys_descr=None,
            sys_object_id=None,
            location=None,
            device_id=None,
            printer_name=None,
        ),
        status="idle",
        device_status="running",
        printer_status="idle",
        errors=[],
        problem=False,
        supplies=[
            Supply(
                key=key,
                name=f"{color.capitalize()} Cartridge HP {part}",
                kind="toner",
                color=color,
                type="tonerCartridge",
                unit="percent",
                level=50,
                max_capacity=100,
                percent=50,
                state="ok",
                receptacle=False,
                part_number=part,
            )
            for key, color, part in toners
        ],
        trays=[],
        counters={},
        counter_unit=None,
        alerts=[],
    )
    payload = ha_discovery.build(snapshot, Topics(), integration=True)
    device = payload["dev"]["name"]
    assert device == PRINTER
    return {f"{c['p']}.{slugify(f'{device} {c["name"]}')}" for c in payload["cmps"].values() if c.get("name")}


async def test_dashboard(hass: HomeAssistant) -> None:
    config = await hass.async_add_executor_job(load_yaml_dict, str(DASHBOARD))
    [view] = config["views"]
    ids = set(entity_ids(view))
    assert ids
    for entity_id in ids:
        assert is_valid_entity_id(entity_id), entity_id
        assert entity_id.split(".")[0] in {"sensor", "button", "number", "event"}, entity_id
    # ... and named as Home Assistant names the agent's entities of that printer.
    known = hp_entity_ids()
    assert ids <= known, sorted(ids - known)
    for platform in ("sensor", "button", "number"):
        # every supply's level, order button and reorder point
        assert len([i for i in ids if i.startswith(platform) and "cartridge" in i]) == 4, platform
    assert {
        "sensor.hp_color_laserjet_pro_m454dw_last_order",
        "sensor.hp_color_laserjet_pro_m454dw_status",
    } <= ids

    # A button card presses its own button, and only after asking.
    cards = [card for section in view["sections"] for card in section["cards"]]
    presses = [card for card in cards if card["type"] == "button"]
    assert len(presses) == 4
    for card in presses:
        action = card["tap_action"]
        assert action["action"] == "perform-action"
        assert action["perform_action"] == "button.press"
        assert action["target"] == {"entity_id": card["entity"]}
        assert action["confirmation"]["text"]
    for card in cards:
        if card["type"] == "gauge":
            assert card["entity"].startswith("sensor.")
            assert card["severity"]["green"] > card["severity"]["yellow"] > card["severity"]["red"]
