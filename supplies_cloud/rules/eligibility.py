"""Service-reward eligibility per printer.

The seed rule: the printer has been monitored continuously for ``reward_monitored_days`` days and
``reward_orders`` supplies orders for it have gone through the service (any source, not
cancelled). "Continuously" allows ``reward_max_gap_days`` missing daily syncs in a row, and the
run must still be going: a printer whose last sync is older than the allowed gap has no current
run, whatever it once had. The answer says what is missing, so the site can act on it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import FleetPrinter, Order, Site
from .orders import CANCELLED


class RewardSettings(Protocol):
    """The part of CloudSettings the rule reads."""

    reward_monitored_days: int
    reward_orders: int
    reward_max_gap_days: int


@dataclass(frozen=True)
class Eligibility:
    printer_id: str
    eligible: bool
    monitored_days: int
    continuous_since: dt.date | None
    last_sync_day: dt.date | None
    orders_placed: int
    required_days: int
    required_orders: int
    max_gap_days: int
    missing_days: int
    missing_orders: int
    reasons: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "printer_id": self.printer_id,
            "eligible": self.eligible,
            "monitored_days": self.monitored_days,
            "continuous_since": self.continuous_since.isoformat() if self.continuous_since else None,
            "last_sync_day": self.last_sync_day.isoformat() if self.last_sync_day else None,
            "orders_placed": self.orders_placed,
            "thresholds": {
                "monitored_days": self.required_days,
                "orders": self.required_orders,
                "max_gap_days": self.max_gap_days,
            },
            "missing": {"monitored_days": self.missing_days, "orders": self.missing_orders},
            "reasons": list(self.reasons),
        }


def eligibility(
    session: Session, site: Site, printer_id: str, settings: RewardSettings, today: dt.date | None = None
) -> Eligibility:
    """Whether ``printer_id`` of ``site`` has earned the service reward, and if not, why not."""
    today = today or dt.datetime.now(dt.UTC).date()
    required_days, required_orders = settings.reward_monitored_days, settings.reward_orders
    gap = settings.reward_max_gap_days
    printer = session.scalars(
        select(FleetPrinter).where(FleetPrinter.site_id == site.id, FleetPrinter.printer_id == printer_id)
    ).first()
    orders = session.scalar(
        select(func.count())
        .select_from(Order)
        .where(Order.site_id == site.id, Order.printer_id == printer_id, Order.status != CANCELLED)
    )
    orders = int(orders or 0)
    reasons = []
    since: dt.date | None = None
    days = 0
    if printer is None:
        reasons.append("no fleet sync has reported this printer yet")
    elif (today - printer.last_day).days - 1 > gap:
        reasons.append(
            f"no fleet sync since {printer.last_day.isoformat()}: more than {gap} missing day(s) "
            "broke the continuous run; it starts again with the next sync"
        )
    else:
        since = printer.streak_start
        days = (printer.last_day - printer.streak_start).days + 1
    missing_days = max(0, required_days - days)
    missing_orders = max(0, required_orders - orders)
    if missing_days and since is not None:  # no run at all is explained above
        reasons.append(f"monitored continuously for {days} of {required_days} days ({missing_days} to go)")
    if missing_orders:
        reasons.append(
            f"{orders} of {required_orders} supplies orders placed through the service "
            f"({missing_orders} more needed)"
        )
    return Eligibility(
        printer_id=printer_id,
        eligible=not missing_days and not missing_orders,
        monitored_days=days,
        continuous_since=since,
        last_sync_day=printer.last_day if printer else None,
        orders_placed=orders,
        required_days=required_days,
        required_orders=required_orders,
        max_gap_days=gap,
        missing_days=missing_days,
        missing_orders=missing_orders,
        reasons=reasons,
    )
