"""The pages in a real browser (Debian's Chromium via Playwright), against the service on a real port.

The path a customer and a dealer take: open the storefront link a supply's integration hands out,
order, see the order; the dealer signs in, confirms, ships with a tracking number, delivers; the
storefront shows the tracking number. And what must be refused: a changed link, a wrong password,
a form without its CSRF token, a second order from one form.
"""

# ruff: noqa: F811  (the fixtures imported from web_support are redefined as test arguments)

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect
from web_support import (  # fixtures are imported by name: see web_support's docstring
    DEALER_EMAIL,
    DEALER_PASSWORD,
    DEALER_USER,
    DESKTOP,
    PHONE,
    Service,
    chromium,  # noqa: F401
    form_fields,
    new_page,  # noqa: F401
    screenshot,
    seed,
    service_settings,
    smtp_sink,  # noqa: F401
    wait_for,
    web_service,  # noqa: F401
    webhook_sink,  # noqa: F401
)

from supplies_cloud.app import create_app
from supplies_cloud.models import Site
from supplies_cloud.rules.orders import NewOrder, change_status, create_order
from supplies_cloud.security import hash_password


def place_order(page: Any, link: str, quantity: int) -> str:
    """Order from the storefront like a person would; returns the new order's id."""
    page.goto(link)
    page.get_by_label("Quantity").fill(str(quantity))
    page.get_by_role("button", name="Order").click()
    banner = page.get_by_role("status")
    expect(banner).to_contain_text("is placed")
    return str(banner.locator("strong").inner_text())


def sign_in(page: Any, base_url: str, password: str = DEALER_PASSWORD) -> int:
    """Fill the login form; returns the HTTP status of the POST."""
    page.goto(f"{base_url}/dealer/login")
    page.get_by_label("Username").fill(DEALER_USER)
    page.get_by_label("Password").fill(password)
    with page.expect_response(lambda r: r.request.method == "POST" and "/dealer/login" in r.url) as answer:
        page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return int(answer.value.status)


def session_cookie(page: Any) -> dict[str, str]:
    cookies = {c["name"]: c["value"] for c in page.context.cookies() if "session" in c["name"]}
    assert len(cookies) == 1, cookies
    return cookies


def add_other_orders(service: Service) -> None:
    """A second site with orders in other states, so the dealer's screenshots show a real desk."""
    site_id = service.add_site("Praxis Dr. Lang")
    with service.app.state.db.session() as session:
        site = session.get(Site, site_id)
        assert site is not None
        for key, part, qty, status in (("a", "W2031A", 1, None), ("b", "W2031A", 3, "shipped")):
            order, _ = create_order(
                session,
                site,
                NewOrder(part_number=part, quantity=qty, printer_id="reception-mfp", supply_key="toner.cyan"),
                f"seed-{key}-{site_id}",
                actor="test",
            )
            if status == "shipped":
                change_status(session, order, "confirmed", "dealer:test")
                change_status(
                    session, order, "shipped", "dealer:test", carrier="GLS", tracking_number="ZX99817263"
                )


def test_storefront_order_then_the_dealer_ships_it(web_service: Service, new_page: Any) -> None:
    service = web_service
    site_id = service.add_site("Kanzlei Weber")
    api = httpx.Client(
        base_url=f"{service.base_url}/api/v1",
        headers={"Authorization": f"Bearer {service.add_api_key(site_id)}"},
    )
    # The link the integration gets from the API (it may add which printer and supply it is for).
    part = api.get("/catalog/W2030A")
    assert part.status_code == 200, part.text
    link = part.json()["storefront_url"] + "&printer=office-2f&supply=toner.black"
    assert link == service.store_link(site_id, "W2030A", printer="office-2f", supply="toner.black")

    # The customer opens the link: the part, its price, an order form.
    page = new_page(DESKTOP)
    assert page.goto(link).status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("W2030A")
    expect(page.locator(".product")).to_contain_text("HP 415A Black Toner Cartridge")
    expect(page.locator(".product")).to_contain_text("2 working days")
    expect(page.locator(".price-amount")).to_have_text("89.90 EUR")
    expect(page.get_by_text("No orders yet.")).to_be_visible()

    order_id = place_order(page, link, 2)
    row = page.locator(f"tr#{order_id}")
    expect(row).to_contain_text("pending")
    expect(row.locator("td[data-label=Qty]")).to_have_text("2")
    expect(row).to_contain_text("179.80 EUR")
    shots = [screenshot(page, "storefront-desktop")]
    phone = new_page(PHONE)
    phone.goto(page.url)
    expect(phone.locator(f"tr#{order_id}")).to_be_visible()
    shots.append(screenshot(phone, "storefront-phone"))

    stored = service.order(order_id)
    assert (stored.quantity, stored.status, stored.source) == (2, "pending", "storefront")
    assert (stored.printer_id, stored.supply_key) == ("office-2f", "toner.black")

    # The dealer hears of it by e-mail and webhook (details in test_fulfilment.py).
    assert service.mailbox is not None and service.webhooks is not None
    mail = wait_for(lambda: service.mailbox.about(order_id), what="the new-order e-mail")
    assert mail[0].recipients == [DEALER_EMAIL]
    wait_for(lambda: service.webhooks.about(order_id, "order.created"), what="the order.created webhook")

    # The dealer page needs a login; a wrong password is refused without saying what was wrong.
    add_other_orders(service)
    desk = new_page(DESKTOP)
    desk.goto(f"{service.base_url}/dealer")
    assert desk.url.endswith("/dealer/login")
    assert sign_in(desk, service.base_url, password="not the password") == 401
    expect(desk.get_by_role("alert")).to_have_text("Wrong username or password.")
    shots.append(screenshot(desk, "dealer-login-refused"))
    assert not [c for c in desk.context.cookies() if "session" in c["name"]]
    desk.goto(f"{service.base_url}/dealer")
    assert desk.url.endswith("/dealer/login")

    assert sign_in(desk, service.base_url) == 303
    assert desk.url == f"{service.base_url}/dealer"
    cookie = next(c for c in desk.context.cookies() if "session" in c["name"])
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    row = desk.locator(f"tr#{order_id}")
    for text in ("W2030A", "Kanzlei Weber", "office-2f", "pending"):
        expect(row).to_contain_text(text)
    expect(row.locator("td[data-label=Qty]")).to_have_text("2")

    row.get_by_role("button", name="Confirm").click()
    expect(desk.get_by_role("status")).to_have_text(f"Order {order_id} confirmed.")
    expect(row).to_have_attribute("data-status", "confirmed")
    shots.append(screenshot(desk, "dealer-desktop"))
    phone_desk = new_page(PHONE)
    phone_desk.context.add_cookies([cookie])
    phone_desk.goto(f"{service.base_url}/dealer")
    expect(phone_desk.locator(f"tr#{order_id}")).to_be_visible()
    shots.append(screenshot(phone_desk, "dealer-phone"))

    row.get_by_label("Carrier").fill("DHL")
    row.get_by_label("Tracking number").fill("JD0123456789")
    row.get_by_role("button", name="Ship").click()
    expect(desk.get_by_role("status")).to_have_text(f"Order {order_id} marked as shipped.")
    expect(row).to_have_attribute("data-status", "shipped")
    expect(row).to_contain_text("JD0123456789")

    # The integration's next status poll sees the tracking number, and so does the storefront.
    polled = api.get(f"/orders/{order_id}").json()
    assert (polled["status"], polled["shipment"]) == (
        "shipped",
        {"carrier": "DHL", "tracking_number": "JD0123456789"},
    )
    api.close()
    page.goto(link)
    expect(page.locator(f"tr#{order_id}")).to_contain_text("shipped")
    expect(page.locator(f"tr#{order_id} td[data-label=Shipment]")).to_have_text("DHL JD0123456789")

    row.get_by_role("button", name="Deliver").click()
    expect(desk.get_by_role("status")).to_have_text(f"Order {order_id} marked as delivered.")
    closed = desk.locator(".closed").locator(f"tr#{order_id}")
    expect(closed).to_contain_text("delivered")
    expect(desk.locator(".orders").locator(f"tr#{order_id}")).to_have_count(0)

    page.goto(link)
    history = page.locator(f"tr#{order_id}")
    expect(history).to_contain_text("delivered")
    expect(history).to_contain_text("JD0123456789")
    shots.append(screenshot(page, "storefront-after-delivery"))

    stored = service.order(order_id)
    assert (stored.status, stored.carrier, stored.tracking_number) == ("delivered", "DHL", "JD0123456789")

    # Signing out ends the session.
    desk.get_by_role("button", name="Sign out").click()
    expect(desk.get_by_role("status")).to_have_text("You are signed out.")
    desk.goto(f"{service.base_url}/dealer")
    assert desk.url.endswith("/dealer/login")
    print("screenshots:", *shots, sep="\n  ")


def test_a_changed_storefront_link_is_refused(web_service: Service, new_page: Any) -> None:
    service = web_service
    site_id = service.add_site("Architekten Nord")
    link = service.store_link(site_id, "W2030A")
    sig = re.search(r"sig=([0-9a-f]{64})", link)
    assert sig is not None
    flipped = sig.group(1)[:-1] + ("0" if sig.group(1)[-1] != "0" else "1")
    page = new_page()
    for url in (
        link.replace(sig.group(1), flipped),  # tampered signature
        link.replace("/store/W2030A", "/store/W2031A"),  # the signature of another part
        link.replace(f"site={site_id}", f"site={site_id + 1000}"),  # another site
        link.split("&sig=")[0],  # no signature at all
    ):
        response = page.goto(url)
        assert response.status == 403, url
        expect(page.get_by_role("heading", level=1)).to_have_text("This link is not valid")
        expect(page.get_by_role("button", name="Order")).to_have_count(0)
    screenshot(page, "storefront-link-refused")
    assert page.goto(link).status == 200


def test_forms_without_the_csrf_token_are_refused(web_service: Service, new_page: Any) -> None:
    service = web_service
    site_id = service.add_site("Steuerbüro Ost")
    link = service.store_link(site_id, "W2031A")
    order_id = place_order(new_page(), link, 1)

    desk = new_page()
    assert sign_in(desk, service.base_url) == 303
    expect(desk.locator(f"tr#{order_id}")).to_be_visible()
    token = desk.locator(f"tr#{order_id} input[name=csrf]").first.input_value()

    # The browser's own session cookie, but no (or a made-up) token: refused, nothing changes.
    with httpx.Client(base_url=service.base_url, cookies=session_cookie(desk)) as client:
        for data in ({}, {"csrf": ""}, {"csrf": "0" * 64}, {"csrf": token[:-1]}):
            response = client.post(f"/dealer/orders/{order_id}/confirm", data=data)
            assert response.status_code == 403, data
            assert "security token" in response.text
        assert service.order(order_id).status == "pending"
        # The same cookie with the page's token works: it was the token that was missing.
        response = client.post(f"/dealer/orders/{order_id}/confirm", data={"csrf": token})
        assert response.status_code == 303
    assert service.order(order_id).status == "confirmed"

    # The anonymous forms: the storefront's order form and the login form.
    with httpx.Client(base_url=service.base_url) as client:
        page = client.get(link)
        fields = form_fields(page.text, "/store/")
        before = len(service.orders(site_id))
        response = client.post("/store/W2031A", data={k: v for k, v in fields.items() if k != "csrf"})
        assert response.status_code == 403
        with httpx.Client(base_url=service.base_url) as stranger:  # a token from somebody else's cookie
            stranger.get(link)
            response = stranger.post("/store/W2031A", data=fields)
            assert response.status_code == 403
        assert len(service.orders(site_id)) == before
        response = client.post("/store/W2031A", data=fields)  # the real thing, for contrast
        assert response.status_code == 303
        assert len(service.orders(site_id)) == before + 1

        client.get("/dealer/login")
        response = client.post("/dealer/login", data={"username": DEALER_USER, "password": DEALER_PASSWORD})
        assert response.status_code == 403
        assert not [name for name in client.cookies if "session" in name]


def test_a_double_submitted_order_form_orders_once(web_service: Service, new_page: Any) -> None:
    service = web_service
    site_id = service.add_site("Zahnarzt Süd")
    link = service.store_link(site_id, "W2030A")
    page = new_page()
    page.goto(link)
    page.get_by_label("Quantity").fill("3")
    # The same filled-in form sent twice at once (a resend, an impatient double submit), with the
    # browser's cookies: both answered with the same order, one order stored.
    fields = page.evaluate("Object.fromEntries(new FormData(document.querySelector('form.order-box')))")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}

    def send(_: int) -> httpx.Response:
        with httpx.Client(base_url=service.base_url, cookies=cookies) as client:
            return client.post("/store/W2030A", data=fields)

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(send, range(2)))
    assert [a.status_code for a in answers] == [303, 303]
    assert answers[0].headers["location"] == answers[1].headers["location"]
    orders = service.orders(site_id)
    assert [(o.quantity, o.status) for o in orders] == [(3, "pending")]

    # A double click on the real button: still one more order, not two.
    page.goto(link)
    page.get_by_label("Quantity").fill("1")
    page.get_by_role("button", name="Order").dblclick()
    expect(page.get_by_role("status")).to_contain_text("is placed")
    wait_for(lambda: len(service.orders(site_id)) >= 2, what="the second order")
    assert sorted(o.quantity for o in service.orders(site_id)) == [1, 3]
    expect(page.locator("tbody tr")).to_have_count(2)
    assert service.mailbox is not None
    wait_for(lambda: len(service.mailbox.about(orders[0].public_id)) == 1, what="one e-mail")
    assert len(service.mailbox.about(orders[0].public_id)) == 1


def test_dealer_pages_need_a_valid_session(web_service: Service) -> None:
    with httpx.Client(base_url=web_service.base_url) as client:
        assert client.get("/dealer").headers["location"] == "/dealer/login"
        client.cookies.set("supplies_session", "eyJ1IjoiZGFuYSJ9.forged.signature")
        assert client.get("/dealer").headers["location"] == "/dealer/login"
        response = client.post("/dealer/orders/ord_0123456789abcdef/confirm", data={"csrf": "x"})
        assert (response.status_code, response.headers["location"]) == (303, "/dealer/login")
        css = client.get("/static/app.css")
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
        assert "url(" not in css.text and "@import" not in css.text  # nothing loaded from elsewhere


def test_a_changed_password_or_a_disabled_login_ends_the_session(web_service: Service) -> None:
    service = web_service
    username = service.add_user("first password")

    def signed_in_client(password: str) -> httpx.Client:
        client = httpx.Client(base_url=service.base_url)
        fields = form_fields(client.get("/dealer/login").text, "/dealer/login")
        answer = client.post("/dealer/login", data=fields | {"username": username, "password": password})
        assert answer.status_code == 303, answer.text
        assert client.get("/dealer").status_code == 200
        return client

    with closing(signed_in_client("first password")) as client:
        service.set_user(username, password_hash=hash_password("second password"))
        assert client.get("/dealer").headers["location"] == "/dealer/login"
    with closing(signed_in_client("second password")) as client:
        service.set_user(username, active=False)
        assert client.get("/dealer").headers["location"] == "/dealer/login"
        fields = form_fields(client.get("/dealer/login").text, "/dealer/login")
        answer = client.post(
            "/dealer/login", data=fields | {"username": username, "password": "second password"}
        )
        assert answer.status_code == 401


def test_secure_cookies_when_configured(tmp_path: Path) -> None:
    """Behind https the session cookie is Secure and host-only (``__Host-``)."""
    settings = service_settings(tmp_path, "https://supplies.example", secure_cookies=True)
    app = create_app(settings)
    seed(app)

    async def sign_in() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://supplies.example") as client:
            page = await client.get("/dealer/login")
            assert page.headers["set-cookie"].startswith("__Host-supplies_csrf=")
            fields = form_fields(page.text, "/dealer/login")
            fields.update(username=DEALER_USER, password=DEALER_PASSWORD)
            return await client.post("/dealer/login", data=fields)

    # In a thread of its own: the browser's sync API keeps a loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        response = pool.submit(asyncio.run, sign_in()).result()
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-supplies_session=")
    for flag in ("HttpOnly", "Secure", "SameSite=lax", "Path=/", "Max-Age=43200"):
        assert flag.lower() in cookie.lower(), flag
