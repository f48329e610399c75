"""Supply events and reorder points end to end: simulated printer, agent, real broker."""

from __future__ import annotations

import asyncio
import json

import aiomqtt
from test_mqtt import Recorder, make_settings, polled_all, running, topics

from mqtt_agent.service import Agent


def events_on(recorder: Recorder, topic: str) -> list[tuple[str, str]]:
    return [
        (json.loads(p)["event_type"], json.loads(p)["supply"])
        for t, p, _retain in recorder.messages
        if t == topic
    ]


async def settle(recorder: Recorder, seconds: float = 0.6) -> None:
    await asyncio.sleep(seconds)


async def test_events_fire_once_per_crossing_and_survive_restart(broker, fleet) -> None:
    printers, sim = fleet
    hp = printers[0]  # black 64 %, cyan 38 %, magenta 17 %, yellow 12 %
    settings = make_settings(broker, [hp])
    t = topics()
    recorder = Recorder(*broker)
    await recorder.start()
    agent = Agent(settings)
    async with running(agent):
        [polled] = await polled_all(agent)
        pid = polled.snapshot.id
        event_topic = t.printer_event(pid)
        await settle(recorder)
        # A fresh install reports what is already at the default reorder point (20 %), once.
        assert sorted(events_on(recorder, event_topic)) == [
            ("reorder_point", "1.3"),
            ("reorder_point", "1.4"),
        ]

        # The same levels again: nothing new.
        await agent.poller.poll_all()
        await settle(recorder)
        assert len(events_on(recorder, event_topic)) == 2

        # Home Assistant's number entity sets black's reorder point to 70 %: black is below it now.
        discovery = json.loads(await recorder.wait_for(t.discovery(pid)))
        number = discovery["cmps"][f"{pid}_supply_1_1_reorder_point"]
        command = number["cmd_tpl"].replace("{{ value | int }}", "70")
        async with aiomqtt.Client(*broker, identifier="ha-number") as ha:
            await ha.publish(number["cmd_t"], command, qos=1)
        state = json.loads(
            await recorder.wait_for(
                t.printer_state(pid), lambda p: json.loads(p)["supplies"][0]["reorder_point"] == 70
            )
        )
        assert state["supplies"][1]["reorder_point"] == 20
        await settle(recorder)
        assert events_on(recorder, event_topic)[-1] == ("reorder_point", "1.1")
        assert agent.inventory.reorder_points(pid) == {"1.1": 70}

        # Cyan runs low: low and reorder point, once each, however often it is polled.
        hp.supplies[1].level = 5
        sim.write(hp)
        for _ in range(3):
            await agent.poller.poll_all()
        await settle(recorder)
        cyan = [e for e in events_on(recorder, event_topic) if e[1] == "1.2"]
        assert sorted(cyan) == [("low", "1.2"), ("reorder_point", "1.2")]

        # A wobble of a few points does not re-arm; a new cartridge does.
        hp.supplies[1].level = 8
        sim.write(hp)
        await agent.poller.poll_all()
        hp.supplies[1].level = 100
        sim.write(hp)
        await agent.poller.poll_all()
        await settle(recorder)
        cyan = [e for e in events_on(recorder, event_topic) if e[1] == "1.2"]
        assert cyan[-1] == ("replaced", "1.2") and len(cyan) == 3
        hp.supplies[1].level = 4
        sim.write(hp)
        await agent.poller.poll_all()
        await settle(recorder)
        cyan = [e for e in events_on(recorder, event_topic) if e[1] == "1.2"]
        assert sorted(cyan[3:]) == [("low", "1.2"), ("reorder_point", "1.2")]

        payload = json.loads([p for tt, p, _r in recorder.messages if tt == event_topic][-1])
        assert payload["part_number"] == "W2031A" and payload["percent"] == 4 and payload["printer_id"] == pid
        count = len(events_on(recorder, event_topic))

    # A restart remembers what has fired: no repeats.
    again = Agent(settings)
    async with running(again):
        [polled] = await polled_all(again)
        await settle(recorder)
    assert len(events_on(recorder, event_topic)) == count
    await recorder.stop()


async def test_bad_reorder_point_settings_are_refused(broker, fleet) -> None:
    printers, _sim = fleet
    settings = make_settings(broker, printers[:1])
    agent = Agent(settings)
    async with running(agent):
        [polled] = await polled_all(agent)
        pid = polled.snapshot.id
        async with aiomqtt.Client(*broker, identifier="bad-sets") as client:
            for payload in (
                b"not json",
                b"[]",
                b'{"reorder_point": {"supply": "9.9", "percent": 10}}',
                b'{"reorder_point": {"supply": "1.1", "percent": 300}}',
                b'{"reorder_point": {"supply": "1.1", "percent": "high"}}',
            ):
                await client.publish(topics().printer_set(pid), payload, qos=1)
        await asyncio.sleep(0.8)
        assert agent.inventory.reorder_points(pid) == {}
        assert not (await asyncio.gather(asyncio.sleep(0)))[0]  # the agent is still running
        assert agent.publisher.connected.is_set()


async def test_order_entities_follow_the_integration_status(broker, fleet) -> None:
    """Order buttons, a last-order sensor and catalog attributes exist only while the integration
    says online; they are removed (platform-only entries) when it goes offline, also when the agent
    starts while it is offline."""
    printers, _sim = fleet
    settings = make_settings(broker, printers[:1], agent_id="orders")
    t = topics("orders")
    recorder = Recorder(*broker)
    await recorder.start()
    async with aiomqtt.Client(*broker, identifier="integration") as integration:
        await integration.publish(t.integration_status, "online", qos=1, retain=True)
        agent = Agent(settings)
        async with running(agent):
            [polled] = await polled_all(agent)
            pid = polled.snapshot.id
            base = f"{pid}_supply_1_1"
            # Online before the agent connected: the very first discovery already has the buttons.
            first = json.loads(await recorder.wait_for(t.discovery(pid)))
            assert recorder.count(t.discovery(pid)) == 1
            button = first["cmps"][f"{base}_order"]
            assert button["p"] == "button" and button["name"].startswith("Order ")
            assert button["cmd_t"] == t.printer_order(pid)
            assert json.loads(button["pl_prs"]) == {"supply": "1.1"}
            assert button["avty"] == [{"t": t.integration_status}]
            assert first["cmps"][f"{pid}_last_order"]["stat_t"] == t.printer_catalog(pid)
            assert first["cmps"][base]["json_attr_t"] == t.printer_catalog(pid)
            assert "percent" in first["cmps"][base]["val_tpl"] and "stat_t" not in first["cmps"][base]

            await integration.publish(t.integration_status, "offline", qos=1, retain=True)
            gone = json.loads(
                await recorder.wait_for(
                    t.discovery(pid), lambda p: json.loads(p)["cmps"][f"{base}_order"] == {"p": "button"}
                )
            )
            assert gone["cmps"][f"{pid}_last_order"] == {"p": "sensor"}
            assert gone["cmps"][base]["json_attr_t"] == t.printer_state(pid)
            # Every other entity is still whole.
            assert gone["cmps"][f"{base}_reorder_point"]["p"] == "number"
            await integration.publish(t.integration_status, "online", qos=1, retain=True)
            await recorder.wait_for(
                t.discovery(pid), lambda p: "cmd_t" in json.loads(p)["cmps"][f"{base}_order"]
            )
            await integration.publish(t.integration_status, b"", qos=1, retain=True)  # integration removed
            await recorder.wait_for(
                t.discovery(pid), lambda p: json.loads(p)["cmps"][f"{base}_order"] == {"p": "button"}
            )
    await recorder.stop()


async def test_default_reorder_point_by_command_survives_restart(broker, fleet) -> None:
    printers, _sim = fleet
    hp = printers[0]  # black 64 %, cyan 38 %, magenta 17 %, yellow 12 %
    settings = make_settings(broker, [hp], agent_id="default")
    t = topics("default")
    recorder = Recorder(*broker)
    await recorder.start()
    agent = Agent(settings)
    async with running(agent):
        [polled] = await polled_all(agent)
        pid = polled.snapshot.id
        reply = await agent.handle_command({"command": "set_default_reorder_point", "percent": 40})
        assert reply == {"ok": True, "result": {"default_reorder_point": 40}}
        state = json.loads(
            await recorder.wait_for(
                t.printer_state(pid), lambda p: json.loads(p)["supplies"][1]["reorder_point"] == 40
            )
        )
        assert [s["reorder_point"] for s in state["supplies"]] == [40, 40, 40, 40]
        await settle(recorder)
        assert ("reorder_point", "1.2") in events_on(recorder, t.printer_event(pid))  # cyan 38 % <= 40
        bad = await agent.handle_command({"command": "set_default_reorder_point", "percent": "lots"})
        assert bad["ok"] is False and "percent" in bad["error"]
        bad = await agent.handle_command({"command": "set_default_reorder_point", "percent": 140})
        assert bad["ok"] is False
    again = Agent(settings)
    assert again.default_reorder_point == 40
    assert (await again.handle_command({"command": "set_default_reorder_point", "percent": None}))[
        "result"
    ] == {"default_reorder_point": 20}
    await recorder.stop()
