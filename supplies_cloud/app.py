"""The web application: the JSON API under ``/api/v1`` and the HTML pages, on one FastAPI app.

Routes are thin (parse, authorize, call a rule, render); the rules live in ``rules/`` and know
nothing of HTTP. FastAPI on uvicorn because it is the mainstream async Python web stack, it
validates requests with the same pydantic the agent uses, and it serves an OpenAPI document that
the tests hold against ``docs/cloud-api.yaml``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text

from . import __version__, problems
from .api import router as api_router
from .config import CloudSettings
from .db import Database, migrate
from .fulfilment import Fulfilment
from .web import router as web_router

_LOG = logging.getLogger(__name__)


def create_app(settings: CloudSettings, *, run_migrations: bool = True) -> FastAPI:
    if run_migrations:
        migrate(settings.url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.db.dispose()

    app = FastAPI(
        title="Printer Supplies cloud API",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = Database(settings.url)
    problems.install(app)

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, Any]:
        with app.state.db.session() as session:
            session.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    app.state.fulfilment = Fulfilment(settings)
    app.include_router(api_router)
    app.include_router(web_router)
    return app
