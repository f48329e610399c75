"""``docs/cloud-api.yaml`` against the service: the two must never drift.

The YAML is written by hand, contract first. These tests hold the OpenAPI document FastAPI
generates from the code against it: the same operations, parameters, status codes, request
limits and schema members. ``test_api.py`` then checks every real response against the YAML.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, get_args

import httpx
import pytest
import yaml
from fastapi import FastAPI
from fastapi.routing import APIRoute
from jsonschema import Draft202012Validator

from mqtt_agent.model import SupplyKind
from supplies_cloud.api import router
from supplies_cloud.app import create_app
from supplies_cloud.config import CloudSettings
from supplies_cloud.rules.catalog import KINDS
from supplies_cloud.rules.fleet import SUPPLIES_PATTERN
from supplies_cloud.rules.orders import STATUSES

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "cloud-api.yaml"
DOC: dict[str, Any] = yaml.safe_load(API_DOC.read_text(encoding="utf-8"))
PREFIX = "/api/v1"
METHODS = {"get", "post", "put", "patch", "delete"}
# Constraints a request schema in the YAML must state exactly as the code enforces them.
CONSTRAINTS = (
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
    "enum",
    "default",
)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    folder = tmp_path_factory.mktemp("contract")
    settings = CloudSettings(
        data_dir=folder, database_url=f"sqlite:///{folder / 'cloud.sqlite3'}", secret_key="contract"
    )
    app = create_app(settings)
    yield app
    app.state.db.dispose()


@pytest.fixture(scope="module")
def generated(app: FastAPI) -> dict[str, Any]:
    return app.openapi()  # type: ignore[no-any-return]


def _operations(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): spec
        for path, item in doc["paths"].items()
        if path.startswith(PREFIX)
        for method, spec in item.items()
        if method in METHODS
    }


def _resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = doc
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """The non-null branch of pydantic's ``anyOf: [X, {type: null}]``."""
    for branch in schema.get("anyOf", ()):
        if branch.get("type") != "null":
            return {**branch, **{k: v for k, v in schema.items() if k != "anyOf"}}
    return schema


def _constraints(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    schema = _not_null(_resolve(doc, schema))
    return {k: schema[k] for k in CONSTRAINTS if k in schema and schema[k] is not None}


# --- the document itself ---------------------------------------------------------------------------


def test_yaml_is_a_valid_openapi_3_1_document() -> None:
    assert DOC["openapi"] == "3.1.0"
    validator = pytest.importorskip("openapi_spec_validator", reason="pip install openapi-spec-validator")
    validator.validate(DOC)


def test_every_schema_is_valid_json_schema_2020_12() -> None:
    for schema in DOC["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


def test_every_operation_is_authenticated_and_answers_problems() -> None:
    assert DOC["security"] == [{"bearerAuth": []}]
    scheme = DOC["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for (method, path), spec in _operations(DOC).items():
        assert "security" not in spec, f"{method} {path} overrides the bearer requirement"
        responses = spec["responses"]
        assert {"401", "429"} <= set(responses), f"{method} {path}"
        unauthorized = _resolve(DOC, responses["401"])
        assert "WWW-Authenticate" in unauthorized["headers"]
        assert "Retry-After" in _resolve(DOC, responses["429"])["headers"]
        for status, response in responses.items():
            content = _resolve(DOC, response).get("content", {})
            if int(status) >= 400:
                assert list(content) == ["application/problem+json"], f"{method} {path} {status}"
                assert content["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"
                }


def test_enums_and_formats_match_the_code() -> None:
    schemas = DOC["components"]["schemas"]
    assert schemas["Kind"]["enum"] == list(KINDS)
    # The cloud keeps its own copy of the agent's kinds (it does not import the agent): the same.
    assert list(KINDS) == list(get_args(SupplyKind))
    assert schemas["Status"]["enum"] == list(STATUSES)
    assert schemas["FleetPrinterReport"]["properties"]["supplies"]["pattern"] == SUPPLIES_PATTERN


# --- the document against the code -------------------------------------------------------------


def test_the_same_operations(generated: dict[str, Any]) -> None:
    # The router's own table, and the app's view of it (FastAPI builds the OpenAPI document from the
    # routes the app dispatches to; test_api.py also calls every operation over HTTP).
    routes = {
        (method, route.path)
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    assert set(_operations(DOC)) == routes, "paths or methods differ between docs/cloud-api.yaml and the code"
    assert set(_operations(generated)) == routes, "the app does not serve every route of the API router"


@pytest.mark.parametrize(
    "key", sorted(_operations(DOC)), ids=lambda k: f"{k[0]} {k[1]}" if isinstance(k, tuple) else k
)
def test_each_operation_matches(key: tuple[str, str], generated: dict[str, Any]) -> None:
    mine, theirs = _operations(DOC)[key], _operations(generated)[key]
    assert mine["operationId"] == theirs["operationId"]
    assert theirs.get("security") == [{"bearerAuth": []}]
    assert set(mine["responses"]) == set(theirs["responses"]), "declared status codes differ"

    def params(doc: dict[str, Any], spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
        found = {}
        for param in spec.get("parameters", []):
            param = _resolve(doc, param)
            found[(param["in"], param["name"])] = {
                "required": param.get("required", False),
                **_constraints(doc, param["schema"]),
            }
        return found

    assert params(DOC, mine) == params(generated, theirs)
    body_mine, body_theirs = mine.get("requestBody"), theirs.get("requestBody")
    assert (body_mine is None) == (body_theirs is None)
    if body_mine and body_theirs:
        assert body_mine.get("required", False) == body_theirs.get("required", False)
        assert list(body_mine["content"]) == list(body_theirs["content"]) == ["application/json"]
        ref = body_mine["content"]["application/json"]["schema"]["$ref"]
        generated_body = body_theirs["content"]["application/json"]["schema"]
        assert ref in (generated_body.get("$ref"), *(b.get("$ref") for b in generated_body.get("anyOf", ())))
    for status, response in mine["responses"].items():
        content = _resolve(DOC, response).get("content", {})
        if int(status) < 400:
            ours = content["application/json"]["schema"]
            generated_schema = theirs["responses"][status]["content"]["application/json"]["schema"]
            assert ours == generated_schema, f"{status}: the response schema names differ"


def test_schema_members_match(generated: dict[str, Any]) -> None:
    """Every model of the code is a component of the YAML with the same members and limits."""
    ours, theirs = DOC["components"]["schemas"], generated["components"]["schemas"]
    assert set(theirs) <= set(ours), f"components only in the code: {set(theirs) - set(ours)}"
    requests = {"OrderRequest", "CancelRequest", "FleetSync", "FleetPrinterReport"}
    for name, schema in theirs.items():
        mine = ours[name]
        assert set(mine["properties"]) == set(schema["properties"]), name
        assert set(mine.get("required", [])) == set(schema.get("required", [])), name
        if name in requests:  # what the service refuses must be what the contract says it refuses
            assert mine.get("additionalProperties", True) == schema.get("additionalProperties", True), name
            for prop, prop_schema in schema["properties"].items():
                assert _constraints(DOC, mine["properties"][prop]) == _constraints(generated, prop_schema), (
                    f"{name}.{prop}"
                )


# --- served over HTTP ------------------------------------------------------------------------------


def test_the_service_serves_its_openapi(start_cloud: Callable[..., Any], app: FastAPI) -> None:
    service = start_cloud()
    response = httpx.get(f"{service.base_url}/api/v1/openapi.json", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    served = response.json()
    assert served["openapi"].startswith("3.1")
    assert set(_operations(served)) == set(_operations(DOC))


def test_serve_logs_json_lines_without_secrets(tmp_path) -> None:
    """`supplies-cloud serve` as an operator starts it: JSON log lines, health answers, no secret."""
    import json as _json
    import os
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    secret = "s3cret-signing-key-for-the-test-only"
    env = {
        **os.environ,
        "SUPPLIES_CLOUD_DATA_DIR": str(tmp_path),
        "SUPPLIES_CLOUD_SECRET_KEY": secret,
        "SUPPLIES_CLOUD_SMTP_PASSWORD": "smtp-pass-never-logged",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "supplies_cloud", "serve", "--port", str(port)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the service did not start"
                time.sleep(0.1)
        assert response.json()["status"] == "ok"
        httpx.get(f"http://127.0.0.1:{port}/api/v1/site", headers={"Authorization": "Bearer psk_wrong"})
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=10)
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines
    records = [_json.loads(line) for line in lines]  # every line is one JSON object
    assert {"time", "level", "logger", "message"} <= set(records[0])
    assert secret not in err and "smtp-pass-never-logged" not in err and "psk_wrong" not in err
