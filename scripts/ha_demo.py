"""``scripts/demo --with-home-assistant``: the demo, plus a real Home Assistant that follows it.

Starts ``printer-supplies-agent demo`` (simulated printers, a broker, the agent, the reference
supplies cloud), waits for the file in which it writes the broker address and the cloud's API key,
writes a fresh Home Assistant configuration (``.ha-demo/``: the MQTT integration against the demo's
broker, this repository's integration against the demo's cloud, a user ``demo``/``demo``,
onboarding done) and starts Home Assistant from ``.venv-ha``. Ctrl-C (or SIGTERM, or
``--duration``) stops Home Assistant and the demo.

``python scripts/ha_demo.py requirements`` prints what the Home Assistant venv must hold so that
Home Assistant never installs anything at start (``scripts/bootstrap.sh`` installs it).

Standard library only: runs with any Python >= 3.11.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HA_VERSION = "2025.4.4"
USER, PASSWORD = "demo", "demo"
REORDER_POINT = 20

# Built-in integrations the demo's Home Assistant sets up (configuration.yaml, the defaults every
# Home Assistant loads, MQTT and what the printers' entities need): their manifests' requirements
# go into .venv-ha, so Home Assistant has nothing to pip-install at first start.
HA_DOMAINS = (
    "frontend",
    "config",
    "automation",
    "script",
    "http",
    "logger",
    "isal",
    "mqtt",
    "analytics",
    "application_credentials",
    "backup",
    "hardware",
    "network",
    "system_health",
    "person",
    "scene",
    "tag",
    "zone",
    "camera",
    "image_upload",
    "onboarding",
    "sensor",
    "binary_sensor",
    "number",
    "button",
    "event",
    "notify",
)
# The login's multi-factor modules are imported whatever the configuration says.
AUTH_REQUIREMENTS_MODULES = ("homeassistant.auth.mfa_modules.totp", "homeassistant.auth.mfa_modules.notify")

CONFIGURATION_YAML = """\
# Written by scripts/ha_demo.py for `scripts/demo --with-home-assistant`; rewritten at every start.
# Minimal on purpose (no default_config): the UI, automations, scripts and the demo's integrations.
homeassistant:
  name: Printer Supplies demo
  unit_system: metric
  time_zone: {time_zone}
  currency: EUR
  country: DE
  language: en
frontend:
config:
automation:
script:
http:
  server_host: 127.0.0.1
  server_port: {port}
logger:
  default: warning
  logs:
    custom_components.printer_supplies: info
"""


def requirements() -> list[str]:
    """The pinned requirements of HA_DOMAINS and of the login modules, from the installed Home Assistant."""
    import importlib
    import importlib.util

    spec = importlib.util.find_spec("homeassistant")
    if spec is None or spec.origin is None:
        raise SystemExit("homeassistant is not installed in this Python")
    components = Path(spec.origin).parent / "components"
    found: dict[str, str] = {}
    for domain in HA_DOMAINS:
        manifest = json.loads((components / domain / "manifest.json").read_text(encoding="utf-8"))
        for req in manifest.get("requirements", []):
            found.setdefault(req.split("==")[0].lower(), req)
    for name in AUTH_REQUIREMENTS_MODULES:
        for req in getattr(importlib.import_module(name), "REQUIREMENTS", []):
            found.setdefault(req.split("==")[0].lower(), req)
    return sorted(found.values(), key=str.lower)


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def local_time_zone() -> str:
    """This machine's IANA time zone if it can tell, else UTC."""
    with contextlib.suppress(OSError):
        link = os.readlink("/etc/localtime")
        if "zoneinfo/" in link:
            return link.split("zoneinfo/", 1)[1]
    with contextlib.suppress(OSError):
        name = Path("/etc/timezone").read_text(encoding="utf-8").strip()
        if name:
            return name
    return "UTC"


def store(key: str, data: Any, version: int = 1, minor_version: int = 1) -> str:
    """A file of Home Assistant's .storage, as its Store class writes it."""
    body = {"version": version, "minor_version": minor_version, "key": key, "data": data}
    return json.dumps(body, indent=2) + "\n"


def config_entry(
    domain: str,
    title: str,
    data: dict[str, Any],
    options: dict[str, Any],
    unique_id: str | None,
    minor_version: int = 1,
) -> dict[str, Any]:
    """One entry of .storage/core.config_entries, as Home Assistant 2025.4's ConfigEntry.as_dict()."""
    now = dt.datetime.now(dt.UTC).isoformat()
    return {
        "created_at": now,
        "data": data,
        "discovery_keys": {},
        "disabled_by": None,
        "domain": domain,
        "entry_id": uuid.uuid4().hex[:26].upper(),
        "minor_version": minor_version,
        "modified_at": now,
        "options": options,
        "pref_disable_new_entities": False,
        "pref_disable_polling": False,
        "source": "user",
        "subentries": [],
        "title": title,
        "unique_id": unique_id,
        "version": 1,
    }


def write_config(config_dir: Path, port: int) -> None:
    """The parts of the configuration that do not depend on the running demo."""
    if config_dir.exists():
        shutil.rmtree(config_dir)
    (config_dir / ".storage").mkdir(parents=True)
    (config_dir / "custom_components").mkdir()
    (config_dir / "custom_components" / "printer_supplies").symlink_to(
        ROOT / "custom_components" / "printer_supplies", target_is_directory=True
    )
    (config_dir / "configuration.yaml").write_text(
        CONFIGURATION_YAML.format(port=port, time_zone=local_time_zone()), encoding="utf-8"
    )
    for name in ("automations.yaml", "scripts.yaml"):
        (config_dir / name).write_text("[]\n" if name == "automations.yaml" else "{}\n", encoding="utf-8")
    (config_dir / ".storage" / "onboarding").write_text(
        store("onboarding", {"done": ["user", "core_config", "analytics", "integration"]}, version=4),
        encoding="utf-8",
    )


def write_entries(config_dir: Path, info: dict[str, Any]) -> None:
    """The MQTT integration on the demo's broker and this integration on the demo's cloud."""
    mqtt = config_entry(
        "mqtt",
        str(info["mqtt_host"]),
        {"broker": info["mqtt_host"], "port": int(info["mqtt_port"])},
        {"discovery": True, "discovery_prefix": info.get("discovery_prefix") or "homeassistant"},
        None,
        minor_version=2,
    )
    data: dict[str, Any] = {"base_topic": info["base_topic"]}
    title = "Printer Supplies"
    if info.get("cloud_url"):
        data |= {"cloud_url": info["cloud_url"], "api_key": info["api_key"]}
        title = "Printer Supplies (Demo office)"
    supplies = config_entry(
        "printer_supplies",
        title,
        data,
        {"reorder_point": REORDER_POINT, "notify_targets": [], "approval": True, "auto_order": False},
        info["base_topic"],
    )
    (config_dir / ".storage" / "core.config_entries").write_text(
        store("core.config_entries", {"entries": [mqtt, supplies]}, minor_version=5), encoding="utf-8"
    )


def add_user(hass: Path, config_dir: Path) -> subprocess.Popen[bytes]:
    """``hass --script auth add demo demo``: the user is created (as an admin) at its first login."""
    return subprocess.Popen(
        [str(hass), "--script", "auth", "-c", str(config_dir), "add", USER, PASSWORD],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


class Stop(Exception):
    """A signal asked us to stop."""


def stop_process(proc: subprocess.Popen[bytes] | None, sig: int, timeout: float) -> None:
    """Ask a child (and its process group) to stop, then insist."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def banner(url: str, info: dict[str, Any], config_dir: Path, duration: float | None) -> str:
    lines = [
        "",
        "=" * 78,
        f"  Home Assistant {HA_VERSION} is up:   {url}",
        f"  Log in as:   user '{USER}', password '{PASSWORD}'",
        "  The printers: Settings -> Devices & services -> MQTT -> devices",
        "  Each printer's device page: supply levels, reorder points (Configuration),",
        "  'Order ...' buttons (Controls), the Supply event.",
        f"  MQTT broker: {info['mqtt_host']}:{info['mqtt_port']}  (topics under '{info['base_topic']}/')",
    ]
    if info.get("cloud_url"):
        password = info["dealer_password"]
        lines.append(f"  Supplies cloud: {info['cloud_url']}/dealer  user 'dealer', password '{password}'")
    lines += [
        f"  Logs: {config_dir}/home-assistant.log, {config_dir}/agent-demo.log",
        "  Stop: Ctrl-C (stops Home Assistant and the demo)"
        + (f"; stops by itself after {duration:.0f} s" if duration else ""),
        "=" * 78,
        "",
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace, demo_args: list[str]) -> int:
    config_dir: Path = args.config_dir.resolve()
    hass = args.ha_venv.resolve() / "bin" / "hass"
    agent = args.agent.resolve()
    for exe in (hass, agent):
        if not os.access(exe, os.X_OK):
            print(f"ha_demo: {exe} not found (run scripts/demo --with-home-assistant)", file=sys.stderr)
            return 2
    port = args.port or (8123 if port_free(8123) else free_port())
    if not port_free(port):
        print(f"ha_demo: port {port} is taken", file=sys.stderr)
        return 2
    deadline = time.monotonic() + args.duration if args.duration else None

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        raise Stop(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    write_config(config_dir, port)
    info_file = config_dir / "demo-info.json"
    demo: subprocess.Popen[bytes] | None = None
    ha: subprocess.Popen[bytes] | None = None
    code = 0
    started = time.monotonic()
    try:
        print("==> starting the demo: simulated printers, MQTT broker, agent, supplies cloud", flush=True)
        with (config_dir / "agent-demo.log").open("wb") as log:
            demo = subprocess.Popen(
                [str(agent), "demo", "--info-file", str(info_file), *demo_args],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # we stop it ourselves (SIGINT: it cleans up its children)
                env={**os.environ, "COLUMNS": "120"},
            )
        auth = add_user(hass, config_dir)  # meanwhile
        out, _ = auth.communicate(timeout=300)
        if auth.returncode != 0 or b"Auth created" not in out:
            print(
                f"ha_demo: could not create the demo user:\n{out.decode(errors='replace')}", file=sys.stderr
            )
            return 1
        while not info_file.exists():
            if demo.poll() is not None:
                print(
                    f"ha_demo: the demo stopped (exit {demo.returncode}); see {config_dir}/agent-demo.log",
                    file=sys.stderr,
                )
                return 1
            if time.monotonic() - started > 180:
                print("ha_demo: the demo did not come up within 3 minutes", file=sys.stderr)
                return 1
            time.sleep(0.2)
        info = json.loads(info_file.read_text(encoding="utf-8"))
        cloud = info["cloud_url"] or "not started (--no-cloud)"
        print(f"==> demo up: broker {info['mqtt_host']}:{info['mqtt_port']}, supplies cloud {cloud}")
        write_entries(config_dir, info)
        print(f"==> starting Home Assistant {HA_VERSION} on port {port} (config in {config_dir})", flush=True)
        with (config_dir / "hass.out").open("wb") as log:
            ha = subprocess.Popen(
                [str(hass), "-c", str(config_dir)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        url = f"http://127.0.0.1:{port}"
        ready = False
        while True:
            for name, proc, log_name in (
                ("Home Assistant", ha, "home-assistant.log"),
                ("the demo", demo, "agent-demo.log"),
            ):
                if proc.poll() is not None:
                    print(
                        f"ha_demo: {name} stopped (exit {proc.returncode}); see {config_dir}/{log_name}",
                        file=sys.stderr,
                    )
                    return 1
            if not ready and http_ok(f"{url}/manifest.json"):
                ready = True
                print(f"==> Home Assistant answered after {time.monotonic() - started:.0f} s")
                print(banner(url, info, config_dir, args.duration), flush=True)
            if deadline is not None and time.monotonic() >= deadline:
                print("==> --duration reached: stopping")
                return 0
            time.sleep(0.5)
    except Stop:
        print("\n==> stopping Home Assistant and the demo…", flush=True)
        code = 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_process(ha, signal.SIGTERM, 60)
        stop_process(demo, signal.SIGINT, 30)
        print("==> stopped", flush=True)
    return code


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["requirements"]:
        print("\n".join(requirements()))
        return 0
    parser = argparse.ArgumentParser(
        prog="scripts/demo --with-home-assistant",
        description="The demo plus a real Home Assistant (user demo / password demo) that follows it. "
        "Other options go to `printer-supplies-agent demo` (see its --help).",
    )
    parser.add_argument("--port", type=int, help="Home Assistant's HTTP port (default 8123, else a free one)")
    parser.add_argument("--duration", type=float, help="stop everything after this many seconds")
    parser.add_argument("--config-dir", type=Path, default=ROOT / ".ha-demo", help=argparse.SUPPRESS)
    parser.add_argument("--ha-venv", type=Path, default=ROOT / ".venv-ha", help=argparse.SUPPRESS)
    parser.add_argument(
        "--agent",
        type=Path,
        default=ROOT / ".venv" / "bin" / "printer-supplies-agent",
        help=argparse.SUPPRESS,
    )
    args, demo_args = parser.parse_known_args(argv)
    if "--info-file" in demo_args:
        parser.error("--info-file is set by this script")
    return run(args, demo_args)


if __name__ == "__main__":
    sys.exit(main())
