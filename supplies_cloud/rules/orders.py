"""Orders: creation with idempotency, and the status state machine.

An ``Idempotency-Key`` makes creation safe to retry: the same key with the same request returns
the order created the first time (also when two requests race: the database's unique constraint
on (site, key) decides, the loser reads the winner's order); the same key with a *different*
request is refused, because answering it with the first order would hide a mistake.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import CatalogItem, Order, OrderEvent, Site, utcnow

PENDING, CONFIRMED, SHIPPED, DELIVERED, CANCELLED = (
    "pending",
    "confirmed",
    "shipped",
    "delivered",
    "cancelled",
)
STATUSES = (PENDING, CONFIRMED, SHIPPED, DELIVERED, CANCELLED)
# status -> statuses it may move to
TRANSITIONS: dict[str, tuple[str, ...]] = {
    PENDING: (CONFIRMED, CANCELLED),
    CONFIRMED: (SHIPPED, CANCELLED),
    SHIPPED: (DELIVERED,),
    DELIVERED: (),
    CANCELLED: (),
}
MAX_QUANTITY = 100


class OrderError(Exception):
    """A request the rules refuse; ``status`` is the HTTP status the API answers with."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail


@dataclass(frozen=True)
class NewOrder:
    part_number: str
    quantity: int = 1
    printer_id: str | None = None
    printer_model: str | None = None
    supply_key: str | None = None
    note: str | None = None

    def fingerprint(self) -> str:
        body = json.dumps(self.__dict__, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(body.encode()).hexdigest()


def _public_id() -> str:
    return "ord_" + secrets.token_hex(8)


def find_item(session: Session, part_number: str) -> CatalogItem | None:
    return session.scalars(
        select(CatalogItem)
        .where(CatalogItem.part_number == part_number, CatalogItem.active.is_(True))
        .order_by(CatalogItem.id)  # the same row every time when a part fits several models
    ).first()


def create_order(
    session: Session,
    site: Site,
    request: NewOrder,
    idempotency_key: str | None,
    actor: str,
    source: str = "api",
) -> tuple[Order, bool]:
    """(order, created). ``created`` is False when an earlier request with the same key made it."""
    if not 1 <= request.quantity <= MAX_QUANTITY:
        raise OrderError(422, "Invalid quantity", f"quantity must be from 1 to {MAX_QUANTITY}")
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 255:
        raise OrderError(422, "Invalid Idempotency-Key", "the key must be 1 to 255 characters")
    fingerprint = request.fingerprint()
    if idempotency_key:
        existing = _by_key(session, site, idempotency_key)
        if existing is not None:
            return _replay(existing, fingerprint), False
    item = find_item(session, request.part_number)
    if item is None:
        raise OrderError(422, "Unknown part", f"part number {request.part_number!r} is not in the catalog")
    order = Order(
        public_id=_public_id(),
        site_id=site.id,
        catalog_item_id=item.id,
        printer_id=request.printer_id,
        printer_model=request.printer_model,
        supply_key=request.supply_key,
        part_number=item.part_number,
        description=item.description,
        quantity=request.quantity,
        unit_price_cents=item.price_cents,
        currency=item.currency,
        status=PENDING,
        note=request.note,
        idempotency_key=idempotency_key,
        request_hash=fingerprint,
        source=source,
    )
    order.events.append(OrderEvent(status=PENDING, actor=actor))
    session.add(order)
    try:
        session.flush()
    except IntegrityError:
        # A concurrent request with the same key won the race: answer with its order.
        session.rollback()
        existing = _by_key(session, site, idempotency_key or "")
        if existing is None:
            raise
        return _replay(existing, fingerprint), False
    return order, True


def _by_key(session: Session, site: Site, key: str) -> Order | None:
    return session.scalars(
        select(Order).where(Order.site_id == site.id, Order.idempotency_key == key)
    ).first()


def _replay(order: Order, fingerprint: str) -> Order:
    if order.request_hash != fingerprint:
        raise OrderError(
            422,
            "Idempotency-Key reused",
            "this Idempotency-Key was already used for a different order request",
        )
    return order


def change_status(
    session: Session,
    order: Order,
    status: str,
    actor: str,
    *,
    carrier: str | None = None,
    tracking_number: str | None = None,
    note: str | None = None,
) -> Order:
    """Move an order along the state machine; shipping needs a carrier and a tracking number."""
    if status not in STATUSES:
        raise OrderError(422, "Unknown status", f"{status!r} is not one of {', '.join(STATUSES)}")
    if status == order.status:
        return order  # repeating a transition is harmless
    if status not in TRANSITIONS[order.status]:
        raise OrderError(409, "Not allowed now", f"an order that is {order.status} cannot become {status}")
    if status == SHIPPED:
        if not carrier or not tracking_number:
            raise OrderError(422, "Tracking needed", "shipping needs a carrier and a tracking number")
        order.carrier = carrier.strip()[:80]
        order.tracking_number = tracking_number.strip()[:120]
    order.status = status
    order.updated_at = utcnow()
    order.events.append(OrderEvent(status=status, actor=actor, note=note))
    session.flush()
    return order


def _iso(value: dt.datetime) -> str:
    """RFC 3339 with an offset: SQLite hands timestamps back without their zone (they are UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat()


def order_json(order: Order) -> dict[str, Any]:
    """The order as the API and the pages show it."""
    return {
        "id": order.public_id,
        "status": order.status,
        "part_number": order.part_number,
        "description": order.description,
        "quantity": order.quantity,
        "unit_price": order.unit_price_cents / 100,
        "total_price": order.unit_price_cents * order.quantity / 100,
        "currency": order.currency,
        "printer_id": order.printer_id,
        "printer_model": order.printer_model,
        "supply_key": order.supply_key,
        "note": order.note,
        "source": order.source,
        "shipment": (
            {"carrier": order.carrier, "tracking_number": order.tracking_number}
            if order.tracking_number
            else None
        ),
        "created_at": _iso(order.created_at),
        "updated_at": _iso(order.updated_at),
        "history": [
            {"status": e.status, "at": _iso(e.at), "actor": e.actor, "note": e.note} for e in order.events
        ],
    }
