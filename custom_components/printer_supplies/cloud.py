"""Client of the supplies cloud API (docs/cloud-api.yaml), over Home Assistant's shared httpx client.

``get_async_client`` gives the client Home Assistant configures (its proxy settings, its CA
bundle); this module only adds the bearer key, timeouts, and retries that cannot double an order:
a retried order carries the same ``Idempotency-Key``, and the service answers a repeat with the
order it made the first time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from homeassistant.core import HomeAssistant
from homeassistant.helpers.httpx_client import get_async_client

_LOGGER = logging.getLogger(__name__)

TIMEOUT = 10.0
ATTEMPTS = 3
RETRY_STATUSES = (429, 502, 503, 504, 500)
MAX_RETRY_AFTER = 10.0


class CloudError(Exception):
    """The supplies cloud could not be used; ``reason`` is a translation key."""

    def __init__(
        self, reason: str, detail: str = "", status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail or reason
        self.status = status
        self.retry_after = retry_after


class CloudAuthError(CloudError):
    """The API key was refused (401)."""


@dataclass(slots=True)
class CloudClient:
    hass: HomeAssistant
    url: str
    api_key: str
    # Seconds between attempts grow from this (tests make it small).
    backoff: float = 1.0
    timeout: float = TIMEOUT
    # Told the outcome of every request: None when the cloud answered, else the error.
    listener: Callable[[CloudError | None], None] | None = None

    def _tell(self, error: CloudError | None) -> None:
        if self.listener is not None:
            self.listener(error)

    @property
    def _base(self) -> str:
        return self.url.rstrip("/") + "/api/v1"

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        retry: bool = True,
    ) -> httpx.Response:
        client = get_async_client(self.hass)
        all_headers = {"Authorization": f"Bearer {self.api_key}", "Accept": "application/json"}
        all_headers.update(headers or {})
        attempts = ATTEMPTS if retry else 1
        last: CloudError | None = None
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(self._delay(attempt, last))
            try:
                response = await client.request(
                    method,
                    self._base + path,
                    params=params,
                    json=json,
                    headers=all_headers,
                    timeout=self.timeout,
                )
            except httpx.TimeoutException as exc:
                last = CloudError("timeout", f"no answer from {self.url} within {self.timeout:g} s: {exc!r}")
                continue
            except (httpx.HTTPError, OSError) as exc:
                last = CloudError("cannot_connect", f"cannot reach {self.url}: {exc}")
                continue
            if response.status_code == 401:
                refused = CloudAuthError("invalid_auth", "the supplies cloud refused the API key", 401)
                self._tell(refused)
                raise refused
            if response.status_code in RETRY_STATUSES:
                last = CloudError(
                    "server_error", _problem(response), response.status_code, _retry_after(response)
                )
                continue
            self._tell(None)  # it answered: reachable, whatever it said
            if response.status_code >= 400:
                raise CloudError("request_refused", _problem(response), response.status_code)
            return response
        assert last is not None
        _LOGGER.debug("%s %s failed after %d attempts: %s", method, path, attempts, last.detail)
        self._tell(last)
        raise last

    def _delay(self, attempt: int, last: CloudError | None) -> float:
        if last is not None and last.retry_after is not None:
            return min(last.retry_after, MAX_RETRY_AFTER)
        return self.backoff * (2 ** (attempt - 1))

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise CloudError("invalid_response", f"the supplies cloud sent no JSON: {exc}") from exc

    async def site(self) -> dict[str, Any]:
        """Who the key belongs to; also how the config flow checks URL and key."""
        data = self._json(await self._request("GET", "/site", retry=False))
        if not isinstance(data, dict) or "id" not in data:
            raise CloudError("invalid_response", "this URL does not answer like a supplies cloud")
        return data

    async def find_part(
        self, model: str, kind: str, color: str | None, part_number: str | None
    ) -> dict[str, Any] | None:
        """The best catalog match for one supply of a model, or None."""
        params = {"model": model[:120], "kind": kind}
        if color:
            params["color"] = color[:32]
        if part_number:
            params["part_number"] = part_number[:64]
        data = self._json(await self._request("GET", "/catalog", params=params))
        matches = data.get("matches") if isinstance(data, dict) else None
        return matches[0] if matches else None

    async def create_order(self, body: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        """Place an order (or get back the one this key already placed)."""
        response = await self._request(
            "POST", "/orders", json=body, headers={"Idempotency-Key": idempotency_key}
        )
        order = self._json(response)
        if not isinstance(order, dict) or "id" not in order:
            raise CloudError("invalid_response", "the order answer has no id")
        return order

    async def get_order(self, order_id: str) -> dict[str, Any]:
        data = self._json(await self._request("GET", f"/orders/{order_id}"))
        if not isinstance(data, dict):
            raise CloudError("invalid_response", "the order answer is not an object")
        return data

    async def sync_fleet(self, body: dict[str, Any]) -> dict[str, Any]:
        data = self._json(await self._request("POST", "/fleet/sync", json=body))
        return data if isinstance(data, dict) else {}

    async def eligibility(self, printer_id: str) -> dict[str, Any]:
        data = self._json(await self._request("GET", f"/printers/{printer_id}/eligibility"))
        return data if isinstance(data, dict) else {}


def _problem(response: httpx.Response) -> str:
    """The RFC 9457 problem's title and detail, else the status line."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and (body.get("title") or body.get("detail")):
        text = ": ".join(str(body[k]) for k in ("title", "detail") if body.get(k))
        return f"{response.status_code} {text}"
    return f"{response.status_code} {response.reason_phrase}"


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
