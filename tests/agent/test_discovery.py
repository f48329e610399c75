"""Discovery: a simulated /24 on loopback, swept for real over SNMP.

One snmpsim process (started once for the module) serves, each on its own 127.x.y.z address: the
project's demo printers, the corpus printers (``../shared/corpus``, when present), the corpus's
detection-only stubs and its six non-printer negatives, a synthetic router, HP switch and Linux
CUPS server (a Host Resources printer row, no Printer-MIB), a printer that only answers a second
community and a printer that moves. The rest of the /24 is silent.

snmpsim opens each recording lazily and its first answer can take a few hundred milliseconds;
the fixture asks every device once before the timed sweeps, as real printers answer in
milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import free_port, sim_network
from rich.console import Console

from mqtt_agent import discovery, mib
from mqtt_agent.cli import main as cli_main
from mqtt_agent.config import DiscoverySettings, Settings
from mqtt_agent.discover_cli import discover_command
from mqtt_agent.discovery import (
    RateLimiter,
    host_networks,
    parse_networks,
    probe_address,
    sweep,
    sweep_addresses,
)
from mqtt_agent.errors import ConfigError, SnmpError
from mqtt_agent.inventory import Inventory
from mqtt_agent.simulator import FLEET_MODELS, FleetSimulator, RecordedHost, SimPrinter, demo_fleet
from mqtt_agent.snmp import SnmpAuth, SnmpClient, SnmpTarget

try:  # the test directory may or may not be a package
    from . import corpus
except ImportError:
    import corpus  # type: ignore[no-redef]

CORPUS = corpus.corpus_available()

# What discovery must report for each printer: (vendor, model, serial).
DEMO_PRINTERS = {
    "hp-m454dw": ("HP", "Color LaserJet Pro M454dw", "VNB3R12345"),
    "brother-hl-l8260cdw": ("Brother", "HL-L8260CDW", "E78901K0N123456"),
    "kyocera-p3155dn": ("Kyocera", "ECOSYS P3155dn", "R4P0Z12345"),
    "epson-wf-c5790": ("Epson", "WF-C5790", "X3B8012345"),
    "xerox-c405": ("Xerox", "VersaLink C405 Multifunction Printer", "3390123456"),
    "mover": ("Kyocera", "ECOSYS P3155dn", "MOVE000001"),
}
# Checked against each recording and LibreNMS's expected JSON. Two readings of our own: konica's
# hrDeviceDescr is "Generic 28C-1", so the model comes from sysDescr (LibreNMS reads the OEM name
# "Develop ineo+ 280" from Konica's private MIB); the M130nw says "M130nw" in hrDeviceDescr where
# its private MIB says "M129-M134".
CORPUS_PRINTERS = {
    "brother": ("Brother", "MFC-L2710DW", "000A5J431816"),
    "brother_hl5370dw": ("Brother", "HL-5370DW", "B9J154306"),
    "canonprinter_lbp": ("Canon", "LBP6670", "MKRA012345"),
    "canonprinter_tm": ("Canon", "TM-5300", None),
    "dell-laser_s5830dn": ("Dell", "S5830dn", "7XQ1R92-132-13"),
    "epson": ("Epson", "WF-C5790BA", "X3B8022793"),
    "fujifilmprinter_c7580": ("Fujifilm", "Apeos C7580", "TC101642170085"),
    "fujifilmprinter_c810": ("Fujifilm", "ApeosPro C810", "TC101630131338"),
    "jetdirect": ("HP", "Color LaserJet M452nw", "AAA0A00000"),
    "jetdirect_m130nw": ("HP", "LaserJet MFP M130nw", "VNCRC48198"),
    "jetdirect_m252dw": ("HP", "Color LaserJet Pro M252dw", "VNB3J99999"),
    "jetdirect_supplies_context": ("HP", "Color LaserJet Test", "TEST000000"),
    "konica": ("Konica Minolta", "bizhub C3110", None),
    "konica_2": ("Konica Minolta", "bizhub 25e", None),
    "okilan_9450g": ("OKI", "MC873", None),
    "ricoh_mpc2503": ("Ricoh", "MP C2503", "E216R220016"),
    "samsungprinter_m4080fx": ("Samsung", "M408x", None),
    "sharp": ("Sharp", "MX-3570N", "6509415X00"),
    "utax": ("UTAX", "P-4532DN", "R9L0309954"),
    "xerox": ("Xerox", "AltaLink C8045", None),
    # A stub in the corpus (trimmed to prtGeneral), but its Printer-MIB answers: a printer.
    "xerox_apeosport": ("Fujifilm", "ApeosPort-VI C4471", "TC101180620073"),
}
SKIPPED = {"jetdirect_context"}  # the same printer as `jetdirect` (serial and MAC): one device, one id
SYNTHETIC_NON_PRINTERS = ("cups-server", "router", "hp-switch", "next-tenant")
ROUTER = """1.3.6.1.2.1.1.1.0|4|Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version 15.2(7)E3
1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.9.1.1208
1.3.6.1.2.1.1.3.0|67|123456
1.3.6.1.2.1.1.5.0|4|core-switch
1.3.6.1.2.1.2.2.1.6.1|4x|00aabbccdd01
"""
WORKSTATION = """1.3.6.1.2.1.1.1.0|4|Linux desk-12 6.8.0-45-generic #45-Ubuntu SMP x86_64
1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.8072.3.2.10
1.3.6.1.2.1.1.3.0|67|42424
1.3.6.1.2.1.1.5.0|4|desk-12
1.3.6.1.2.1.2.2.1.6.2|4x|3c7c3f000012
"""
HP_SWITCH = """1.3.6.1.2.1.1.1.0|4|HP J9773A 2530-24G-PoEP Switch, revision YA.16.10.0009, ROM YA.15.20
1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.11.2.3.7.11.160
1.3.6.1.2.1.1.3.0|67|654321
1.3.6.1.2.1.1.5.0|4|floor-2
1.3.6.1.2.1.2.2.1.6.1|4x|94f12801a0b0
"""


def _network() -> str:
    """A loopback /24 of this module's own (next to, not on, the one other modules use)."""
    first, second, third = sim_network().split(".")
    return f"{first}.{int(second) + 70}.{third}"


@dataclass
class Fleet:
    net: str
    port: int
    sim: FleetSimulator
    names: dict[str, str]  # address -> device name
    printers: dict[str, tuple[str | None, str | None, str | None]]  # name -> expected identity
    vendor_only: set[str]
    non_printers: set[str]

    def host(self, name: str) -> SimPrinter:
        return next(p for p in self.sim.printers if p.name == name)


def _model(index: int, address: str, name: str, serial: str, mac: str) -> SimPrinter:
    printer = FLEET_MODELS[index](address)
    printer.name, printer.serial, printer.mac = name, serial, mac
    printer.extra = {}  # vendor-private copies of the serial would disagree with the new one
    return printer


def _recording(rec: corpus.Recording) -> dict[str, str]:
    files = {}
    for community, path in (
        ("public", corpus.CORPUS_DIR / rec.file),
        ("public@Jetdirect", corpus.CORPUS_DIR / rec.file.replace(".snmprec", "@Jetdirect.snmprec")),
    ):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="surrogateescape")
            files[community] = corpus.sanitise_snmprec(text)[0]
    return files


def _build(net: str, port: int) -> Fleet:
    """The devices, one every third address (so snmpsim, one process answering for all of them,
    is not handed every answering address at once; a real /24 is sparse too)."""
    devices: list[SimPrinter] = list(demo_fleet(5, net))
    # The printer that moves trades addresses with a workstation (DHCP): files are rewritten, never
    # deleted, as snmpsim serves only the files it saw at start and stumbles over vanished ones.
    mover = _model(2, "", "mover", "MOVE000001", "00:17:c8:00:00:06").snmprec()
    office = _model(3, "", "office-only-source", "OFFICE0001", "64:eb:8c:00:00:08")
    cups = _model(0, "", "cups-server", "", "52:54:00:00:00:09")
    cups.printer_mib = False  # a print queue in the Host Resources table, no Printer-MIB
    cups.sys_object_id = "1.3.6.1.4.1.8072.3.2.10"
    cups.sys_descr = "Linux cups 6.1.0-18-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 x86_64"
    cups.hr_descr = "HP_LaserJet_M454dw (CUPS queue)"
    devices += [
        RecordedHost.of("mover", "", {"public": mover}),
        RecordedHost.of("next-tenant", "", {"public": WORKSTATION}),
        RecordedHost.of("office-only", "", {"office": office.snmprec()}),
        cups,
        RecordedHost.of("router", "", {"public": ROUTER}),
        RecordedHost.of("hp-switch", "", {"public": HP_SWITCH}),
    ]
    printers: dict[str, tuple[str | None, str | None, str | None]] = dict(DEMO_PRINTERS)
    vendor_only: set[str] = set()
    non_printers = set(SYNTHETIC_NON_PRINTERS)
    if CORPUS:
        for rec in corpus.librenms_recordings():
            if rec.name in SKIPPED or rec.group == "context_half":
                continue
            devices.append(RecordedHost.of(rec.name, "", _recording(rec)))
            if rec.name in CORPUS_PRINTERS:
                printers[rec.name] = CORPUS_PRINTERS[rec.name]
            elif rec.group == "stub":
                vendor_only.add(rec.name)
            elif rec.group == "negative":
                non_printers.add(rec.name)
        assert set(CORPUS_PRINTERS) <= set(printers), "a corpus printer the test expects is missing"
    slots = range(1, 255, 3)
    assert len(devices) <= len(slots)
    for device, last in zip(devices, slots, strict=False):
        device.address, device.port = f"{net}.{last}", port
    names = {d.address: d.name for d in devices}
    return Fleet(net, port, FleetSimulator(devices), names, printers, vendor_only, non_printers)


async def _warm(fleet: Fleet) -> None:
    """Ask every device once (snmpsim opens each recording on first use), a few at a time."""
    client = SnmpClient()
    settings = Settings(
        snmp_profiles=[{"name": "public", "community": "public"}, {"name": "office", "community": "office"}]
    )
    public, office = settings.profiles()
    gate = asyncio.Semaphore(4)

    async def one(device: SimPrinter) -> None:
        async with gate:
            profile = office if device.name == "office-only" else public
            await probe_address(client, device.address, fleet.port, [profile], 3.0, 0)

    try:
        await asyncio.gather(*(one(d) for d in fleet.sim.printers))
    finally:
        client.close()


@pytest.fixture(scope="module")
def fleet() -> Iterator[Fleet]:
    net = _network()
    built = _build(net, free_port(socket.SOCK_DGRAM))
    built.sim.start()
    try:
        started = time.monotonic()
        asyncio.run(built.sim.wait_ready(timeout=60))
        ready = time.monotonic()
        asyncio.run(_warm(built))
        warm = time.monotonic() - ready
        print(f"fleet of {len(built.sim.printers)}: up in {ready - started:.1f} s, warm in {warm:.1f} s")
        yield built
    finally:
        built.sim.stop()


def _console() -> Console:
    return Console(file=io.StringIO(), width=200, color_system=None)


def _output(console: Console) -> str:
    file = console.file
    assert isinstance(file, io.StringIO)
    return file.getvalue()


def _settings(fleet: Fleet, tmp_path: Path, **discovery_settings: Any) -> Settings:
    return Settings(
        snmp={"port": fleet.port},
        inventory_file=tmp_path / "inventory.sqlite3",
        discovery=discovery_settings,
    )


# --- the /24 --------------------------------------------------------------------------------


async def test_sweep_of_a_slash_24_finds_exactly_the_printers(
    fleet: Fleet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A 2 s timeout (default 1 s): the simulator is one Python process serving ~80 engines while
    # other tests load the machine. Silent addresses still cost exactly one datagram each.
    settings = _settings(fleet, tmp_path, timeout=2.0)
    inventory = Inventory(settings.inventory_path)
    console = _console()
    started = time.monotonic()
    code = await discover_command(settings, inventory, [f"{fleet.net}.0/24"], console, as_json=True)
    elapsed = time.monotonic() - started
    result = json.loads(_output(console))
    summary = result["summary"]

    assert code == 0
    found = {fleet.names[p["host"]]: p for p in result["printers"]}
    assert set(found) == set(fleet.printers)
    for name, (vendor, model, serial) in fleet.printers.items():
        assert (found[name]["vendor"], found[name]["model"], found[name]["serial"]) == (
            vendor,
            model,
            serial,
        ), name
        assert found[name]["profile"] == "default"
    if CORPUS:
        assert found["jetdirect_supplies_context"]["context"] == "Jetdirect"
    assert {fleet.names[c["host"]] for c in result["vendor_only"]} == fleet.vendor_only
    assert {fleet.names[h] for h in result["non_printers"]} == fleet.non_printers
    assert result["unreadable"] == {}
    answering = len(fleet.printers) + len(fleet.vendor_only) + len(fleet.non_printers)
    assert summary["addresses"] == 254 and summary["done"] == 254
    assert summary["answered"] == answering and summary["silent"] == 254 - answering

    # Every printer is in the inventory, once, with an id that will survive an address change.
    saved = {p.host: p for p in inventory.all()}
    assert set(saved) == {p["host"] for p in result["printers"]}
    assert len({p.id for p in saved.values()}) == len(saved)
    for entry in result["printers"]:
        printer = saved[entry["host"]]
        assert printer.id == entry["id"] and printer.monitored and printer.source == "sweep"
        if fleet.names[entry["host"]] != "xerox":  # the AltaLink recording has neither serial nor MAC
            assert not printer.id.startswith("host_"), printer

    costs = sorted(
        ((p["bytes"], p["requests"], fleet.names[p["host"]]) for p in result["printers"]), reverse=True
    )
    with capsys.disabled():
        print(
            f"\n/24 sweep: {elapsed:.2f} s, {summary['requests']} requests, {summary['bytes_total']} bytes; "
            f"{summary['printers']} printers at {summary['bytes_per_printer']} bytes each on average, "
            f"{summary['vendor_only']} vendor-only, {summary['non_printers']} non-printers, "
            f"{summary['silent']} silent at {summary['bytes_per_silent_address']} bytes each\n"
            f"bytes (requests) per printer: {', '.join(f'{n} {b} ({r})' for b, r, n in costs)}"
        )
    assert elapsed < 15
    assert summary["bytes_per_printer"] <= 500
    assert summary["bytes_per_silent_address"] <= 150


async def test_profiles_are_tried_in_order_and_the_first_that_answers_is_kept(fleet: Fleet) -> None:
    settings = Settings(
        snmp_profiles=[{"name": "public", "community": "public"}, {"name": "office", "community": "office"}]
    )
    first = [d.address for d in fleet.sim.printers[:11]]  # the demo printers, the special ones
    silent = [f"{fleet.net}.2", f"{fleet.net}.3"]
    client = SnmpClient()
    try:
        report = await sweep(client, first + silent, settings.profiles(), settings.discovery, port=fleet.port)
    finally:
        client.close()
    assert report.silent == 2
    profiles = {fleet.names[c.host]: c.profile for c in report.printers}
    assert profiles.pop("office-only") == "office"
    assert profiles and set(profiles.values()) == {"public"}
    office = next(c for c in report.printers if c.profile == "office")
    assert (office.vendor, office.serial) == ("Epson", "OFFICE0001")
    # A silent address stays silent for every profile: one datagram each.
    assert report.bytes_per_silent is not None and 200 < report.bytes_per_silent < 300


async def _serves(fleet: Fleet, wanted: dict[str, str]) -> None:
    """Wait until each address answers with the given sysObjectID (snmpsim rereads a file whose
    modification time changed on its next request)."""
    client = SnmpClient()
    try:
        deadline = time.monotonic() + 15
        for address, sys_object_id in wanted.items():
            target = SnmpTarget(address, fleet.port, SnmpAuth(), 0.5, 0)
            while True:
                try:
                    if (await client.get(target, [mib.SYS_OBJECT_ID])).get(
                        mib.SYS_OBJECT_ID
                    ) == sys_object_id:
                        break
                except SnmpError:
                    pass
                assert time.monotonic() < deadline, f"snmpsim: {address} does not serve {sys_object_id}"
                await asyncio.sleep(0.2)
    finally:
        client.close()


async def _swap(fleet: Fleet, one: SimPrinter, other: SimPrinter) -> None:
    """The two devices trade addresses."""
    assert isinstance(one, RecordedHost) and isinstance(other, RecordedHost)
    one.files, other.files = other.files, one.files
    fleet.sim.write(one)
    fleet.sim.write(other)
    oid = {"mover": "1.3.6.1.4.1.1347.41", "next-tenant": "1.3.6.1.4.1.8072.3.2.10"}
    owner = {one.address: fleet.names[other.address], other.address: fleet.names[one.address]}
    fleet.names.update(owner)
    await _serves(fleet, {address: oid[name] for address, name in owner.items()})


async def test_a_printer_that_moves_keeps_its_inventory_id(fleet: Fleet, tmp_path: Path) -> None:
    settings = _settings(fleet, tmp_path)
    inventory = Inventory(settings.inventory_path)
    mover, tenant = fleet.host("mover"), fleet.host("next-tenant")
    pair = [mover.address, tenant.address]

    console = _console()
    assert await discover_command(settings, inventory, pair, console, as_json=True) == 0
    [first] = json.loads(_output(console))["printers"]
    assert (first["host"], first["change"]) == (mover.address, "new")

    await _swap(fleet, mover, tenant)
    try:
        console = _console()
        assert await discover_command(settings, inventory, pair, console, as_json=True) == 0
        [second] = json.loads(_output(console))["printers"]
    finally:
        await _swap(fleet, mover, tenant)
    assert (second["host"], second["change"], second["id"]) == (tenant.address, "moved", first["id"])
    [saved] = inventory.all()
    assert (saved.id, saved.host, saved.serial) == (first["id"], tenant.address, "MOVE000001")


# --- Ctrl-C ---------------------------------------------------------------------------------


async def test_cancelling_discover_keeps_what_was_found(fleet: Fleet, tmp_path: Path) -> None:
    settings = _settings(fleet, tmp_path, rate=20)  # ~13 s for the /24: plenty of time to interrupt
    inventory = Inventory(settings.inventory_path)
    console = _console()
    task = asyncio.create_task(
        discover_command(settings, inventory, [f"{fleet.net}.0/24"], console, as_json=False)
    )
    deadline = time.monotonic() + 10
    while len(inventory.all()) < 3:
        assert time.monotonic() < deadline and not task.done()
        await asyncio.sleep(0.05)
    cancelled_at = time.monotonic()
    task.cancel()
    assert await task == 130
    assert time.monotonic() - cancelled_at < 1.0
    saved = inventory.all()
    assert len(saved) >= 3 and all(fleet.names[p.host] in fleet.printers for p in saved)
    text = _output(console)
    assert "interrupted" in text
    for printer in saved:
        assert printer.host in text and printer.serial in text


def test_ctrl_c_in_the_command_line_keeps_what_was_found(fleet: Fleet, tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.sqlite3"
    config = tmp_path / "agent.yaml"
    lines = [f"inventory_file: {inventory}", "snmp:", f"  port: {fleet.port}", "discovery:", "  rate: 20"]
    config.write_text("\n".join([*lines, "log_level: WARNING", ""]), encoding="utf-8")
    env = {**os.environ, "COLUMNS": "200", "XDG_DATA_HOME": tempfile.mkdtemp(prefix="ps-disc-")}
    command = [sys.executable, "-m", "mqtt_agent", "discover", f"{fleet.net}.0/24", "--config", str(config)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 30
        rows: list[tuple[str, str]] = []
        while len(rows) < 3:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no printer saved in time"
            time.sleep(0.1)
            rows = _saved(inventory)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    rows = _saved(inventory)
    assert len(rows) >= 3
    assert "interrupted" in out
    for host, serial in rows:
        assert host in out and serial in out


def _saved(path: Path) -> list[tuple[str, str]]:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            return [(str(h), str(s)) for h, s in db.execute("SELECT host, serial FROM printers")]
    except sqlite3.Error:  # not created yet
        return []


# --- limits and inputs (no simulator needed) -------------------------------------------------


async def test_a_bad_cidr_is_a_configuration_error_naming_it(tmp_path: Path) -> None:
    inventory = Inventory(tmp_path / "inventory.sqlite3")
    with pytest.raises(ConfigError, match=r"192\.168\.1\.300/24"):
        await discover_command(Settings(), inventory, ["192.168.1.300/24"], _console(), as_json=False)
    with pytest.raises(ConfigError, match="IPv6"):
        parse_networks(["fd00::/64"])


def test_a_bad_cidr_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "agent.yaml"
    config.write_text(f"inventory_file: {tmp_path / 'inventory.sqlite3'}\n", encoding="utf-8")
    assert cli_main(["discover", "10.1.2.0/33", "--config", str(config)]) == 2
    assert "10.1.2.0/33" in capsys.readouterr().err


async def test_too_many_addresses_are_refused() -> None:
    client = SnmpClient()
    try:
        with pytest.raises(ConfigError, match="max_addresses"):
            await sweep(client, ["10.0.0.0/16"], Settings().profiles(), DiscoverySettings(max_addresses=4096))
    finally:
        client.close()


def test_network_and_broadcast_addresses_are_skipped() -> None:
    addresses = sweep_addresses(parse_networks(["192.168.5.0/30", "192.168.5.0/31", "10.9.9.9"]))
    assert addresses == ["192.168.5.1", "192.168.5.2", "192.168.5.0", "10.9.9.9"]
    assert len(sweep_addresses(parse_networks(["192.168.7.0/24"]))) == 254


def test_host_networks_skip_loopback_and_ipv6_and_cap_wide_subnets(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import ifaddr

    adapters = [
        ifaddr.Adapter("lo", "lo", [ifaddr.IP("127.0.0.1", 8, "lo"), ifaddr.IP(("::1", 0, 0), 128, "lo")]),
        ifaddr.Adapter(
            "eth0", "eth0", [ifaddr.IP("192.168.1.20", 24, "eth0"), ifaddr.IP(("fd00::2", 0, 0), 64, "eth0")]
        ),
        ifaddr.Adapter(
            "eth1", "eth1", [ifaddr.IP("10.20.30.40", 16, "eth1"), ifaddr.IP("169.254.3.4", 16, "eth1")]
        ),
    ]
    monkeypatch.setattr(ifaddr, "get_adapters", lambda: adapters)
    with caplog.at_level(logging.WARNING, logger="mqtt_agent.discovery"):
        networks = host_networks()
    assert [str(n) for n in networks] == ["192.168.1.0/24", "10.20.28.0/22"]
    assert "10.20.0.0/16" in caplog.text


async def test_rate_limit_and_time_limit() -> None:
    limiter = RateLimiter(100)
    started = time.monotonic()
    for _ in range(21):
        await limiter.acquire()
    # 20 tokens beyond the first at 100/s take at least 0.2 s (the upper bound only guards a hang)
    assert 0.18 <= time.monotonic() - started < 2.0

    # Nothing listens on this /24: every probe is a timeout; the sweep stops at its time limit.
    client = SnmpClient()
    with contextlib.suppress(Exception):  # pysnmp builds its engine on first use: not the sweep's time
        await client.get_next(SnmpTarget("127.0.0.1", 9, timeout=0.1, retries=0), ["1.3.6"])
    settings = DiscoverySettings(rate=20, timeout=0.2, time_limit=2.0)
    try:
        report = await sweep(client, [f"{_network()}.0/24"], Settings().profiles(), settings, port=9)
    finally:
        client.close()
    assert report.timed_out and not report.cancelled
    assert 2.0 <= report.seconds < 4.0
    assert 0 < report.done <= 41 and report.silent == report.done
    assert report.requests <= 41  # 20 per second for two seconds, plus the first
    assert discovery.is_printer_product("1.3.6.1.4.1.11.2.3.9.1") and not discovery.is_printer_product(
        "1.3.6.1.4.1.11.2.3.7.11.160"
    )
