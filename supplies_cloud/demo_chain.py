"""The reference cloud inside ``printer-supplies-agent demo``: the whole chain on one machine.

The demo's simulated printers run low; the agent publishes them; this module runs the real
service (same app, real HTTP, its own SQLite) with the demo catalog, a demo site and a dealer
login, and asks it over the public API what to order: part, price, lead time, storefront link.
It also sends the day's fleet sync and reports its size, so the demo shows every figure.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import select

from .app import create_app
from .config import CloudSettings
from .db import Database
from .models import ApiKey, Site, User
from .rules.catalog import import_csv
from .security import hash_password, key_hash, key_prefix, new_api_key

DEMO_CATALOG = Path(__file__).parent / "demo_catalog.csv"
REORDER_STATES = ("low", "empty", "nearly_full", "full")


@dataclass(frozen=True)
class Suggestion:
    printer: str
    supply: str
    state: str
    percent: int | None
    part_number: str
    description: str
    price: float
    currency: str
    lead_time_days: int
    storefront_url: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DemoCloud:
    """Starts, seeds and queries a private supplies cloud for the demo."""

    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.settings = CloudSettings(
            data_dir=workdir,
            public_url=self.base_url,
            dealer_name="Demo supplies desk",
            secret_key=secrets.token_urlsafe(32),
        )
        self.dealer_password = secrets.token_urlsafe(9)
        self.api_key = ""
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        app = create_app(self.settings)  # migrates the new database
        self._seed(app.state.db)
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        self._client = httpx.AsyncClient(
            base_url=f"{self.base_url}/api/v1",
            headers={"Authorization": f"Bearer {self.api_key}"},
            timeout=10,
        )
        for _ in range(100):
            with contextlib.suppress(httpx.HTTPError):
                if (await self._client.get("/site")).status_code == 200:
                    return
            await asyncio.sleep(0.05)
        raise RuntimeError("the demo supplies cloud did not start")

    def _seed(self, db: Database) -> None:
        self.api_key = new_api_key()
        with db.session() as session:
            import_csv(session, DEMO_CATALOG.read_text(encoding="utf-8"), self.settings.currency)
            site = session.scalars(select(Site).where(Site.name == "Demo office")).first()
            if site is None:
                site = Site(name="Demo office", contact_email="office@example.org")
                session.add(site)
                session.flush()
            session.add(
                ApiKey(site_id=site.id, prefix=key_prefix(self.api_key), key_hash=key_hash(self.api_key))
            )
            user = session.scalars(select(User).where(User.username == "dealer")).first()
            if user is None:
                session.add(User(username="dealer", password_hash=hash_password(self.dealer_password)))
            else:
                user.password_hash = hash_password(self.dealer_password)

    async def suggestions(self, states: list[dict[str, Any]]) -> list[Suggestion]:
        """For every supply at its reorder point: what the catalog says to order, and where."""
        assert self._client is not None
        found = []
        for state in states:
            model = " ".join(x for x in (state.get("vendor"), state.get("model")) if x)
            for supply in state.get("supplies", []):
                if supply.get("state") not in REORDER_STATES:
                    continue
                params = {"model": model, "kind": supply["kind"]}
                if supply.get("color"):
                    params["color"] = supply["color"]
                if supply.get("part_number"):
                    params["part_number"] = supply["part_number"]
                response = await self._client.get("/catalog", params=params)
                matches = response.json().get("matches", []) if response.status_code == 200 else []
                if matches:
                    item = matches[0]
                    found.append(
                        Suggestion(
                            printer=model or state["id"],
                            supply=supply["name"],
                            state=supply["state"],
                            percent=supply.get("percent"),
                            part_number=item["part_number"],
                            description=item["description"],
                            price=item["price"],
                            currency=item["currency"],
                            lead_time_days=item["lead_time_days"],
                            storefront_url=item["storefront_url"],
                        )
                    )
        return found

    async def sync(self, states: list[dict[str, Any]]) -> tuple[int, int]:
        """The day's fleet upload: (status code, body bytes)."""
        assert self._client is not None
        printers = []
        for state in states:
            supplies = ",".join(
                f"{s['kind']}{'/' + s['color'] if s.get('color') else ''}:{s.get('part_number') or ''}:"
                f"{s['percent'] if s.get('percent') is not None else s['state']}"
                for s in state.get("supplies", [])
            )
            printers.append(
                {
                    "id": state["id"],
                    "vendor": state.get("vendor"),
                    "model": state.get("model"),
                    "pages": state.get("counters", {}).get("total"),
                    "supplies": supplies or None,
                }
            )
        body = {"day": dt.date.today().isoformat(), "reason": "daily", "printers": printers}
        content = httpx.Request("POST", "/", json=body).content
        response = await self._client.post(
            "/fleet/sync", content=content, headers={"Content-Type": "application/json"}
        )
        return response.status_code, len(content)

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
