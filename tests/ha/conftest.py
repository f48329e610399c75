"""Fixtures of the Home Assistant tests (run under pytest-homeassistant-custom-component).

scripts/test runs this folder apart: ``python -m pytest -p pytest_homeassistant_custom_component.plugins
tests/ha``. The harness blocks sockets except to 127.0.0.1, which is where the real broker and the
real supplies cloud listen.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_socket
from cloud_support import SECRET, CloudService, SiteKey
from homeassistant.components.mqtt.models import DATA_MQTT
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant

from custom_components.printer_supplies.const import DOMAIN
from supplies_cloud.app import create_app
from supplies_cloud.config import CloudSettings


async def settle(hass: HomeAssistant) -> None:
    """Wait until every task and background task of Home Assistant is done.

    ``async_block_till_done(wait_background_tasks=True)`` skips tasks that are being cancelled,
    and an httpx request is one for a moment: anyio's connect cancels its other connection
    attempts through a cancel scope that includes the requesting task (seen with a stack trace).
    So wait for those too.
    """
    while True:
        await hass.async_block_till_done(wait_background_tasks=True)
        pending = [t for t in hass._background_tasks if not t.done()]
        if not pending:
            return
        await asyncio.wait(pending)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load custom_components/printer_supplies from the repository."""


@pytest.fixture(autouse=True)
async def unload_entries_at_the_end(hass: HomeAssistant) -> AsyncIterator[None]:
    """Unload every entry before the harness checks for leftovers.

    Ours first (it publishes on unload), then MQTT's, which disconnects the client.
    """
    yield
    client = getattr(hass.data.get(DATA_MQTT), "client", None)
    for domain in (DOMAIN, "mqtt"):
        for entry in hass.config_entries.async_entries(domain):
            if entry.state is ConfigEntryState.LOADED:
                await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    # The harness's mocked paho client never reports its socket closed, which is where Home
    # Assistant stops that timer; with a real broker the unload above has already stopped it.
    if client is not None and client._misc_timer is not None:
        client._misc_timer.cancel()
        client._misc_timer = None


@pytest.fixture(scope="session")
def cloud_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudService]:
    """The reference supplies cloud with the demo catalog, for the session: ``supplies-cloud serve``
    in its own process (real HTTP, SQLite). The harness allows no threads of ours to outlive a
    test, and the service's request threads would; the tests' own helpers (create a site, move an
    order on, count orders) work on the same database file from here.
    """
    data_dir = tmp_path_factory.mktemp("cloud")
    pytest_socket.enable_socket()  # the harness blocks new sockets outside tests that allow them
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "SUPPLIES_CLOUD_DATA_DIR": str(data_dir),
        "SUPPLIES_CLOUD_PUBLIC_URL": base_url,
        "SUPPLIES_CLOUD_SECRET_KEY": SECRET,
    }
    settings = CloudSettings(data_dir=data_dir, public_url=base_url, secret_key=SECRET)
    app = create_app(settings)  # migrates; the server process finds the schema in place
    service = CloudService(base_url, "sqlite", settings, app, [])
    service.import_catalog()
    log = (data_dir / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "supplies_cloud", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError as exc:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the supplies cloud did not start: {(data_dir / 'server.log').read_text()}"
                    ) from exc
                time.sleep(0.1)
        yield service
    finally:
        server.terminate()
        server.wait(15)
        log.close()


@pytest.fixture
def site(cloud_service: CloudService, socket_enabled: None) -> SiteKey:
    """A fresh customer site (its own API key, no orders yet) per test; sockets allowed for it."""
    return cloud_service.create_site()


@pytest.fixture
def repo() -> Path:
    return Path(__file__).resolve().parents[2]
