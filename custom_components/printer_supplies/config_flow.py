"""Config flow: base topic and supplies cloud; options: reorder point, notifications, ordering."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigEntry, ConfigFlow, ConfigFlowResult, OptionsFlow
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import selector
from yarl import URL

from .cloud import CloudAuthError, CloudClient, CloudError
from .const import (
    CONF_API_KEY,
    CONF_APPROVAL,
    CONF_AUTO_ORDER,
    CONF_BASE_TOPIC,
    CONF_CLOUD_URL,
    CONF_NOTIFY_TARGETS,
    CONF_REORDER_POINT,
    DEFAULT_APPROVAL,
    DEFAULT_AUTO_ORDER,
    DEFAULT_BASE_TOPIC,
    DEFAULT_REORDER_POINT,
    DOMAIN,
)

TOPIC_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-/")


def _connection_schema(defaults: dict[str, Any]) -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_BASE_TOPIC, default=defaults.get(CONF_BASE_TOPIC, DEFAULT_BASE_TOPIC)): str,
            vol.Optional(
                CONF_CLOUD_URL, description={"suggested_value": defaults.get(CONF_CLOUD_URL)}
            ): selector.TextSelector(selector.TextSelectorConfig(type=selector.TextSelectorType.URL)),
            vol.Optional(
                CONF_API_KEY, description={"suggested_value": defaults.get(CONF_API_KEY)}
            ): selector.TextSelector(selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)),
        }
    )


def _options_schema(hass: HomeAssistant, defaults: dict[str, Any]) -> vol.Schema:
    targets = sorted(
        {state.entity_id for state in hass.states.async_all("notify")}
        | {f"notify.{name}" for name in hass.services.async_services_for_domain("notify")}
        - {"notify.send_message", "notify.persistent_notification", "notify.notify"}
    )
    return vol.Schema(
        {
            vol.Required(
                CONF_REORDER_POINT, default=defaults.get(CONF_REORDER_POINT, DEFAULT_REORDER_POINT)
            ): selector.NumberSelector(
                selector.NumberSelectorConfig(
                    min=0, max=100, step=1, unit_of_measurement="%", mode=selector.NumberSelectorMode.BOX
                )
            ),
            vol.Optional(
                CONF_NOTIFY_TARGETS, default=defaults.get(CONF_NOTIFY_TARGETS, [])
            ): selector.SelectSelector(
                selector.SelectSelectorConfig(options=targets, multiple=True, custom_value=True)
            ),
            vol.Required(CONF_APPROVAL, default=defaults.get(CONF_APPROVAL, DEFAULT_APPROVAL)): bool,
            vol.Required(CONF_AUTO_ORDER, default=defaults.get(CONF_AUTO_ORDER, DEFAULT_AUTO_ORDER)): bool,
        }
    )


async def _validate_connection(
    hass: HomeAssistant, data: dict[str, Any]
) -> tuple[dict[str, str], str | None]:
    """Errors per field, and the cloud site's name when the cloud answered."""
    errors: dict[str, str] = {}
    topic = data.get(CONF_BASE_TOPIC, "").strip().strip("/")
    if not topic or not set(topic) <= TOPIC_CHARS:
        errors[CONF_BASE_TOPIC] = "invalid_topic"
    url, key = (data.get(CONF_CLOUD_URL) or "").strip(), (data.get(CONF_API_KEY) or "").strip()
    if not url and not key:
        return errors, None
    if not url:
        errors[CONF_CLOUD_URL] = "url_required"
        return errors, None
    if not key:
        errors[CONF_API_KEY] = "key_required"
        return errors, None
    parsed = URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        errors[CONF_CLOUD_URL] = "invalid_url"
        return errors, None
    try:
        site = await CloudClient(hass, url, key).site()
    except CloudAuthError:
        errors[CONF_API_KEY] = "invalid_auth"
    except CloudError as err:
        errors["base"] = (
            "not_a_cloud" if err.reason in ("invalid_response", "request_refused") else "cannot_connect"
        )
    else:
        return errors, str(site.get("name") or "")
    return errors, None


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    cleaned = {CONF_BASE_TOPIC: data[CONF_BASE_TOPIC].strip().strip("/")}
    if (data.get(CONF_CLOUD_URL) or "").strip():
        cleaned[CONF_CLOUD_URL] = data[CONF_CLOUD_URL].strip().rstrip("/")
        cleaned[CONF_API_KEY] = data[CONF_API_KEY].strip()
    return cleaned


def _validate_options(hass: HomeAssistant, options: dict[str, Any], *, has_cloud: bool) -> dict[str, str]:
    errors: dict[str, str] = {}
    for target in options.get(CONF_NOTIFY_TARGETS, []):
        domain, _, name = target.partition(".")
        if domain != "notify" or not (hass.states.get(target) or hass.services.has_service("notify", name)):
            errors[CONF_NOTIFY_TARGETS] = "invalid_notify_target"
    if options.get(CONF_AUTO_ORDER) and not has_cloud:
        errors[CONF_AUTO_ORDER] = "auto_order_needs_cloud"
    return errors


class PrinterSuppliesConfigFlow(ConfigFlow, domain=DOMAIN):
    VERSION = 1

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}
        self._title = "Printer Supplies"

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> PrinterSuppliesOptionsFlow:
        return PrinterSuppliesOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        if not self.hass.config_entries.async_entries("mqtt"):
            return self.async_abort(reason="mqtt_missing")
        errors: dict[str, str] = {}
        if user_input is not None:
            errors, site = await _validate_connection(self.hass, user_input)
            if not errors:
                self._data = _clean(user_input)
                await self.async_set_unique_id(self._data[CONF_BASE_TOPIC])
                self._abort_if_unique_id_configured()
                if site:
                    self._title = f"Printer Supplies ({site})"
                return await self.async_step_preferences()
        return self.async_show_form(
            step_id="user", data_schema=_connection_schema(user_input or {}), errors=errors
        )

    async def async_step_preferences(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _validate_options(self.hass, user_input, has_cloud=CONF_CLOUD_URL in self._data)
            if not errors:
                return self.async_create_entry(
                    title=self._title, data=self._data, options=_options(user_input)
                )
        return self.async_show_form(
            step_id="preferences", data_schema=_options_schema(self.hass, user_input or {}), errors=errors
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The cloud refused the API key (revoked, replaced): ask for a new one."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**entry.data, CONF_API_KEY: user_input[CONF_API_KEY]}
            errors, _site = await _validate_connection(self.hass, data)
            if not errors:
                return self.async_update_reload_and_abort(entry, data=_clean(data))
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_API_KEY): selector.TextSelector(
                        selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
                    )
                }
            ),
            description_placeholders={"url": entry.data.get(CONF_CLOUD_URL, "")},
            errors=errors,
        )

    async def async_step_reconfigure(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            errors, _site = await _validate_connection(self.hass, user_input)
            if not errors:
                data = _clean(user_input)
                topic = data[CONF_BASE_TOPIC]
                if any(
                    other.unique_id == topic and other.entry_id != entry.entry_id
                    for other in self.hass.config_entries.async_entries(DOMAIN)
                ):
                    return self.async_abort(reason="already_configured")
                return self.async_update_reload_and_abort(entry, unique_id=topic, data=data)
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=_connection_schema(user_input or dict(entry.data)),
            errors=errors,
        )


def _options(user_input: dict[str, Any]) -> dict[str, Any]:
    return {
        CONF_REORDER_POINT: int(user_input[CONF_REORDER_POINT]),
        CONF_NOTIFY_TARGETS: list(user_input.get(CONF_NOTIFY_TARGETS, [])),
        CONF_APPROVAL: bool(user_input[CONF_APPROVAL]),
        CONF_AUTO_ORDER: bool(user_input[CONF_AUTO_ORDER]),
    }


class PrinterSuppliesOptionsFlow(OptionsFlow):
    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            has_cloud = CONF_CLOUD_URL in self.config_entry.data
            errors = _validate_options(self.hass, user_input, has_cloud=has_cloud)
            if not errors:
                return self.async_create_entry(data=_options(user_input))
        return self.async_show_form(
            step_id="init",
            data_schema=_options_schema(self.hass, user_input or dict(self.config_entry.options)),
            errors=errors,
        )
