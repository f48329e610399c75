"""Screenshots of the running ``scripts/demo --with-home-assistant``, taken as a person would see it.

Logs in to the demo's Home Assistant (user demo / password demo) with Playwright and Chromium and
saves, into OUT_DIR: the integrations page, the MQTT and Printer Supplies integration pages, the
repairs page (supplies at their reorder point) and the device page of each printer (supply sensors,
reorder points under Configuration, "Order …" buttons under Controls, the Supply event).

    scripts/demo --with-home-assistant &            # prints the URL once Home Assistant is up
    .venv/bin/python scripts/screenshot_ha_demo.py /tmp/ha-demo-shots [--url http://127.0.0.1:8123]

Needs Python's ``playwright`` (in .venv) and a Chromium (Debian's /usr/bin/chromium by default).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

USER, PASSWORD = "demo", "demo"


def wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/manifest.json", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1)
    raise SystemExit(f"Home Assistant does not answer at {url}")


def login(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_url(re.compile(r".*/auth/authorize.*"), timeout=60_000)
    page.locator("input[name=username]").fill(USER)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(re.compile(r".*/lovelace.*|.*/home.*|.*/config.*"), timeout=60_000)


def hass_ws(page: Page, message: dict[str, Any]) -> Any:
    """A websocket command through the logged-in frontend's own connection."""
    page.wait_for_function("() => document.querySelector('home-assistant')?.hass?.connection", timeout=60_000)
    return page.evaluate("(msg) => document.querySelector('home-assistant').hass.callWS(msg)", message)


def settle(page: Page, seconds: float = 3.0) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(int(seconds * 1000))


def shoot(page: Page, path: Path) -> None:
    page.screenshot(path=str(path), full_page=True)
    print(path)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out_dir", type=Path, help="folder for the PNG files")
    parser.add_argument("--url", default="http://127.0.0.1:8123", help="Home Assistant (default %(default)s)")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="browser executable")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for Home Assistant")
    parser.add_argument("--printers", type=int, default=5, help="how many printers' pages (default all 5)")
    args = parser.parse_args()
    url = args.url.rstrip("/")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    wait_http(url, args.timeout)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
        # Tall and wide: Home Assistant scrolls inside its own panels, so full_page alone is not enough.
        page = browser.new_page(viewport={"width": 1920, "height": 2600})
        login(page, url)

        # The printers are devices of the MQTT entry; wait until the agent's discovery has made them.
        deadline = time.monotonic() + args.timeout
        while True:
            entries = hass_ws(page, {"type": "config_entries/get"})
            supplies = [e for e in entries if e["domain"] == "printer_supplies"]
            devices = hass_ws(page, {"type": "config/device_registry/list"})
            printers = [
                d
                for d in devices
                if any(i[0] == "mqtt" for i in d["identifiers"]) and d.get("model") != "SNMP agent"
            ]
            if printers and all(e["state"] == "loaded" for e in supplies):
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"no printers in Home Assistant after {args.timeout:.0f} s: {supplies}")
            time.sleep(2)

        page.goto(f"{url}/config/integrations/dashboard")
        settle(page)
        shoot(page, args.out_dir / "01-integrations.png")
        page.goto(f"{url}/config/integrations/integration/mqtt")
        settle(page)
        shoot(page, args.out_dir / "02-mqtt-integration.png")
        page.goto(f"{url}/config/integrations/integration/printer_supplies")
        settle(page)
        shoot(page, args.out_dir / "03-printer-supplies-integration.png")
        page.goto(f"{url}/config/repairs")
        settle(page)
        shoot(page, args.out_dir / "04-repairs.png")
        for n, device in enumerate(sorted(printers, key=lambda d: d["name"])[: args.printers], start=5):
            page.goto(f"{url}/config/devices/device/{device['id']}")
            settle(page)
            slug = re.sub(r"[^a-z0-9]+", "-", device["name"].lower()).strip("-")
            shoot(page, args.out_dir / f"{n:02d}-device-{slug}.png")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
