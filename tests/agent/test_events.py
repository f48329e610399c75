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
