"""Read-only SNMP v1/v2c/v3 client on pysnmp 7 (asyncio), shared by every printer.

pysnmp is the maintained pure-Python SNMP stack with an asyncio API, all three protocol versions
and the USM security models; the agent only ever issues GET, GETNEXT and GETBULK requests.

Values come back as plain Python: ``int`` for every integer type, ``bytes`` for OCTET STRING,
``str`` (dotted) for OBJECT IDENTIFIER and IpAddress. Missing instances are left out of the
result instead of being returned as sentinel objects.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pyasn1.type import univ
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
    bulk_cmd,
    get_cmd,
    next_cmd,
)
from pysnmp.hlapi.v3arch.asyncio import auth as usm
from pysnmp.proto import rfc1902, rfc1905

from .errors import SnmpError, SnmpTimeout

_LOG = logging.getLogger(__name__)

SnmpValue = int | bytes | str
SnmpVersion = Literal["1", "2c", "3"]

AUTH_PROTOCOLS: dict[str, Any] = {
    "none": usm.USM_AUTH_NONE,
    "md5": usm.USM_AUTH_HMAC96_MD5,
    "sha": usm.USM_AUTH_HMAC96_SHA,
    "sha224": usm.USM_AUTH_HMAC128_SHA224,
    "sha256": usm.USM_AUTH_HMAC192_SHA256,
    "sha384": usm.USM_AUTH_HMAC256_SHA384,
    "sha512": usm.USM_AUTH_HMAC384_SHA512,
}
PRIV_PROTOCOLS: dict[str, Any] = {
    "none": usm.USM_PRIV_NONE,
    "des": usm.USM_PRIV_CBC56_DES,
    "aes": usm.USM_PRIV_CFB128_AES,
    "aes128": usm.USM_PRIV_CFB128_AES,
    "aes192": usm.USM_PRIV_CFB192_AES,
    "aes256": usm.USM_PRIV_CFB256_AES,
}

# Requests stay well under a 1472-byte UDP payload for typical OIDs; larger answers use tooBig splitting.
MAX_GET_VARBINDS = 24
BULK_VARBINDS = 48
IPV4_UDP_HEADERS = 28  # bytes each datagram costs on the wire beyond the SNMP message

# pysnmp's SNMPv3 report texts, said the way an admin can act on them.
_V3_ERRORS = (
    ("wrong snmp pdu digest", "SNMPv3 authentication failed: wrong auth key or protocol"),
    ("unknown usm user", "SNMPv3 user unknown to the printer"),
    ("unsupported security level", "the printer does not support this SNMPv3 security level"),
    ("decryption error", "SNMPv3 decryption failed: wrong privacy key or protocol"),
    ("ciphering services not available", "SNMPv3 privacy needs the 'cryptography' package"),
    ("not in time window", "SNMPv3 time window mismatch (clock or engine boots)"),
)


@dataclass(frozen=True, slots=True)
class SnmpAuth:
    """Credentials for one printer. Secrets are plain strings here: keep this object out of logs."""

    version: SnmpVersion = "2c"
    community: str = field(default="public", repr=False)
    user: str | None = None
    auth_protocol: str = "sha"
    auth_key: str | None = field(default=None, repr=False)
    priv_protocol: str = "aes"
    priv_key: str | None = field(default=None, repr=False)

    def describe(self) -> str:
        """A log-safe description (no community, no keys)."""
        if self.version == "3":
            level = "authPriv" if self.priv_key else "authNoPriv" if self.auth_key else "noAuthNoPriv"
            return f"v3 user={self.user} {level}"
        return f"v{self.version}"


@dataclass(frozen=True, slots=True)
class SnmpTarget:
    host: str
    port: int = 161
    auth: SnmpAuth = field(default_factory=SnmpAuth)
    timeout: float = 2.0
    retries: int = 1
    context: str = ""

    def with_context(self, context: str) -> SnmpTarget:
        return SnmpTarget(self.host, self.port, self.auth, self.timeout, self.retries, context)

    @property
    def label(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(slots=True)
class Traffic:
    """Requests and bytes exchanged with one address (SNMP messages plus IPv4/UDP headers)."""

    requests: int = 0
    responses: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0

    @property
    def bytes_total(self) -> int:
        return self.bytes_sent + self.bytes_received

    def snapshot(self) -> Traffic:
        return Traffic(self.requests, self.responses, self.bytes_sent, self.bytes_received)

    def minus(self, earlier: Traffic) -> Traffic:
        return Traffic(
            self.requests - earlier.requests,
            self.responses - earlier.responses,
            self.bytes_sent - earlier.bytes_sent,
            self.bytes_received - earlier.bytes_received,
        )


class TrafficMeter:
    """Counts datagrams per transport address by observing the SNMP engine's send/receive points."""

    def __init__(self, engine: SnmpEngine) -> None:
        self._by_address: dict[tuple[str, int], Traffic] = {}
        engine.observer.register_observer(self._on_send, "rfc3412.sendPdu")
        engine.observer.register_observer(self._on_receive, "rfc3412.receiveMessage:response")

    def _entry(self, address: Any) -> Traffic:
        key = (str(address[0]), int(address[1]))
        entry = self._by_address.get(key)
        if entry is None:
            entry = self._by_address[key] = Traffic()
        return entry

    def _on_send(self, _engine: Any, _point: str, variables: Mapping[str, Any], _ctx: Any) -> None:
        entry = self._entry(variables["transportAddress"])
        entry.requests += 1
        entry.bytes_sent += len(variables["outgoingMessage"]) + IPV4_UDP_HEADERS

    def _on_receive(self, _engine: Any, _point: str, variables: Mapping[str, Any], _ctx: Any) -> None:
        entry = self._entry(variables["transportAddress"])
        entry.responses += 1
        entry.bytes_received += len(variables["wholeMsg"]) + IPV4_UDP_HEADERS

    def get(self, address: tuple[str, int]) -> Traffic:
        return self._entry(address)

    def total(self) -> Traffic:
        total = Traffic()
        for t in self._by_address.values():
            total.requests += t.requests
            total.responses += t.responses
            total.bytes_sent += t.bytes_sent
            total.bytes_received += t.bytes_received
        return total


def oid_tuple(oid: str) -> tuple[int, ...]:
    return tuple(int(p) for p in oid.strip(".").split(".") if p)


def under(oid: str, prefix: str) -> bool:
    return oid.startswith(prefix + ".")


def _convert(value: Any) -> SnmpValue | None:
    """pysnmp value -> plain Python, or None for the 'no such object/instance/end of MIB' markers."""
    if isinstance(value, rfc1905.NoSuchObject | rfc1905.NoSuchInstance | rfc1905.EndOfMibView):
        return None
    if isinstance(value, rfc1902.IpAddress):
        return ".".join(str(b) for b in value.asOctets())
    if isinstance(value, rfc1902.OctetString | rfc1902.Opaque | rfc1902.Bits):
        return bytes(value.asOctets())
    if isinstance(value, univ.ObjectIdentifier):
        return str(value)
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class SnmpClient:
    """One SNMP engine for all printers; GET and column walks with per-target credentials."""

    def __init__(self) -> None:
        self.engine = SnmpEngine()
        self.meter = TrafficMeter(self.engine)
        self._transports: dict[tuple[str, int, float, int], UdpTransportTarget] = {}

    def close(self) -> None:
        dispatcher = self.engine.transport_dispatcher
        if dispatcher is not None:
            dispatcher.close_dispatcher()

    async def _transport(self, target: SnmpTarget) -> UdpTransportTarget:
        key = (target.host, target.port, target.timeout, target.retries)
        transport = self._transports.get(key)
        if transport is None:
            try:
                transport = await UdpTransportTarget.create(
                    (target.host, target.port), timeout=target.timeout, retries=target.retries
                )
            except Exception as exc:  # pysnmp wraps resolver failures in its own error type
                raise SnmpError(f"{target.host}: cannot resolve address ({exc})") from exc
            self._transports[key] = transport
        return transport

    def forget(self, target: SnmpTarget) -> None:
        """Drop the cached transport (and so the resolved address) of a target."""
        self._transports.pop((target.host, target.port, target.timeout, target.retries), None)

    async def address(self, target: SnmpTarget) -> tuple[str, int]:
        transport = await self._transport(target)
        addr = transport.transport_address
        return (str(addr[0]), int(addr[1]))

    def _auth_data(self, target: SnmpTarget) -> Any:
        auth = target.auth
        if auth.version == "3":
            return UsmUserData(
                auth.user or "",
                authKey=auth.auth_key or None,
                privKey=auth.priv_key or None,
                authProtocol=AUTH_PROTOCOLS[auth.auth_protocol] if auth.auth_key else usm.USM_AUTH_NONE,
                privProtocol=PRIV_PROTOCOLS[auth.priv_protocol] if auth.priv_key else usm.USM_PRIV_NONE,
            )
        community = auth.community
        if target.context:
            # Over v1/v2c, a context is addressed Cisco-style as "community@context" (HP Jetdirect).
            community = f"{community}@{target.context}"
        return CommunityData(community, mpModel=0 if auth.version == "1" else 1)

    def _context(self, target: SnmpTarget) -> ContextData:
        if target.auth.version == "3" and target.context:
            return ContextData(contextName=target.context)
        return ContextData()

    def _check(self, target: SnmpTarget, indication: Any) -> None:
        if indication is None:
            return
        text = str(indication)
        lowered = text.lower()
        if "timeout" in lowered or "timed out" in lowered:
            raise SnmpTimeout(f"{target.label}: no SNMP response ({target.auth.describe()})")
        for needle, meaning in _V3_ERRORS:
            if needle in lowered:
                raise SnmpError(f"{target.label}: {meaning} ({target.auth.describe()})")
        raise SnmpError(f"{target.label}: {text}")

    async def _request(
        self, target: SnmpTarget, kind: str, oids: Sequence[str], repetitions: int = 0
    ) -> tuple[int, int, Any, list[Any]]:
        """One GET / GETNEXT / GETBULK exchange: (error status, error index, status object, varbinds)."""
        transport = await self._transport(target)
        varbinds = [ObjectType(ObjectIdentity(o)) for o in oids]
        common = (self.engine, self._auth_data(target), transport, self._context(target))
        if kind == "get":
            indication, status, index, answer = await get_cmd(*common, *varbinds, lookupMib=False)
        elif kind == "next":
            indication, status, index, answer = await next_cmd(*common, *varbinds, lookupMib=False)
        else:
            indication, status, index, answer = await bulk_cmd(
                *common, 0, repetitions, *varbinds, lookupMib=False
            )
        self._check(target, indication)
        code = int(status) if status is not None else 0
        return code, int(index or 0), status, list(answer or [])

    async def get(self, target: SnmpTarget, oids: Iterable[str]) -> dict[str, SnmpValue]:
        """GET the given instances; instances the printer does not have are absent from the result."""
        wanted = list(dict.fromkeys(oids))
        result: dict[str, SnmpValue] = {}
        for start in range(0, len(wanted), MAX_GET_VARBINDS):
            await self._get_chunk(target, wanted[start : start + MAX_GET_VARBINDS], result)
        return result

    async def _get_chunk(self, target: SnmpTarget, oids: list[str], result: dict[str, SnmpValue]) -> None:
        pending = list(oids)
        while pending:
            code, index, status, varbinds = await self._request(target, "get", pending)
            if code == 0:
                for name, value in varbinds:
                    converted = _convert(value)
                    if converted is not None:
                        result[str(name)] = converted
                return
            if code == 2 and 0 < index <= len(pending):  # v1 noSuchName: drop the culprit, ask again
                del pending[index - 1]
                continue
            if code == 1 and len(pending) > 1:  # tooBig: split the request
                half = len(pending) // 2
                await self._get_chunk(target, pending[:half], result)
                await self._get_chunk(target, pending[half:], result)
                return
            if code == 1:
                _LOG.warning("%s: answer to %s is too big for one datagram", target.label, pending[0])
                return
            raise SnmpError(f"{target.label}: error status {status.prettyPrint()} for GET")

    async def get_next(self, target: SnmpTarget, oids: Sequence[str]) -> dict[str, tuple[str, SnmpValue]]:
        """One GETNEXT: ``{requested OID: (next OID, value)}``; end-of-MIB answers are left out.

        A single datagram each way whatever the answer, which makes it the cheapest question that
        both finds an instance and says whether a subtree exists (discovery's probe).
        """
        pending = list(dict.fromkeys(oids))
        result: dict[str, tuple[str, SnmpValue]] = {}
        while pending:
            code, index, status, varbinds = await self._request(target, "next", pending)
            if code == 2 and 0 < index <= len(pending):  # v1 noSuchName: that one hit the end
                del pending[index - 1]
                continue
            if code != 0:
                raise SnmpError(f"{target.label}: error status {status.prettyPrint()} for GETNEXT")
            for asked, (name, value) in zip(pending, varbinds, strict=False):
                converted = _convert(value)
                if converted is not None:
                    result[asked] = (str(name), converted)
            return result
        return result

    async def walk(
        self, target: SnmpTarget, columns: Sequence[str], max_rows: int = 256
    ) -> dict[str, dict[str, SnmpValue]]:
        """Walk table columns side by side: ``{column: {instance suffix: value}}``.

        GETBULK for v2c/v3 (several columns per request), GETNEXT for v1. A column ends when the
        answer leaves its subtree, stops increasing (a broken agent looping) or reaches ``max_rows``.
        """
        result: dict[str, dict[str, SnmpValue]] = {c: {} for c in columns}
        cursor: dict[str, str] = {c: c for c in columns}
        active = list(columns)
        use_bulk = target.auth.version != "1"
        while active:
            reps = max(1, BULK_VARBINDS // len(active))
            request = [cursor[c] for c in active]
            code, _index, status, varbinds = await self._request(
                target, "bulk" if use_bulk else "next", request, reps
            )
            if code == 2:  # v1 noSuchName at the end of the MIB
                break
            if code != 0:
                raise SnmpError(f"{target.label}: error status {status.prettyPrint()} for walk")
            if not varbinds:
                break
            finished: set[str] = set()
            width = len(active)
            for position, (name, value) in enumerate(varbinds):
                column = active[position % width]
                if column in finished:
                    continue
                oid = str(name)
                converted = _convert(value)
                if (
                    converted is None
                    or not under(oid, column)
                    or oid_tuple(oid) <= oid_tuple(cursor[column])
                    or len(result[column]) >= max_rows
                ):
                    finished.add(column)
                    continue
                result[column][oid[len(column) + 1 :]] = converted
                cursor[column] = oid
            if not use_bulk and len(varbinds) < width:
                break
            active = [c for c in active if c not in finished]
        return result
