"""Subnet sweep: one SNMP probe per address, identification only for the printers that answer.

**The probe** is one GETNEXT request per address whose varbinds are group or column prefixes, so
the agent answers each with the first instance it has:

* ``system`` → sysDescr.0: the brand of OEM printers (UTAX, Savin, Develop…), HP's ``SN:`` serial
  and ``PID:`` model, a model when hrDeviceDescr is missing;
* ``sysObjectID`` → sysObjectID.0: the enterprise, hence vendor and where its private OIDs live;
* ``hrDeviceDescr`` → hrDeviceDescr.1 on a printer: the model;
* ``prtGeneralSerialNumber`` → the serial where the printer fills it in. Whatever the answer, it
  proves the Printer-MIB: an answer outside ``1.3.6.1.2.1.43`` means the device has none.

Retries default to 0, so a silent address costs exactly one datagram (~115 bytes with the IPv4/UDP
headers). A printer costs that request and its answer (~250–400 bytes); an identification GET
follows only when the serial or the model is still missing (the vendor's private serial/model
OIDs, and the MAC so that the inventory id survives an address change). HP devices whose default
context has no Printer-MIB are asked once more in the Jetdirect context (``public@Jetdirect``).

**Several credential profiles** are tried in order on each address; the first that gets an answer
is remembered (``Candidate.profile``). A wrong v1/v2c community is indistinguishable from silence,
so each further profile costs one more datagram per silent address.

**Printer or not.** A device is a *printer* when the Printer-MIB answers (in the default context,
or for HP in the Jetdirect context). Host Resources printer rows alone prove nothing: net-snmp
hosts, Windows servers and a WLAN controller in the corpus have them for print queues. A device
that answers without Printer-MIB but whose sysObjectID lies in a printer vendor's printer subtree
(or, lacking sysObjectID, whose sysDescr names a printer vendor) is *vendor_only*: listed in the
report so the admin sees it, not written to the inventory, never monitored, because the agent
cannot read supplies from it; it can be added by hand (``add HOST``) if it is a printer after all.
Everything else that answers is a non-printer, rejected with the reason.

Read-only: only GETNEXT and GET are sent.
"""

from __future__ import annotations

import asyncio
import inspect
import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from . import mib
from .config import DiscoverySettings, SnmpProfile
from .errors import ConfigError, SnmpError, SnmpTimeout
from .inventory import InventoryPrinter
from .model import Identity
from .reader import FALLBACK_CONTEXTS, printer_id
from .snmp import SnmpClient, SnmpTarget, SnmpValue, Traffic, oid_tuple, under
from .vendors import build_identity, enterprise_of, vendor_from_text, vendor_oids

_LOG = logging.getLogger(__name__)

Verdict = Literal["printer", "vendor_only"]
Source = Literal["sweep", "mdns", "broadcast", "manual"]
Outcome = Literal["printer", "vendor_only", "not_printer", "silent", "unreadable"]

SYSTEM_GROUP = "1.3.6.1.2.1.1"  # GETNEXT -> sysDescr.0
SYS_OBJECT_ID_COLUMN = "1.3.6.1.2.1.1.2"  # GETNEXT -> sysObjectID.0
PROBE_OIDS = (SYSTEM_GROUP, SYS_OBJECT_ID_COLUMN, mib.HR_DEVICE_DESCR, mib.PRT_GENERAL_SERIAL_NUMBER)

# Widest subnet swept for one interface: a /22 is 1022 addresses, ~10 s at the default rate.
MAX_INTERFACE_PREFIX = 22

# Printer product subtrees of printer vendors' enterprise numbers (not the whole enterprise: HP,
# Dell, Samsung, Canon also make switches, servers and cameras). Evidence for "vendor_only".
PRINTER_OID_PREFIXES = (
    "1.3.6.1.4.1.11.2.3.9",  # HP Jetdirect / LaserJet
    "1.3.6.1.4.1.236.11",  # Samsung printers
    "1.3.6.1.4.1.253.8.62",  # Xerox
    "1.3.6.1.4.1.297.1.11.93",  # Fuji Xerox / Fujifilm
    "1.3.6.1.4.1.367.1",  # Ricoh (also Savin, Lanier, Gestetner, NRG)
    "1.3.6.1.4.1.641.1",  # Lexmark printers
    "1.3.6.1.4.1.641.2",  # Lexmark engines sold as Dell, Toshiba
    "1.3.6.1.4.1.674.10898",  # Dell printers
    "1.3.6.1.4.1.683",  # Extended Systems / ZebraNet print servers
    "1.3.6.1.4.1.1129",  # Toshiba TEC
    "1.3.6.1.4.1.1248",  # Epson
    "1.3.6.1.4.1.1347",  # Kyocera (also UTAX, TA, Copystar)
    "1.3.6.1.4.1.1602.4",  # Canon printers
    "1.3.6.1.4.1.2001.1",  # OKI
    "1.3.6.1.4.1.2385",  # Sharp
    "1.3.6.1.4.1.2435.2.3.9",  # Brother
    "1.3.6.1.4.1.10642",  # Zebra
    "1.3.6.1.4.1.18334",  # Konica Minolta (also Develop)
    "1.3.6.1.4.1.28708",  # Fujifilm
    "1.3.6.1.4.1.40093",  # Pantum
    "1.3.6.1.4.1.51966",  # TSC label printers
)
PRINTER_OIDS_EXACT = ("1.3.6.1.4.1.11.1",)  # old HP Jetdirect cards answer exactly this


def is_printer_product(sys_object_id: str | None) -> bool:
    """sysObjectID inside a printer vendor's printer subtree."""
    if not sys_object_id:
        return False
    oid = sys_object_id.strip(".")
    return oid in PRINTER_OIDS_EXACT or any(oid == p or under(oid, p) for p in PRINTER_OID_PREFIXES)


# --- results --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candidate:
    """A device found by discovery, with what identified it and the credentials that worked."""

    host: str
    port: int
    profile: str
    verdict: Verdict
    context: str = ""
    vendor: str | None = None
    model: str | None = None
    serial: str | None = None
    mac: str | None = None
    sys_descr: str | None = None
    sys_object_id: str | None = None
    source: Source = "sweep"
    requests: int = 0  # requests and bytes this address cost (headers included)
    bytes: int = 0

    def identity(self) -> Identity:
        return Identity(
            vendor=self.vendor,
            model=self.model,
            serial=self.serial,
            firmware=None,
            mac=self.mac,
            sys_name=None,
            sys_descr=self.sys_descr,
            sys_object_id=self.sys_object_id,
            location=None,
            device_id=None,
            printer_name=None,
        )

    @property
    def id(self) -> str:
        """The inventory id: vendor + serial, else the MAC, else the address (as the poller does)."""
        return printer_id(self.identity(), self.host, self.port)

    def to_inventory(self, monitored: bool = True) -> InventoryPrinter:
        return InventoryPrinter(
            id=self.id,
            host=self.host,
            port=self.port,
            vendor=self.vendor,
            model=self.model,
            serial=self.serial,
            mac=self.mac,
            profile=self.profile,
            monitored=monitored,
            source=self.source,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "host": self.host,
            "port": self.port,
            "verdict": self.verdict,
            "vendor": self.vendor,
            "model": self.model,
            "serial": self.serial,
            "mac": self.mac,
            "profile": self.profile,
            "context": self.context,
            "sys_object_id": self.sys_object_id,
            "requests": self.requests,
            "bytes": self.bytes,
        }


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What one address turned out to be, and why; ``candidate`` only for printer / vendor_only."""

    host: str
    outcome: Outcome
    reason: str
    candidate: Candidate | None
    traffic: Traffic


@dataclass(frozen=True, slots=True)
class SweepProgress:
    total: int
    done: int
    answered: int
    printers: int
    vendor_only: int
    elapsed: float


@dataclass
class SweepReport:
    """The sweep's result, filled in as it goes: a caller holding it keeps what was found even
    when the sweep is cancelled or runs out of time."""

    networks: list[str] = field(default_factory=list)
    addresses: int = 0
    done: int = 0
    answered: int = 0
    silent: int = 0
    printers: list[Candidate] = field(default_factory=list)
    vendor_only: list[Candidate] = field(default_factory=list)
    non_printers: dict[str, str] = field(default_factory=dict)  # host -> why it was rejected
    unreadable: dict[str, str] = field(default_factory=dict)  # answered, but no profile could read it
    seconds: float = 0.0
    cancelled: bool = False
    timed_out: bool = False
    requests: int = 0
    bytes_total: int = 0
    bytes_printers: int = 0
    bytes_silent: int = 0

    @property
    def bytes_per_printer(self) -> float | None:
        return self.bytes_printers / len(self.printers) if self.printers else None

    @property
    def bytes_per_silent(self) -> float | None:
        return self.bytes_silent / self.silent if self.silent else None

    def progress(self) -> SweepProgress:
        return SweepProgress(
            self.addresses, self.done, self.answered, len(self.printers), len(self.vendor_only), self.seconds
        )

    def summary(self) -> dict[str, Any]:
        """The figures as JSON-ready values (no candidates)."""
        per_printer, per_silent = self.bytes_per_printer, self.bytes_per_silent
        return {
            "networks": list(self.networks),
            "addresses": self.addresses,
            "done": self.done,
            "answered": self.answered,
            "silent": self.silent,
            "printers": len(self.printers),
            "vendor_only": len(self.vendor_only),
            "non_printers": len(self.non_printers),
            "unreadable": len(self.unreadable),
            "seconds": round(self.seconds, 3),
            "cancelled": self.cancelled,
            "timed_out": self.timed_out,
            "requests": self.requests,
            "bytes_total": self.bytes_total,
            "bytes_per_printer": round(per_printer, 1) if per_printer is not None else None,
            "bytes_per_silent_address": round(per_silent, 1) if per_silent is not None else None,
        }

    def _add(self, result: ProbeResult) -> None:
        self.done += 1
        self.requests += result.traffic.requests
        self.bytes_total += result.traffic.bytes_total
        if result.outcome == "silent":
            self.silent += 1
            self.bytes_silent += result.traffic.bytes_total
            return
        self.answered += 1
        if result.outcome == "printer" and result.candidate is not None:
            self.printers.append(result.candidate)
            self.bytes_printers += result.traffic.bytes_total
        elif result.outcome == "vendor_only" and result.candidate is not None:
            self.vendor_only.append(result.candidate)
        elif result.outcome == "unreadable":
            self.unreadable[result.host] = result.reason
        else:
            self.non_printers[result.host] = result.reason


# --- networks -------------------------------------------------------------------------------


def parse_networks(
    texts: Iterable[str | ipaddress.IPv4Network | ipaddress.IPv6Network],
) -> list[ipaddress.IPv4Network]:
    """CIDRs (or bare addresses) to IPv4 networks; a bad one is a ConfigError naming it."""
    networks: list[ipaddress.IPv4Network] = []
    for item in texts:
        if isinstance(item, ipaddress.IPv4Network | ipaddress.IPv6Network):
            network: ipaddress.IPv4Network | ipaddress.IPv6Network = item
        else:
            try:
                network = ipaddress.ip_network(str(item).strip(), strict=False)
            except ValueError as exc:
                raise ConfigError(f"{item!r} is not a network (like 192.168.1.0/24)") from exc
        if not isinstance(network, ipaddress.IPv4Network):
            raise ConfigError(f"{network}: IPv6 networks are not swept (too large); give IPv4 CIDRs")
        networks.append(network)
    return networks


def sweep_addresses(networks: Sequence[ipaddress.IPv4Network]) -> list[str]:
    """Every address to probe, in order, once; network and broadcast addresses skipped."""
    seen: dict[str, None] = {}
    for network in networks:
        for address in network.hosts():  # /31 and /32 have no network/broadcast address
            seen.setdefault(str(address), None)
    return list(seen)


def host_networks(max_prefix: int = MAX_INTERFACE_PREFIX) -> list[ipaddress.IPv4Network]:
    """The IPv4 subnets of this host's interfaces (loopback and link-local left out).

    A subnet wider than ``/max_prefix`` is cut to the ``/max_prefix`` around the host's own
    address, with a warning: sweeping a /16 would take ten minutes and look like a scan.
    IPv6 is not swept: a /64 cannot be enumerated; mDNS finds IPv6-only printers.
    """
    try:
        import ifaddr
    except ImportError as exc:  # pragma: no cover - a dependency of the agent
        raise ConfigError("listing this host's interfaces needs the 'ifaddr' package; give CIDRs") from exc

    networks: list[ipaddress.IPv4Network] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if not ip.is_IPv4 or not isinstance(ip.ip, str):
                continue
            address = ipaddress.IPv4Address(ip.ip)
            if address.is_loopback or address.is_link_local or ip.network_prefix >= 32:
                continue
            network = ipaddress.IPv4Network(f"{address}/{ip.network_prefix}", strict=False)
            if network.prefixlen < max_prefix:
                capped = ipaddress.IPv4Network(f"{address}/{max_prefix}", strict=False)
                _LOG.warning(
                    "%s: %s is larger than /%d; sweeping only %s (give CIDRs to sweep more)",
                    adapter.nice_name,
                    network,
                    max_prefix,
                    capped,
                )
                network = capped
            if network not in networks:
                networks.append(network)
    return networks


# --- pacing ---------------------------------------------------------------------------------


class RateLimiter:
    """Token bucket: at most ``rate`` packets per second, at most ``burst`` at once.

    Callers reserve their tokens in turn and sleep off the debt, so concurrent workers are spaced
    evenly instead of waking together.
    """

    def __init__(self, rate: float, burst: float = 1.0) -> None:
        self.rate = rate
        self.burst = max(1.0, burst)
        self._tokens = self.burst
        self._last = time.monotonic()

    async def acquire(self, tokens: float = 1.0) -> None:
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        self._tokens -= tokens
        if self._tokens < 0:
            await asyncio.sleep(-self._tokens / self.rate)


# --- the probe ------------------------------------------------------------------------------


def _device_index(oid: str) -> int:
    """hrDeviceIndex of a Printer-MIB instance (every table is indexed by it first), else 1."""
    parts = oid_tuple(oid)
    if len(parts) > 11 and 0 < parts[11] < 1 << 31:
        return parts[11]
    return 1


def _printer_mib_answer(answer: dict[str, tuple[str, SnmpValue]]) -> str | None:
    found = answer.get(mib.PRT_GENERAL_SERIAL_NUMBER)
    return found[0] if found and under(found[0], mib.PRINTER_MIB) else None


def _identity_oids(
    identity: Identity, enterprise: int | None, device: int, values: dict[str, SnmpValue]
) -> list[str]:
    """What one GET must add for a serial (else a MAC, so the id survives DHCP) and a model.

    The MAC is asked only when the vendor keeps no serial of its own: each varbind costs ~40
    bytes, and a serial already makes the id stable.
    """
    oids = vendor_oids(enterprise)
    wanted: list[str] = []
    if not identity.serial:
        wanted += oids.serial
        if not oids.serial and not identity.mac:
            wanted += [f"{mib.IF_PHYS_ADDRESS}.1", f"{mib.IF_PHYS_ADDRESS}.2"]
    if not identity.model:
        if device != 1:  # the probe's hrDeviceDescr answer was another device's row
            wanted.append(f"{mib.HR_DEVICE_DESCR}.{device}")
        wanted += [*oids.model, *oids.device_id] or [mib.PPM_IEEE1284_DEVICE_ID]
    return [o for o in dict.fromkeys(wanted) if o not in values]


async def _pace(limiter: RateLimiter | None, retries: int) -> None:
    if limiter is not None:
        await limiter.acquire(1 + retries)


async def probe_address(
    client: SnmpClient,
    host: str,
    port: int,
    profiles: Sequence[SnmpProfile],
    timeout: float = 1.0,
    retries: int = 0,
    *,
    limiter: RateLimiter | None = None,
    source: Source = "sweep",
) -> ProbeResult:
    """Probe one address with each profile in turn and say what it is (see the module doc)."""
    first = SnmpTarget(host, port, timeout=timeout, retries=retries)
    try:
        address = await client.address(first)
    except SnmpError as exc:
        return ProbeResult(host, "unreadable", str(exc), None, Traffic())
    before = client.meter.get(address).snapshot()

    def spent() -> Traffic:
        return client.meter.get(address).minus(before)

    answer: dict[str, tuple[str, SnmpValue]] | None = None
    errors: list[str] = []
    target, used = first, None
    for profile in profiles:
        target = SnmpTarget(host, port, profile.auth(), timeout, retries, profile.context)
        await _pace(limiter, retries)
        try:
            answer = await client.get_next(target, PROBE_OIDS)
        except SnmpTimeout:
            continue
        except SnmpError as exc:  # e.g. SNMPv3 credentials refused: the device exists
            errors.append(f"{profile.name}: {exc}")
            continue
        used = profile
        break
    if answer is None or used is None:
        if errors:
            return ProbeResult(host, "unreadable", "; ".join(errors), None, spent())
        return ProbeResult(host, "silent", "no answer", None, spent())

    values: dict[str, SnmpValue] = {oid: value for oid, value in answer.values()}
    sys_object_id = values.get(mib.SYS_OBJECT_ID)
    sys_oid = sys_object_id if isinstance(sys_object_id, str) else None
    enterprise = enterprise_of(sys_oid)
    printer_mib = _printer_mib_answer(answer)
    context = ""

    if printer_mib is None and enterprise == 11 and is_printer_product(sys_oid):
        # Jetdirect cards keep the printer's Printer-MIB in a context of their own.
        for candidate_context in FALLBACK_CONTEXTS:
            await _pace(limiter, retries)
            try:
                extra = await client.get_next(
                    target.with_context(candidate_context), [mib.PRT_GENERAL_SERIAL_NUMBER]
                )
            except SnmpError:
                continue
            printer_mib = _printer_mib_answer(extra)
            if printer_mib is not None:
                context = candidate_context
                values.update({oid: value for oid, value in extra.values()})
                break

    device = _device_index(printer_mib) if printer_mib else 1
    identity = build_identity(values, device)
    if printer_mib is not None:
        wanted = _identity_oids(identity, enterprise, device, values)
        if wanted:
            await _pace(limiter, retries)
            try:
                values.update(await client.get(target, wanted))
                identity = build_identity(values, device)
            except SnmpError as exc:  # identification is a bonus: keep what the probe gave
                _LOG.debug("%s: identification GET failed: %s", host, exc)
        verdict: Verdict = "printer"
        reason = "Printer-MIB answers" + (f" in context {context!r}" if context else "")
    elif is_printer_product(sys_oid) or (
        sys_oid is None and vendor_from_text(identity.sys_descr) is not None
    ):
        verdict = "vendor_only"
        reason = "a printer vendor's device without Printer-MIB"
    else:
        what = f"sysObjectID {sys_oid}" if sys_oid else "no sysObjectID"
        return ProbeResult(host, "not_printer", f"no Printer-MIB ({what})", None, spent())

    traffic = spent()
    candidate = Candidate(
        host=host,
        port=port,
        profile=used.name,
        verdict=verdict,
        context=context,
        vendor=identity.vendor,
        model=identity.model,
        serial=identity.serial,
        mac=identity.mac,
        sys_descr=identity.sys_descr,
        sys_object_id=sys_oid,
        source=source,
        requests=traffic.requests,
        bytes=traffic.bytes_total,
    )
    return ProbeResult(host, verdict, reason, candidate, traffic)


async def probe(
    client: SnmpClient,
    host: str,
    port: int,
    profiles: Sequence[SnmpProfile],
    timeout: float = 1.0,
    retries: int = 0,
    *,
    source: Source = "sweep",
) -> Candidate | None:
    """The candidate at ``host`` (printer or vendor_only), or None when silent or not a printer;
    :func:`probe_address` says why."""
    return (await probe_address(client, host, port, profiles, timeout, retries, source=source)).candidate


# --- the sweep ------------------------------------------------------------------------------

Callback = Callable[[Any], Awaitable[None] | None]


async def _call(callback: Callback | None, value: Any) -> None:
    if callback is not None:
        result = callback(value)
        if inspect.isawaitable(result):
            await result


async def sweep(
    client: SnmpClient,
    networks: Iterable[str | ipaddress.IPv4Network | ipaddress.IPv6Network],
    profiles: Sequence[SnmpProfile],
    settings: DiscoverySettings,
    *,
    port: int = 161,
    on_progress: Callable[[SweepProgress], Awaitable[None] | None] | None = None,
    on_found: Callable[[Candidate], Awaitable[None] | None] | None = None,
    report: SweepReport | None = None,
) -> SweepReport:
    """Probe every address of ``networks``; returns (and fills in ``report`` as it goes).

    ``on_found`` is called for each printer as soon as it is identified, ``on_progress`` after
    each address. The time limit ends the sweep with ``timed_out`` set; cancelling the task stops
    it at once with ``cancelled`` set on the report before CancelledError propagates.
    """
    parsed = parse_networks(networks)
    addresses = sweep_addresses(parsed)
    if len(addresses) > settings.max_addresses:
        raise ConfigError(
            f"{len(addresses)} addresses to sweep is more than discovery.max_addresses "
            f"({settings.max_addresses}); give smaller networks"
        )
    if not profiles:
        raise ConfigError("no SNMP profile to probe with")
    for profile in profiles:
        try:
            profile.auth()
        except ConfigError as exc:
            raise ConfigError(f"snmp_profiles[{profile.name}].{exc}") from exc

    report = report if report is not None else SweepReport()
    report.networks = [str(n) for n in parsed]
    report.addresses = len(addresses)
    limiter = RateLimiter(settings.rate)
    pending: Iterator[str] = iter(addresses)
    in_flight: dict[str, Traffic] = {}
    started = time.monotonic()

    async def worker() -> None:
        for host in pending:  # the iterator is shared: each address goes to one worker
            in_flight[host] = client.meter.get((host, port)).snapshot()
            result = await probe_address(
                client, host, port, profiles, settings.timeout, settings.retries, limiter=limiter
            )
            del in_flight[host]
            report._add(result)
            report.seconds = time.monotonic() - started
            if result.outcome == "printer" and result.candidate is not None:
                await _call(on_found, result.candidate)
            await _call(on_progress, report.progress())

    await _call(on_progress, report.progress())
    tasks = [asyncio.create_task(worker()) for _ in range(min(settings.concurrency, len(addresses)))]
    try:
        async with asyncio.timeout(settings.time_limit):
            await asyncio.gather(*tasks)
    except TimeoutError:
        report.timed_out = True
        _LOG.info("discovery stopped at its time limit (%g s)", settings.time_limit)
    except asyncio.CancelledError:
        report.cancelled = True
        raise
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for host, before in in_flight.items():  # what the interrupted probes had already sent
            spent = client.meter.get((host, port)).minus(before)
            report.requests += spent.requests
            report.bytes_total += spent.bytes_total
        report.seconds = time.monotonic() - started
    return report
