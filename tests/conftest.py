"""Shared fixtures: a real Mosquitto broker and a real SNMP agent (snmpsim) per test."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from mqtt_agent.simulator import SimPrinter, SnmpSimulator, demo_fleet

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


HA_PLUGIN = "pytest_homeassistant_custom_component.plugins"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """tests/ha runs only under Home Assistant's harness, and everything else only without it."""
    with_ha = config.pluginmanager.hasplugin(HA_PLUGIN)
    inside = (REPO / "tests" / "ha") in (collection_path, *collection_path.parents)
    if collection_path.is_dir() and collection_path == REPO / "tests":
        return None
    return (inside != with_ha) or None


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _mosquitto() -> str:
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(exe).exists():
        pytest.fail("mosquitto is not installed (scripts/test installs it)")
    return exe


@pytest.fixture
def broker() -> Iterator[tuple[str, int]]:
    """A fresh Mosquitto on a free port; yields (host, port)."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="mosq-") as tmp:
        conf = Path(tmp) / "mosquitto.conf"
        conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        proc = subprocess.Popen([_mosquitto(), "-c", str(conf)], stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    proc.kill()
                    pytest.fail("mosquitto did not start")
                time.sleep(0.05)
        try:
            yield ("127.0.0.1", port)
        finally:
            proc.terminate()
            proc.wait(timeout=5)


def sim_network() -> str:
    """A loopback /24 per xdist worker, so parallel workers never share simulated printers."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    number = int(worker) if worker.isdigit() else 0
    return f"127.{90 + number}.{os.getpid() % 200}"


@pytest.fixture
async def fleet() -> AsyncIterator[tuple[list[SimPrinter], SnmpSimulator]]:
    """Three simulated printers (HP, Brother, Kyocera) on this worker's loopback /24."""
    printers = demo_fleet(3, sim_network())
    sim = SnmpSimulator(printers)
    sim.start()
    try:
        await sim.wait_ready()
        yield printers, sim
    finally:
        sim.stop()
