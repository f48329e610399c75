"""The command line as a user runs it: a real process, real SNMP, real exit codes."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import free_port, sim_network

from mqtt_agent.simulator import SimPrinter, SnmpSimulator, demo_fleet

DATA_HOME = tempfile.mkdtemp(prefix="ps-cli-data-")  # never the user's own inventory


def agent(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mqtt_agent", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "160", "XDG_DATA_HOME": DATA_HOME, **(env or {})},
        check=False,
    )


@pytest.fixture(scope="module")
def fleet() -> Iterator[list[SimPrinter]]:
    import asyncio

    printers = demo_fleet(5, sim_network())
    sim = SnmpSimulator(printers)
    sim.start()
    try:
        asyncio.run(sim.wait_ready())
        yield printers
    finally:
        sim.stop()


def test_poll_json_reports_every_supply(fleet: list[SimPrinter]) -> None:
    for printer in fleet:
        result = agent("poll", f"{printer.address}:{printer.port}", "--community", "public", "--json")
        assert result.returncode == 0, result.stderr
        snapshot = json.loads(result.stdout)
        assert snapshot["host"] == printer.address
        assert snapshot["serial"] == printer.serial
        assert len(snapshot["supplies"]) == len(printer.supplies)
        for sim_supply, supply in zip(printer.supplies, snapshot["supplies"], strict=True):
            if sim_supply.level >= 0 and sim_supply.max_capacity > 0 and not printer.hide_levels:
                remaining = sim_supply.level * 100 / sim_supply.max_capacity
                expected = 100 - remaining if sim_supply.receptacle else remaining
                assert supply["percent"] == int(expected + 0.5), supply
            if sim_supply.colorant:
                assert supply["color"] == printer.colorants[sim_supply.colorant - 1]
        assert snapshot["traffic"]["bytes"] > 0


def test_poll_brother_uses_private_levels(fleet: list[SimPrinter]) -> None:
    brother = next(p for p in fleet if p.hide_levels)
    result = agent("poll", f"{brother.address}:{brother.port}", "--json")
    assert result.returncode == 0, result.stderr
    supplies = json.loads(result.stdout)["supplies"]
    black = next(s for s in supplies if s["color"] == "black" and s["kind"] == "toner")
    assert black["level"] == -3  # the Printer-MIB only says "some remaining" ...
    expected = brother.supplies[0].level * 100 / brother.supplies[0].max_capacity
    assert black["percent"] == int(expected + 0.5)  # ... the private MIB has the number
    assert black["source"] == "brother_private"


def test_poll_human_output(fleet: list[SimPrinter]) -> None:
    result = agent("poll", f"{fleet[0].address}:{fleet[0].port}")
    assert result.returncode == 0, result.stderr
    assert "Black Cartridge HP W2030A" in result.stdout
    assert "bytes on the wire" in result.stderr


def test_poll_silent_host_fails_cleanly() -> None:
    port = free_port()
    result = agent("poll", f"127.0.0.1:{port}", "--timeout", "0.3", "--retries", "0")
    assert result.returncode == 1
    assert "no SNMP response" in result.stderr
    assert "Traceback" not in result.stderr


def test_secrets_never_printed(fleet: list[SimPrinter]) -> None:
    port = free_port()
    result = agent(
        "poll", f"127.0.0.1:{port}", "--community", "TopSecret42", "--timeout", "0.2", "--retries", "0"
    )
    assert "TopSecret42" not in result.stdout + result.stderr
    config_file = Path(os.environ.get("TMPDIR", "/tmp")) / f"ps-secret-{os.getpid()}.yaml"
    config_file.write_text(
        "snmp:\n  community: TopSecret42\nmqtt:\n  password: MqttSecret9\nprinters:\n  - host: 10.0.0.9\n"
    )
    try:
        listed = agent("list", "--config", str(config_file), "--json")
        assert listed.returncode == 0, listed.stderr
        assert json.loads(listed.stdout)[0]["address"] == "10.0.0.9:161"
        assert "TopSecret42" not in listed.stdout + listed.stderr
        assert "MqttSecret9" not in listed.stdout + listed.stderr
    finally:
        config_file.unlink()


@pytest.mark.parametrize(
    ("yaml_text", "env", "key"),
    [
        ("poll_interval: often\n", {}, "poll_interval"),
        ("mqtt:\n  port: 99999\n", {}, "mqtt.port"),
        ("printers:\n  - name: no host\n", {}, "printers.0.host"),
        ("snmp:\n  version: 4\n", {}, "snmp.version"),
        ("bogus_key: 1\n", {}, "bogus_key"),
        ("", {"PRINTER_SUPPLIES_MQTT__PORT": "nope"}, "mqtt.port"),
        ("- just\n- a list\n", {}, "top level"),
        ("mqtt: [unclosed\n", {}, "config file"),
    ],
)
def test_bad_config_exit_code_2_names_the_key(
    tmp_path: Path, yaml_text: str, env: dict[str, str], key: str
) -> None:
    config_file = tmp_path / "agent.yaml"
    config_file.write_text(yaml_text)
    result = agent("list", "--config", str(config_file), env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert key in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_config_file(tmp_path: Path) -> None:
    result = agent("run", "--config", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr


def test_demo_runs_and_publishes(broker: tuple[str, int], tmp_path: Path) -> None:
    """The README's main job, shortened: simulated printers appear on the broker."""
    import asyncio

    from test_mqtt import retained

    info_file = tmp_path / "demo.json"
    network = sim_network().rsplit(".", 1)[0] + ".250"
    result = agent(
        "demo",
        "--printers",
        "5",
        "--duration",
        "12",
        "--poll-interval",
        "5",
        "--network",
        network,
        "--mqtt-port",
        str(broker[1]),
        "--base-topic",
        "demo_test",
        "--info-file",
        str(info_file),
        timeout=90,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "5/5 printers polled" in result.stdout
    # What scripts/ha_demo.py reads to join the demo; it holds a key, so only the owner may read it.
    info = json.loads(info_file.read_text())
    assert (info["mqtt_port"], info["base_topic"]) == (broker[1], "demo_test")
    assert info_file.stat().st_mode & 0o077 == 0
    if importlib.util.find_spec("fastapi") is not None:  # the `cloud` extra (not in the 3.11 run)
        # the whole chain: the reference cloud answered the fleet sync and suggested what to order
        assert "daily fleet sync of 5 printers sent" in result.stdout and "HTTP 200" in result.stdout
        assert "Reorder " in result.stdout and "/store/" in result.stdout
    found = asyncio.run(retained(*broker, "#"))
    states = [t for t in found if t.startswith("demo_test/printer/") and t.endswith("/state")]
    assert len(states) == 5
    devices = [t for t in found if t.startswith("homeassistant/device/")]
    assert len([t for t in devices if "printer_supplies_agent_" not in t]) == 5
    assert len([t for t in devices if "printer_supplies_agent_" in t]) == 1  # the agent's own device
    # The demo's cycles publish the agent state (network cost per printer) like the service's.
    agent_state = json.loads(next(v for t, v in found.items() if t.endswith("/state") and "/agent/" in t))
    assert len(agent_state["network"]) == 5


@pytest.fixture(scope="module")
def v3_printer() -> Iterator[SimPrinter]:
    import asyncio

    printer = demo_fleet(1, sim_network().rsplit(".", 1)[0] + ".240")[0]
    sim = SnmpSimulator(
        [printer],
        v3={"user": "monitor", "auth_key": "auth-Secret-1", "priv_key": "priv-Secret-2"},
    )
    sim.start()
    try:
        asyncio.run(sim.wait_ready())  # v2c still answers: readiness is checked that way
        yield printer
    finally:
        sim.stop()


def test_poll_snmpv3_auth_priv(v3_printer: SimPrinter) -> None:
    common = ["--snmp-version", "3", "--v3-user", "monitor", "--context", "public", "--json"]
    good = agent(
        "poll",
        f"{v3_printer.address}:{v3_printer.port}",
        *common,
        "--v3-auth-protocol",
        "sha",
        "--v3-auth-key",
        "auth-Secret-1",
        "--v3-priv-protocol",
        "aes",
        "--v3-priv-key",
        "priv-Secret-2",
    )
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["serial"] == v3_printer.serial

    bad = agent(
        "poll",
        f"{v3_printer.address}:{v3_printer.port}",
        *common,
        "--v3-auth-key",
        "wrong-Secret-9",
        "--v3-priv-key",
        "priv-Secret-2",
        "--timeout",
        "0.5",
        "--retries",
        "0",
    )
    assert bad.returncode == 1
    assert "SNMPv3 authentication failed" in bad.stderr
    assert "wrong-Secret-9" not in bad.stderr and "priv-Secret-2" not in bad.stderr
