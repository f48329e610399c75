"""Fixtures for the page and fulfilment tests: the real service on a real port, a local SMTP server
(aiosmtpd), a webhook receiver, and Debian's Chromium driven by Playwright.

Everything listens on 127.0.0.1 with ports the kernel picks and keeps its files in temp dirs, so
the tests run side by side under xdist. Test modules import the fixtures they use by name (this is
not a conftest: ``tests/cloud/conftest.py`` belongs to the API tests).
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import uvicorn
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from supplies_cloud.app import create_app
from supplies_cloud.config import CloudSettings
from supplies_cloud.models import ApiKey, CatalogItem, Order, Site, User
from supplies_cloud.security import hash_password, key_hash, key_prefix, new_api_key, sign

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SECRET_KEY = "test-secret-key-" + "x" * 32
WEBHOOK_SECRET = "whsec-test-" + "y" * 24
DEALER_EMAIL = "orders@dealer.example"
DEALER_USER = "dana"
DEALER_PASSWORD = "correct horse battery staple"
SCREENSHOTS = Path(
    os.environ.get("SUPPLIES_SCREENSHOTS") or Path(tempfile.gettempdir()) / "supplies-cloud-screenshots"
)
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}

CATALOG = [
    # part, description, kind, colour, price in cents, lead time, yield
    ("W2030A", "HP 415A Black Toner Cartridge", "toner", "black", 8990, 2, 2400),
    ("W2031A", "HP 415A Cyan Toner Cartridge", "toner", "cyan", 10990, 2, 2100),
]


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll until ``predicate()`` is truthy; fulfilment runs after the response, so tests wait."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def closed_port() -> int:
    """A port with nothing listening (bound and released again)."""
    return free_port()


# --- SMTP ---------------------------------------------------------------------------------------


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",))
        return part.get_content() if part is not None else ""


class Mailbox:
    """Collects what the local SMTP server receives."""

    def __init__(self) -> None:
        self.mails: list[Mail] = []
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def about(self, order_id: str) -> list[Mail]:
        return [m for m in self.mails if order_id in m.body]


@pytest.fixture(scope="module")
def smtp_sink() -> Iterator[Mailbox]:
    """An aiosmtpd server on a free port (no TLS, no auth: what a test needs to see the mail)."""
    mailbox = Mailbox()
    for _attempt in range(5):
        port = free_port()
        controller = Controller(mailbox, hostname="127.0.0.1", port=port)
        try:
            controller.start()
        except Exception:  # the port was taken in between: try another
            continue
        break
    else:
        pytest.fail("could not start the local SMTP server")
    mailbox.port = port
    try:
        yield mailbox
    finally:
        controller.stop()


# --- webhook receiver ---------------------------------------------------------------------------


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


@dataclass
class WebhookSink:
    """Records every POST; answers with ``status`` (set it to 500 to play a broken receiver)."""

    url: str = ""
    status: int = 200
    deliveries: list[Delivery] = field(default_factory=list)

    def about(self, order_id: str, event: str | None = None) -> list[Delivery]:
        return [
            d
            for d in self.deliveries
            if d.json.get("order", {}).get("id") == order_id
            and (event is None or d.json.get("event") == event)
        ]


@contextmanager
def running_webhook_sink(status: int = 200) -> Iterator[WebhookSink]:
    """A webhook receiver on a free port, in a thread; its URL carries a token logs must not show."""
    sink = WebhookSink(status=status)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            sink.deliveries.append(Delivery(self.path, headers, body))
            self.send_response(sink.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    sink.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/supplies?token=not-for-logs"
    thread = threading.Thread(target=server.serve_forever, name="webhook-sink", daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def webhook_sink() -> Iterator[WebhookSink]:
    with running_webhook_sink() as sink:
        yield sink


# --- the service -----------------------------------------------------------------------------------


@dataclass
class Service:
    """The running service and what the tests need around it."""

    base_url: str
    app: FastAPI
    settings: CloudSettings
    mailbox: Mailbox | None = None
    webhooks: WebhookSink | None = None

    def store_link(self, site_id: int, part_number: str, **extra: str) -> str:
        """The storefront link exactly as the API hands it out (plus optional printer/supply)."""
        sig = sign(self.settings.secret_key.get_secret_value(), f"{site_id}:{part_number}")
        query = urlencode({"site": site_id, "sig": sig, **extra})
        return f"{self.base_url}/store/{quote(part_number, safe='')}?{query}"

    def add_site(self, name: str = "Site") -> int:
        """A new site with a unique name, so tests sharing the service never see each other's orders."""
        with self.app.state.db.session() as session:
            site = Site(name=f"{name} {uuid.uuid4().hex[:6]}", contact_email="office@example.org")
            session.add(site)
            session.flush()
            return int(site.id)

    def add_api_key(self, site_id: int) -> str:
        """An API key for the site, as the integration would hold it."""
        key = new_api_key()
        with self.app.state.db.session() as session:
            session.add(
                ApiKey(site_id=site_id, prefix=key_prefix(key), key_hash=key_hash(key), label="tests")
            )
        return key

    def add_user(self, password: str, *, active: bool = True) -> str:
        """Another dealer login (unique name), for tests that change or disable it."""
        username = f"staff-{uuid.uuid4().hex[:6]}"
        with self.app.state.db.session() as session:
            session.add(User(username=username, password_hash=hash_password(password), active=active))
        return username

    def set_user(self, username: str, **values: Any) -> None:
        with self.app.state.db.session() as session:
            user = session.scalars(select(User).where(User.username == username)).one()
            for name, value in values.items():
                setattr(user, name, value)

    def orders(self, site_id: int) -> list[Order]:
        with self.app.state.db.session() as session:
            return list(session.scalars(select(Order).where(Order.site_id == site_id).order_by(Order.id)))

    def order(self, public_id: str) -> Order:
        with self.app.state.db.session() as session:
            query = select(Order).where(Order.public_id == public_id).options(selectinload(Order.events))
            return session.scalars(query).one()


def seed(app: FastAPI) -> None:
    """The catalog and one dealer login, straight through the ORM."""
    with app.state.db.session() as session:
        for part, description, kind, color, cents, lead, pages in CATALOG:
            session.add(
                CatalogItem(
                    vendor="HP",
                    model="Color LaserJet Pro M454dw",
                    model_key="hp color laserjet pro m454dw",
                    kind=kind,
                    color=color,
                    part_number=part,
                    description=description,
                    price_cents=cents,
                    currency="EUR",
                    lead_time_days=lead,
                    yield_pages=pages,
                )
            )
        session.add(User(username=DEALER_USER, password_hash=hash_password(DEALER_PASSWORD), active=True))


@dataclass
class Server:
    base_url: str
    server: uvicorn.Server
    thread: threading.Thread


def start_server(build: Callable[[str], FastAPI]) -> tuple[FastAPI, Server]:
    """uvicorn in a thread on a socket bound first (no race for the port); ``build(base_url)``."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = build(base_url)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="supplies-cloud", daemon=True
    )
    thread.start()
    wait_for(lambda: server.started or not thread.is_alive(), what="the service to start")
    if not server.started:
        pytest.fail("the service did not start")
    return app, Server(base_url, server, thread)


def stop_server(server: Server) -> None:
    server.server.should_exit = True
    server.thread.join(10)


def service_settings(data_dir: Path, base_url: str, **overrides: Any) -> CloudSettings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "public_url": base_url,
        "secret_key": SECRET_KEY,
        "dealer_name": "Toner & Co.",
        "dealer_email": DEALER_EMAIL,
        "mail_from": "supplies@dealer.example",
        "smtp_starttls": False,
        **overrides,
    }
    return CloudSettings(**values)


@pytest.fixture(scope="module")
def web_service(
    smtp_sink: Mailbox, webhook_sink: WebhookSink, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    """The service (SQLite in a temp dir) wired to the local SMTP server and webhook receiver."""
    data_dir = tmp_path_factory.mktemp("cloud")
    holder: dict[str, CloudSettings] = {}

    def build(base_url: str) -> FastAPI:
        holder["settings"] = service_settings(
            data_dir,
            base_url,
            smtp_host="127.0.0.1",
            smtp_port=smtp_sink.port,
            webhook_url=webhook_sink.url,
            webhook_secret=WEBHOOK_SECRET,
        )
        app = create_app(holder["settings"])
        seed(app)
        return app

    app, server = start_server(build)
    try:
        yield Service(server.base_url, app, holder["settings"], smtp_sink, webhook_sink)
    finally:
        stop_server(server)


# --- HTML forms without a browser -----------------------------------------------------------------------


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((values.get("action", ""), {}))
        elif tag == "input" and self.forms and values.get("name"):
            self.forms[-1][1][values["name"]] = values.get("value", "")


def form_fields(html: str, action: str) -> dict[str, str]:
    """The inputs (name → value) of the first form whose action contains ``action``."""
    parser = _Forms()
    parser.feed(html)
    for form_action, fields in parser.forms:
        if action in form_action:
            return fields
    raise AssertionError(f"no form with action {action!r} on the page")


# --- the browser ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium through Playwright; skipped where it is not installed.

    Module-scoped, not session-scoped: Playwright's sync API keeps an asyncio loop running in the
    main thread while it is started, which would break async tests that a worker runs later.
    """
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    playwright = sync_api.sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    except Exception as exc:
        playwright.stop()
        pytest.skip(f"Chromium does not start: {exc}")
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()


@pytest.fixture
def new_page(chromium: Any) -> Iterator[Callable[..., Any]]:
    """``new_page(viewport=DESKTOP)``: a page in a fresh context (own cookies), closed afterwards."""
    contexts: list[Any] = []

    def make(viewport: dict[str, int] | None = None) -> Any:
        context = chromium.new_context(viewport=viewport or DESKTOP, locale="en-GB", timezone_id="UTC")
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    try:
        yield make
    finally:
        for context in contexts:
            context.close()


def screenshot(page: Any, name: str) -> Path:
    """A full-page PNG in SCREENSHOTS, for people to look at (the tests do not compare pixels)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
