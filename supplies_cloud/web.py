"""The HTML pages: the storefront a supply's link opens, and the dealer's order desk.

Server-rendered Jinja2 with one stylesheet and no JavaScript: the pages work in any browser, print
well and have nothing to load from elsewhere (the Content-Security-Policy says so too).

Who may do what:

* Storefront links are capabilities: ``/store/<part>?site=<id>&sig=<hex>`` where ``sig`` is
  ``HMAC-SHA256(secret_key, "<site id>:<part>")``. Whoever holds the link may order that part for
  that site and sees that site's orders; nothing else. ``printer``/``supply`` only label the order.
* Dealer staff log in with a password (argon2); the session is a signed, time-limited cookie
  (itsdangerous), so the service keeps no session table.
* Every form carries a CSRF token: for a logged-in dealer an HMAC of the session's random id, for
  the anonymous storefront and the login form an HMAC of a random value in an HttpOnly cookie
  (signed double submit). A POST without the right token gets 403 and changes nothing.

A storefront form also carries a random nonce that becomes the order's idempotency key, so
pressing "Order" twice (or the browser resending the form) places one order.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from .config import CloudSettings
from .db import Database
from .models import CatalogItem, FleetPrinter, Order, Site, User
from .rules.orders import (
    CANCELLED,
    CONFIRMED,
    DELIVERED,
    MAX_QUANTITY,
    PENDING,
    SHIPPED,
    NewOrder,
    OrderError,
    change_status,
    create_order,
    find_item,
    order_json,
)
from .security import hash_password, sign, verify_password

_LOG = logging.getLogger(__name__)
_HERE = Path(__file__).parent
STATIC = _HERE / "static"
SESSION_SECONDS = 12 * 3600
LOGIN_FAILURE_DELAY = 0.3  # seconds; slows guessing a little without annoying a typo
OPEN_STATUSES = (PENDING, CONFIRMED, SHIPPED)
ACTIONS = {"confirm": CONFIRMED, "ship": SHIPPED, "deliver": DELIVERED, "cancel": CANCELLED}
HISTORY_LIMIT = 50
CLOSED_LIMIT = 25

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
_ORDER_ID = re.compile(r"^ord_[0-9a-f]{16}$")

# Security headers for every page: nothing from elsewhere, no framing, no referrer (storefront
# URLs are capabilities and must not leak to other sites).
_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

router = APIRouter(include_in_schema=False)


# --- templates --------------------------------------------------------------------------------


def _money(amount_cents: int | None, currency: str | None) -> str:
    if amount_cents is None:
        return "—"
    return f"{amount_cents / 100:,.2f} {currency or ''}".strip()


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; everything is stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _when(moment: dt.datetime | None) -> str:
    if moment is None:
        return "—"
    return _aware(moment).astimezone(dt.UTC).strftime("%d %b %Y, %H:%M UTC")


def _age(moment: dt.datetime | None) -> str:
    if moment is None:
        return "—"
    seconds = max(0, int((dt.datetime.now(dt.UTC) - _aware(moment)).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    days = seconds // 86400
    return f"{days} day ago" if days == 1 else f"{days} days ago"


@cache
def _asset_version() -> str:
    """Changes when the stylesheet does, so browsers never keep a stale copy."""
    return hashlib.sha256((STATIC / "app.css").read_bytes()).hexdigest()[:10]


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(_HERE / "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)
_env.filters.update(money=_money, when=_when, age=_age)
_env.globals.update(asset_version=_asset_version, max_quantity=MAX_QUANTITY)
templates = Jinja2Templates(env=_env)


def _render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    settings = _settings(request)
    context = {"dealer_name": settings.dealer_name, "dealer": None, "csrf": "", **context}
    return templates.TemplateResponse(request, name, context, status_code=status, headers=_PAGE_HEADERS)


def _message(request: Request, status: int, title: str, detail: str) -> Response:
    return _render(request, "message.html", {"title": title, "detail": detail, "status": status}, status)


@router.get("/static/app.css")
def stylesheet() -> FileResponse:
    """The one stylesheet; cacheable because its URL carries a content hash."""
    return FileResponse(
        STATIC / "app.css",
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


# --- state from the app -------------------------------------------------------------------------


def _settings(request: Request) -> CloudSettings:
    settings: CloudSettings = request.app.state.settings
    return settings


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _secret(request: Request) -> str:
    return _settings(request).secret_key.get_secret_value()


def _same(a: str, b: str) -> bool:
    """Constant-time compare that also accepts non-ASCII input (then simply unequal)."""
    return hmac.compare_digest(a.encode(), b.encode())


def _notify(request: Request, method: str, order: dict[str, Any]) -> BackgroundTask | None:
    """Fulfilment runs after the commit and after the response went out: the browser never waits
    on a slow mail server, and a failure there cannot touch the order (Fulfilment never raises)."""
    fulfilment = getattr(request.app.state, "fulfilment", None)
    if fulfilment is None:
        return None
    return BackgroundTask(getattr(fulfilment, method), order)


# --- cookies and CSRF ---------------------------------------------------------------------------


def _cookie_name(request: Request, base: str) -> str:
    # "__Host-" makes the browser refuse the cookie unless Secure, host-only and Path=/.
    return f"__Host-{base}" if _settings(request).cookies_secure else base


def _set_cookie(request: Request, response: Response, base: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        _cookie_name(request, base),
        value,
        max_age=max_age,
        path="/",
        secure=_settings(request).cookies_secure,
        httponly=True,
        samesite="lax",
    )


def _anonymous_csrf(request: Request) -> tuple[str, str | None]:
    """(form token, new cookie value or None): the anonymous pages' signed double submit."""
    raw = request.cookies.get(_cookie_name(request, "supplies_csrf"), "")
    new = None
    if not _TOKEN.match(raw):
        raw = new = secrets.token_urlsafe(24)
    return sign(_secret(request), f"csrf-anon:{raw}"), new


def _anonymous_csrf_ok(request: Request, token: str) -> bool:
    raw = request.cookies.get(_cookie_name(request, "supplies_csrf"), "")
    if not _TOKEN.match(raw) or not token:
        return False
    return _same(token, sign(_secret(request), f"csrf-anon:{raw}"))


def _with_anonymous_csrf(request: Request, response: Response, new_cookie: str | None) -> Response:
    if new_cookie:
        _set_cookie(request, response, "supplies_csrf", new_cookie, None)
    return response


@dataclass(frozen=True)
class DealerSession:
    username: str
    session_id: str
    csrf: str


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_secret(request), salt="supplies-cloud.dealer-session")


def _password_mark(secret: str, password_hash: str) -> str:
    """A keyed fingerprint of the hash in the session: changing the password ends old sessions,
    and the (readable, signed) cookie reveals nothing about the hash."""
    return sign(secret, f"password:{password_hash}")[:32]


async def _dealer(request: Request) -> DealerSession | None:
    """The logged-in dealer, or None (no, expired, forged or stale cookie, or user disabled)."""
    cookie = request.cookies.get(_cookie_name(request, "supplies_session"))
    if not cookie:
        return None
    try:
        data = _serializer(request).loads(cookie, max_age=SESSION_SECONDS)
        username, session_id, mark = str(data["u"]), str(data["sid"]), str(data["pw"])
    except (BadSignature, KeyError, TypeError):
        return None

    def lookup() -> bool:
        with _db(request).session() as session:
            user = session.scalars(select(User).where(User.username == username)).first()
            return bool(
                user and user.active and _same(_password_mark(_secret(request), user.password_hash), mark)
            )

    if not await run_in_threadpool(lookup):
        return None
    return DealerSession(username, session_id, sign(_secret(request), f"csrf-session:{session_id}"))


def _dealer_csrf_ok(dealer: DealerSession, token: str) -> bool:
    return bool(token) and _same(token, dealer.csrf)


def _csrf_refused(request: Request) -> Response:
    return _message(
        request,
        403,
        "Form expired",
        "This form was not accepted (its security token is missing or wrong). "
        "Go back, reload the page and try again.",
    )


async def _form(request: Request) -> dict[str, str]:
    """The submitted form as plain strings (uploads are not expected and ignored)."""
    form = await request.form(max_files=0, max_fields=50)
    return {key: value for key, value in form.items() if isinstance(value, str)}


# --- storefront -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoreLink:
    """A verified storefront link: which site may order which part, and what the order is for."""

    site_id: int
    part_number: str
    sig: str
    printer: str
    supply: str

    def url(self, **extra: str) -> str:
        params = {"site": str(self.site_id), "sig": self.sig}
        if self.printer:
            params["printer"] = self.printer
        if self.supply:
            params["supply"] = self.supply
        params.update(extra)
        return f"/store/{quote(self.part_number, safe='')}?{urlencode(params)}"


def _store_link(
    request: Request, part_number: str, site: str, sig: str, printer: str, supply: str
) -> StoreLink | None:
    """The link if its signature is right, else None (the page then answers 403)."""
    sig = sig.strip().lower()
    if not site.isdecimal() or len(site) > 18 or not _HEX64.match(sig) or not 0 < len(part_number) <= 64:
        return None
    if not _same(sign(_secret(request), f"{int(site)}:{part_number}"), sig):
        return None
    return StoreLink(int(site), part_number, sig, printer.strip()[:80], supply.strip()[:64])


def _refused_link(request: Request) -> Response:
    return _message(
        request,
        403,
        "This link is not valid",
        "The storefront link is incomplete or has been changed. Open it again from your printer "
        "integration, or ask your dealer for a new one.",
    )


def _order_row(order: Order) -> dict[str, Any]:
    return {
        "id": order.public_id,
        "status": order.status,
        "part_number": order.part_number,
        "description": order.description,
        "quantity": order.quantity,
        "total": _money(order.unit_price_cents * order.quantity, order.currency),
        "unit": _money(order.unit_price_cents, order.currency),
        "printer": " · ".join(v for v in (order.printer_model, order.printer_id) if v),
        "supply": order.supply_key or "",
        "carrier": order.carrier or "",
        "tracking": order.tracking_number or "",
        "created_at": order.created_at,
        "updated_at": order.updated_at,
    }


def _item_view(item: CatalogItem) -> dict[str, Any]:
    return {
        "part_number": item.part_number,
        "description": item.description,
        "kind": item.kind,
        "color": item.color or "",
        "swatch": (item.color or "").lower() if (item.color or "").lower() in _SWATCHES else "",
        "vendor": item.vendor or "",
        "model": item.model,
        "price": _money(item.price_cents, item.currency),
        "lead_time_days": item.lead_time_days,
        "yield_pages": item.yield_pages,
    }


_SWATCHES = frozenset({"black", "cyan", "magenta", "yellow", "red", "green", "blue", "gray", "grey"})


def _printer_model(session: Any, site_id: int, printer_id: str) -> str | None:
    if not printer_id:
        return None
    return session.scalars(
        select(FleetPrinter.model).where(
            FleetPrinter.site_id == site_id, FleetPrinter.printer_id == printer_id
        )
    ).first()


def _store_view(db: Database, link: StoreLink, ordered: str) -> dict[str, Any] | None:
    with db.session() as session:
        site = session.get(Site, link.site_id)
        if site is None:
            return None
        item = find_item(session, link.part_number)
        orders = session.scalars(
            select(Order)
            .where(Order.site_id == site.id)
            .order_by(Order.created_at.desc(), Order.id.desc())
            .limit(HISTORY_LIMIT)
        ).all()
        rows = [_order_row(o) for o in orders]
        return {
            "site": site.name,
            "item": _item_view(item) if item else None,
            "orders": rows,
            "printer_model": _printer_model(session, site.id, link.printer),
            "placed": next((r for r in rows if r["id"] == ordered), None),
        }


async def _store_page(
    request: Request,
    link: StoreLink,
    *,
    ordered: str = "",
    error: str = "",
    quantity: int = 1,
    status: int = 200,
) -> Response:
    view = await run_in_threadpool(_store_view, _db(request), link, ordered)
    if view is None:
        return _refused_link(request)  # a site that is gone: the link is as good as forged
    token, new_cookie = _anonymous_csrf(request)
    if view["item"] is None and status == 200:
        status = 404
    context = {
        **view,
        "link": link,
        "action": f"/store/{quote(link.part_number, safe='')}",
        "csrf": token,
        "nonce": secrets.token_urlsafe(18),
        "error": error,
        "quantity": quantity,
        "page_title": f"{link.part_number} · {view['site']}",
    }
    return _with_anonymous_csrf(request, _render(request, "store.html", context, status), new_cookie)


@router.get("/store/{part_number:path}")
async def storefront(
    request: Request,
    part_number: str,
    site: str = "",
    sig: str = "",
    printer: str = "",
    supply: str = "",
    ordered: str = "",
) -> Response:
    """The page a supply's storefront link opens: the part, its price, an order form, the history."""
    link = _store_link(request, part_number, site, sig, printer, supply)
    if link is None:
        return _refused_link(request)
    return await _store_page(request, link, ordered=ordered if _ORDER_ID.match(ordered) else "")


def _place_order(db: Database, link: StoreLink, quantity: int, nonce: str) -> tuple[dict[str, Any], bool]:
    with db.session() as session:
        site = session.get(Site, link.site_id)
        if site is None:
            raise OrderError(404, "Unknown site", "this site no longer exists")
        request = NewOrder(
            part_number=link.part_number,
            quantity=quantity,
            printer_id=link.printer or None,
            printer_model=_printer_model(session, site.id, link.printer),
            supply_key=link.supply or None,
        )
        order, created = create_order(
            session, site, request, f"storefront:{nonce}", actor="storefront", source="storefront"
        )
        data = order_json(order) | {"site": {"id": site.id, "name": site.name}}
    return data, created  # committed once the block above has ended


@router.post("/store/{part_number:path}")
async def storefront_order(request: Request, part_number: str) -> Response:
    """Place the order; a repeated submission of the same form returns the first order."""
    form = await _form(request)
    link = _store_link(
        request,
        part_number,
        form.get("site", ""),
        form.get("sig", ""),
        form.get("printer", ""),
        form.get("supply", ""),
    )
    if link is None:
        return _refused_link(request)
    if not _anonymous_csrf_ok(request, form.get("csrf", "")):
        return _csrf_refused(request)
    nonce = form.get("nonce", "")
    if not _NONCE.match(nonce):
        return _csrf_refused(request)
    raw_quantity = form.get("quantity", "").strip()
    quantity = int(raw_quantity) if raw_quantity.isdecimal() and len(raw_quantity) < 6 else 0
    if not 1 <= quantity <= MAX_QUANTITY:
        return await _store_page(
            request, link, error=f"Enter a quantity from 1 to {MAX_QUANTITY}.", status=422
        )
    try:
        order, created = await run_in_threadpool(_place_order, _db(request), link, quantity, nonce)
    except OrderError as exc:
        return await _store_page(request, link, error=exc.detail, quantity=quantity, status=exc.status)
    if created:
        _LOG.info(
            "storefront order %s: %d × %s for site %d", order["id"], quantity, link.part_number, link.site_id
        )
    background = _notify(request, "order_created", order) if created else None
    return RedirectResponse(link.url(ordered=order["id"]), status_code=303, background=background)


# --- dealer: login ----------------------------------------------------------------------------------


@cache
def _decoy_hash() -> str:
    """Verified against when the user does not exist, so both failures take as long."""
    return hash_password(secrets.token_urlsafe(16))


def _check_login(db: Database, secret: str, username: str, password: str) -> str | None:
    """The password mark for the session when username and password are right, else None."""
    with db.session() as session:
        user = session.scalars(select(User).where(User.username == username)).first()
        stored = user.password_hash if user is not None and user.active else None
    if stored is None:
        verify_password(_decoy_hash(), password)
        return None
    return _password_mark(secret, stored) if verify_password(stored, password) else None


def _login_page(
    request: Request, *, error: str = "", notice: str = "", username: str = "", status: int = 200
) -> Response:
    token, new_cookie = _anonymous_csrf(request)
    context = {"csrf": token, "error": error, "notice": notice, "username": username, "page_title": "Sign in"}
    return _with_anonymous_csrf(request, _render(request, "login.html", context, status), new_cookie)


@router.get("/dealer/login")
async def login_form(request: Request, bye: str = "") -> Response:
    if await _dealer(request):
        return RedirectResponse("/dealer", status_code=303)
    return _login_page(request, notice="You are signed out." if bye else "")


@router.post("/dealer/login")
async def login(request: Request) -> Response:
    """Password check (argon2, off the event loop); wrong → 401 without saying which part was wrong."""
    form = await _form(request)
    if not _anonymous_csrf_ok(request, form.get("csrf", "")):
        return _csrf_refused(request)
    username = form.get("username", "").strip()[:80]
    password = form.get("password", "")[:1024]
    mark = (
        await run_in_threadpool(_check_login, _db(request), _secret(request), username, password)
        if username
        else None
    )
    if mark is None:
        await asyncio.sleep(LOGIN_FAILURE_DELAY)
        _LOG.warning("dealer login refused for %r", username)
        return _login_page(request, error="Wrong username or password.", username=username, status=401)
    _LOG.info("dealer %r signed in", username)
    # A fresh session id on every login: a session id planted before login is worth nothing.
    value = _serializer(request).dumps({"u": username, "sid": secrets.token_urlsafe(24), "pw": mark})
    response = RedirectResponse("/dealer", status_code=303)
    _set_cookie(request, response, "supplies_session", value, SESSION_SECONDS)
    return response


@router.post("/dealer/logout")
async def logout(request: Request) -> Response:
    dealer = await _dealer(request)
    if dealer is None:
        return RedirectResponse("/dealer/login", status_code=303)
    form = await _form(request)
    if not _dealer_csrf_ok(dealer, form.get("csrf", "")):
        return _csrf_refused(request)
    response = RedirectResponse("/dealer/login?bye=1", status_code=303)
    response.delete_cookie(
        _cookie_name(request, "supplies_session"),
        path="/",
        secure=_settings(request).cookies_secure,
        httponly=True,
        samesite="lax",
    )
    return response


# --- dealer: orders ---------------------------------------------------------------------------------


def _dealer_view(db: Database) -> dict[str, Any]:
    with db.session() as session:
        open_orders = session.execute(
            select(Order, Site.name)
            .join(Site, Site.id == Order.site_id)
            .where(Order.status.in_(OPEN_STATUSES))
            .order_by(Order.created_at, Order.id)
        ).all()
        closed = session.execute(
            select(Order, Site.name)
            .join(Site, Site.id == Order.site_id)
            .where(Order.status.in_((DELIVERED, CANCELLED)))
            .order_by(Order.updated_at.desc(), Order.id.desc())
            .limit(CLOSED_LIMIT)
        ).all()
        return {
            "open_orders": [_order_row(o) | {"site": name} for o, name in open_orders],
            "closed_orders": [_order_row(o) | {"site": name} for o, name in closed],
        }


_DONE = {
    CONFIRMED: "confirmed",
    SHIPPED: "marked as shipped",
    DELIVERED: "marked as delivered",
    CANCELLED: "cancelled",
}


async def _dealer_page(
    request: Request, dealer: DealerSession, *, error: str = "", notice: str = "", status: int = 200
) -> Response:
    view = await run_in_threadpool(_dealer_view, _db(request))
    context = {
        **view,
        "dealer": dealer.username,
        "csrf": dealer.csrf,
        "error": error,
        "notice": notice,
        "page_title": "Orders",
    }
    return _render(request, "dealer.html", context, status)


@router.get("/dealer")
async def dealer_home(request: Request, done: str = "", order: str = "") -> Response:
    """Open orders, oldest first (the work queue), and the most recently closed ones."""
    dealer = await _dealer(request)
    if dealer is None:
        return RedirectResponse("/dealer/login", status_code=303)
    notice = f"Order {order} {_DONE[done]}." if done in _DONE and _ORDER_ID.match(order) else ""
    return await _dealer_page(request, dealer, notice=notice)


def _change(
    db: Database, public_id: str, status: str, actor: str, carrier: str, tracking: str
) -> tuple[dict[str, Any], bool]:
    with db.session() as session:
        order = session.scalars(select(Order).where(Order.public_id == public_id)).first()
        if order is None:
            raise OrderError(404, "Unknown order", f"there is no order {public_id}")
        before = order.status
        change_status(
            session, order, status, actor, carrier=carrier or None, tracking_number=tracking or None
        )
        site = session.get(Site, order.site_id)
        data = order_json(order) | {"site": {"id": order.site_id, "name": site.name if site else None}}
    return data, before != status


@router.post("/dealer/orders/{public_id}/{action}")
async def order_action(request: Request, public_id: str, action: str) -> Response:
    """Confirm, ship (carrier + tracking number), deliver or cancel one order."""
    dealer = await _dealer(request)
    if dealer is None:
        return RedirectResponse("/dealer/login", status_code=303)
    form = await _form(request)
    if not _dealer_csrf_ok(dealer, form.get("csrf", "")):
        return _csrf_refused(request)
    status = ACTIONS.get(action)
    if status is None or not _ORDER_ID.match(public_id):
        return _message(request, 404, "Not found", "There is no such order or action.")
    carrier = form.get("carrier", "").strip()
    tracking = form.get("tracking_number", "").strip()
    try:
        order, changed = await run_in_threadpool(
            _change, _db(request), public_id, status, f"dealer:{dealer.username}", carrier, tracking
        )
    except OrderError as exc:
        return await _dealer_page(request, dealer, error=f"{exc.title}: {exc.detail}.", status=exc.status)
    if changed:
        _LOG.info("order %s %s by dealer %r", public_id, status, dealer.username)
    background = _notify(request, "order_status_changed", order) if changed else None
    target = f"/dealer?{urlencode({'done': status, 'order': public_id})}"
    return RedirectResponse(target, status_code=303, background=background)
