"""The cloud client against the real supplies cloud when things go wrong: 4xx, 5xx, timeouts, lost
answers, restarts. Never a doubled order.

Faults come from a small HTTP proxy in front of the real service. It answers 503 itself, hangs, or
forwards a request and then loses the answer. Behind it the service is the real one; only the
network between is made unreliable.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from cloud_support import CloudService, SiteKey
from conftest import settle
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from pytest_homeassistant_custom_component.common import MockConfigEntry
from test_hub import BASE, OPTIONS, PID, Agent, agent_event, capture, count_orders, notifications

from custom_components.printer_supplies.const import DOMAIN


class FaultProxy:
    """Forwards to the service, except for the faults planned for the next requests.

    Modes: ``pass``; ``503`` (answered here, not forwarded); ``hang`` (never answers in time, not
    forwarded); ``lose`` (forwarded, the service acts on it, the answer is replaced by a 502);
    ``slow`` (forwarded, the answer held back beyond the client's timeout).
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.plan: list[str] = []
        self.seen: list[tuple[str, str, str]] = []
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._handlers: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self._session = aiohttp.ClientSession()

    async def stop(self) -> None:
        # Handlers still holding back an answer are cut short: nothing may outlive the test.
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def posts(self) -> list[str]:
        return [mode for method, path, mode in self.seen if method == "POST" and path.endswith("/orders")]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            return await self._answer(request)
        finally:
            self._handlers.discard(task)

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        is_order = request.method == "POST" and request.path.endswith("/orders")
        mode = self.plan.pop(0) if (self.plan and is_order) else "pass"
        self.seen.append((request.method, request.path, mode))
        if mode == "503":
            return web.json_response(
                {"title": "Service Unavailable", "status": 503}, status=503, headers={"Retry-After": "0"}
            )
        if mode == "hang":
            await asyncio.sleep(2)  # well past the client's timeout (0.5 s)
            return web.Response(status=504)
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with self._session.request(
            request.method, self.upstream + request.path_qs, headers=headers, data=await request.read()
        ) as answer:
            body = await answer.read()
            status, content_type = answer.status, answer.headers.get("Content-Type", "application/json")
        if mode == "lose":
            return web.Response(status=502, text="bad gateway")
        if mode == "slow":
            await asyncio.sleep(2)
        return web.Response(body=body, status=status, headers={"Content-Type": content_type})


@pytest.fixture
async def proxy(cloud_service: CloudService, socket_enabled: None) -> AsyncIterator[FaultProxy]:
    fault = FaultProxy(cloud_service.base_url)
    await fault.start()
    yield fault
    await fault.stop()


async def setup_entry(hass: HomeAssistant, mqtt_mock: Any, url: str, key: str) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=BASE,
        data={"base_topic": BASE, "cloud_url": url, "api_key": key},
        options=OPTIONS,
    )
    entry.add_to_hass(hass)
    agent = Agent(hass, mqtt_mock)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    cloud = entry.runtime_data.cloud
    cloud.backoff, cloud.timeout = 0.01, 0.5
    await agent.announce()
    await settle(hass)  # catalog lookups done
    return entry


async def order(hass: HomeAssistant, supply: str = "1.1") -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN, "place_order", {"printer_id": PID, "supply": supply}, blocking=True, return_response=True
    )
    return response["orders"][0]


async def test_5xx_is_retried(
    hass: HomeAssistant, mqtt_mock: Any, cloud_service: CloudService, site: SiteKey, proxy: FaultProxy
) -> None:
    await setup_entry(hass, mqtt_mock, proxy.url, site.key)
    proxy.plan = ["503", "503"]
    placed = await order(hass)
    assert placed["status"] == "pending"
    assert proxy.posts() == ["503", "503", "pass"]
    assert count_orders(cloud_service, site) == 1


async def test_a_lost_answer_does_not_order_twice(
    hass: HomeAssistant, mqtt_mock: Any, cloud_service: CloudService, site: SiteKey, proxy: FaultProxy
) -> None:
    await setup_entry(hass, mqtt_mock, proxy.url, site.key)
    proxy.plan = ["lose", "slow"]  # the service takes it twice; Home Assistant hears neither answer
    placed = await order(hass)
    assert proxy.posts() == ["lose", "slow", "pass"]
    assert count_orders(cloud_service, site) == 1  # the retries were replays of the first
    [only] = cloud_service.api(site.key).call("listOrders").json()["orders"]
    assert placed["id"] == only["id"]


async def test_timeouts_fail_clearly_and_the_order_goes_out_later_once(
    hass: HomeAssistant, mqtt_mock: Any, cloud_service: CloudService, site: SiteKey, proxy: FaultProxy
) -> None:
    entry = await setup_entry(hass, mqtt_mock, proxy.url, site.key)
    proxy.plan = ["hang", "slow", "hang"]  # the second attempt reached the service
    with pytest.raises(HomeAssistantError, match=r"within 0\.5 s"):
        await order(hass)
    assert count_orders(cloud_service, site) == 1
    [record] = entry.runtime_data.data["orders"].values()
    assert record["status"] == "failed" and record["order"] is None

    # Home Assistant restarts with the failed order in its store; the cloud is reachable again.
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await settle(hass)
    [record] = entry.runtime_data.data["orders"].values()
    assert record["status"] == "pending" and record["order"]["part_number"] == "W2030A"
    assert count_orders(cloud_service, site) == 1
    # And a press now finds that order.
    await Agent(hass, mqtt_mock).announce()
    assert (await order(hass))["already_ordered"] is True
    assert count_orders(cloud_service, site) == 1


async def test_4xx_refusals_are_reported_not_retried(
    hass: HomeAssistant, mqtt_mock: Any, cloud_service: CloudService, site: SiteKey, proxy: FaultProxy
) -> None:
    entry = await setup_entry(hass, mqtt_mock, proxy.url, site.key)
    hub = entry.runtime_data
    # The catalog row went away after it was looked up: the service refuses the part (422).
    printer = hub.printers[PID]
    cached = hub.data["catalog"][hub._catalog_key(printer, printer.supplies["1.2"])]
    cached["match"] = {**cached["match"], "part_number": "NO-SUCH-PART"}
    with pytest.raises(HomeAssistantError, match="422"):
        await order(hass, "1.2")
    assert proxy.posts() == ["pass"]  # no retry of a refusal
    assert not hub.data["orders"]  # nothing pending that could go out later

    # A revoked key (401): the error says so, and Home Assistant asks for a new key.
    cloud_service.revoke(site.key)
    with pytest.raises(HomeAssistantError, match="refused the API key"):
        await order(hass, "1.1")
    assert count_orders(cloud_service, site) == 0
    await hass.async_block_till_done()
    [flow] = [f for f in hass.config_entries.flow.async_progress() if f["handler"] == DOMAIN]
    assert flow["context"]["source"] == "reauth" and flow["step_id"] == "reauth_confirm"
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {"api_key": "psk_still_wrong"})
    assert result["errors"] == {"api_key": "invalid_auth"}
    new_key = cloud_service.add_key(site.site_id)
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {"api_key": new_key})
    assert result["type"] == "abort" and result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.data["api_key"] == new_key and entry.runtime_data.cloud.api_key == new_key


async def test_unreachable_cloud_at_setup_loses_nothing(
    hass: HomeAssistant, mqtt_mock: Any, cloud_service: CloudService, site: SiteKey, proxy: FaultProxy
) -> None:
    """The cloud is down while states and events arrive: notifications still go out."""
    await proxy.stop()
    entry = await setup_entry(hass, mqtt_mock, proxy.url, site.key)
    agent = Agent(hass, mqtt_mock)
    events = capture(hass, "printer_supplies_reorder_point")
    await agent.event(agent_event("reorder_point"))
    await settle(hass)
    assert len(events) == 1 and events[0].data["storefront_url"] is None
    assert [n for n in notifications(hass) if n.startswith(DOMAIN)]
    with pytest.raises(HomeAssistantError):
        await order(hass, "1.4")
    assert "cannot reach" in entry.runtime_data.last_error
