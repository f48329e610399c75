"""A fleet of simulated printers for the demo and the tests.

Each printer is a model written here (its MIB values are modelled on real devices of that family)
that renders itself as an snmpsim ``.snmprec`` file. ``print_pages`` wears the supplies down,
raises low-toner alerts and swaps empty cartridges, then the file is rewritten; snmpsim notices
the new modification time and serves the new values. One snmpsim process serves the whole fleet,
one SNMP engine per printer, each on its own loopback address answering community ``public``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import mib
from .errors import AgentError

# snmprec type tags
INT, OCTETS, HEX, OID, COUNTER32, GAUGE32, TICKS = "2", "4", "4x", "6", "65", "66", "67"

BROTHER_MAINTENANCE = "1.3.6.1.4.1.2435.2.3.9.4.2.1.5.5.8.0"
BROTHER_COUNTERS = "1.3.6.1.4.1.2435.2.3.9.4.2.1.5.5.10.0"
SHARD = 24  # simulated devices per snmpsim process


@dataclass
class SimSupply:
    description: str
    type_code: int
    max_capacity: int
    level: int
    unit: int = 19  # percent
    class_code: int = 3  # supplyThatIsConsumed
    colorant: int = 0
    per_page: float = 1.0  # level units used per page (receptacles: space used)
    brother_code: int | None = None  # private-MIB item carrying the real percentage
    remainder: float = 0.0

    @property
    def receptacle(self) -> bool:
        return self.class_code == 4

    def reported_level(self) -> int:
        return self.level


@dataclass
class SimTray:
    name: str
    max_capacity: int
    level: int
    type_code: int = 3
    media: str = "A4"


@dataclass
class SimPrinter:
    """One simulated printer."""

    name: str
    address: str
    sys_descr: str
    sys_object_id: str
    hr_descr: str
    serial: str
    mac: str
    supplies: list[SimSupply]
    trays: list[SimTray]
    colorants: list[str] = field(default_factory=list)
    color: bool = True
    pages: int = 10000
    mono_pages: int = 6000
    extra: dict[str, tuple[str, str]] = field(default_factory=dict)
    port: int = 1161
    hide_levels: bool = False  # Brother: the standard MIB only says "some remaining" (-3)
    config_changes: int = 1
    alert_events: int = 0
    alerts: list[tuple[int, int, int, str]] = field(default_factory=list)  # (code, group, index, text)
    offline: bool = False
    printer_mib: bool = True  # False: a host with no Printer-MIB at all (a server, a router)

    # --- behaviour -----------------------------------------------------------------------------

    def print_pages(self, pages: int, rng: random.Random) -> None:
        """Print some pages: supplies wear down, empty ones are replaced after a while."""
        for _ in range(pages):
            color_page = self.color and rng.random() < 0.4
            self.pages += 1
            if not color_page:
                self.mono_pages += 1
            for supply in self.supplies:
                if supply.level < 0 or (self._is_color(supply) and not color_page):
                    continue
                supply.remainder += supply.per_page
                used = int(supply.remainder)
                supply.remainder -= used
                supply.level = max(0, supply.level - used)
            for tray in self.trays:
                if tray.level > 0 and tray.max_capacity > 1:
                    tray.level -= 1
                    break
        for tray in self.trays:
            if tray.level == 0 and tray.max_capacity > 1 and rng.random() < 0.2:
                tray.level = tray.max_capacity  # someone refilled the paper
        for supply in self.supplies:
            if supply.level == 0 and rng.random() < 0.25:
                supply.level = supply.max_capacity  # a new cartridge / an emptied waste box
        self._update_alerts()

    def _is_color(self, supply: SimSupply) -> bool:
        return 0 < supply.colorant <= len(self.colorants) and self.colorants[supply.colorant - 1] != "black"

    def _update_alerts(self) -> None:
        wanted = []
        for index, supply in enumerate(self.supplies, start=1):
            if supply.level < 0 or supply.max_capacity <= 0:
                continue
            percent = supply.level * 100 // max(1, supply.max_capacity)
            ink = supply.type_code in (5, 6, 8)
            if supply.receptacle and percent <= 10:
                wanted.append((1108 if ink else 1107, 11, index, f"{supply.description} almost full"))
            elif not supply.receptacle and supply.level == 0:
                wanted.append((1102 if ink else 1101, 11, index, f"{supply.description} empty"))
            elif not supply.receptacle and percent <= 10:
                wanted.append((1105 if ink else 1104, 11, index, f"{supply.description} low"))
        if wanted != self.alerts:
            self.alerts = wanted
            self.alert_events += 1

    def low_toner(self) -> bool:
        return any(
            not s.receptacle and 0 <= s.level * 100 // max(1, s.max_capacity) <= 10 for s in self.supplies
        )

    # --- rendering -----------------------------------------------------------------------------

    def records(self) -> dict[str, tuple[str, str]]:
        r: dict[str, tuple[str, str]] = {
            mib.SYS_DESCR: (OCTETS, self.sys_descr),
            mib.SYS_OBJECT_ID: (OID, self.sys_object_id),
            mib.SYS_UPTIME: (TICKS, str(int(time.monotonic() * 100) % 2**31)),
            "1.3.6.1.2.1.1.4.0": (OCTETS, "office@example.org"),
            mib.SYS_NAME: (OCTETS, self.name),
            mib.SYS_LOCATION: (OCTETS, "Demo office"),
            "1.3.6.1.2.1.2.2.1.1.1": (INT, "1"),
            f"{mib.IF_PHYS_ADDRESS}.1": (HEX, self.mac.replace(":", "")),
            f"{mib.HR_DEVICE_TYPE}.1": (OID, mib.HR_DEVICE_PRINTER),
            f"{mib.HR_DEVICE_DESCR}.1": (OCTETS, self.hr_descr),
            f"{mib.HR_DEVICE_STATUS}.1": (INT, "3" if self.low_toner() else "2"),
            f"{mib.HR_PRINTER_STATUS}.1": (INT, "3"),
            f"{mib.HR_PRINTER_ERROR_STATE}.1": (HEX, "2000" if self.low_toner() else "0000"),
            f"{mib.PRT_GENERAL_CONFIG_CHANGES}.1": (COUNTER32, str(self.config_changes)),
            f"{mib.PRT_GENERAL_PRINTER_NAME}.1": (OCTETS, self.hr_descr),
            f"{mib.PRT_GENERAL_SERIAL_NUMBER}.1": (OCTETS, self.serial),
            f"{mib.PRT_ALERT_CRITICAL_EVENTS}.1": (COUNTER32, "0"),
            f"{mib.PRT_ALERT_ALL_EVENTS}.1": (COUNTER32, str(self.alert_events)),
            f"{mib.PRT_LOCALIZATION_CHARSET}.1.1": (INT, "106"),
            f"{mib.PRT_MARKER_COUNTER_UNIT}.1.1": (INT, "7"),
            f"{mib.PRT_MARKER_LIFE_COUNT}.1.1": (COUNTER32, str(self.pages)),
        }
        for i, tray in enumerate(self.trays, start=1):
            key = f"1.{i}"
            r[f"{mib.PRT_INPUT_TYPE}.{key}"] = (INT, str(tray.type_code))
            r[f"{mib.PRT_INPUT_CAPACITY_UNIT}.{key}"] = (INT, "8")
            r[f"{mib.PRT_INPUT_MAX_CAPACITY}.{key}"] = (INT, str(tray.max_capacity))
            r[f"{mib.PRT_INPUT_CURRENT_LEVEL}.{key}"] = (INT, str(tray.level))
            r[f"{mib.PRT_INPUT_STATUS}.{key}"] = (INT, "0")
            r[f"{mib.PRT_INPUT_MEDIA_NAME}.{key}"] = (OCTETS, tray.media)
            r[f"{mib.PRT_INPUT_NAME}.{key}"] = (OCTETS, tray.name)
        for i, colorant in enumerate(self.colorants, start=1):
            r[f"{mib.PRT_COLORANT_VALUE}.1.{i}"] = (OCTETS, colorant)
        for i, s in enumerate(self.supplies, start=1):
            key = f"1.{i}"
            r[f"{mib.PRT_SUPPLY_MARKER_INDEX}.{key}"] = (INT, "1")
            r[f"{mib.PRT_SUPPLY_COLORANT_INDEX}.{key}"] = (INT, str(s.colorant))
            r[f"{mib.PRT_SUPPLY_CLASS}.{key}"] = (INT, str(s.class_code))
            r[f"{mib.PRT_SUPPLY_TYPE}.{key}"] = (INT, str(s.type_code))
            r[f"{mib.PRT_SUPPLY_DESCRIPTION}.{key}"] = (OCTETS, s.description)
            r[f"{mib.PRT_SUPPLY_UNIT}.{key}"] = (INT, str(s.unit))
            max_capacity = -2 if self.hide_levels and s.brother_code else s.max_capacity
            level = -3 if self.hide_levels and s.brother_code else s.level
            r[f"{mib.PRT_SUPPLY_MAX_CAPACITY}.{key}"] = (INT, str(max_capacity))
            r[f"{mib.PRT_SUPPLY_LEVEL}.{key}"] = (INT, str(level))
        for i, (code, group, index, text) in enumerate(self.alerts, start=1):
            key = f"1.{i}"
            r[f"{mib.PRT_ALERT_SEVERITY}.{key}"] = (INT, "4")
            r[f"{mib.PRT_ALERT_TRAINING_LEVEL}.{key}"] = (INT, "3")
            r[f"{mib.PRT_ALERT_GROUP}.{key}"] = (INT, str(group))
            r[f"{mib.PRT_ALERT_GROUP_INDEX}.{key}"] = (INT, str(index))
            r[f"{mib.PRT_ALERT_LOCATION}.{key}"] = (INT, "0")
            r[f"{mib.PRT_ALERT_CODE}.{key}"] = (INT, str(code))
            r[f"{mib.PRT_ALERT_DESCRIPTION}.{key}"] = (OCTETS, text)
            r[f"{mib.PRT_ALERT_TIME}.{key}"] = (TICKS, "100")
        if self.hide_levels:
            records = b"".join(
                bytes([s.brother_code, 1, 4]) + (s.level * 10000 // max(1, s.max_capacity)).to_bytes(4, "big")
                for s in self.supplies
                if s.brother_code is not None
            )
            r[BROTHER_MAINTENANCE] = (HEX, (records + b"\xff").hex())
            counters = (
                bytes([0, 1, 4])
                + self.pages.to_bytes(4, "big")
                + bytes([1, 1, 4])
                + self.mono_pages.to_bytes(4, "big")
                + bytes([2, 1, 4])
                + (self.pages - self.mono_pages).to_bytes(4, "big")
            )
            r[BROTHER_COUNTERS] = (HEX, (counters + b"\xff").hex())
        for oid, (tag, template) in self.extra.items():
            r[oid] = (
                tag,
                template.format(pages=self.pages, mono=self.mono_pages, color=self.pages - self.mono_pages),
            )
        return r

    def snmprec(self) -> str:
        records = self.records()
        if not self.printer_mib:
            records = {o: v for o, v in records.items() if not o.startswith(mib.PRINTER_MIB + ".")}
        lines = [f"{oid}|{tag}|{value}" for oid, (tag, value) in records.items()]
        lines.sort(key=lambda line: tuple(int(p) for p in line.split("|", 1)[0].split(".")))
        return "\n".join(lines) + "\n"


def _hp(address: str) -> SimPrinter:
    hp = "1.3.6.1.4.1.11.2.3.9.4.2.1"
    return SimPrinter(
        name="hp-m454dw",
        address=address,
        sys_descr="HP ETHERNET MULTI-ENVIRONMENT,ROM none,JETDIRECT,JD153,EEPROM JSI24380063",
        sys_object_id="1.3.6.1.4.1.11.2.3.9.1",
        hr_descr="HP Color LaserJet Pro M454dw",
        serial="VNB3R12345",
        mac="a0:8c:fd:12:34:56",
        colorants=["black", "cyan", "magenta", "yellow"],
        supplies=[
            SimSupply("Black Cartridge HP W2030A", 21, 100, 64, colorant=1, per_page=0.04),
            SimSupply("Cyan Cartridge HP W2031A", 21, 100, 38, colorant=2, per_page=0.05),
            SimSupply("Magenta Cartridge HP W2033A", 21, 100, 17, colorant=3, per_page=0.05),
            SimSupply("Yellow Cartridge HP W2032A", 21, 100, 12, colorant=4, per_page=0.05),
        ],
        trays=[SimTray("Tray 1", 50, 0, type_code=5), SimTray("Tray 2", 250, 180)],
        extra={
            f"{hp}.1.3.2.0": (OCTETS, "HP Color LaserJet Pro M454dw"),
            f"{hp}.1.3.3.0": (OCTETS, "VNB3R12345"),
            f"{hp}.1.3.6.0": (OCTETS, "20230217"),
            f"{hp}.4.1.2.5.0": (COUNTER32, "{pages}"),
            f"{hp}.4.1.2.6.0": (COUNTER32, "{mono}"),
            f"{hp}.4.1.2.7.0": (COUNTER32, "{color}"),
        },
    )


def _brother(address: str) -> SimPrinter:
    return SimPrinter(
        name="brother-hl-l8260cdw",
        address=address,
        sys_descr="Brother NC-8800w, Firmware Ver.1.40  (21.03.09),MID 8CE-K37,FID 2",
        sys_object_id="1.3.6.1.4.1.2435.2.3.9.1",
        hr_descr="Brother HL-L8260CDW series",
        serial="E78901K0N123456",
        mac="3c:2a:f4:aa:bb:cc",
        hide_levels=True,
        colorants=["black", "cyan", "magenta", "yellow"],
        supplies=[
            SimSupply("Black Toner Cartridge", 3, 3000, 2100, 13, colorant=1, per_page=1, brother_code=0x6F),
            SimSupply("Cyan Toner Cartridge", 3, 1800, 400, 13, colorant=2, per_page=1, brother_code=0x70),
            SimSupply("Magenta Toner Cartridge", 3, 1800, 950, 13, colorant=3, per_page=1, brother_code=0x71),
            SimSupply("Yellow Toner Cartridge", 3, 1800, 1300, 13, colorant=4, per_page=1, brother_code=0x72),
            SimSupply("Drum Unit", 9, 30000, 24500, 7, per_page=1),
            SimSupply("Belt Unit", 20, 50000, 46000, 7, per_page=1),
            SimSupply("Waste Toner Box", 4, 50000, 41000, 7, class_code=4, per_page=1),
        ],
        trays=[SimTray("MP Tray", 50, 0, type_code=5), SimTray("Tray 1", 250, 210)],
    )


def _kyocera(address: str) -> SimPrinter:
    ky = "1.3.6.1.4.1.1347"
    return SimPrinter(
        name="kyocera-p3155dn",
        address=address,
        sys_descr="KYOCERA Document Solutions Printing System",
        sys_object_id="1.3.6.1.4.1.1347.41",
        hr_descr="ECOSYS P3155dn",
        serial="R4P0Z12345",
        mac="00:17:c8:12:ab:cd",
        color=False,
        colorants=["black"],
        supplies=[
            SimSupply("TK-3160", 21, 12500, 1500, 7, colorant=1, per_page=2),
            SimSupply("Waste Toner Box", 4, -2, -3, 19, class_code=4, per_page=0),
        ],
        trays=[SimTray("MP tray", 100, 0, type_code=5), SimTray("Cassette 1", 500, 420)],
        extra={
            f"{ky}.43.5.1.1.1.1": (OCTETS, "ECOSYS P3155dn"),
            f"{ky}.43.5.1.1.28.1": (OCTETS, "R4P0Z12345"),
            f"{ky}.43.5.4.1.5.1.1": (OCTETS, "2V9_S000.002.208"),
            f"{ky}.43.10.1.1.12.1.1": (COUNTER32, "{pages}"),
            f"{ky}.42.3.1.2.1.1.1.1": (COUNTER32, "{pages}"),
        },
    )


def _epson(address: str) -> SimPrinter:
    return SimPrinter(
        name="epson-wf-c5790",
        address=address,
        sys_descr="EPSON Built-in 11b/g/n Print Server",
        sys_object_id="1.3.6.1.4.1.1248.1.1.2.1.3.5.69.69.80.83.50",
        hr_descr="EPSON WF-C5790 Series",
        serial="X3B8012345",
        mac="64:eb:8c:01:02:03",
        colorants=["black", "cyan", "magenta", "yellow"],
        supplies=[
            SimSupply("Black Ink Supply Unit T9451", 5, 100, 55, 1, colorant=1, per_page=0.08),
            SimSupply("Cyan Ink Supply Unit T9452", 5, 100, 8, 1, colorant=2, per_page=0.1),
            SimSupply("Magenta Ink Supply Unit T9453", 5, 100, 70, 1, colorant=3, per_page=0.1),
            SimSupply("Yellow Ink Supply Unit T9454", 5, 100, 44, 1, colorant=4, per_page=0.1),
            SimSupply("Maintenance Box", 8, 100, 67, 1, class_code=4, per_page=0.02),
        ],
        trays=[SimTray("Rear Paper Feed Slot", 1, 0, type_code=5), SimTray("Paper Cassette 1", 250, 120)],
    )


def _xerox(address: str) -> SimPrinter:
    return SimPrinter(
        name="xerox-c405",
        address=address,
        sys_descr="Xerox VersaLink C405 Multifunction Printer; SS 69.21.21, NC 69.21.21.IMG2",
        sys_object_id="1.3.6.1.4.1.253.8.62.1.30.1.1.1",
        hr_descr="Xerox VersaLink C405 Multifunction Printer",
        serial="3390123456",
        mac="9c:93:4e:55:66:77",
        colorants=["cyan", "magenta", "yellow", "black"],
        supplies=[
            SimSupply("Cyan Toner Cartridge, PN 106R03530;SN3390123456C", 3, 8000, 5200, 7, colorant=1),
            SimSupply("Magenta Toner Cartridge, PN 106R03531;SN3390123456M", 3, 8000, 2900, 7, colorant=2),
            SimSupply("Yellow Toner Cartridge, PN 106R03532;SN3390123456Y", 3, 8000, 7100, 7, colorant=3),
            SimSupply("Black Toner Cartridge, PN 106R03528;SN3390123456K", 3, 10500, 880, 7, colorant=4),
            SimSupply("Drum Cartridge, PN 101R00555", 9, 40000, 31000, 7, per_page=1),
            SimSupply("Waste Cartridge, PN 108R01416", 4, -2, -3, 19, class_code=4, per_page=0),
        ],
        trays=[SimTray("Bypass Tray", 150, 0, type_code=5), SimTray("Tray 1", 550, 310)],
        extra={
            "1.3.6.1.4.1.253.8.51.1.2.1.20.1": (OCTETS, "MFG:Xerox;MDL:VersaLink C405;CMD:PCL 6;CLS:PRINTER;")
        },
    )


FLEET_MODELS = (_hp, _brother, _kyocera, _epson, _xerox)


def demo_fleet(count: int = len(FLEET_MODELS), network: str = "127.77.0") -> list[SimPrinter]:
    """``count`` printers cycling through the models, on consecutive loopback addresses."""
    printers = []
    for i in range(count):
        printer = FLEET_MODELS[i % len(FLEET_MODELS)](f"{network}.{i + 1}")
        if i >= len(FLEET_MODELS):
            printer.name = f"{printer.name}-{i + 1}"
            printer.serial = f"{printer.serial}{i + 1:04d}"
            printer.mac = printer.mac[:-5] + f"{(i >> 8) & 255:02x}:{i & 255:02x}"
        printers.append(printer)
    return printers


class SnmpSimulator:
    """Runs snmpsim for a fleet; rewrite a printer's file with :meth:`write` after changing it."""

    def __init__(
        self, printers: list[SimPrinter], workdir: Path | None = None, v3: dict[str, str] | None = None
    ) -> None:
        """``v3`` adds an SNMPv3 user to every engine: keys ``user``, ``auth_key``, ``auth_proto``
        (SHA, MD5, SHA256 …), ``priv_key``, ``priv_proto`` (AES, DES …). Over v3 the data file is
        chosen by context name: ask for context ``public``."""
        self.printers = printers
        self.v3 = v3
        self._tmp = None if workdir else tempfile.TemporaryDirectory(prefix="printer-sim-")
        self.workdir = workdir or Path(self._tmp.name)  # type: ignore[union-attr]
        self.processes: list[subprocess.Popen[bytes]] = []
        self._mtime = int(time.time())

    def data_dir(self, printer: SimPrinter) -> Path:
        return self.workdir / "data" / printer.name

    def write(self, printer: SimPrinter) -> None:
        """Atomically replace the printer's recording; snmpsim re-indexes on the new mtime."""
        folder = self.data_dir(printer)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / "public.snmprec"
        if printer.offline:
            target.unlink(missing_ok=True)
            return
        tmp = folder / ".public.snmprec.tmp"
        tmp.write_text(printer.snmprec(), encoding="utf-8")
        # snmpsim compares whole-second mtimes: make every rewrite strictly newer.
        self._mtime = max(self._mtime + 1, int(time.time()))
        os.utime(tmp, (self._mtime, self._mtime))
        os.replace(tmp, target)

    def command(self, printers: list[SimPrinter] | None = None) -> list[str]:
        exe = shutil.which(
            "snmpsim-command-responder", path=str(Path(sys.executable).parent)
        ) or shutil.which("snmpsim-command-responder")
        if exe is None:
            raise AgentError("snmpsim is not installed: pip install 'printer-supplies[sim]'")
        cache = self.workdir / "cache"
        cache.mkdir(parents=True, exist_ok=True)
        args = [exe, f"--cache-dir={cache}", "--log-level=error", "--logging-method=null"]
        for printer in self.printers if printers is None else printers:
            args += ["--v3-engine-id=auto"]
            if self.v3:
                args += [
                    f"--v3-user={self.v3['user']}",
                    f"--v3-auth-key={self.v3['auth_key']}",
                    f"--v3-auth-proto={self.v3.get('auth_proto', 'SHA')}",
                    f"--v3-priv-key={self.v3['priv_key']}",
                    f"--v3-priv-proto={self.v3.get('priv_proto', 'AES')}",
                ]
            args += [
                f"--data-dir={self.data_dir(printer)}",
                f"--agent-udpv4-endpoint={printer.address}:{printer.port}",
            ]
        return args

    def start(self) -> None:
        """One snmpsim process per ``SHARD`` printers: one process answers one request at a time
        and keeps only about 30 recordings open, so a big fleet in one process gets slow."""
        for printer in self.printers:
            self.write(printer)
        env = {**os.environ, "SNMPSIM_ALLOW_ROOT": "true"}
        for start in range(0, len(self.printers), SHARD):
            self.processes.append(
                subprocess.Popen(  # noqa: S603 - our own fixed command line
                    self.command(self.printers[start : start + SHARD]),
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
            )

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        """The first snmpsim process that has exited (to report why), else the first one."""
        for process in self.processes:
            if process.poll() is not None:
                return process
        return self.processes[0] if self.processes else None

    async def wait_ready(self, timeout: float = 30.0) -> None:
        """Wait until every simulated printer answers (snmpsim indexes files at start-up)."""
        from .snmp import SnmpClient, SnmpTarget

        client = SnmpClient()
        deadline = time.monotonic() + timeout
        try:
            for printer in self.printers:
                target = SnmpTarget(printer.address, printer.port, timeout=0.5, retries=0)
                while True:
                    if self.process is not None and self.process.poll() is not None:
                        err = (
                            self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                        )
                        raise AgentError(f"snmpsim exited: {err[-2000:]}")
                    with contextlib.suppress(Exception):
                        if await client.get(target, [mib.SYS_DESCR]):
                            break
                    if time.monotonic() > deadline:
                        raise AgentError(f"simulated printer {printer.address} did not come up")
                    await asyncio.sleep(0.2)
        finally:
            client.close()

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes = []
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


@dataclass
class RecordedHost(SimPrinter):
    """A device replayed from recordings (a real printer from the corpus, a server, a router).

    ``files`` maps the community each recording answers to its ``.snmprec`` text: ``public`` for
    the usual one, ``public@Jetdirect`` for an HP Jetdirect context, or only ``office`` for a
    device that ignores ``public``. Serve it with :class:`FleetSimulator`.
    """

    files: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, name: str, address: str, files: dict[str, str], port: int = 1161) -> RecordedHost:
        return cls(
            name=name,
            address=address,
            sys_descr="",
            sys_object_id="",
            hr_descr="",
            serial="",
            mac="",
            supplies=[],
            trays=[],
            port=port,
            files=dict(files),
        )

    def snmprec(self) -> str:
        return self.files.get("public", "")


class FleetSimulator(SnmpSimulator):
    """:class:`SnmpSimulator` that also serves :class:`RecordedHost` devices, each file as it is."""

    def write(self, printer: SimPrinter) -> None:
        if not isinstance(printer, RecordedHost):
            super().write(printer)
            return
        folder = self.data_dir(printer)
        folder.mkdir(parents=True, exist_ok=True)
        for community, text in printer.files.items():
            target = folder / f"{community}.snmprec"
            if printer.offline:
                target.unlink(missing_ok=True)
                continue
            tmp = folder / f".{community}.snmprec.tmp"
            tmp.write_text(text, encoding="utf-8", errors="surrogateescape")
            self._mtime = max(self._mtime + 1, int(time.time()))
            os.utime(tmp, (self._mtime, self._mtime))
            os.replace(tmp, target)

    async def wait_ready(self, timeout: float = 30.0) -> None:
        """Wait until every device answers a GETNEXT in its first community (any answer will do:
        a recording need not hold sysDescr). One device at a time: snmpsim answers one request at
        a time, and opening a recording the first time can take it a few hundred milliseconds."""
        from .snmp import SnmpAuth, SnmpClient, SnmpTarget

        client = SnmpClient()
        deadline = time.monotonic() + timeout

        async def one(printer: SimPrinter) -> None:
            community = "public"
            if isinstance(printer, RecordedHost):
                community = next(iter(printer.files), "public")
            target = SnmpTarget(printer.address, printer.port, SnmpAuth(community=community), 2.0, 0)
            while True:
                if self.process is not None and self.process.poll() is not None:
                    stderr = self.process.stderr
                    err = stderr.read().decode(errors="replace") if stderr else ""
                    raise AgentError(f"snmpsim exited: {err[-2000:]}")
                with contextlib.suppress(Exception):
                    if await client.get_next(target, ["1.3.6"]):
                        return
                if time.monotonic() > deadline:
                    raise AgentError(f"simulated device {printer.address} did not come up")
                await asyncio.sleep(0.2)

        try:
            for printer in self.printers:
                if not printer.offline:
                    await one(printer)
        finally:
            client.close()
