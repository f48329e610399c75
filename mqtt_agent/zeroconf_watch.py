"""Continuous DNS-SD/mDNS browsing for printers.

Printers announce themselves over mDNS as IPP, IPPS, raw socket (``_pdl-datastream``) and LPD
(``_printer``) services, so browsing those four types finds most of them without sending a
packet to any address. python-zeroconf is used because it is the maintained pure-Python
mDNS/DNS-SD stack that Home Assistant itself uses, with an asyncio API, a record cache, and the
query back-off and known-answer suppression a long-running browser needs to stay quiet.

The watcher only reports addresses: ``on_address(address, service)`` is awaited once each time
an IPv4 address appears (a printer announced under several types is one address, reported once;
after all of its services are gone, a return is a new appearance). Whether the address really
is a printer is for the SNMP probe to say. Malformed records, services without addresses,
callback failures and zeroconf errors are logged, never raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from zeroconf import IPVersion, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

_LOG = logging.getLogger(__name__)

SERVICE_TYPES: tuple[str, ...] = (
    "_ipp._tcp.local.",
    "_ipps._tcp.local.",
    "_pdl-datastream._tcp.local.",
    "_printer._tcp.local.",
)
MAX_TXT_KEYS = 64
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

_Key = tuple[str, str]  # (service type, full service name)


@dataclass(frozen=True, slots=True)
class MdnsService:
    """What one DNS-SD service record set says about a device."""

    service_type: str  # "_ipp._tcp.local."
    name: str  # full service name: "<instance>.<service type>"
    host: str | None  # SRV target, "NPI123456.local."
    addresses: tuple[str, ...]  # IPv4, most recently announced first
    port: int | None
    properties: Mapping[str, str] = field(default_factory=dict)  # TXT; a bare key maps to ""

    @property
    def instance(self) -> str:
        suffix = "." + self.service_type
        return self.name[: -len(suffix)] if self.name.endswith(suffix) else self.name

    def txt(self, key: str) -> str | None:
        """A TXT value by key; DNS-SD keys are case-insensitive (RFC 6763 §6.4)."""
        wanted = key.lower()
        return next((v for k, v in self.properties.items() if k.lower() == wanted), None)

    @property
    def make_and_model(self) -> str | None:
        """The IPP ``ty`` key, else usb_MFG + usb_MDL, else ``product`` without its parentheses."""
        if ty := self.txt("ty"):
            return ty
        mdl = self.txt("usb_MDL")
        if mdl:
            mfg = self.txt("usb_MFG")
            return f"{mfg} {mdl}" if mfg and not mdl.lower().startswith(mfg.lower()) else mdl
        product = (self.txt("product") or "").strip().removeprefix("(").removesuffix(")").strip()
        return product or None


def _text(raw: bytes | None) -> str:
    return _CONTROL.sub(" ", (raw or b"").decode("utf-8", "replace")).strip()


def decode_txt(properties: Mapping[bytes, bytes | None]) -> dict[str, str]:
    """TXT properties as clean strings: undecodable bytes replaced, control characters removed."""
    decoded: dict[str, str] = {}
    for raw_key, raw_value in properties.items():
        key = _text(raw_key)
        if not key or key in decoded:
            continue
        decoded[key] = _text(raw_value)
        if len(decoded) >= MAX_TXT_KEYS:
            break
    return decoded


def _usable(address: str) -> bool:
    """An address worth probing: not 0.0.0.0, multicast, or 240/4 (a bogus A record)."""
    try:
        ip = ipaddress.IPv4Address(address)
    except ValueError:
        return False
    return not (ip.is_unspecified or ip.is_multicast or ip.is_reserved)


class MdnsWatcher:
    """Browses the printer service types and reports each address as it appears."""

    def __init__(
        self,
        on_address: Callable[[str, MdnsService], Awaitable[None]],
        *,
        interfaces: list[str] | None = None,
        zeroconf: AsyncZeroconf | None = None,
        service_types: Sequence[str] = SERVICE_TYPES,
        resolve_timeout: float = 3.0,
        retry_interval: float = 60.0,
    ) -> None:
        """``interfaces``: IPv4 addresses to browse on (default: all). ``zeroconf``: a shared
        instance to use instead of opening one (it is then left open by :meth:`stop`).
        ``retry_interval``: seconds between attempts when zeroconf cannot be started."""
        self._on_address = on_address
        self._interfaces = interfaces
        self._shared = zeroconf
        self._types = list(service_types)
        self._resolve_timeout = resolve_timeout
        self._retry_interval = retry_interval
        self._azc: AsyncZeroconf | None = None
        self._browser: AsyncServiceBrowser | None = None
        self._retry: asyncio.Task[None] | None = None
        self._resolving: dict[_Key, asyncio.Task[None]] = {}
        self._callbacks: set[asyncio.Task[None]] = set()
        self._service_addresses: dict[_Key, frozenset[str]] = {}
        self._owners: dict[str, set[_Key]] = {}  # address -> services currently announcing it

    @property
    def running(self) -> bool:
        return self._browser is not None

    @property
    def addresses(self) -> frozenset[str]:
        """The addresses announced right now."""
        return frozenset(self._owners)

    async def start(self) -> bool:
        """Start browsing. If zeroconf cannot start (no interface yet, sockets refused) the error
        is logged, False is returned and it is tried again every ``retry_interval`` seconds."""
        if self._browser is not None or self._retry is not None:
            return self._browser is not None
        if await self._open(quiet=False):
            return True
        self._retry = asyncio.create_task(self._retry_open(), name="mdns-retry")
        return False

    async def _open(self, quiet: bool) -> bool:
        azc: AsyncZeroconf | None = None
        try:
            if self._shared is not None:
                azc = self._shared
            elif self._interfaces is None:
                azc = AsyncZeroconf(ip_version=IPVersion.V4Only)
            else:
                azc = AsyncZeroconf(interfaces=list(self._interfaces))
            self._browser = AsyncServiceBrowser(azc.zeroconf, self._types, handlers=[self._on_change])
        except Exception as exc:  # zeroconf raises OSError and its own errors here
            where = ", ".join(self._interfaces) if self._interfaces else "all interfaces"
            _LOG.log(
                logging.DEBUG if quiet else logging.WARNING,
                "mDNS browsing could not start on %s: %s (retrying every %g s)",
                where,
                exc,
                self._retry_interval,
            )
            if azc is not None and azc is not self._shared:
                with contextlib.suppress(Exception):
                    await azc.async_close()
            return False
        self._azc = azc
        _LOG.debug("mDNS browsing %s", ", ".join(self._types))
        return True

    async def _retry_open(self) -> None:
        opened = False
        while not opened:
            await asyncio.sleep(self._retry_interval)
            opened = await self._open(quiet=True)

    async def stop(self) -> None:
        """Stop browsing, cancel pending resolutions and callbacks, close zeroconf if ours."""
        tasks = [*self._resolving.values(), *self._callbacks]
        if self._retry is not None:
            tasks.append(self._retry)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._retry = None
        if self._browser is not None:
            try:
                await self._browser.async_cancel()
            except Exception as exc:
                _LOG.debug("mDNS browser cancel: %s", exc)
            self._browser = None
        if self._azc is not None and self._azc is not self._shared:
            try:
                await self._azc.async_close()
            except Exception as exc:
                _LOG.debug("mDNS close: %s", exc)
        self._azc = None
        self._resolving.clear()
        self._callbacks.clear()
        self._service_addresses.clear()
        self._owners.clear()

    # --- browsing -----------------------------------------------------------------------------

    def _on_change(
        self, zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        """Browser callback (runs in the event loop): resolve new and changed services."""
        key = (service_type, name)
        try:
            previous = self._resolving.pop(key, None)
            if previous is not None:
                previous.cancel()
            if state_change is ServiceStateChange.Removed:
                self._assign(key, frozenset())
                return
            task = asyncio.create_task(self._resolve(zeroconf, key), name=f"mdns-resolve {name}")
            self._resolving[key] = task
            task.add_done_callback(functools.partial(self._forget_task, key))
        except Exception:
            _LOG.exception("mDNS: handling %s %s failed", state_change, name)

    def _forget_task(self, key: _Key, task: asyncio.Task[None]) -> None:
        if self._resolving.get(key) is task:
            del self._resolving[key]

    async def _resolve(self, zeroconf: Zeroconf, key: _Key) -> None:
        service_type, name = key
        try:
            info = AsyncServiceInfo(service_type, name)
            if not await info.async_request(zeroconf, self._resolve_timeout * 1000):
                _LOG.debug("mDNS: %s did not resolve to an address", name)
                return
            service = MdnsService(
                service_type=service_type,
                name=name,
                host=info.server,
                addresses=tuple(a for a in info.parsed_addresses(IPVersion.V4Only) if _usable(a)),
                port=info.port,
                properties=decode_txt(info.properties),
            )
        except Exception as exc:  # CancelledError is not an Exception: it goes through
            _LOG.warning("mDNS: resolving %s failed: %s", name, exc)
            return
        if not service.addresses:
            _LOG.debug("mDNS: %s has no usable IPv4 address", name)
            return
        appeared = self._assign(key, frozenset(service.addresses))
        for address in service.addresses:
            if address in appeared:
                _LOG.info("mDNS: %s at %s (%s)", service.instance, address, service_type)
                task = asyncio.create_task(self._notify(address, service), name=f"mdns-found {address}")
                self._callbacks.add(task)
                task.add_done_callback(self._callbacks.discard)

    def _assign(self, key: _Key, addresses: frozenset[str]) -> set[str]:
        """Record which addresses a service announces; return those no service announced before."""
        old = self._service_addresses.pop(key, frozenset())
        if addresses:
            self._service_addresses[key] = addresses
        for address in old - addresses:
            owners = self._owners.get(address)
            if owners is not None:
                owners.discard(key)
                if not owners:
                    del self._owners[address]
        appeared = set()
        for address in addresses - old:
            owners = self._owners.setdefault(address, set())
            if not owners:
                appeared.add(address)
            owners.add(key)
        return appeared

    async def _notify(self, address: str, service: MdnsService) -> None:
        try:
            await self._on_address(address, service)
        except Exception:
            _LOG.exception("mDNS: handling %s (%s) failed", address, service.name)
