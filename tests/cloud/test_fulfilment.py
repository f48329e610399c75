"""Fulfilment: the dealer's e-mail (through a local aiosmtpd) and the signed webhook.

First through the running service (an order placed on the storefront, a status changed on the
dealer page, no browser needed), then ``Fulfilment`` on its own for the failures: a mail server
that is down and a webhook receiver answering 500 must neither raise nor cost the order.
"""

# ruff: noqa: F811  (the fixtures imported from web_support are redefined as test arguments)

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from web_support import (  # fixtures are imported by name: see web_support's docstring
    DEALER_EMAIL,
    DEALER_PASSWORD,
    DEALER_USER,
    WEBHOOK_SECRET,
    Mailbox,
    Service,
    WebhookSink,
    closed_port,
    form_fields,
    running_webhook_sink,
    seed,
    service_settings,
    smtp_sink,  # noqa: F401
    start_server,
    stop_server,
    wait_for,
    web_service,  # noqa: F401
    webhook_sink,  # noqa: F401
)

from supplies_cloud.app import create_app
from supplies_cloud.config import CloudSettings
from supplies_cloud.fulfilment import Fulfilment
from supplies_cloud.models import Site


def signature_ok(body: bytes, header: str) -> bool:
    """What a webhook receiver does: recompute the HMAC over the raw body."""
    expected = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


def order_from_storefront(client: httpx.Client, link: str, quantity: int) -> str:
    page = client.get(link)
    assert page.status_code == 200
    fields = form_fields(page.text, "/store/") | {"quantity": str(quantity)}
    response = client.post(link.split("?", maxsplit=1)[0], data=fields)
    assert response.status_code == 303, response.text
    found = re.search(r"ordered=(ord_[0-9a-f]+)", response.headers["location"])
    assert found is not None
    return found.group(1)


def dealer_client(service: Service) -> tuple[httpx.Client, str]:
    """A signed-in httpx client and its CSRF token."""
    client = httpx.Client(base_url=service.base_url)
    fields = form_fields(client.get("/dealer/login").text, "/dealer/login")
    response = client.post(
        "/dealer/login", data=fields | {"username": DEALER_USER, "password": DEALER_PASSWORD}
    )
    assert response.status_code == 303
    return client, form_fields(client.get("/dealer").text, "/dealer/logout")["csrf"]


def test_a_new_order_mails_the_dealer_and_sends_a_signed_webhook(web_service: Service) -> None:
    service = web_service
    assert service.mailbox is not None and service.webhooks is not None
    site_id = service.add_site("Notariat Mitte")
    link = service.store_link(site_id, "W2031A", printer="front-desk", supply="toner.cyan")
    with httpx.Client() as client:
        order_id = order_from_storefront(client, link, 2)

    mails = wait_for(lambda: service.mailbox.about(order_id), what="the e-mail")
    time.sleep(0.2)  # a second mail would have arrived by now
    assert len(service.mailbox.about(order_id)) == 1
    mail = mails[0]
    site_name = _site_name(service, site_id)
    assert mail.recipients == [DEALER_EMAIL]
    assert mail.message["To"] == DEALER_EMAIL
    assert mail.message["From"] == "supplies@dealer.example"
    assert mail.message["Subject"] == f"New order: 2 × W2031A for {site_name}"
    for text in (order_id, "HP 415A Cyan Toner Cartridge", "Quantity:    2", "219.80 EUR", "front-desk"):
        assert text in mail.body, text
    assert f"{service.base_url}/dealer" in mail.body

    deliveries = wait_for(lambda: service.webhooks.about(order_id), what="the webhook")
    assert len(deliveries) == 1
    hook = deliveries[0]
    assert hook.path == "/hooks/supplies?token=not-for-logs"
    assert hook.headers["content-type"] == "application/json"
    assert hook.headers["x-supplies-event"] == "order.created"
    assert signature_ok(hook.body, hook.headers["x-supplies-signature"])
    assert not signature_ok(hook.body + b" ", hook.headers["x-supplies-signature"])
    event = hook.json
    assert event["event"] == "order.created"
    assert event["order"]["id"] == order_id
    assert event["order"]["status"] == "pending"
    assert event["order"]["quantity"] == 2
    assert event["order"]["site"] == {"id": site_id, "name": site_name}


def _site_name(service: Service, site_id: int) -> str:
    with service.app.state.db.session() as session:
        site = session.get(Site, site_id)
        assert site is not None
        return site.name


def test_status_changes_send_webhooks_and_shipping_carries_the_tracking_number(web_service: Service) -> None:
    service = web_service
    assert service.mailbox is not None and service.webhooks is not None
    site_id = service.add_site("Bauamt")
    with httpx.Client() as client:
        order_id = order_from_storefront(client, service.store_link(site_id, "W2030A"), 1)
    wait_for(lambda: service.webhooks.about(order_id, "order.created"), what="order.created")

    client, csrf = dealer_client(service)
    try:
        assert client.post(f"/dealer/orders/{order_id}/confirm", data={"csrf": csrf}).status_code == 303
        # Shipping without a tracking number is refused and sends nothing.
        refused = client.post(f"/dealer/orders/{order_id}/ship", data={"csrf": csrf, "carrier": "DHL"})
        assert refused.status_code == 422
        assert "tracking number" in refused.text
        shipped = client.post(
            f"/dealer/orders/{order_id}/ship",
            data={"csrf": csrf, "carrier": "DHL", "tracking_number": "JD0123456789"},
        )
        assert shipped.status_code == 303
        # Repeating a transition changes nothing and sends nothing.
        again = client.post(
            f"/dealer/orders/{order_id}/ship",
            data={"csrf": csrf, "carrier": "DHL", "tracking_number": "JD0123456789"},
        )
        assert again.status_code == 303
        # A move the state machine does not allow: 409, on the page.
        assert client.post(f"/dealer/orders/{order_id}/cancel", data={"csrf": csrf}).status_code == 409
    finally:
        client.close()

    hooks = wait_for(lambda: service.webhooks.about(order_id, "order.shipped"), what="order.shipped")
    time.sleep(0.2)
    assert [d.json["event"] for d in service.webhooks.about(order_id)] == [
        "order.created",
        "order.confirmed",
        "order.shipped",
    ]
    shipped_event = hooks[0]
    assert shipped_event.headers["x-supplies-event"] == "order.shipped"
    assert signature_ok(shipped_event.body, shipped_event.headers["x-supplies-signature"])
    assert shipped_event.json["order"]["shipment"] == {"carrier": "DHL", "tracking_number": "JD0123456789"}
    # What the integration's next status poll reads is the same order, tracking included.
    stored = service.order(order_id)
    assert (stored.status, stored.tracking_number) == ("shipped", "JD0123456789")
    assert [e.actor for e in stored.events] == [
        "storefront",
        f"dealer:{DEALER_USER}",
        f"dealer:{DEALER_USER}",
    ]
    assert len(service.mailbox.about(order_id)) == 1  # status changes are not mailed


def test_a_broken_mail_server_and_webhook_do_not_lose_the_order(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="supplies_cloud")
    with running_webhook_sink(status=500) as sink:

        def build(base_url: str) -> FastAPI:
            settings = service_settings(
                tmp_path,
                base_url,
                smtp_host="127.0.0.1",
                smtp_port=closed_port(),
                webhook_url=sink.url,
                webhook_secret=WEBHOOK_SECRET,
            )
            app = create_app(settings)
            app.state.fulfilment = Fulfilment(settings, backoff=0.05)  # the real one, retrying faster
            seed(app)
            return app

        app, server = start_server(build)
        service = Service(server.base_url, app, app.state.settings)
        try:
            site_id = service.add_site("Ingenieurbüro")
            link = service.store_link(site_id, "W2030A")
            with httpx.Client() as client:
                order_id = order_from_storefront(client, link, 1)
                assert order_id in client.get(link).text
            wait_for(lambda: "was not delivered" in caplog.text, what="the webhook failure in the log")
            wait_for(lambda: "new-order e-mail" in caplog.text, what="the mail failure in the log")
        finally:
            stop_server(server)
    assert [o.public_id for o in service.orders(site_id)] == [order_id]
    assert service.order(order_id).status == "pending"
    assert len(sink.deliveries) == 3
    assert all(signature_ok(d.body, d.headers["x-supplies-signature"]) for d in sink.deliveries)
    assert len({d.headers["x-supplies-delivery"] for d in sink.deliveries}) == 1  # one delivery, retried
    assert WEBHOOK_SECRET not in caplog.text
    assert "not-for-logs" not in caplog.text  # the webhook URL's query may hold a token


# --- Fulfilment on its own -------------------------------------------------------------------------------

ORDER: dict[str, Any] = {
    "id": "ord_00000000000000aa",
    "status": "pending",
    "part_number": "W2030A",
    "description": "HP 415A Black Toner Cartridge",
    "quantity": 1,
    "unit_price": 89.9,
    "total_price": 89.9,
    "currency": "EUR",
    "printer_id": None,
    "printer_model": None,
    "supply_key": None,
    "note": None,
    "source": "api",
    "shipment": None,
    "created_at": "2026-11-25T10:00:00+00:00",
    "updated_at": "2026-11-25T10:00:00+00:00",
    "history": [],
    "site": {"id": 1, "name": "Kanzlei\r\nBcc: evil@example.org"},
}


def settings_for(tmp_path: Path, **overrides: Any) -> CloudSettings:
    return service_settings(tmp_path, "http://127.0.0.1:9", **overrides)


async def test_nothing_configured_sends_nothing(
    tmp_path: Path, smtp_sink: Mailbox, webhook_sink: WebhookSink
) -> None:
    before = (len(smtp_sink.mails), len(webhook_sink.deliveries))
    fulfilment = Fulfilment(settings_for(tmp_path, dealer_email=None))
    await fulfilment.order_created(ORDER)
    await fulfilment.order_status_changed(ORDER | {"status": "shipped"})
    assert (len(smtp_sink.mails), len(webhook_sink.deliveries)) == before


async def test_header_injection_through_a_site_name_is_flattened(tmp_path: Path, smtp_sink: Mailbox) -> None:
    fulfilment = Fulfilment(settings_for(tmp_path, smtp_host="127.0.0.1", smtp_port=smtp_sink.port))
    order = ORDER | {"id": "ord_00000000000000ab"}
    await fulfilment.order_created(order)
    mail = wait_for(lambda: smtp_sink.about(order["id"]), what="the e-mail")[0]
    assert mail.recipients == [DEALER_EMAIL]
    assert mail.message["Subject"] == "New order: 1 × W2030A for Kanzlei Bcc: evil@example.org"
    assert mail.message["Bcc"] is None


async def test_a_mail_server_that_is_down_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(
        tmp_path, smtp_host="127.0.0.1", smtp_port=closed_port(), smtp_username="u", smtp_password="pw-secret"
    )
    await Fulfilment(settings, smtp_timeout=2).order_created(ORDER)
    assert "new-order e-mail for ord_00000000000000aa" in caplog.text
    assert "pw-secret" not in caplog.text


async def test_no_password_in_clear_when_starttls_is_missing(
    tmp_path: Path, smtp_sink: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    """Asked for STARTTLS and the server does not offer it: mail without login goes out, a login
    does not happen in clear text (the mail is then not sent, and that is logged)."""
    order = ORDER | {"id": "ord_00000000000000ac"}
    plain = settings_for(tmp_path, smtp_host="127.0.0.1", smtp_port=smtp_sink.port, smtp_starttls=True)
    await Fulfilment(plain).order_created(order)
    assert len(smtp_sink.about(order["id"])) == 1

    order = ORDER | {"id": "ord_00000000000000ad"}
    with_login = settings_for(
        tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=smtp_sink.port,
        smtp_starttls=True,
        smtp_username="dealer",
        smtp_password="pw-secret",
    )
    await Fulfilment(with_login).order_created(order)
    assert smtp_sink.about(order["id"]) == []
    assert "does not offer STARTTLS" in caplog.text
    assert "pw-secret" not in caplog.text


async def test_webhook_retries_server_errors_but_not_client_errors(
    tmp_path: Path, webhook_sink: WebhookSink
) -> None:
    settings = settings_for(tmp_path, webhook_url=webhook_sink.url, webhook_secret=WEBHOOK_SECRET)
    fulfilment = Fulfilment(settings, backoff=0.01)
    try:
        webhook_sink.status = 503
        order = ORDER | {"id": "ord_00000000000000ae"}
        await fulfilment.order_status_changed(order | {"status": "confirmed"})
        assert len(webhook_sink.about(order["id"], "order.confirmed")) == 3

        webhook_sink.status = 410
        order = ORDER | {"id": "ord_00000000000000af"}
        await fulfilment.order_status_changed(order | {"status": "confirmed"})
        assert len(webhook_sink.about(order["id"], "order.confirmed")) == 1
    finally:
        webhook_sink.status = 200


async def test_an_unreachable_webhook_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/hook?token=not-for-logs"
    settings = settings_for(tmp_path, webhook_url=url, webhook_secret=WEBHOOK_SECRET)
    await Fulfilment(settings, backoff=0.01, timeout=2).order_created(ORDER)
    assert "was not delivered" in caplog.text
    assert "not-for-logs" not in caplog.text
