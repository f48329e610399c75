"""Zero-sweep discovery: the SNMP broadcast probe and the mDNS watcher, on real network paths.

The broadcast probe runs against real SNMP agents (snmpsim) on loopback addresses, and against a
fake agent that answers with garbage first. The true-broadcast and mDNS checks need interfaces
the host's loopback cannot give (BROADCAST, MULTICAST), so they run in fresh network namespaces
(``unshare --net``, root only) whose traffic cannot leave them; they are skipped elsewhere.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest
from conftest import REPO, sim_network
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api

from mqtt_agent.broadcast import BroadcastReply, broadcast_addresses, broadcast_probe, build_request
from mqtt_agent.simulator import SnmpSimulator, demo_fleet

HERE = Path(__file__).resolve().parent
V1: Any = api.PROTOCOL_MODULES[api.SNMP_VERSION_1]
V2C: Any = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
NET_SNMP = "1.3.6.1.4.1.8072.3.2.10"


# --- broadcast probe against real agents ------------------------------------------------------


async def test_one_socket_collects_every_reply() -> None:
    net = sim_network()
    printers = demo_fleet(4, net)
    printers[3].printer_mib = False  # answers SNMP, has no Printer-MIB: GETNEXT runs off the end
    sim = SnmpSimulator(printers)
    sim.start()
    try:
        await sim.wait_ready()
        started = time.monotonic()
        replies = await broadcast_probe([p.address for p in printers], port=1161, wait=1.0)
        elapsed = time.monotonic() - started
    finally:
        sim.stop()
    assert 0.9 <= elapsed < 3.0
    found = {r.source: r for r in replies}
    assert set(found) == {p.address for p in printers}
    for printer in printers:
        reply = found[printer.address]
        assert reply.port == 1161 and reply.size > 40
        assert reply.sys_object_id == printer.sys_object_id
        assert reply.has_printer_mib is printer.printer_mib
        assert reply.serial == (printer.serial if printer.printer_mib else None)


def _response(
    request: bytes, sys_object_id: str, second: tuple[str, Any], request_id: int | None = None
) -> bytes:
    message, _ = decoder.decode(request, asn1Spec=V2C.Message())
    response = V2C.apiMessage.get_response(message)
    pdu = V2C.apiMessage.get_pdu(response)
    if request_id is not None:
        V2C.apiPDU.set_request_id(pdu, request_id)
    V2C.apiPDU.set_varbinds(
        pdu,
        [
            (V2C.ObjectIdentifier("1.3.6.1.2.1.1.2.0"), V2C.ObjectIdentifier(sys_object_id)),
            (V2C.ObjectIdentifier(second[0]), second[1]),
        ],
    )
    return bytes(encoder.encode(response))


def _v1_response(request: bytes) -> bytes:
    request_id = V2C.apiPDU.get_request_id(
        V2C.apiMessage.get_pdu(decoder.decode(request, asn1Spec=V2C.Message())[0])
    )
    pdu = V1.GetResponsePDU()
    V1.apiPDU.set_defaults(pdu)
    V1.apiPDU.set_request_id(pdu, request_id)
    V1.apiPDU.set_varbinds(
        pdu, [(V1.ObjectIdentifier("1.3.6.1.2.1.1.2.0"), V1.ObjectIdentifier("1.3.6.1.4.1.9"))]
    )
    message = V1.Message()
    V1.apiMessage.set_defaults(message)
    V1.apiMessage.set_community(message, "public")
    V1.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))


class HostileAgent(asyncio.DatagramProtocol):
    """Answers a probe with every kind of junk first, then with one good reply (a non-printer)."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.good: bytes = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Python 3.11's selector transport is not a DatagramTransport subclass: cast, do not check.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        assert self.transport is not None
        request_id = int(
            V2C.apiPDU.get_request_id(V2C.apiMessage.get_pdu(decoder.decode(data, asn1Spec=V2C.Message())[0]))
        )
        self.good = _response(data, NET_SNMP, ("1.3.6.1.2.1.44.1.0", V2C.Integer(1)))
        junk = [
            b"",
            b"\x00garbage\xff" * 10,
            data[: len(data) // 2],  # truncated BER
            data + b"\x00\x00",  # trailing bytes
            data,  # our own request echoed: a request PDU, not a response
            _v1_response(data),  # SNMPv1 with the same id
            _response(
                data,
                "1.3.6.1.4.1.666",
                ("1.3.6.1.2.1.43.5.1.1.17.1", V2C.OctetString(b"WRONG")),
                request_id ^ 1,
            ),
            b"\x30\x84\xff\xff\xff\xff",  # a length that claims 4 GiB
        ]
        for datagram in [*junk, self.good]:
            self.transport.sendto(datagram, addr)


@pytest.fixture
async def hostile_agent() -> AsyncIterator[tuple[str, HostileAgent]]:
    address = f"{sim_network()}.240"
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(HostileAgent, local_addr=(address, 1161))
    try:
        yield address, protocol
    finally:
        transport.close()


async def test_junk_and_foreign_replies_are_dropped(hostile_agent: tuple[str, HostileAgent]) -> None:
    address, agent = hostile_agent
    replies = await broadcast_probe([address], port=1161, wait=0.5)
    assert replies == [BroadcastReply(address, 1161, NET_SNMP, False, None, len(agent.good))]


async def test_silent_and_invalid_destinations_yield_nothing_after_wait() -> None:
    started = time.monotonic()
    replies = await broadcast_probe([f"{sim_network()}.241", "not-an-address", "::1"], port=1161, wait=0.5)
    assert replies == []
    assert 0.45 <= time.monotonic() - started < 2.0
    assert await broadcast_probe(["nothing valid"], wait=5.0) == []  # nothing sent: no wait


def test_request_is_one_getnext_for_both_columns() -> None:
    message, rest = decoder.decode(build_request(4242, "s3cret"), asn1Spec=V2C.Message())
    pdu = V2C.apiMessage.get_pdu(message)
    assert rest == b"" and str(V2C.apiMessage.get_community(message)) == "s3cret"
    assert pdu.isSameTypeWith(V2C.GetNextRequestPDU()) and int(V2C.apiPDU.get_request_id(pdu)) == 4242
    assert [str(oid) for oid, _ in V2C.apiPDU.get_varbinds(pdu)] == [
        "1.3.6.1.2.1.1.2",
        "1.3.6.1.2.1.43.5.1.1.17",
    ]


def test_broadcast_addresses_are_ipv4_broadcasts_without_loopback() -> None:
    for text in broadcast_addresses():
        address = ipaddress.IPv4Address(text)
        assert not address.is_loopback and int(address) & 1  # a broadcast address ends in 1 bits


# --- isolated network namespaces --------------------------------------------------------------


def _in_namespace(script: str, setup: str = "true", timeout: float = 60) -> dict[str, Any]:
    """Run ``tests/agent/<script>`` in new network and PID namespaces; return its JSON output."""
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    if not (shutil.which("unshare") and shutil.which("ip")):
        pytest.skip("unshare (util-linux) and ip (iproute2) are needed")
    unshare = ["unshare", "--net", "--pid", "--fork", "--kill-child"]
    if subprocess.run([*unshare, "true"], capture_output=True, check=False).returncode != 0:
        pytest.skip("this sandbox does not allow new network namespaces")
    command = f"{setup} && exec {sys.executable} {HERE / script}"
    proc = subprocess.run(
        [*unshare, "sh", "-c", command],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_true_broadcast_reaches_every_host_on_a_private_lan() -> None:
    """One datagram to the subnet broadcast address, three real agents on three hosts answer."""
    result = _in_namespace("zs_broadcast_check.py")
    assert result["broadcast_addresses"] == ["198.51.100.255"]
    replies = {r["source"]: r for r in result["replies"]}
    assert set(replies) == set(result["expected"])
    for source, expected in result["expected"].items():
        assert replies[source]["sys_object_id"] == expected["sys_object_id"]
        assert replies[source]["serial"] == expected["serial"]
        assert replies[source]["has_printer_mib"] is (expected["serial"] is not None)
    assert result["elapsed"] < 3.0  # one window: the probe collects answers for wait=2.0 s


def test_mdns_watcher_reports_each_printer_address_once() -> None:
    # A multicast-capable loopback is enough: zeroconf sets IP_MULTICAST_IF, so no 224.0.0.0/4 route.
    result = _in_namespace("zs_mdns_check.py", "ip link set lo up && ip link set lo multicast on")
    events = result["events"]
    assert result["started"] and result["found_both"] and result["stopped"]
    assert result["addresses"] == ["127.0.0.11", "127.0.0.12"]  # no ghost, no 0.0.0.0
    first = events[: result["first_round"]]
    assert sorted(e["address"] for e in first) == ["127.0.0.11", "127.0.0.12"]  # once each
    office = next(e for e in first if e["address"] == "127.0.0.11")
    assert office["type"] in {"_ipp._tcp.local.", "_ipps._tcp.local.", "_pdl-datastream._tcp.local."}
    assert office["host"] == "npi-office.local." and office["instance"] == "Office Laser"
    assert office["port"] in {631, 9100}
    assert office["make_and_model"] == "HP Color LaserJet Pro M454dw"
    if office["type"] != "_pdl-datastream._tcp.local.":
        props = office["properties"]
        assert props["ty"] == "HP Color LaserJet Pro M454dw" and props["UUID"].startswith("564e4233")
        assert props["usb_MFG"] == "HP" and props["note"] == "2nd floor" and props["adminurl"]
    lobby = next(e for e in first if e["address"] == "127.0.0.12")
    assert lobby["type"] == "_printer._tcp.local." and lobby["port"] == 515
    assert lobby["properties"]["ty"] == "Lobby \ufffd\ufffdJet"
    assert lobby["properties"]["note"] == "a b" and lobby["properties"]["Duplex"] == ""
    # Gone and back: reported again. One of three types withdrawn: still announced, not re-reported.
    assert result["lobby_gone"] and result["lobby_back"] and result["office_still"]
    assert [e["address"] for e in events[result["first_round"] :]] == ["127.0.0.12"]
    assert result["bad_interface_started"] is False
