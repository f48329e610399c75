"""The cloud API over real HTTP against the running service, on SQLite and on PostgreSQL.

Every test gets a fresh database and its own service (``conftest.py``); every response is checked
against ``docs/cloud-api.yaml`` by the client itself (declared status, problem+json for errors,
body valid against the declared schema), so these tests exercise the contract as much as the code.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from supplies_cloud.rules.fleet import compact_printer
from supplies_cloud.security import signature_ok

HP = "HP Color LaserJet Pro M454dw"
HP_ID = "hp_vnb3r12345"
DEMO_MODELS = ("Color LaserJet Pro M454dw", "HL-L8260CDW", "ECOSYS P3155dn", "WF-C5790", "VersaLink C405")


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def key() -> dict[str, str]:
    """A fresh Idempotency-Key header."""
    return {"Idempotency-Key": str(uuid.uuid4())}


def order_body(**changes: Any) -> dict[str, Any]:
    body = {
        "part_number": "W2030A",
        "quantity": 1,
        "printer_id": HP_ID,
        "printer_model": HP,
        "supply_key": "1.1",
    }
    return {**body, **changes}


def sync_body(day: dt.date, *printer_ids: str, reason: str = "daily") -> dict[str, Any]:
    return {
        "day": day.isoformat(),
        "reason": reason,
        "printers": [
            {"id": pid, "model": HP, "pages": 1000, "supplies": "toner/black:W2030A:64"}
            for pid in printer_ids
        ],
    }


class Recorder:
    """Stands in for app.state.fulfilment (e-mail and webhook) and remembers what it was told."""

    def __init__(self, fail: bool = False) -> None:
        self.created: list[dict[str, Any]] = []
        self.changed: list[dict[str, Any]] = []
        self.fail = fail

    async def order_created(self, order: dict[str, Any]) -> None:
        self.created.append(order)
        if self.fail:
            raise RuntimeError("the mail server is down")

    async def order_status_changed(self, order: dict[str, Any]) -> None:
        self.changed.append(order)

    def wait(self, created: int, changed: int = 0) -> None:
        """Fulfilment runs after the response is sent: give it a moment."""
        deadline = time.monotonic() + 5
        while (len(self.created), len(self.changed)) < (created, changed) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)  # and a moment more, to see that nothing extra arrives
        assert (len(self.created), len(self.changed)) == (created, changed)


# --- who am I, and authentication ----------------------------------------------------------------


def test_site_says_who_the_key_belongs_to(cloud: Any) -> None:
    site = cloud.create_site("Office Vienna")
    answer = cloud.api(site.key).call("getSite").json()
    assert answer == {
        "id": site.site_id,
        "name": "Office Vienna",
        "key_prefix": site.key[:10],
        "rate_limit_per_minute": 120,
    }


def test_every_operation_needs_a_key(cloud: Any, contract_operations: dict[str, Any]) -> None:
    anonymous = cloud.api(None)
    examples = {"order_id": "ord_0123456789abcdef", "part_number": "W2030A", "printer_id": HP_ID}
    for op in contract_operations.values():
        path = {name: examples[name] for name in examples if "{" + name + "}" in op.path}
        body = order_body() if op.method == "POST" else None
        response = anonymous.call(op.id, path, params={"model": HP}, json=body, headers=key())
        assert response.status_code == 401, op.id
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="supplies-cloud"'


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer psk_a psk_b",
        "psk_nobearer",
        "bearer psk_wrong",
        "Bearer " + "x" * 500,
    ],
    ids=["empty", "basic", "no-token", "two-tokens", "no-scheme", "wrong-key", "huge-key"],
)
def test_malformed_and_wrong_keys_are_401(cloud: Any, authorization: str) -> None:
    response = cloud.api(None).call("getSite", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert response.json()["title"] == "Unauthorized"


def test_revoked_key_is_401_and_the_sites_other_key_still_works(cloud: Any) -> None:
    site = cloud.create_site()
    second = cloud.add_key(site.site_id)
    assert cloud.api(site.key).call("getSite").status_code == 200
    cloud.revoke(site.key)
    response = cloud.api(site.key).call("getSite")
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert cloud.api(second).call("getSite").json()["key_prefix"] == second[:10]
    # a near miss of a valid key is just as wrong
    assert cloud.api(second[:-1] + ("A" if second[-1] != "A" else "B")).call("getSite").status_code == 401


def test_another_sites_order_is_not_found(cloud: Any) -> None:
    alice, bob = cloud.create_site(), cloud.create_site()
    order = cloud.api(alice.key).call("createOrder", json=order_body(), headers=key()).json()
    intruder = cloud.api(bob.key)
    assert intruder.call("getOrder", {"order_id": order["id"]}).status_code == 404
    assert intruder.call("cancelOrder", {"order_id": order["id"]}).status_code == 404
    assert intruder.call("listOrders").json()["orders"] == []
    assert intruder.call("getEligibility", {"printer_id": HP_ID}).json()["orders_placed"] == 0
    # the owner still sees it, untouched
    assert cloud.api(alice.key).call("getOrder", {"order_id": order["id"]}).json()["status"] == "pending"


# --- catalog --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "model", [HP, "Color LaserJet Pro M454dw", "COLOR LASERJET PRO M454DW", "hp color-laserjet pro m454dw"]
)
def test_catalog_matches_model_name_variants(cloud: Any, model: str) -> None:
    api = cloud.api(cloud.create_site().key)
    found = api.call("findCatalog", params={"model": model}).json()
    assert found["model_key"] == "colorlaserjetprom454dw"
    assert sorted(m["part_number"] for m in found["matches"]) == ["W2030A", "W2031A", "W2032A", "W2033A"]
    assert {m["matched_by"] for m in found["matches"]} == {"model"}


def test_catalog_lookup_rules_and_storefront_links(cloud: Any) -> None:
    site = cloud.create_site()
    api = cloud.api(site.key)

    def parts(**params: str) -> list[tuple[str, str]]:
        return [
            (m["part_number"], m["matched_by"])
            for m in api.call("findCatalog", params=params).json()["matches"]
        ]

    # kind and colour narrow a model match
    assert parts(model=HP, kind="toner", color="black") == [("W2030A", "model")]
    # the printer's own part number wins over everything the name says
    assert parts(
        model="Xerox VersaLink C405 Multifunction Printer",
        kind="toner",
        color="cyan",
        part_number="106R03528",
    ) == [("106R03528", "part_number")]
    # a part number the catalog does not know falls back to the model
    assert parts(model="EPSON WF-C5790 Series", part_number="T9999", kind="waste") == [("T6716", "model")]
    # containment either way: a shorter name, and a longer one
    assert len(parts(model="LaserJet Pro M454dw")) == 4
    assert len(parts(model="HP Color LaserJet Pro M454dw PCL-6")) == 4
    assert len(parts(model="Brother HL-L8260CDW series")) == 7  # exact, once "series" is gone
    assert parts(model="Nonexistent 9000") == []
    # every model of the agent's demo fleet, as the agent reports it, finds its supplies
    for model in DEMO_MODELS:
        assert parts(model=model), model

    match = api.call("findCatalog", params={"model": HP, "color": "black"}).json()["matches"][0]
    assert (match["price"], match["currency"], match["lead_time_days"], match["yield_pages"]) == (
        89.9,
        "EUR",
        2,
        2400,
    )
    url = urlsplit(match["storefront_url"])
    assert f"{url.scheme}://{url.netloc}" == cloud.base_url
    assert url.path == "/store/W2030A"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["site"] == str(site.site_id)
    secret = cloud.settings.secret_key.get_secret_value()
    assert signature_ok(secret, f"{site.site_id}:W2030A", query["sig"])
    # another site gets another signature for the same part
    other = (
        cloud.api(cloud.create_site().key).call("findCatalog", params={"model": HP, "color": "black"}).json()
    )
    assert other["matches"][0]["storefront_url"] != match["storefront_url"]

    part = api.call("getCatalogPart", {"part_number": "tn247bk"}).json()  # case and hyphen ignored
    assert (part["part_number"], part["models"], part["kind"]) == ("TN-247BK", ["HL-L8260CDW"], "toner")
    assert api.call("getCatalogPart", {"part_number": "NOPE-1"}).status_code == 404


def test_catalog_reimport_updates_and_a_bad_file_changes_nothing(cloud: Any) -> None:
    from supplies_cloud.rules.catalog import CatalogImportError

    api = cloud.api(cloud.create_site().key)
    report = cloud.import_catalog(
        "vendor;model;kind;color;part_number;description;price;currency;lead_time_days;yield_pages\n"
        "HP;Color LaserJet Pro M454dw;toner;black;W2030A;HP 415A Black Toner Cartridge;79,90;EUR;1;2400\n"
        "HP;Color LaserJet Pro M454dw;toner;black;W2030X;HP 415X Black Toner (high yield);139.00;;2;7500\n"
    )
    assert (report.created, report.updated) == (1, 1)
    black = api.call("findCatalog", params={"model": HP, "color": "black"}).json()["matches"]
    assert {(m["part_number"], m["price"], m["lead_time_days"]) for m in black} == {
        ("W2030A", 79.9, 1),
        ("W2030X", 139.0, 2),
    }
    bad = (
        "model,kind,part_number,price,lead_time_days\n"
        "Color LaserJet Pro M454dw,toner,W2030A,1.00,1\n"  # fine, but must not be applied
        "Color LaserJet Pro M454dw,paper,P1,1.00,1\n"
        "Color LaserJet Pro M454dw,toner,P2,cheap,1\n"
    )
    with pytest.raises(CatalogImportError) as raised:
        cloud.import_catalog(bad)
    assert [line for line, _ in raised.value.errors] == [3, 4]
    assert "kind 'paper'" in str(raised.value) and "price 'cheap'" in str(raised.value)
    assert api.call("getCatalogPart", {"part_number": "W2030A"}).json()["price"] == 79.9


# --- orders ---------------------------------------------------------------------------------------


def test_end_to_end_catalog_order_ship_status(cloud: Any) -> None:
    """What the Home Assistant integration does, by the contract: find, order, follow to delivery."""
    recorder = cloud.app.state.fulfilment = Recorder()
    api = cloud.api(cloud.create_site("Office Graz").key)
    supply = {"kind": "toner", "color": "cyan", "part_number": "W2031A", "percent": 9, "state": "low"}
    match = api.call(
        "findCatalog",
        params={
            "model": HP,
            "kind": supply["kind"],
            "color": supply["color"],
            "part_number": supply["part_number"],
        },
    ).json()["matches"][0]
    assert match["matched_by"] == "part_number"

    created = api.call(
        "createOrder",
        json=order_body(
            part_number=match["part_number"], quantity=2, supply_key="1.2", note="for the 2nd floor"
        ),
        headers=key(),
    )
    assert created.status_code == 201
    order = created.json()
    assert created.headers["Location"] == f"/api/v1/orders/{order['id']}"
    assert (order["status"], order["quantity"], order["unit_price"], order["total_price"]) == (
        "pending",
        2,
        109.9,
        219.8,
    )
    assert order["shipment"] is None
    recorder.wait(created=1)
    assert recorder.created[0]["id"] == order["id"] and recorder.created[0]["site"]["name"] == "Office Graz"

    cloud.set_status(order["id"], "confirmed")
    cloud.set_status(order["id"], "shipped", carrier="DHL", tracking_number="JD014600003828378492")
    shipped = api.call("getOrder", {"order_id": order["id"]}).json()
    assert shipped["status"] == "shipped"
    assert shipped["shipment"] == {"carrier": "DHL", "tracking_number": "JD014600003828378492"}
    assert [e["status"] for e in shipped["history"]] == ["pending", "confirmed", "shipped"]
    times = [dt.datetime.fromisoformat(e["at"]) for e in shipped["history"]]
    assert times == sorted(times) and all(t.tzinfo is not None for t in times)
    assert shipped["history"][0]["actor"] == "site:Office Graz"

    assert api.call("cancelOrder", {"order_id": order["id"]}).status_code == 409  # too late
    cloud.set_status(order["id"], "delivered")
    delivered = api.call("listOrders", params={"status": "delivered"}).json()["orders"]
    assert [o["id"] for o in delivered] == [order["id"]]


def test_same_idempotency_key_twice_is_one_order(cloud: Any) -> None:
    recorder = cloud.app.state.fulfilment = Recorder()
    site = cloud.create_site()
    api = cloud.api(site.key)
    headers = key()
    first = api.call("createOrder", json=order_body(), headers=headers)
    again = api.call("createOrder", json=order_body(), headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    other = api.call("createOrder", json=order_body(quantity=3), headers=headers)
    assert other.status_code == 422
    assert other.json()["title"] == "Idempotency-Key reused"
    assert cloud.count_orders(site.site_id) == 1
    recorder.wait(created=1)  # the dealer hears of it once
    # keys belong to a site: another site may use the same key for its own order
    neighbour = cloud.create_site()
    assert cloud.api(neighbour.key).call("createOrder", json=order_body(), headers=headers).status_code == 201


async def test_concurrent_requests_with_one_key_make_one_order(cloud: Any) -> None:
    site = cloud.create_site()
    api = cloud.async_api(site.key)
    headers = key()
    try:
        responses = await asyncio.gather(
            *(api.call("createOrder", json=order_body(), headers=headers) for _ in range(20))
        )
    finally:
        await api.http.aclose()
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 19 + [201], statuses
    assert len({r.json()["id"] for r in responses}) == 1
    assert await asyncio.to_thread(cloud.count_orders, site.site_id) == 1


async def test_concurrent_syncs_of_new_printers_all_succeed(cloud: Any) -> None:
    """Two agents (or a retry) uploading the same new printers at once: no 500, one row each."""
    site = cloud.create_site()
    api = cloud.async_api(site.key)
    body = sync_body(today(), HP_ID, "brother_e78901k0n123456", "kyocera_r4p0z12345")
    try:
        responses = await asyncio.gather(*(api.call("syncFleet", json=body) for _ in range(10)))
    finally:
        await api.http.aclose()
    assert [r.status_code for r in responses] == [200] * 10
    assert sum(r.json()["new_printers"] for r in responses) == 3
    eligibility = await asyncio.to_thread(cloud.api(site.key).call, "getEligibility", {"printer_id": HP_ID})
    assert eligibility.json()["monitored_days"] == 1


def test_a_failing_notification_does_not_fail_the_order(cloud: Any) -> None:
    recorder = cloud.app.state.fulfilment = Recorder(fail=True)
    site = cloud.create_site()
    response = cloud.api(site.key).call("createOrder", json=order_body(), headers=key())
    assert response.status_code == 201
    recorder.wait(created=1)
    assert cloud.count_orders(site.site_id) == 1


def test_cancel_only_while_pending(cloud: Any) -> None:
    recorder = cloud.app.state.fulfilment = Recorder()
    api = cloud.api(cloud.create_site().key)
    pending, confirmed, shipped = (
        api.call("createOrder", json=order_body(), headers=key()).json()["id"] for _ in range(3)
    )
    cancelled = api.call("cancelOrder", {"order_id": pending}, json={"reason": "ordered twice"}).json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["history"][-1]["note"] == "ordered twice"
    again = api.call("cancelOrder", {"order_id": pending})  # a retry is harmless
    assert (again.status_code, again.json()["status"], len(again.json()["history"])) == (200, "cancelled", 2)

    cloud.set_status(confirmed, "confirmed")
    cloud.set_status(shipped, "confirmed")
    cloud.set_status(shipped, "shipped", carrier="UPS", tracking_number="1Z999AA10123456784")
    for order_id, status in ((confirmed, "confirmed"), (shipped, "shipped")):
        refused = api.call("cancelOrder", {"order_id": order_id})
        assert refused.status_code == 409
        assert status in refused.json()["detail"]
        assert api.call("getOrder", {"order_id": order_id}).json()["status"] == status
    recorder.wait(created=3, changed=1)
    assert recorder.changed[0]["status"] == "cancelled"


def test_list_orders_newest_first_in_pages_with_filters(cloud: Any) -> None:
    api = cloud.api(cloud.create_site().key)
    ids = [
        api.call("createOrder", json=order_body(printer_id=f"printer_{i % 2}"), headers=key()).json()["id"]
        for i in range(5)
    ]
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = api.call("listOrders", params=params).json()
        seen += [o["id"] for o in page["orders"]]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        cursor = page["next_cursor"]
    assert seen == ids[::-1]
    printer_1 = api.call("listOrders", params={"printer_id": "printer_1"}).json()["orders"]
    assert [o["id"] for o in printer_1] == [ids[3], ids[1]]
    api.call("cancelOrder", {"order_id": ids[0]})
    assert [o["id"] for o in api.call("listOrders", params={"status": "cancelled"}).json()["orders"]] == [
        ids[0]
    ]
    assert api.call("listOrders", params={"status": "shipped"}).json() == {
        "orders": [],
        "has_more": False,
        "next_cursor": None,
    }


# --- bad input: always a problem, never a 500 ------------------------------------------------------

_TOO_BIG = json.dumps(order_body(note="x" * 1000)).encode() + b" " * (1 << 20)
BAD_REQUESTS: list[tuple[str, str, dict[str, Any], tuple[int, ...]]] = [
    # (id, operation, request, expected statuses)
    ("json-syntax", "createOrder", {"content": b'{"part_number": ', "ct": True}, (422,)),
    ("json-array", "createOrder", {"json": [order_body()]}, (422,)),
    ("json-null", "createOrder", {"content": b"null", "ct": True}, (422,)),
    ("not-utf8", "createOrder", {"content": b'{"part_number": "\xff"}', "ct": True}, (400,)),
    (
        "text-plain",
        "createOrder",
        {"content": b"part_number=W2030A", "headers": {"Content-Type": "text/plain"}},
        (422,),
    ),
    ("part-number-type", "createOrder", {"json": order_body(part_number=2030)}, (422,)),
    ("quantity-0", "createOrder", {"json": order_body(quantity=0)}, (422,)),
    ("quantity-1000", "createOrder", {"json": order_body(quantity=1000)}, (422,)),
    ("quantity-negative", "createOrder", {"json": order_body(quantity=-1)}, (422,)),
    ("quantity-string", "createOrder", {"json": order_body(quantity="2")}, (422,)),
    ("quantity-float", "createOrder", {"json": order_body(quantity=1.5)}, (422,)),
    ("quantity-bool", "createOrder", {"json": order_body(quantity=True)}, (422,)),
    ("quantity-huge", "createOrder", {"json": order_body(quantity=10**30)}, (422,)),
    ("unknown-part", "createOrder", {"json": order_body(part_number="NOPE-1")}, (422,)),
    ("huge-part-number", "createOrder", {"json": order_body(part_number="W" * 1000)}, (422,)),
    ("huge-note", "createOrder", {"json": order_body(note="x" * 100_000)}, (422,)),
    ("nul-in-note", "createOrder", {"json": order_body(note="a\x00b")}, (422,)),
    ("nul-in-model", "createOrder", {"json": order_body(printer_model="HP\x00")}, (422,)),
    ("bad-printer-id", "createOrder", {"json": order_body(printer_id="my printer")}, (422,)),
    ("unknown-field", "createOrder", {"json": order_body(colour="black")}, (422,)),
    ("missing-part", "createOrder", {"json": {"quantity": 1}}, (422,)),
    ("no-idempotency-key", "createOrder", {"json": order_body(), "no_key": True}, (422,)),
    (
        "long-idempotency-key",
        "createOrder",
        {"json": order_body(), "headers": {"Idempotency-Key": "k" * 300}},
        (422,),
    ),
    ("body-over-1-MiB", "createOrder", {"content": _TOO_BIG, "ct": True}, (413,)),
    ("limit-0", "listOrders", {"params": {"limit": 0}}, (422,)),
    ("limit-1000", "listOrders", {"params": {"limit": 1000}}, (422,)),
    ("limit-text", "listOrders", {"params": {"limit": "all"}}, (422,)),
    ("bad-status", "listOrders", {"params": {"status": "lost"}}, (422,)),
    ("bad-cursor", "listOrders", {"params": {"cursor": "ord_ffffffffffffffff"}}, (422,)),
    ("nul-cursor", "listOrders", {"params": {"cursor": "\x00"}}, (422,)),
    ("order-id-garbage", "getOrder", {"path": {"order_id": "'; DROP TABLE orders; --"}}, (404,)),
    ("order-id-nul", "getOrder", {"path": {"order_id": "ord_\x00"}}, (404,)),
    ("order-id-unknown", "getOrder", {"path": {"order_id": "ord_0123456789abcdef"}}, (404,)),
    ("cancel-unknown", "cancelOrder", {"path": {"order_id": "ord_0123456789abcdef"}}, (404,)),
    (
        "cancel-reason-type",
        "cancelOrder",
        {"path": {"order_id": "ord_0123456789abcdef"}, "json": {"reason": 5}},
        (422,),
    ),
    (
        "cancel-unknown-field",
        "cancelOrder",
        {"path": {"order_id": "ord_0123456789abcdef"}, "json": {"why": "x"}},
        (422,),
    ),
    ("catalog-no-model", "findCatalog", {"params": {}}, (422,)),
    ("catalog-empty-model", "findCatalog", {"params": {"model": ""}}, (422,)),
    ("catalog-huge-model", "findCatalog", {"params": {"model": "M" * 500}}, (422,)),
    ("catalog-nul-model", "findCatalog", {"params": {"model": "HP\x00"}}, (422,)),
    ("catalog-bad-kind", "findCatalog", {"params": {"model": HP, "kind": "paper"}}, (422,)),
    ("catalog-nul-part", "findCatalog", {"params": {"model": HP, "part_number": "W\x00"}}, (422,)),
    ("part-nul", "getCatalogPart", {"path": {"part_number": "W\x00"}}, (404,)),
    ("part-huge", "getCatalogPart", {"path": {"part_number": "W" * 2000}}, (404,)),
    ("sync-bad-date", "syncFleet", {"json": {**sync_body(today(), HP_ID), "day": "2026-13-45"}}, (422,)),
    ("sync-day-number", "syncFleet", {"json": {**sync_body(today(), HP_ID), "day": 20261125}}, (422,)),
    ("sync-future-day", "syncFleet", {"json": sync_body(today() + dt.timedelta(days=5), HP_ID)}, (422,)),
    ("sync-ancient-day", "syncFleet", {"json": sync_body(dt.date(2001, 1, 1), HP_ID)}, (422,)),
    ("sync-bad-reason", "syncFleet", {"json": sync_body(today(), HP_ID, reason="weekly")}, (422,)),
    ("sync-no-printers", "syncFleet", {"json": sync_body(today())}, (422,)),
    ("sync-duplicate-ids", "syncFleet", {"json": sync_body(today(), HP_ID, HP_ID)}, (422,)),
    (
        "sync-1001-printers",
        "syncFleet",
        {"json": sync_body(today(), *(f"p{i}" for i in range(1001)))},
        (422,),
    ),
    ("sync-empty-id", "syncFleet", {"json": {"day": today().isoformat(), "printers": [{"id": ""}]}}, (422,)),
    (
        "sync-pages-negative",
        "syncFleet",
        {"json": {"day": today().isoformat(), "printers": [{"id": "a", "pages": -1}]}},
        (422,),
    ),
    (
        "sync-pages-2**40",
        "syncFleet",
        {"json": {"day": today().isoformat(), "printers": [{"id": "a", "pages": 2**40}]}},
        (422,),
    ),
    (
        "sync-supplies-101",
        "syncFleet",
        {
            "json": {
                "day": today().isoformat(),
                "printers": [{"id": "a", "supplies": "toner/black:W2030A:101"}],
            }
        },
        (422,),
    ),
    (
        "sync-supplies-grammar",
        "syncFleet",
        {"json": {"day": today().isoformat(), "printers": [{"id": "a", "supplies": "black=50%"}]}},
        (422,),
    ),
    (
        "sync-supplies-kind",
        "syncFleet",
        {"json": {"day": today().isoformat(), "printers": [{"id": "a", "supplies": "paper::50"}]}},
        (422,),
    ),
    (
        "sync-nul-model",
        "syncFleet",
        {"json": {"day": today().isoformat(), "printers": [{"id": "a", "model": "\x00"}]}},
        (422,),
    ),
    ("sync-not-an-object", "syncFleet", {"json": "daily"}, (422,)),
    ("eligibility-bad-id", "getEligibility", {"path": {"printer_id": "my printer"}}, (422,)),
    ("eligibility-huge-id", "getEligibility", {"path": {"printer_id": "p" * 200}}, (422,)),
]


def test_bad_input_is_a_problem_never_a_500(cloud: Any) -> None:
    """One service per database for the whole list: each answer is a declared 4xx problem."""
    api = cloud.api(cloud.create_site().key)
    for case, operation, request, expected in BAD_REQUESTS:
        headers = dict(request.get("headers", {}))
        if operation == "createOrder" and "Idempotency-Key" not in headers and not request.get("no_key"):
            headers |= key()
        if request.get("ct"):
            headers["Content-Type"] = "application/json"
        kwargs = {k: request[k] for k in ("params", "json", "content") if k in request}
        response = api.call(operation, request.get("path"), headers=headers, **kwargs)
        assert response.status_code in expected, f"{case}: {response.status_code} {response.text[:300]}"
        problem = response.json()
        assert problem["status"] == response.status_code and problem["detail"], case
    assert cloud.count_orders() == 0


def test_a_chunked_body_over_1_mib_is_refused_while_it_arrives(cloud: Any) -> None:
    """Without a Content-Length the limit is counted as the body arrives, not after."""
    api = cloud.api(cloud.create_site().key)

    def chunks(total: int) -> Iterator[bytes]:
        yield b'{"day": "' + today().isoformat().encode() + b'", "printers": [{"id": "a", "model": "'
        for _ in range(total // 65536):
            yield b"x" * 65536
        yield b'"}]}'

    headers = {"Content-Type": "application/json"}
    refused = api.call("syncFleet", content=chunks(2 << 20), headers=headers)
    assert refused.status_code == 413
    assert "Content-Length" not in refused.request.headers
    small = api.call("syncFleet", content=chunks(0), headers=headers)
    assert small.status_code == 200


def test_unknown_paths_and_methods_are_problems(cloud: Any) -> None:
    api = cloud.api(cloud.create_site().key)
    missing = api.http.get("/api/v1/nothing-here")
    assert (missing.status_code, missing.headers["content-type"]) == (404, "application/problem+json")
    wrong_method = api.http.delete("/api/v1/orders")
    assert (wrong_method.status_code, wrong_method.headers["content-type"]) == (
        405,
        "application/problem+json",
    )


# --- rate limits ------------------------------------------------------------------------------------


def test_rate_limit_per_key(start_cloud: Callable[..., Any]) -> None:
    service = start_cloud(rate_limit_per_minute=3)
    busy, other = service.create_site(), service.create_site()
    api = service.api(busy.key)
    assert [api.call("getSite").status_code for _ in range(3)] == [200, 200, 200]
    limited = api.call("getSite")
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 20  # one token every 20 s at 3 a minute
    assert limited.json()["title"] == "Too many requests"
    assert api.call("createOrder", json=order_body(), headers=key()).status_code == 429
    # another key (another site) has its own budget
    assert service.api(other.key).call("getSite").status_code == 200


# --- fleet sync and eligibility --------------------------------------------------------------------


def _sim_network() -> str:
    """A loopback /24 of its own per xdist worker (tests/conftest.py's agent fleets use 127.9x)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    return f"127.{140 + (int(worker) if worker.isdigit() else 0)}.{os.getpid() % 200}"


async def _poll_demo_fleet() -> list[dict[str, Any]]:
    from mqtt_agent.reader import PrinterReader
    from mqtt_agent.simulator import SnmpSimulator, demo_fleet
    from mqtt_agent.snmp import SnmpClient, SnmpTarget

    fleet = demo_fleet(5, _sim_network())
    sim = SnmpSimulator(fleet)
    try:
        sim.start()
    except RuntimeError as exc:  # snmpsim not installed
        pytest.skip(str(exc))
    client = SnmpClient()
    try:
        await sim.wait_ready()
        return [(await PrinterReader(client, SnmpTarget(p.address, p.port)).poll()).to_json() for p in fleet]
    finally:
        client.close()
        sim.stop()


@pytest.fixture(scope="module")
def demo_snapshots() -> list[dict[str, Any]]:
    """The agent's demo fleet (5 printers) polled over real SNMP, as the agent would upload it."""
    return asyncio.run(_poll_demo_fleet())


def test_fleet_sync_of_the_demo_fleet_is_small(cloud: Any, demo_snapshots: list[dict[str, Any]]) -> None:
    api = cloud.api(cloud.create_site().key)
    upload = {
        "day": today().isoformat(),
        "reason": "daily",
        "printers": [compact_printer(s) for s in demo_snapshots],
    }
    body = json.dumps(upload, separators=(",", ":"), ensure_ascii=False).encode()
    response = api.call("syncFleet", content=body, headers={"Content-Type": "application/json"})
    result = response.json()
    assert (result["printers"], result["new_printers"], result["bytes"]) == (5, 5, len(body))
    per_printer = len(body) / 5
    request = response.request
    head = (
        len(f"{request.method} {request.url.raw_path.decode()} HTTP/1.1\r\n")
        + sum(len(k) + len(v) + 4 for k, v in request.headers.raw)
        + 2
    )
    full = sum(len(json.dumps(s, separators=(",", ":"))) for s in demo_snapshots) / 5
    print(
        f"\nfleet sync of the demo fleet ({cloud.backend}): {len(body)} bytes of JSON for 5 printers = "
        f"{per_printer:.0f} bytes per printer per day; with the HTTP request head ({head} bytes) "
        f"{(len(body) + head) / 5:.0f}; the full snapshot JSON would be {full:.0f} bytes per printer"
    )
    assert per_printer <= 400
    assert (len(body) + head) / 5 <= 400
    # what the agent reported is what the service kept
    hp = next(p for p in upload["printers"] if p["id"] == HP_ID)
    assert (
        hp["supplies"]
        == "toner/black:W2030A:64,toner/cyan:W2031A:38,toner/magenta:W2033A:17,toner/yellow:W2032A:12"
    )
    for printer in upload["printers"]:
        answer = api.call("getEligibility", {"printer_id": printer["id"]}).json()
        assert (answer["monitored_days"], answer["continuous_since"]) == (1, today().isoformat())


def test_eligibility_after_30_days_and_2_orders(cloud: Any) -> None:
    api = cloud.api(cloud.create_site().key)
    never = api.call("getEligibility", {"printer_id": HP_ID}).json()
    assert not never["eligible"] and never["monitored_days"] == 0 and never["continuous_since"] is None
    assert never["thresholds"] == {"monitored_days": 30, "orders": 2, "max_gap_days": 1}
    assert any("no fleet sync" in reason for reason in never["reasons"])

    first = today() - dt.timedelta(days=29)
    for offset in range(29):  # 29 consecutive days, the last one yesterday
        api.call(
            "syncFleet", json=sync_body(first + dt.timedelta(days=offset), HP_ID, "brother_e78901k0n123456")
        )
    api.call("createOrder", json=order_body(), headers=key())
    api.call("createOrder", json=order_body(), headers=key())
    almost = api.call("getEligibility", {"printer_id": HP_ID}).json()
    assert (almost["eligible"], almost["monitored_days"], almost["orders_placed"]) == (False, 29, 2)
    assert almost["missing"] == {"monitored_days": 1, "orders": 0}
    assert almost["reasons"] == ["monitored continuously for 29 of 30 days (1 to go)"]

    api.call("syncFleet", json=sync_body(today(), HP_ID, "brother_e78901k0n123456"))
    api.call("syncFleet", json=sync_body(today(), HP_ID, reason="reorder_point"))  # twice a day is one day
    answer = api.call("getEligibility", {"printer_id": HP_ID}).json()
    assert answer == {
        "printer_id": HP_ID,
        "eligible": True,
        "monitored_days": 30,
        "continuous_since": first.isoformat(),
        "last_sync_day": today().isoformat(),
        "orders_placed": 2,
        "thresholds": {"monitored_days": 30, "orders": 2, "max_gap_days": 1},
        "missing": {"monitored_days": 0, "orders": 0},
        "reasons": [],
    }
    # the Brother was monitored as long, but nothing was ordered for it through the service
    brother = api.call("getEligibility", {"printer_id": "brother_e78901k0n123456"}).json()
    assert (brother["eligible"], brother["monitored_days"], brother["missing"]["orders"]) == (False, 30, 2)


def test_eligibility_gaps_cancellations_and_settings(start_cloud: Callable[..., Any]) -> None:
    service = start_cloud(reward_monitored_days=3, reward_orders=1, reward_max_gap_days=1)
    service.import_catalog()
    api = service.api(service.create_site().key)

    def sync(days_ago: int) -> None:
        api.call("syncFleet", json=sync_body(today() - dt.timedelta(days=days_ago), HP_ID))

    def state() -> dict[str, Any]:
        return api.call("getEligibility", {"printer_id": HP_ID}).json()

    order = api.call("createOrder", json=order_body(), headers=key()).json()
    sync(7)
    sync(5)  # one day missing: still continuous
    assert state()["monitored_days"] == 0  # …but four days without a sync since: no current run
    assert "no fleet sync since" in state()["reasons"][0]
    sync(2)  # two days missing: a new run starts
    sync(1)
    assert (state()["monitored_days"], state()["continuous_since"]) == (
        2,
        (today() - dt.timedelta(days=2)).isoformat(),
    )
    sync(0)
    sync(6)  # a late upload for an old day changes nothing
    assert (state()["eligible"], state()["monitored_days"]) == (True, 3)
    api.call("cancelOrder", {"order_id": order["id"]})  # a cancelled order does not count
    assert (state()["eligible"], state()["orders_placed"], state()["missing"]["orders"]) == (False, 0, 1)
