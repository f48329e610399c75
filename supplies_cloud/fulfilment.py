"""Tells the dealer about orders: an e-mail on every new order, and an optional signed webhook.

Both run after the order is committed and neither may ever fail the request that made it: an
unreachable mail server or a broken webhook receiver is logged and the order stands. Nothing is
sent for what is not configured (no ``smtp_host`` or ``dealer_email``: no mail; no
``webhook_url``: no webhook).

The webhook body is signed with HMAC-SHA256 over the exact bytes sent (``X-Supplies-Signature:
sha256=<hex>``) so the receiver can check it came from this service; ``X-Supplies-Delivery`` stays
the same across retries so a receiver can drop duplicates.
"""

from __future__ import annotations

import asyncio
import json
import logging
import smtplib
import ssl
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import urlsplit

import httpx

from . import __version__
from .config import CloudSettings
from .security import sign

_LOG = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Supplies-Signature"
EVENT_HEADER = "X-Supplies-Event"
DELIVERY_HEADER = "X-Supplies-Delivery"


class Fulfilment:
    """Sends the new-order e-mail and the webhook events; never raises."""

    def __init__(
        self,
        settings: CloudSettings,
        *,
        attempts: int = 3,
        backoff: float = 0.5,
        timeout: float = 5.0,
        smtp_timeout: float = 10.0,
    ) -> None:
        self.settings = settings
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.timeout = timeout
        self.smtp_timeout = smtp_timeout

    async def order_created(self, order: dict[str, Any]) -> None:
        """E-mail the dealer and send ``order.created``. ``order`` is ``order_json`` (plus ``site``)."""
        await asyncio.gather(self._mail_new_order(order), self._webhook("order.created", order))

    async def order_status_changed(self, order: dict[str, Any]) -> None:
        """Send ``order.<status>`` (the integration polls for status; the dealer made the change)."""
        await self._webhook(f"order.{order.get('status', 'updated')}", order)

    # --- e-mail -----------------------------------------------------------------------------

    async def _mail_new_order(self, order: dict[str, Any]) -> None:
        settings = self.settings
        if not settings.smtp_host or not settings.dealer_email:
            return
        try:
            message = self.new_order_message(order)
            await asyncio.to_thread(self._send, message)
        except Exception as exc:  # the order is committed; a mail problem must not undo or fail it
            _LOG.warning(
                "new-order e-mail for %s to %s:%s failed: %s",
                order.get("id"),
                settings.smtp_host,
                settings.smtp_port,
                _describe(exc),
            )
        else:
            _LOG.info("new-order e-mail for %s sent to %s", order.get("id"), settings.dealer_email)

    def new_order_message(self, order: dict[str, Any]) -> EmailMessage:
        """The plain-text mail the dealer gets; public so it can be previewed and tested."""
        settings = self.settings
        site = _site_name(order)
        quantity = order.get("quantity", 1)
        part = order.get("part_number", "?")
        message = EmailMessage()
        message["Subject"] = _one_line(f"New order: {quantity} × {part} for {site}")
        message["From"] = settings.mail_from
        message["To"] = settings.dealer_email
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = make_msgid(domain=_mail_domain(settings.mail_from))
        printer = " / ".join(str(v) for v in (order.get("printer_model"), order.get("printer_id")) if v)
        lines = [
            f"{site} ordered a supply.",
            "",
            f"Order:       {order.get('id')}",
            f"Part:        {part} — {order.get('description', '')}",
            f"Quantity:    {quantity}",
            f"Price:       {_money(order.get('unit_price'), order.get('currency'))} each, "
            f"{_money(order.get('total_price'), order.get('currency'))} in total",
        ]
        if printer:
            lines.append(f"Printer:     {printer}")
        if order.get("supply_key"):
            lines.append(f"Supply:      {order['supply_key']}")
        if order.get("note"):
            lines.append(f"Note:        {order['note']}")
        lines += [
            f"Placed:      {order.get('created_at', '')} (via {order.get('source', 'api')})",
            "",
            f"Confirm and ship it on the dealer page: {settings.public_url}/dealer",
            "",
            f"— {settings.dealer_name}",
        ]
        message.set_content("\n".join(lines) + "\n")
        return message

    def _send(self, message: EmailMessage) -> None:
        settings = self.settings
        assert settings.smtp_host is not None
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=self.smtp_timeout) as smtp:
            smtp.ehlo()
            encrypted = False
            if settings.smtp_starttls and smtp.has_extn("starttls"):
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
                encrypted = True
            if settings.smtp_username:
                if settings.smtp_starttls and not encrypted:
                    # Asked for STARTTLS, the server did not offer it: never send the password in clear.
                    raise RuntimeError("the SMTP server does not offer STARTTLS; not logging in without it")
                password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                smtp.login(settings.smtp_username, password)
            smtp.send_message(message)

    # --- webhook ----------------------------------------------------------------------------

    async def _webhook(self, event: str, order: dict[str, Any]) -> None:
        settings = self.settings
        if not settings.webhook_url:
            return
        target = _safe_target(settings.webhook_url)
        try:
            body = json.dumps({"event": event, "order": order}, separators=(",", ":"), default=str)
            headers = {
                "Content-Type": "application/json",
                "User-Agent": f"supplies-cloud/{__version__}",
                EVENT_HEADER: event,
                DELIVERY_HEADER: uuid.uuid4().hex,
            }
            if settings.webhook_secret is not None:
                headers[SIGNATURE_HEADER] = "sha256=" + sign(settings.webhook_secret.get_secret_value(), body)
            async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as client:
                for attempt in range(1, self.attempts + 1):
                    outcome = await self._post(client, settings.webhook_url, body, headers)
                    if outcome is None:
                        _LOG.info("webhook %s for %s delivered to %s", event, order.get("id"), target)
                        return
                    retry = not outcome.startswith("HTTP 4") or outcome.startswith("HTTP 429")
                    _LOG.warning(
                        "webhook %s for %s to %s: attempt %d of %d failed: %s",
                        event,
                        order.get("id"),
                        target,
                        attempt,
                        self.attempts,
                        outcome,
                    )
                    if not retry:
                        break
                    if attempt < self.attempts:
                        await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
            _LOG.error("webhook %s for %s to %s was not delivered", event, order.get("id"), target)
        except Exception as exc:  # never let a webhook problem reach the request
            _LOG.error("webhook %s for %s to %s failed: %s", event, order.get("id"), target, _describe(exc))

    @staticmethod
    async def _post(client: httpx.AsyncClient, url: str, body: str, headers: dict[str, str]) -> str | None:
        """None when delivered (2xx), else why not."""
        try:
            response = await client.post(url, content=body.encode(), headers=headers)
        except httpx.HTTPError as exc:
            return _describe(exc)
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"


def _site_name(order: dict[str, Any]) -> str:
    site = order.get("site")
    if isinstance(site, dict) and site.get("name"):
        return str(site["name"])
    if isinstance(site, str) and site:
        return site
    return "A site"


def _money(amount: Any, currency: Any) -> str:
    try:
        return f"{float(amount):,.2f} {currency or ''}".strip()
    except (TypeError, ValueError):
        return "?"


def _one_line(text: str) -> str:
    """Header values from the database must not carry line breaks (header injection)."""
    return " ".join(text.split())


def _mail_domain(address: str) -> str | None:
    domain = address.rpartition("@")[2].strip(" >")
    return domain or None


def _safe_target(url: str) -> str:
    """The webhook URL without path, query or credentials, for logs (they may carry tokens)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "(unparsable URL)"
    return f"{parts.scheme}://{parts.hostname or '?'}" + (f":{port}" if port else "")


def _describe(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    return f"{exc.__class__.__name__}: {text}" if text != exc.__class__.__name__ else text
