"""SNMP broadcast probe: one datagram per subnet, every printer on it answers.

A sweep costs one packet per address; a broadcast costs one packet per subnet and finds every
host that answers SNMPv2c with the community in a couple of seconds. It is a GETNEXT for
sysObjectID and prtGeneralSerialNumber, the same question the sweep's probe asks, so a reply
already tells whether the host has a Printer-MIB. Messages are built and parsed with pysnmp's
protocol API (one request, many replies from one socket is outside what its high-level API does),
never with hand-written BER. Replies are untrusted: anything that does not decode, is not a
response or carries another request id is dropped silently.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import secrets
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ifaddr
from pyasn1.codec.ber import decoder, encoder
from pyasn1.type import univ
from pysnmp.proto import api

from .mib import PRINTER_MIB, PRT_GENERAL_SERIAL_NUMBER
from .text import decode_text

_LOG = logging.getLogger(__name__)

_V2C: Any = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
SYS_OBJECT_ID_COLUMN = "1.3.6.1.2.1.1.2"
PROBE_OIDS = (SYS_OBJECT_ID_COLUMN, PRT_GENERAL_SERIAL_NUMBER)
MAX_REPLIES = 4096  # a flood of answers must not grow without bound
_MAX_DATAGRAM = 65535


def _oid_tuple(dotted: str) -> tuple[int, ...]:
    return tuple(int(part) for part in dotted.split("."))


_SYS_OBJECT_ID = _oid_tuple(SYS_OBJECT_ID_COLUMN)
_PRINTER_MIB = _oid_tuple(PRINTER_MIB)
_SERIAL = _oid_tuple(PRT_GENERAL_SERIAL_NUMBER)


@dataclass(frozen=True, slots=True)
class BroadcastReply:
    """One host that answered: where from, and what its answer says about it."""

    source: str  # the address the reply came from: the host to probe
    port: int  # its source port
    sys_object_id: str | None
    has_printer_mib: bool  # the GETNEXT from prtGeneralSerialNumber landed inside 1.3.6.1.2.1.43
    serial: str | None
    size: int  # bytes of the datagram received


def build_request(request_id: int, community: str) -> bytes:
    """The SNMPv2c GETNEXT message the probe sends (encoded with pysnmp's protocol API)."""
    pdu = _V2C.GetNextRequestPDU()
    _V2C.apiPDU.set_defaults(pdu)
    _V2C.apiPDU.set_request_id(pdu, request_id)
    _V2C.apiPDU.set_varbinds(pdu, [(_V2C.ObjectIdentifier(oid), _V2C.null) for oid in PROBE_OIDS])
    message = _V2C.Message()
    _V2C.apiMessage.set_defaults(message)
    _V2C.apiMessage.set_community(message, community)
    _V2C.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))


def parse_reply(data: bytes, request_id: int, source: tuple[str, int]) -> BroadcastReply | None:
    """A reply to our request, or None for anything else (garbage, other ids, requests, v1)."""
    try:
        message, rest = decoder.decode(data, asn1Spec=_V2C.Message())
        if rest or int(_V2C.apiMessage.get_version(message)) != 1:
            return None
        pdu = _V2C.apiMessage.get_pdu(message)
        if not pdu.isSameTypeWith(_V2C.ResponsePDU()):
            return None
        if int(_V2C.apiPDU.get_request_id(pdu)) != request_id:
            return None
        varbinds = list(_V2C.apiPDU.get_varbinds(pdu))
        error = int(_V2C.apiPDU.get_error_status(pdu))
    except Exception:  # untrusted bytes: pyasn1 raises PyAsn1Error and, on odd input, others
        _LOG.debug("ignoring an undecodable datagram from %s", source[0])
        return None
    sys_object_id = serial = None
    has_printer_mib = False
    if error == 0 and len(varbinds) == 2:
        (oid1, value1), (oid2, value2) = varbinds
        if tuple(oid1)[: len(_SYS_OBJECT_ID)] == _SYS_OBJECT_ID and isinstance(value1, univ.ObjectIdentifier):
            sys_object_id = str(value1)[:512]
        # endOfMibView / noSuch* are Null subtypes and echo the requested name: no answer.
        second = tuple(oid2) if not isinstance(value2, univ.Null) else ()
        has_printer_mib = second > _SERIAL and second[: len(_PRINTER_MIB)] == _PRINTER_MIB
        if has_printer_mib and second[: len(_SERIAL)] == _SERIAL and isinstance(value2, univ.OctetString):
            serial = decode_text(bytes(value2))
    return BroadcastReply(source[0], source[1], sys_object_id, has_printer_mib, serial, len(data))


def _destinations(destinations: Sequence[str]) -> list[str]:
    valid: list[str] = []
    for text in destinations:
        try:
            address = str(ipaddress.IPv4Address(text))
        except ValueError:
            _LOG.warning("broadcast probe: %r is not an IPv4 address, skipped", text)
            continue
        if address not in valid:
            valid.append(address)
    return valid


async def broadcast_probe(
    destinations: list[str], community: str = "public", port: int = 161, wait: float = 2.0
) -> list[BroadcastReply]:
    """Send one GETNEXT to each destination from one socket; return every answer within ``wait`` s.

    Replies are in arrival order, one per source address (a host reached through two
    destinations answers twice). Send errors (no route, a network down) are logged per
    destination; the probe itself only raises if no UDP socket can be opened.
    """
    targets = _destinations(destinations)
    request_id = secrets.randbelow(2**31 - 2) + 1
    wire = build_request(request_id, community)
    loop = asyncio.get_running_loop()
    replies: dict[str, BroadcastReply] = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        sock.setblocking(False)
        sent = 0
        for target in targets:
            try:
                sock.sendto(wire, (target, port))
                sent += 1
            except OSError as exc:
                _LOG.warning("broadcast probe to %s:%d failed: %s", target, port, exc)
        if not sent:
            return []
        deadline = time.monotonic() + wait
        while len(replies) < MAX_REPLIES:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                async with asyncio.timeout(remaining):
                    data, source = await loop.sock_recvfrom(sock, _MAX_DATAGRAM)
            except TimeoutError:
                break
            except OSError as exc:  # e.g. an ICMP error queued on the socket
                _LOG.debug("broadcast probe: receive error %s", exc)
                await asyncio.sleep(min(0.05, remaining))
                continue
            reply = parse_reply(data, request_id, (str(source[0]), int(source[1])))
            if reply is not None and reply.source not in replies:
                replies[reply.source] = reply
    return list(replies.values())


def broadcast_addresses() -> list[str]:
    """The directed broadcast address of every IPv4 subnet of this host, loopback excluded."""
    found: list[str] = []
    try:
        adapters = ifaddr.get_adapters()
    except OSError as exc:
        _LOG.warning("cannot list network interfaces: %s", exc)
        return found
    for adapter in adapters:
        for ip in adapter.ips:
            if not isinstance(ip.ip, str):  # IPv6 has no broadcast
                continue
            try:
                interface = ipaddress.IPv4Interface(f"{ip.ip}/{ip.network_prefix}")
            except ValueError:
                continue
            if interface.is_loopback or interface.network.prefixlen >= 31:  # /31, /32: no broadcast
                continue
            address = str(interface.network.broadcast_address)
            if address not in found:
                found.append(address)
    return found
