"""The inventory: persistence, stable ids across address changes, and control over MQTT."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from pathlib import Path

import aiomqtt
import pytest
from test_mqtt import Recorder, make_settings, retained, running, topics

from mqtt_agent.inventory import Inventory, InventoryError, InventoryPrinter
from mqtt_agent.service import Agent


def test_record_new_seen_moved_and_persisted(tmp_path: Path) -> None:
    path = tmp_path / "inv.sqlite3"
    inventory = Inventory(path)
    found = InventoryPrinter(id="hp_abc123", host="192.0.2.10", vendor="HP", model="M454dw", serial="ABC123")
    printer, change = inventory.record(found, monitored_if_new=False)
    assert change == "new" and printer.monitored is False and printer.added_at > 0
    assert inventory.record(found)[1] == "seen"
    moved, change = inventory.record(InventoryPrinter(id="hp_abc123", host="192.0.2.77", serial="ABC123"))
    assert change == "moved" and moved.host == "192.0.2.77" and moved.model == "M454dw"
    # the same serial under a differently derived id is the same printer
    again, change = inventory.record(
        InventoryPrinter(id="other_id", host="192.0.2.78", serial="ABC123", vendor="HP")
    )
    assert change == "moved" and again.id == "hp_abc123"
    inventory.set_monitored("192.0.2.78", True)
    inventory.rename("ABC123", "Reception")
    inventory.close()

    reopened = Inventory(path)  # a restart
    [printer] = reopened.all()
    assert (printer.id, printer.host, printer.name, printer.monitored) == (
        "hp_abc123",
        "192.0.2.78",
        "Reception",
        True,
    )
    assert reopened.get("192.0.2.78:161").id == "hp_abc123"
    reopened.remove("hp_abc123")
    assert reopened.all() == []
    with pytest.raises(InventoryError, match="no printer"):
        reopened.get("hp_abc123")


def test_unusable_inventory_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "inv.sqlite3"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(InventoryError, match=r"inv\.sqlite3"):
        Inventory(bad)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(InventoryError, match="a-file"):
        Inventory(blocker / "inventory.sqlite3")


async def command(broker: tuple[str, int], payload: dict, timeout: float = 30) -> dict:
    """Send one command to agent t1 and wait for the reply carrying its id."""
    t = topics()
    request_id = uuid.uuid4().hex
    async with aiomqtt.Client(*broker, identifier=f"cmd-{request_id[:8]}") as client:
        await client.subscribe(t.agent_response, qos=1)
        await client.publish(t.agent_command, json.dumps({**payload, "id": request_id}), qos=1)
        async with asyncio.timeout(timeout):
            async for message in client.messages:
                reply = json.loads(message.payload)
                if reply.get("id") == request_id:
                    return reply
    raise AssertionError("no reply")


async def test_commands_add_monitor_unmonitor_remove(broker, fleet) -> None:
    printers, _sim = fleet
    settings = make_settings(broker, [])  # nothing configured: everything comes through commands
    agent = Agent(settings)
    t = topics()
    recorder = Recorder(*broker)
    await recorder.start()
    async with running(agent):
        await asyncio.wait_for(agent.publisher.connected.wait(), 10)
        hp = printers[0]

        reply = await command(
            broker, {"command": "add", "host": f"{hp.address}:{hp.port}", "name": "Reception"}
        )
        assert reply["ok"], reply
        pid = reply["result"]["id"]
        assert reply["result"]["serial"] == hp.serial and reply["result"]["profile"] == "default"
        state = json.loads(await recorder.wait_for(t.printer_state(pid)))
        assert state["monitored"] is True and state["supplies"]
        discovery = json.loads(await recorder.wait_for(t.discovery(pid)))
        assert discovery["dev"]["name"] == "Reception"
        switch = discovery["cmps"][f"{pid}_monitored"]
        assert switch["p"] == "switch" and switch["cmd_t"] == t.agent_command

        # Home Assistant's switch sends exactly its payload_off: the printer stops being polled.
        async with aiomqtt.Client(*broker, identifier="ha-switch") as ha:
            await ha.publish(t.agent_command, switch["pl_off"], qos=1)
        state = json.loads(
            await recorder.wait_for(t.printer_state(pid), lambda p: not json.loads(p)["monitored"])
        )
        discovery = json.loads(
            await recorder.wait_for(
                t.discovery(pid),
                lambda p: [k for k, c in json.loads(p)["cmps"].items() if len(c) > 1] == [f"{pid}_monitored"],
            )
        )
        # Every other entity is sent as a removal marker (platform only): Home Assistant drops it.
        markers = {k for k, c in discovery["cmps"].items() if len(c) == 1}
        assert f"{pid}_supply_1_1" in markers and discovery["cmps"][f"{pid}_supply_1_1"] == {"p": "sensor"}
        assert markers == set(discovery["cmps"]) - {f"{pid}_monitored"}
        assert not agent.poller.printers

        reply = await command(broker, {"command": "monitor", "printer": pid})
        assert reply["ok"] and reply["result"]["monitored"] is True
        await recorder.wait_for(t.printer_state(pid), lambda p: json.loads(p)["monitored"])

        reply = await command(broker, {"command": "list"})
        assert [p["id"] for p in reply["result"]] == [pid]

        reply = await command(broker, {"command": "poll_now"})
        assert reply == {"id": reply["id"], "command": "poll_now", "ok": True}

        reply = await command(broker, {"command": "remove", "printer": pid})
        assert reply["ok"]
        await recorder.wait_for(t.discovery(pid), lambda p: p == b"")
        assert not agent.poller.printers

        # Errors are answers, never crashes.
        assert (await command(broker, {"command": "add", "host": "127.0.0.1:9"}))["ok"] is False
        assert "unknown command" in (await command(broker, {"command": "fly"}))["error"]
        assert (await command(broker, {"command": "remove", "printer": "nope"}))["ok"] is False
        async with aiomqtt.Client(*broker, identifier="garbage") as client:
            await client.publish(t.agent_command, b"\xff not json", qos=1)
        reply = await command(broker, {"command": "list"})
        assert reply["ok"] and reply["result"] == []
    await recorder.stop()


async def test_address_change_keeps_the_device(broker, fleet) -> None:
    printers, sim = fleet
    settings = make_settings(broker, [])
    agent = Agent(settings)
    t = topics()
    recorder = Recorder(*broker)
    await recorder.start()
    async with running(agent):
        await asyncio.wait_for(agent.publisher.connected.wait(), 10)
        kyocera = printers[2]
        reply = await command(broker, {"command": "add", "host": f"{kyocera.address}:{kyocera.port}"})
        pid = reply["result"]["id"]
        await recorder.wait_for(t.printer_state(pid))

        # DHCP hands the printer a new address: the old one goes silent, the printer answers elsewhere.
        new_address = kyocera.address.rsplit(".", 1)[0] + ".99"
        kyocera.offline = True
        sim.write(kyocera)
        moved = type(kyocera)(**{**kyocera.__dict__, "address": new_address, "offline": False})
        moved_sim = type(sim)([moved])
        moved_sim.start()
        try:
            await moved_sim.wait_ready()
            reply = await command(broker, {"command": "add", "host": f"{new_address}:{moved.port}"})
            assert reply["ok"] and reply["result"]["id"] == pid  # same printer, same device
            state = json.loads(
                await recorder.wait_for(t.printer_state(pid), lambda p: json.loads(p)["host"] == new_address)
            )
            assert state["id"] == pid
            assert [p.id for p in agent.inventory.all()] == [pid]
            assert [p.key for p in agent.poller.printers.values()] == [f"{new_address}:{moved.port}"]
        finally:
            moved_sim.stop()
    await recorder.stop()


async def test_inventory_survives_agent_restart(broker, fleet, tmp_path: Path) -> None:
    printers, _sim = fleet
    settings = make_settings(broker, []).model_copy(update={"inventory_file": tmp_path / "inv.sqlite3"})
    first = Agent(settings)
    async with running(first):
        await asyncio.wait_for(first.publisher.connected.wait(), 10)
        reply = await command(broker, {"command": "add", "host": f"{printers[1].address}:{printers[1].port}"})
        pid = reply["result"]["id"]
    second = Agent(settings)
    async with running(second):
        await asyncio.wait_for(second.publisher.connected.wait(), 10)
        for _ in range(200):
            if any(p.snapshot for p in second.poller.printers.values()):
                break
            await asyncio.sleep(0.05)
        assert [p.printer_id for p in second.poller.printers.values()] == [pid]
    with sqlite3.connect(tmp_path / "inv.sqlite3") as db:
        assert db.execute("SELECT id FROM printers").fetchall() == [(pid,)]
    found = await retained(*broker, "#")
    assert topics().discovery(pid) in found


async def test_discover_button_sweeps_and_monitors_what_it_finds(broker, fleet) -> None:
    """Home Assistant's "Discover printers" button, end to end: sweep, inventory, polling, devices."""
    printers, _sim = fleet
    base = make_settings(broker, [])
    network = printers[0].address.rsplit(".", 1)[0] + ".0/28"
    settings = base.model_copy(
        update={
            "snmp": base.snmp.model_copy(update={"port": printers[0].port}),
            # what the button's bare command sweeps
            "discovery": base.discovery.model_copy(update={"networks": [network]}),
        }
    )
    agent = Agent(settings)
    t = topics()
    recorder = Recorder(*broker)
    await recorder.start()
    async with running(agent):
        await asyncio.wait_for(agent.publisher.connected.wait(), 10)
        button = json.loads(await recorder.wait_for(t.agent_discovery))["cmps"]["agent_t1_discover"]
        async with aiomqtt.Client(*broker, identifier="ha-button") as ha:
            await ha.subscribe(t.agent_response, qos=1)
            await ha.publish(button["cmd_t"], button["pl_prs"], qos=1)
            async with asyncio.timeout(60):
                async for message in ha.messages:
                    reply = json.loads(message.payload)
                    if reply.get("command") == "discover":
                        break
        assert reply["ok"], reply
        assert reply["result"]["printers"] == len(printers)
        ids = {p.id for p in agent.inventory.all()}
        assert {p.serial for p in agent.inventory.all()} == {p.serial for p in printers}
        assert all(p.source == "sweep" and p.monitored for p in agent.inventory.all())
        for pid in ids:
            await recorder.wait_for(t.printer_state(pid))
        state = json.loads(
            await recorder.wait_for(t.agent_state, lambda p: json.loads(p)["discovery"]["last_run"])
        )
        assert state["discovery"]["running"] is False and state["discovery"]["progress"] == 100
        assert state["discovery"]["last_run"]["printers"] == len(printers)
        assert state["discovery"]["last_run"]["bytes_per_silent_address"] <= 150

        # Network cost per printer, as the diagnostic entities read it from the agent state: the
        # first poll reads the tables too, a second poll is one GET.
        await recorder.wait_for(t.agent_state, lambda p: set(json.loads(p)["network"]) == ids)
        assert (await command(broker, {"command": "poll_now"}))["ok"]

        def steady(payload: bytes) -> bool:
            network = json.loads(payload)["network"]
            return set(network) == ids and all(c["last_poll_requests"] == 1 for c in network.values())

        state = json.loads(await recorder.wait_for(t.agent_state, steady))
        for pid in ids:
            cost = state["network"][pid]
            assert cost["last_poll_requests"] == 1 and 0 < cost["last_poll_bytes"] < 1500
            assert cost["bytes"] > cost["last_poll_bytes"]  # the first poll also read the tables
    await recorder.stop()
