"""Config flow, options and reconfigure: every path, against the real supplies cloud over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from cloud_support import CloudService, SiteKey
from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printer_supplies.const import DOMAIN

PREFS = {"reorder_point": 25, "notify_targets": [], "approval": True, "auto_order": False}


async def _start(hass: HomeAssistant) -> dict[str, Any]:
    return await hass.config_entries.flow.async_init(DOMAIN, context={"source": config_entries.SOURCE_USER})


async def test_mqtt_missing_aborts(hass: HomeAssistant) -> None:
    result = await _start(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "mqtt_missing"


async def test_without_cloud(hass: HomeAssistant, mqtt_mock: Any) -> None:
    result = await _start(hass)
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "user"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"base_topic": "printer_supplies"}
    )
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "preferences"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], PREFS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Printer Supplies"
    assert result["data"] == {"base_topic": "printer_supplies"}
    assert result["options"] == PREFS
    entry = result["result"]
    assert entry.unique_id == "printer_supplies"
    await hass.async_block_till_done()
    assert entry.state is config_entries.ConfigEntryState.LOADED

    # The same base topic twice: refused.
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"base_topic": "printer_supplies/"}
    )
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "already_configured"


async def test_with_cloud_validates_the_key(
    hass: HomeAssistant, mqtt_mock: Any, cloud_service: CloudService, site: SiteKey
) -> None:
    result = await _start(hass)
    url = cloud_service.base_url
    cases = [
        ({"cloud_url": url, "api_key": "psk_wrong"}, {"api_key": "invalid_auth"}),
        ({"cloud_url": "http://127.0.0.1:9", "api_key": site.key}, {"base": "cannot_connect"}),
        ({"cloud_url": url + "/nothing-here", "api_key": site.key}, {"base": "not_a_cloud"}),
        ({"cloud_url": "ftp://example.org", "api_key": site.key}, {"cloud_url": "invalid_url"}),
        ({"cloud_url": url}, {"api_key": "key_required"}),
        ({"api_key": site.key}, {"cloud_url": "url_required"}),
    ]
    for data, errors in cases:
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"base_topic": "printer_supplies", **data}
        )
        assert result["type"] is FlowResultType.FORM and result["errors"] == errors, data
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"base_topic": "bad/#topic", "cloud_url": url, "api_key": site.key}
    )
    assert result["errors"] == {"base_topic": "invalid_topic"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"base_topic": "office", "cloud_url": url + "/", "api_key": f" {site.key} "}
    )
    assert result["step_id"] == "preferences"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], PREFS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"Printer Supplies ({site.name})"
    assert result["data"] == {"base_topic": "office", "cloud_url": url, "api_key": site.key}


async def test_preferences_refuse_bad_targets_and_auto_order_without_cloud(
    hass: HomeAssistant, mqtt_mock: Any
) -> None:
    hass.services.async_register("notify", "mobile_app_phone", lambda call: None)
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"base_topic": "printer_supplies"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**PREFS, "notify_targets": ["notify.nobody"]}
    )
    assert result["errors"] == {"notify_targets": "invalid_notify_target"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**PREFS, "notify_targets": ["light.kitchen"]}
    )
    assert result["errors"] == {"notify_targets": "invalid_notify_target"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {**PREFS, "auto_order": True})
    assert result["errors"] == {"auto_order": "auto_order_needs_cloud"}
    # The form offers the phone's notify action.
    options = result["data_schema"].schema["notify_targets"].config["options"]
    assert "notify.mobile_app_phone" in options
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**PREFS, "notify_targets": ["notify.mobile_app_phone"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"]["notify_targets"] == ["notify.mobile_app_phone"]


async def test_options_flow_reloads(
    hass: HomeAssistant, mqtt_mock: Any, cloud_service: CloudService, site: SiteKey
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="printer_supplies",
        data={"base_topic": "printer_supplies", "cloud_url": cloud_service.base_url, "api_key": site.key},
        options=PREFS,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    hub = entry.runtime_data
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "init"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**PREFS, "notify_targets": ["notify.ghost"]}
    )
    assert result["errors"] == {"notify_targets": "invalid_notify_target"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**PREFS, "reorder_point": 30, "auto_order": True, "approval": False}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options == {**PREFS, "reorder_point": 30, "auto_order": True, "approval": False}
    assert entry.state is config_entries.ConfigEntryState.LOADED
    assert entry.runtime_data is not hub  # reloaded with the new options
    assert entry.runtime_data.reorder_point == 30 and entry.runtime_data.auto_order


async def test_reconfigure(
    hass: HomeAssistant, mqtt_mock: Any, cloud_service: CloudService, site: SiteKey
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id="printer_supplies", data={"base_topic": "printer_supplies"}, options=PREFS
    )
    entry.add_to_hass(hass)
    other = MockConfigEntry(domain=DOMAIN, unique_id="branch", data={"base_topic": "branch"}, options=PREFS)
    other.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"base_topic": "printer_supplies", "cloud_url": cloud_service.base_url, "api_key": "psk_x"},
    )
    assert result["errors"] == {"api_key": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"base_topic": "branch"})
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "already_configured"

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"base_topic": "site_a", "cloud_url": cloud_service.base_url, "api_key": site.key},
    )
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.unique_id == "site_a"
    assert entry.data == {"base_topic": "site_a", "cloud_url": cloud_service.base_url, "api_key": site.key}
    assert entry.runtime_data.cloud is not None and entry.runtime_data.base == "site_a"


@pytest.mark.parametrize("cloud", [False, True])
async def test_setup_unload_reload(
    hass: HomeAssistant, mqtt_mock: Any, cloud: bool, cloud_service: CloudService, site: SiteKey
) -> None:
    data: dict[str, Any] = {"base_topic": "printer_supplies"}
    if cloud:
        data |= {"cloud_url": cloud_service.base_url, "api_key": site.key}
    entry = MockConfigEntry(domain=DOMAIN, unique_id="printer_supplies", data=data, options=PREFS)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    # Online (retained) with a cloud: the agent adds order entities to each printer. Without a
    # cloud there is nothing to order with: offline, no order buttons.
    mqtt_mock.async_publish.assert_any_call(
        "printer_supplies/integration/status", "online" if cloud else "offline", 1, True
    )
    assert {s for s in hass.services.async_services_for_domain(DOMAIN)} == {
        "place_order",
        "poll_now",
        "discover",
        "add_printer",
        "remove_printer",
    }
    mqtt_mock.async_publish.reset_mock()
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    # A reload does not take the order entities away (they keep their ids and settings).
    offline = [
        c
        for c in mqtt_mock.async_publish.call_args_list
        if c.args[:2] == ("printer_supplies/integration/status", "offline")
    ]
    assert not offline or not cloud
    assert await hass.config_entries.async_set_disabled_by(
        entry.entry_id, config_entries.ConfigEntryDisabler.USER
    )
    await hass.async_block_till_done()
    mqtt_mock.async_publish.assert_any_call("printer_supplies/integration/status", "offline", 1, True)
    assert entry.state is config_entries.ConfigEntryState.NOT_LOADED


async def test_removal_clears_retained_topics(hass: HomeAssistant, mqtt_mock: Any) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id="printer_supplies", data={"base_topic": "printer_supplies"}, options=PREFS
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    mqtt_mock.async_publish.assert_any_call("printer_supplies/integration/status", "", 1, True)
