"""The supplies cloud for tests: the real service over real HTTP, and clients that check the contract.

Used by the cloud tests (tests/cloud/conftest.py adds the database fixtures) and by the Home
Assistant tests, which run the same service as the integration's cloud.

Formerly part of the cloud tests' conftest.

``cloud`` starts ``supplies_cloud.app.create_app`` under uvicorn in a background thread, on a
socket bound to a free port, against a fresh database: a SQLite file, or a new database in a
throw-away PostgreSQL cluster (Debian's ``postgresql`` package, started once per test session on
a free port with its socket in a temporary folder, never the machine's own server on 5432).

Clients made by :meth:`CloudService.api` follow ``docs/cloud-api.yaml``: they call operations by
``operationId``, and *every* response is checked against the document: its status must be
declared for the operation, errors must be ``application/problem+json``, and the JSON body must
validate against the declared schema (JSON Schema 2020-12, ``$ref``\\ s resolved).
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import uvicorn
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import func, select

from supplies_cloud.app import create_app
from supplies_cloud.config import CloudSettings
from supplies_cloud.models import ApiKey, Order, Site, utcnow
from supplies_cloud.rules.catalog import ImportReport, import_csv
from supplies_cloud.rules.orders import change_status
from supplies_cloud.security import key_hash, key_prefix, new_api_key

REPO = Path(__file__).resolve().parents[1]
API_DOC = REPO / "docs" / "cloud-api.yaml"
DEMO_CATALOG = REPO / "supplies_cloud" / "demo_catalog.csv"
SECRET = "test-secret-not-for-production"
_DOC_URI = "urn:supplies-cloud:api"


# --- the contract ---------------------------------------------------------------------------------


@cache
def api_doc() -> dict[str, Any]:
    return yaml.safe_load(API_DOC.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Operation:
    id: str
    method: str
    path: str  # template, e.g. /api/v1/orders/{order_id}
    spec: dict[str, Any]

    def url(self, **params: str) -> str:
        return self.path.format(**{name: quote(value, safe="") for name, value in params.items()})


@cache
def operations() -> dict[str, Operation]:
    found = {}
    for path, item in api_doc()["paths"].items():
        for method, spec in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                found[spec["operationId"]] = Operation(spec["operationId"], method.upper(), path, spec)
    return found


@cache
def _registry() -> Registry:
    return Registry().with_resource(_DOC_URI, Resource(contents=api_doc(), specification=DRAFT202012))


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    """A ``$ref`` to a component, followed (responses, parameters)."""
    while "$ref" in node:
        target: Any = api_doc()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


@cache
def schema_validator(pointer: str) -> Draft202012Validator:
    """A validator for the schema at ``pointer`` (``/components/schemas/Order``) of the document."""
    return Draft202012Validator(
        {"$ref": f"{_DOC_URI}#{pointer}"},
        registry=_registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


@cache
def _path_patterns() -> list[tuple[re.Pattern[str], Operation]]:
    return [
        (re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(op.path)) + "$"), op)
        for op in operations().values()
    ]


def _operation_for(method: str, path: str) -> Operation | None:
    for pattern, op in _path_patterns():
        if op.method == method and pattern.match(path):
            return op
    return None


def check_response(response: httpx.Response) -> None:
    """Fails the test when a response is not what ``docs/cloud-api.yaml`` promises."""
    request = response.request
    assert response.status_code < 500, (
        f"{request.method} {request.url.path}: {response.status_code} {response.text}"
    )
    op = _operation_for(request.method, request.url.path)
    if op is None:  # a path outside the contract: still a problem document, still no 5xx
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith("application/problem+json"), response.text
        return
    declared = op.spec["responses"]
    status = str(response.status_code)
    assert status in declared, (
        f"{op.id} answered {status}, which the contract does not declare: {response.text}"
    )
    spec = _resolve(declared[status])
    media_type = response.headers.get("content-type", "").split(";")[0]
    if response.status_code >= 400:
        assert media_type == "application/problem+json", f"{op.id} {status}: {media_type}"
    content = spec.get("content", {})
    assert media_type in content, f"{op.id} {status}: {media_type} is not declared ({list(content)})"
    for name in spec.get("headers", {}):
        assert name in response.headers, f"{op.id} {status}: header {name} missing"
    schema = content[media_type]["schema"]
    pointer = schema["$ref"].removeprefix("#") if "$ref" in schema else None
    body = response.json()
    if pointer:
        errors = [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in schema_validator(pointer).iter_errors(body)
        ]
        assert not errors, f"{op.id} {status} does not match {pointer}: {errors}\n{body}"


class Api:
    """An HTTP client that follows the contract: operations by id, every answer checked."""

    def __init__(self, base_url: str, key: str | None, **kwargs: Any) -> None:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.http = httpx.Client(
            base_url=base_url, headers=headers, timeout=30, event_hooks={"response": [self._check]}, **kwargs
        )

    @staticmethod
    def _check(response: httpx.Response) -> None:
        response.read()
        check_response(response)

    def call(
        self,
        operation_id: str,
        path: dict[str, str] | None = None,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        content: bytes | Iterable[bytes] | None = None,
    ) -> httpx.Response:
        op = operations()[operation_id]
        return self.http.request(
            op.method, op.url(**(path or {})), params=params, json=json, headers=headers, content=content
        )

    def close(self) -> None:
        self.http.close()


class AsyncApi:
    """The same, for concurrent requests."""

    def __init__(self, base_url: str, key: str | None) -> None:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.http = httpx.AsyncClient(
            base_url=base_url,
            headers=headers,
            timeout=60,
            event_hooks={"response": [self._check]},
            limits=httpx.Limits(max_connections=50),
        )

    @staticmethod
    async def _check(response: httpx.Response) -> None:
        await response.aread()
        check_response(response)

    async def call(
        self, operation_id: str, *, json: Any = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        op = operations()[operation_id]
        return await self.http.request(op.method, op.path, json=json, headers=headers)


# --- the service ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteKey:
    site_id: int
    name: str
    key: str


@dataclass
class CloudService:
    """A running service and the dealer-side helpers the tests need (they use the rules directly)."""

    base_url: str
    backend: str
    settings: CloudSettings
    app: Any
    _clients: list[Api | AsyncApi]

    def api(self, key: str | None = None, **kwargs: Any) -> Api:
        client = Api(self.base_url, key, **kwargs)
        self._clients.append(client)
        return client

    def async_api(self, key: str | None = None) -> AsyncApi:
        client = AsyncApi(self.base_url, key)
        self._clients.append(client)
        return client

    def create_site(self, name: str | None = None) -> SiteKey:
        name = name or f"site-{uuid.uuid4().hex[:8]}"
        with self.app.state.db.session() as session:
            site = Site(name=name)
            session.add(site)
            session.flush()
            site_id = site.id
        return SiteKey(site_id, name, self.add_key(site_id))

    def add_key(self, site_id: int) -> str:
        key = new_api_key()
        with self.app.state.db.session() as session:
            session.add(ApiKey(site_id=site_id, prefix=key_prefix(key), key_hash=key_hash(key)))
        return key

    def revoke(self, key: str) -> None:
        with self.app.state.db.session() as session:
            row = session.scalars(select(ApiKey).where(ApiKey.key_hash == key_hash(key))).one()
            row.revoked_at = utcnow()

    def import_catalog(self, source: str | Path = DEMO_CATALOG) -> ImportReport:
        with self.app.state.db.session() as session:
            return import_csv(session, source, self.settings.currency)

    def set_status(self, order_id: str, status: str, **kwargs: Any) -> None:
        """What the dealer does on the dealer page, through the same rule."""
        with self.app.state.db.session() as session:
            order = session.scalars(select(Order).where(Order.public_id == order_id)).one()
            change_status(session, order, status, "dealer:test", **kwargs)

    def count_orders(self, site_id: int | None = None) -> int:
        with self.app.state.db.session() as session:
            query = select(func.count()).select_from(Order)
            if site_id is not None:
                query = query.where(Order.site_id == site_id)
            return int(session.scalar(query) or 0)

    def close(self) -> None:
        for client in self._clients:
            if isinstance(client, Api):
                client.close()
        self._clients.clear()


@contextlib.contextmanager
def run_service(database_url: str, data_dir: Path, backend: str, **overrides: Any) -> Iterator[CloudService]:
    """The service under uvicorn in a thread, on a socket bound before it starts (no port race)."""
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted connections only for sockets that say
    # so; with proto 0, Nagle's algorithm meets delayed ACKs and every request takes 40 ms.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = CloudSettings(
        database_url=database_url, data_dir=data_dir, public_url=base_url, secret_key=SECRET, **overrides
    )
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="cloud-server")
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the cloud service did not start")
        time.sleep(0.01)
    service = CloudService(base_url, backend, settings, app, [])
    try:
        yield service
    finally:
        service.close()
        server.should_exit = True
        thread.join(15)
        sock.close()
