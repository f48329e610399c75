"""The JSON API under ``/api/v1``, as specified by ``docs/cloud-api.yaml``.

Routes are thin: they parse (pydantic models with limits), authorize (a bearer API key names the
site; everything a site sees is its own), call a rule from ``rules/`` and render. Endpoints are
plain ``def``s, which FastAPI runs in its thread pool, because SQLAlchemy sessions here are
synchronous. Every error is an RFC 9457 problem (``problems.py``); the models below refuse what
the database would choke on (over-long strings, NUL characters, integers beyond 32 bits), so
bad input is a 4xx and never a 500.

The pydantic models carry the names of the components in ``docs/cloud-api.yaml`` so the OpenAPI
document FastAPI generates can be held against the hand-written one (``tests/cloud/test_contract.py``).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args
from urllib.parse import quote, urlencode

from fastapi import APIRouter, BackgroundTasks, Body, Depends, Header, Path, Query, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, field_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from . import models as db
from .config import CloudSettings
from .problems import PROBLEM, Problem
from .ratelimit import TokenBucketLimiter
from .rules import catalog as catalog_rules
from .rules import eligibility as reward
from .rules import fleet as fleet_rules
from .rules.catalog import Kind
from .rules.orders import CANCELLED, PENDING, STATUSES, NewOrder, change_status, create_order, order_json
from .security import key_hash, sign

_LOG = logging.getLogger(__name__)

MAX_BODY_BYTES = 1 << 20  # a fleet sync of 1,000 printers is about 250 kB
# Single-line text: no control characters (PostgreSQL refuses NUL; logs and e-mails break on the rest).
LINE = r"^[^\x00-\x1f\x7f]*$"
# Multi-line text (notes): tabs and line breaks allowed.
MULTILINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
PRINTER_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,79}$"
PART_NUMBER = r"^[^,:\x00-\x1f\x7f]{1,64}$"
IDEMPOTENCY_KEY = r"^[\x21-\x7e][\x20-\x7e]*$"
_ORDER_ID = re.compile(r"^ord_[0-9a-f]{16}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# A day the agent may report: its local date may run a day ahead of UTC; a year back is plenty
# for an agent catching up after an outage.
_DAYS_AHEAD, _DAYS_BACK = 1, 366

Status = Literal["pending", "confirmed", "shipped", "delivered", "cancelled"]
assert set(get_args(Kind)) == set(catalog_rules.KINDS)
assert set(get_args(Status)) == set(STATUSES)


# --- request and response models ----------------------------------------------------------------


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrderRequest(_Input):
    """A new order. Unknown members are refused: a typo in an order should not pass unnoticed."""

    part_number: StrictStr = Field(pattern=PART_NUMBER, description="A part number from the catalog.")
    quantity: StrictInt = Field(1, ge=1, le=100)
    printer_id: StrictStr | None = Field(None, pattern=PRINTER_ID, description="The agent's printer id.")
    printer_model: StrictStr | None = Field(None, max_length=120, pattern=LINE)
    supply_key: StrictStr | None = Field(
        None, max_length=64, pattern=LINE, description="The agent's supply key."
    )
    note: StrictStr | None = Field(None, max_length=1000, pattern=MULTILINE)


class CancelRequest(_Input):
    reason: StrictStr | None = Field(None, max_length=500, pattern=MULTILINE)


class FleetPrinterReport(BaseModel):
    """One printer of a fleet sync. Unknown members are ignored, so newer agents can sync."""

    id: StrictStr = Field(pattern=PRINTER_ID)
    vendor: StrictStr | None = Field(None, max_length=80, pattern=LINE)
    model: StrictStr | None = Field(None, max_length=120, pattern=LINE)
    pages: StrictInt | None = Field(None, ge=0, le=fleet_rules.MAX_PAGES)
    supplies: StrictStr | None = Field(
        None,
        max_length=fleet_rules.MAX_SUPPLIES_CHARS,
        description="kind[/color]:part_number:level entries, comma-separated.",
        json_schema_extra={
            "pattern": fleet_rules.SUPPLIES_PATTERN
        },  # checked by _supplies, with a clearer message
    )

    @field_validator("supplies")
    @classmethod
    def _supplies(cls, value: str | None) -> str | None:
        if value is not None:
            fleet_rules.parse_supplies(value)
        return value


class FleetSync(BaseModel):
    """A fleet upload: the day it covers, why it was sent, and the printers."""

    day: dt.date = Field(description="The agent's local date the upload covers (YYYY-MM-DD).")
    reason: Literal["daily", "reorder_point"] = "daily"
    printers: list[FleetPrinterReport] = Field(min_length=1, max_length=fleet_rules.MAX_PRINTERS)

    @field_validator("day", mode="before")
    @classmethod
    def _day_text(cls, value: Any) -> Any:
        if not isinstance(value, str):  # pydantic would take a number as a Unix time
            raise ValueError("day must be a date string YYYY-MM-DD")
        return value

    @field_validator("day")
    @classmethod
    def _day_range(cls, value: dt.date) -> dt.date:
        today = dt.datetime.now(dt.UTC).date()
        if not today - dt.timedelta(days=_DAYS_BACK) <= value <= today + dt.timedelta(days=_DAYS_AHEAD):
            raise ValueError(f"day must be within the last {_DAYS_BACK} days")
        return value

    @field_validator("printers")
    @classmethod
    def _unique(cls, value: list[FleetPrinterReport]) -> list[FleetPrinterReport]:
        ids = [p.id for p in value]
        if len(set(ids)) != len(ids):
            raise ValueError("a printer id appears more than once")
        return value


class ProblemError(BaseModel):
    field: str
    message: str


class ProblemModel(BaseModel):
    """RFC 9457 problem details (``application/problem+json``)."""

    model_config = ConfigDict(title="Problem")

    type: str
    title: str
    status: int
    detail: str
    errors: list[ProblemError] | None = None


class Site(BaseModel):
    id: int
    name: str
    key_prefix: str
    rate_limit_per_minute: int


class CatalogMatch(BaseModel):
    part_number: str
    description: str
    vendor: str | None
    model: str
    kind: str
    color: str | None
    price: float
    currency: str
    lead_time_days: int
    yield_pages: int | None
    storefront_url: str
    matched_by: Literal["part_number", "model"]


class CatalogSearch(BaseModel):
    model: str
    model_key: str
    matches: list[CatalogMatch]


class CatalogPart(BaseModel):
    part_number: str
    description: str
    vendor: str | None
    models: list[str]
    kind: str
    color: str | None
    price: float
    currency: str
    lead_time_days: int
    yield_pages: int | None
    storefront_url: str


class Shipment(BaseModel):
    carrier: str | None
    tracking_number: str


class OrderEvent(BaseModel):
    status: Status
    at: str
    actor: str
    note: str | None


class Order(BaseModel):
    id: str
    status: Status
    part_number: str
    description: str
    quantity: int
    unit_price: float
    total_price: float
    currency: str
    printer_id: str | None
    printer_model: str | None
    supply_key: str | None
    note: str | None
    source: str
    shipment: Shipment | None
    created_at: str
    updated_at: str
    history: list[OrderEvent]


class OrderList(BaseModel):
    orders: list[Order]
    has_more: bool
    next_cursor: str | None


class FleetSyncResult(BaseModel):
    day: dt.date
    reason: Literal["daily", "reorder_point"]
    printers: int
    new_printers: int
    bytes: int
    bytes_per_printer: float


class RewardThresholds(BaseModel):
    monitored_days: int
    orders: int
    max_gap_days: int


class RewardMissing(BaseModel):
    monitored_days: int
    orders: int


class Eligibility(BaseModel):
    printer_id: str
    eligible: bool
    monitored_days: int
    continuous_since: dt.date | None
    last_sync_day: dt.date | None
    orders_placed: int
    thresholds: RewardThresholds
    missing: RewardMissing
    reasons: list[str]


# --- plumbing: body limit, auth, rate limit ----------------------------------------------------------


class _BodyLimitRoute(APIRoute):
    """Refuses bodies over MAX_BODY_BYTES before FastAPI reads them into memory."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def limited(request: Request) -> Response:
            length = request.headers.get("content-length")
            if length is not None:
                if not length.isdigit() or int(length) > MAX_BODY_BYTES:
                    raise _too_large()
            elif request.method in {"POST", "PUT", "PATCH"}:  # chunked: count while reading
                body = b""
                async for chunk in request.stream():
                    body += chunk
                    if len(body) > MAX_BODY_BYTES:
                        raise _too_large()
                request = _replayed(request, body)
            return await handler(request)

        return limited


def _too_large() -> Problem:
    return Problem(413, "Request too large", f"the body may be at most {MAX_BODY_BYTES} bytes")


def _replayed(request: Request, body: bytes) -> Request:
    sent = False

    async def receive() -> Any:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await request.receive()

    return Request(request.scope, receive)


Responses = dict[int | str, dict[str, Any]]  # FastAPI's "responses" of a route


def _problem_response(description: str) -> dict[str, Any]:
    # Inline rather than "model": FastAPI would also list the schema under application/json.
    return {"description": description, "content": {PROBLEM: {"schema": _PROBLEM_SCHEMA}}}


_PROBLEM_SCHEMA = ProblemModel.model_json_schema()
# Bodies FastAPI cannot read at all (not UTF-8) are 400; readable but invalid ones are 422.
_TOO_LARGE: Responses = {
    400: _problem_response("The body could not be read (it is not UTF-8 JSON)."),
    413: _problem_response(f"The body is larger than {MAX_BODY_BYTES} bytes."),
}
_INVALID: Responses = {422: _problem_response("The request is not valid.")}
_ERRORS: Responses = {
    401: _problem_response("No API key, a malformed one, or one that is unknown or revoked."),
    429: _problem_response("Too many requests with this API key; retry after Retry-After seconds."),
}
router = APIRouter(prefix="/api/v1", route_class=_BodyLimitRoute, responses=_ERRORS)

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearerAuth",
    bearerFormat="psk_…",
    description="The site's API key, `Authorization: Bearer psk_…`.",
)
_limiter_lock = threading.Lock()


@dataclass(frozen=True)
class Caller:
    """Who is calling: the site of the API key (plain values, no session attached)."""

    site_id: int
    site_name: str
    key_id: int
    key_prefix: str


def _unauthorized(detail: str, error: str | None) -> Problem:
    challenge = 'Bearer realm="supplies-cloud"' + (f', error="{error}"' if error else "")
    return Problem(401, "Unauthorized", detail, {"WWW-Authenticate": challenge})


def _limiter(request: Request, settings: CloudSettings) -> TokenBucketLimiter:
    state = request.app.state
    limiter = getattr(state, "api_rate_limiter", None)
    if limiter is None:
        with _limiter_lock:
            limiter = getattr(state, "api_rate_limiter", None)
            if limiter is None:
                limiter = state.api_rate_limiter = TokenBucketLimiter(settings.rate_limit_per_minute)
    return limiter


def authenticated(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Caller:
    """The caller's site from ``Authorization: Bearer <key>``; 401 or 429 otherwise."""
    if credentials is None:
        raise _unauthorized("send the site's API key as Authorization: Bearer psk_…", None)
    token = credentials.credentials
    if len(token) > 200 or _CONTROL.search(token):
        raise _unauthorized("the API key is not valid", "invalid_token")
    with request.app.state.db.session() as session:
        row = session.execute(
            select(db.ApiKey.id, db.ApiKey.prefix, db.ApiKey.revoked_at, db.Site.id, db.Site.name)
            .join(db.Site, db.Site.id == db.ApiKey.site_id)
            .where(db.ApiKey.key_hash == key_hash(token))
        ).first()
    if row is None or row[2] is not None:
        # Unknown and revoked keys get the same answer: a revoked key says nothing about the site.
        raise _unauthorized("the API key is unknown or revoked", "invalid_token")
    caller = Caller(site_id=row[3], site_name=row[4], key_id=row[0], key_prefix=row[1])
    settings: CloudSettings = request.app.state.settings
    limiter = _limiter(request, settings)
    wait = limiter.take(f"key:{caller.key_id}")
    if wait:
        raise Problem(
            429,
            "Too many requests",
            f"this API key may make {settings.rate_limit_per_minute} requests a minute",
            {"Retry-After": limiter.retry_after(wait)},
        )
    return caller


CallerDep = Annotated[Caller, Depends(authenticated)]


def _settings(request: Request) -> CloudSettings:
    settings: CloudSettings = request.app.state.settings
    return settings


def _site(session: Session, caller: Caller) -> db.Site:
    site = session.get(db.Site, caller.site_id)
    if site is None:  # deleted between the key check and now
        raise _unauthorized("the API key's site no longer exists", "invalid_token")
    return site


def storefront_url(settings: CloudSettings, site_id: int, part_number: str) -> str:
    """The signed storefront link of a part for a site (the store page checks ``sig``)."""
    signature = sign(settings.secret_key.get_secret_value(), f"{site_id}:{part_number}")
    query = urlencode({"site": site_id, "sig": signature})
    return f"{settings.public_url}/store/{quote(part_number, safe='')}?{query}"


def _notify(
    request: Request, background: BackgroundTasks, event: str, order: dict[str, Any], caller: Caller
) -> None:
    """Hand the committed order to fulfilment (e-mail, webhook) after the response is sent."""
    fulfilment = getattr(request.app.state, "fulfilment", None)
    if fulfilment is None:
        return
    payload = {**order, "site": {"id": caller.site_id, "name": caller.site_name}}
    background.add_task(_safely, getattr(fulfilment, event), payload)


async def _safely(call: Callable[[dict[str, Any]], Awaitable[None]], payload: dict[str, Any]) -> None:
    try:
        await call(payload)
    except Exception:  # the order stands; a notification problem is the dealer's log entry
        _LOG.exception("fulfilment of order %s failed", payload.get("id"))


# --- endpoints ----------------------------------------------------------------------------------


@router.get("/site", response_model=Site, operation_id="getSite", summary="Who am I")
def get_site(request: Request, caller: CallerDep) -> dict[str, Any]:
    """The site the API key belongs to, and the key's prefix (to tell keys apart)."""
    return {
        "id": caller.site_id,
        "name": caller.site_name,
        "key_prefix": caller.key_prefix,
        "rate_limit_per_minute": _settings(request).rate_limit_per_minute,
    }


@router.get(
    "/catalog",
    response_model=CatalogSearch,
    operation_id="findCatalog",
    summary="Supplies for a model",
    responses=_INVALID,
)
def find_catalog(
    request: Request,
    caller: CallerDep,
    model: Annotated[
        str, Query(min_length=1, max_length=120, pattern=LINE, description="The printer's model.")
    ],
    kind: Annotated[Kind | None, Query(description="The supply's kind, as the agent reports it.")] = None,
    color: Annotated[str | None, Query(max_length=32, pattern=LINE)] = None,
    part_number: Annotated[
        str | None, Query(max_length=64, pattern=LINE, description="The part number the printer reports.")
    ] = None,
) -> dict[str, Any]:
    """Catalog rows for a printer model (and optionally one supply), with signed storefront links."""
    settings = _settings(request)
    with request.app.state.db.session() as session:
        matches = catalog_rules.match(session, model, kind=kind, color=color, part_number=part_number)
        return {
            "model": model,
            "model_key": catalog_rules.normalize_model(model),
            "matches": [
                {
                    **_item_fields(m.item, settings, caller.site_id),
                    "model": m.item.model,
                    "matched_by": m.matched_by,
                }
                for m in matches
            ],
        }


@router.get(
    "/catalog/{part_number}",
    response_model=CatalogPart,
    operation_id="getCatalogPart",
    summary="One part",
    responses={404: _problem_response("No such part in the catalog."), **_INVALID},
)
def get_catalog_part(
    request: Request, caller: CallerDep, part_number: Annotated[str, Path(description="A part number.")]
) -> dict[str, Any]:
    """A part by its number, with the models it fits."""
    if len(part_number) > 64 or _CONTROL.search(part_number):
        raise Problem(404, "Not found", "no such part in the catalog")
    with request.app.state.db.session() as session:
        rows = catalog_rules.items_by_part(session, part_number)
        if not rows:
            raise Problem(404, "Not found", f"part {part_number!r} is not in the catalog")
        fields = _item_fields(rows[0], _settings(request), caller.site_id)
        return {**fields, "models": sorted({r.model for r in rows})}


def _item_fields(item: db.CatalogItem, settings: CloudSettings, site_id: int) -> dict[str, Any]:
    return {
        "part_number": item.part_number,
        "description": item.description,
        "vendor": item.vendor,
        "kind": item.kind,
        "color": item.color,
        "price": item.price_cents / 100,
        "currency": item.currency,
        "lead_time_days": item.lead_time_days,
        "yield_pages": item.yield_pages,
        "storefront_url": storefront_url(settings, site_id, item.part_number),
    }


_NOT_FOUND: Responses = {404: _problem_response("No such order for this site."), **_INVALID}


@router.post(
    "/orders",
    status_code=201,
    response_model=Order,
    operation_id="createOrder",
    summary="Place an order",
    responses={
        200: {"model": Order, "description": "A replay: the order this Idempotency-Key created before."},
        201: {"description": "The order was created."},
        **_TOO_LARGE,
        **_INVALID,
    },
)
def create(
    request: Request,
    response: Response,
    background: BackgroundTasks,
    caller: CallerDep,
    body: OrderRequest,
    idempotency_key: Annotated[
        str,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            pattern=IDEMPOTENCY_KEY,
            description="A unique key per intended order (a UUID); retries send the same key.",
        ),
    ],
) -> dict[str, Any]:
    """Create an order; the same Idempotency-Key with the same body answers with the same order."""
    wanted = NewOrder(
        part_number=body.part_number,
        quantity=body.quantity,
        printer_id=body.printer_id,
        printer_model=body.printer_model,
        supply_key=body.supply_key,
        note=body.note,
    )
    with request.app.state.db.session() as session:
        site = _site(session, caller)
        order, created = create_order(session, site, wanted, idempotency_key, actor=f"site:{site.name}")
        data = order_json(order)
    if created:
        response.headers["Location"] = f"{router.prefix}/orders/{data['id']}"
        _notify(request, background, "order_created", data, caller)
    else:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return data


@router.get(
    "/orders", response_model=OrderList, operation_id="listOrders", summary="List orders", responses=_INVALID
)
def list_orders(
    request: Request,
    caller: CallerDep,
    status: Annotated[Status | None, Query(description="Only orders in this status.")] = None,
    printer_id: Annotated[
        str | None, Query(pattern=PRINTER_ID, description="Only orders for this printer.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="At most this many orders.")] = 20,
    cursor: Annotated[
        str | None, Query(max_length=40, pattern=LINE, description="`next_cursor` of the previous page.")
    ] = None,
) -> dict[str, Any]:
    """The site's orders, newest first, a page at a time."""
    with request.app.state.db.session() as session:
        query = select(db.Order).where(db.Order.site_id == caller.site_id)
        if cursor is not None:
            after = session.scalar(
                select(db.Order.id).where(db.Order.site_id == caller.site_id, db.Order.public_id == cursor)
            )
            if after is None:
                raise Problem(422, "Invalid cursor", "cursor is not a next_cursor this API returned")
            query = query.where(db.Order.id < after)
        if status is not None:
            query = query.where(db.Order.status == status)
        if printer_id is not None:
            query = query.where(db.Order.printer_id == printer_id)
        rows = session.scalars(
            query.options(selectinload(db.Order.events)).order_by(db.Order.id.desc()).limit(limit + 1)
        ).all()
        orders = [order_json(o) for o in rows[:limit]]
    has_more = len(rows) > limit
    return {"orders": orders, "has_more": has_more, "next_cursor": orders[-1]["id"] if has_more else None}


def _order(session: Session, caller: Caller, order_id: str, *, for_update: bool = False) -> db.Order:
    """The caller's order; another site's order is "not found", so ids reveal nothing."""
    if _ORDER_ID.match(order_id):
        query = select(db.Order).where(db.Order.public_id == order_id, db.Order.site_id == caller.site_id)
        order = session.scalars(query.with_for_update() if for_update else query).first()
        if order is not None:
            return order
    raise Problem(404, "Not found", f"no order {order_id!r} for this site")


@router.get(
    "/orders/{order_id}",
    response_model=Order,
    operation_id="getOrder",
    summary="One order",
    responses=_NOT_FOUND,
)
def get_order(request: Request, caller: CallerDep, order_id: Annotated[str, Path()]) -> dict[str, Any]:
    """An order with its status, shipment (carrier, tracking number) and history."""
    with request.app.state.db.session() as session:
        return order_json(_order(session, caller, order_id))


@router.post(
    "/orders/{order_id}/cancel",
    response_model=Order,
    operation_id="cancelOrder",
    summary="Cancel a pending order",
    responses={
        **_NOT_FOUND,
        409: _problem_response("The order is no longer pending."),
        **_TOO_LARGE,
    },
)
def cancel_order(
    request: Request,
    background: BackgroundTasks,
    caller: CallerDep,
    order_id: Annotated[str, Path()],
    body: Annotated[CancelRequest | None, Body()] = None,
) -> dict[str, Any]:
    """Cancel an order while it is pending; cancelling a cancelled order again is harmless."""
    with request.app.state.db.session() as session:
        order = _order(session, caller, order_id, for_update=True)
        if order.status == CANCELLED:
            return order_json(order)
        if order.status != PENDING:
            raise Problem(
                409,
                "Cannot cancel",
                f"the order is {order.status}; only pending orders can be cancelled here, ask the dealer",
            )
        change_status(
            session, order, CANCELLED, f"site:{caller.site_name}", note=body.reason if body else None
        )
        data = order_json(order)
    _notify(request, background, "order_status_changed", data, caller)
    return data


async def _body_size(request: Request) -> int:
    return len(await request.body())  # already read and cached by FastAPI


@router.post(
    "/fleet/sync",
    response_model=FleetSyncResult,
    operation_id="syncFleet",
    summary="Daily fleet upload",
    responses={**_TOO_LARGE, **_INVALID},
)
def sync_fleet(
    request: Request, caller: CallerDep, body: FleetSync, size: Annotated[int, Depends(_body_size)]
) -> dict[str, Any]:
    """Record the day's state of the site's printers (and their monitoring streaks)."""
    upload = fleet_rules.FleetUpload(
        day=body.day,
        reason=body.reason,
        printers=[
            fleet_rules.PrinterReport(
                id=p.id, model=p.model, vendor=p.vendor, pages=p.pages, supplies=p.supplies
            )
            for p in body.printers
        ],
    )
    gap = _settings(request).reward_max_gap_days
    try:
        with request.app.state.db.session() as session:
            result = fleet_rules.apply_sync(session, _site(session, caller), upload, size, gap)
    except IntegrityError:
        # A concurrent upload added one of these printers first: now it exists, so apply again.
        with request.app.state.db.session() as session:
            result = fleet_rules.apply_sync(session, _site(session, caller), upload, size, gap)
    return {
        "day": result.day,
        "reason": result.reason,
        "printers": result.printers,
        "new_printers": result.new_printers,
        "bytes": result.bytes,
        "bytes_per_printer": result.bytes_per_printer,
    }


@router.get(
    "/printers/{printer_id}/eligibility",
    response_model=Eligibility,
    operation_id="getEligibility",
    summary="Service-reward eligibility",
    responses=_INVALID,
)
def get_eligibility(
    request: Request, caller: CallerDep, printer_id: Annotated[str, Path(pattern=PRINTER_ID)]
) -> dict[str, Any]:
    """Whether the printer has earned the service reward, and what is missing if not."""
    with request.app.state.db.session() as session:
        answer = reward.eligibility(session, _site(session, caller), printer_id, _settings(request))
    return answer.to_json()
