"""The database, as SQLAlchemy 2 models. Schema changes go through Alembic (``migrations/``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    pass


class Site(Base):
    """A customer site (an office): it owns API keys, orders and printers."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    contact_email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    keys: Mapped[list[ApiKey]] = relationship(back_populates="site")


class ApiKey(Base):
    """A bearer key. Only a SHA-256 of it is stored; the key itself is shown once, at creation."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), index=True)  # lets an admin tell keys apart
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    site: Mapped[Site] = relationship(back_populates="keys")


class User(Base):
    """Dealer staff who confirm and ship orders. Passwords are argon2 hashes."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CatalogItem(Base):
    """One supply for one printer model: part number, price, lead time."""

    __tablename__ = "catalog_items"
    __table_args__ = (UniqueConstraint("model_key", "part_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor: Mapped[str | None] = mapped_column(String(80))
    model: Mapped[str] = mapped_column(String(120))  # as the dealer wrote it
    model_key: Mapped[str] = mapped_column(String(120), index=True)  # normalised for matching
    kind: Mapped[str] = mapped_column(String(32))  # toner, ink, drum, waste, … (the agent's kinds)
    color: Mapped[str | None] = mapped_column(String(32))
    part_number: Mapped[str] = mapped_column(String(64), index=True)
    description: Mapped[str] = mapped_column(String(255))
    price_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    lead_time_days: Mapped[int] = mapped_column(Integer)
    yield_pages: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Order(Base):
    """A supplies order. Status moves pending → confirmed → shipped → delivered, or → cancelled."""

    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("site_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    catalog_item_id: Mapped[int | None] = mapped_column(ForeignKey("catalog_items.id", ondelete="SET NULL"))
    printer_id: Mapped[str | None] = mapped_column(String(80), index=True)
    printer_model: Mapped[str | None] = mapped_column(String(120))
    supply_key: Mapped[str | None] = mapped_column(String(64))
    part_number: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(255))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), index=True, default="pending")
    note: Mapped[str | None] = mapped_column(Text)
    carrier: Mapped[str | None] = mapped_column(String(80))
    tracking_number: Mapped[str | None] = mapped_column(String(120))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_hash: Mapped[str | None] = mapped_column(String(64))  # same key, other body: refused
    source: Mapped[str] = mapped_column(String(16), default="api")  # api | storefront
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    site: Mapped[Site] = relationship()
    events: Mapped[list[OrderEvent]] = relationship(
        back_populates="order", order_by="OrderEvent.id", cascade="all, delete-orphan"
    )


class OrderEvent(Base):
    """Every status change of an order, with when and who."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))  # "site:<name>", "dealer:<user>", "storefront"
    note: Mapped[str | None] = mapped_column(Text)

    order: Mapped[Order] = relationship(back_populates="events")


class FleetPrinter(Base):
    """What fleet syncs told us about one printer of a site (for eligibility and the dealer)."""

    __tablename__ = "fleet_printers"
    __table_args__ = (UniqueConstraint("site_id", "printer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    printer_id: Mapped[str] = mapped_column(String(80))
    vendor: Mapped[str | None] = mapped_column(String(80))
    model: Mapped[str | None] = mapped_column(String(120))
    pages: Mapped[int | None] = mapped_column(Integer)
    supplies: Mapped[str | None] = mapped_column(Text)  # last compact supplies line, as sent
    first_day: Mapped[dt.date] = mapped_column(Date)
    streak_start: Mapped[dt.date] = mapped_column(Date)  # first day of the current continuous run
    last_day: Mapped[dt.date] = mapped_column(Date)


class FleetSync(Base):
    """One upload, kept to measure what syncing costs."""

    __tablename__ = "fleet_syncs"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    day: Mapped[dt.date] = mapped_column(Date)
    printers: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))  # daily | reorder_point
