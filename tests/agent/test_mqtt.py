"""The agent end to end: snmpsim printers -> agent -> a real Mosquitto -> what Home Assistant reads."""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiomqtt

from mqtt_agent.config import MqttSettings, PrinterSettings, Settings
from mqtt_agent.poller import PolledPrinter
from mqtt_agent.service import Agent
from mqtt_agent.simulator import SimPrinter
from mqtt_agent.topics import Topics

BASE = "ps_test"


class Recorder:
    """Subscribes to everything and keeps every message (topic, payload, retain flag)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.messages: list[tuple[str, bytes, bool]] = []
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def _run(self) -> None:
        async with aiomqtt.Client(self.host, self.port, identifier="recorder") as client:
            await client.subscribe("#", qos=1)
            self._ready.set()
            async for message in client.messages:
                payload = (
                    message.payload if isinstance(message.payload, bytes) else str(message.payload).encode()
                )
                self.messages.append((str(message.topic), payload, bool(message.retain)))

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self._ready.wait(), 5)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def last(self, topic: str) -> bytes | None:
        for t, payload, _ in reversed(self.messages):
            if t == topic:
                return payload
        return None

    def count(self, topic: str) -> int:
        return sum(1 for t, _, _ in self.messages if t == topic)

    async def wait_for(self, topic: str, predicate: Any = lambda p: True, timeout: float = 20) -> bytes:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            payload = self.last(topic)
            if payload is not None and predicate(payload):
                return payload
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no matching message on {topic}; last: {payload!r}")
            await asyncio.sleep(0.05)


async def retained(host: str, port: int, pattern: str, wait: float = 1.0) -> dict[str, bytes]:
    """What a new subscriber gets as retained messages."""
    found: dict[str, bytes] = {}
    async with aiomqtt.Client(host, port, identifier="retained-reader") as client:
        await client.subscribe(pattern, qos=1)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                async for message in client.messages:
                    if message.retain:
                        payload = message.payload if isinstance(message.payload, bytes) else b""
                        found[str(message.topic)] = payload
    return found


def make_settings(broker: tuple[str, int], printers: list[SimPrinter], agent_id: str = "t1") -> Settings:
    return Settings(
        agent_id=agent_id,
        data_dir=Path(tempfile.mkdtemp(prefix="ps-agent-")),
        discovery={"mdns": False, "broadcast": False},
        poll_interval=3600,
        snmp={"timeout": 0.5, "retries": 0},
        mqtt=MqttSettings(host=broker[0], port=broker[1], base_topic=BASE),
        printers=[PrinterSettings(host=f"{p.address}:{p.port}") for p in printers],
    )


@contextlib.asynccontextmanager
async def running(agent: Agent) -> AsyncIterator[Agent]:
    task = asyncio.create_task(agent.run())
    try:
        yield agent
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def polled_all(agent: Agent, timeout: float = 30) -> list[PolledPrinter]:
    """Wait until the agent is connected and has a snapshot of every printer it polls."""
    await asyncio.wait_for(agent.publisher.connected.wait(), timeout)
    async with asyncio.timeout(timeout):
        while not all(p.snapshot for p in agent.poller.printers.values()):
            await asyncio.sleep(0.05)
    return list(agent.poller.printers.values())


def topics(agent_id: str = "t1") -> Topics:
    return Topics(BASE, "homeassistant", agent_id)


async def test_state_discovery_and_availability(broker, fleet) -> None:
    printers, _sim = fleet
    recorder = Recorder(*broker)
    await recorder.start()
    agent = Agent(make_settings(broker, printers))
    t = topics()
    async with running(agent):
        await recorder.wait_for(t.agent_availability, lambda p: p == b"online")
        await asyncio.wait_for(agent.publisher.connected.wait(), 10)
        while len(agent.poller.printers) != sum(1 for p in agent.poller.printers.values() if p.snapshot):
            await asyncio.sleep(0.05)
        for polled in agent.poller.printers.values():
            pid = polled.snapshot.id
            state = json.loads(await recorder.wait_for(t.printer_state(pid)))
            published = agent.with_reorder_points(polled.snapshot)  # default reorder point on each supply
            assert state == json.loads(json.dumps({**published.to_json(), "monitored": True}))
            assert {s["reorder_point"] for s in state["supplies"]} == {20}
            assert await recorder.wait_for(t.printer_availability(pid)) == b"online"
            discovery = json.loads(await recorder.wait_for(t.discovery(pid)))
            assert discovery["dev"]["ids"] == [f"printer_supplies_{pid}"]
            assert discovery["stat_t"] == t.printer_state(pid)
            assert discovery["avty"] == [{"t": t.agent_availability}, {"t": t.printer_availability(pid)}]
            assert discovery["avty_mode"] == "all"
            components = discovery["cmps"]
            for supply in state["supplies"]:
                key = supply["key"].replace(".", "_")
                sensor = components[f"{pid}_supply_{key}"]
                assert sensor["p"] == "sensor" and sensor["unit_of_meas"] == "%"
                assert sensor["stat_cla"] == "measurement"
                assert components[f"{pid}_supply_{key}_alert"]["p"] == "binary_sensor"
            for tray in state["trays"]:
                assert components[f"{pid}_tray_{tray['key'].replace('.', '_')}"]["p"] == "sensor"
            for counter in state["counters"]:
                assert components[f"{pid}_counter_{counter}"]["stat_cla"] == "total_increasing"
            assert components[f"{pid}_status"]["dev_cla"] == "enum"
            assert components[f"{pid}_problem"]["dev_cla"] == "problem"
            entities = [c for c in components.values() if c["p"] != "device_automation" and len(c) > 1]
            assert len({c["uniq_id"] for c in entities}) == len(entities)
        inventory = json.loads(await recorder.wait_for(t.agent_printers))
        assert inventory == {p.snapshot.id: p.key for p in agent.poller.printers.values()}

        # Nothing changed: a second poll publishes no new state, discovery or availability.
        before = len(recorder.messages)
        await agent.poller.poll_all()
        await asyncio.sleep(0.5)
        new = [m[0] for m in recorder.messages[before:]]
        assert not [x for x in new if "/state" in x or "/config" in x or "availability" in x], new
    await recorder.wait_for(t.agent_availability, lambda p: p == b"offline")
    await recorder.stop()


async def test_changed_level_is_published(broker, fleet) -> None:
    printers, sim = fleet
    recorder = Recorder(*broker)
    await recorder.start()
    agent = Agent(make_settings(broker, printers))
    t = topics()
    async with running(agent):
        hp = next(p for p in await polled_all(agent) if p.key.startswith(printers[0].address))
        pid = hp.snapshot.id
        await recorder.wait_for(t.printer_state(pid))
        printers[0].supplies[0].level = 3
        sim.write(printers[0])
        await agent.poller.poll_all()
        state = json.loads(
            await recorder.wait_for(
                t.printer_state(pid), lambda p: json.loads(p)["supplies"][0]["level"] == 3
            )
        )
        assert state["supplies"][0]["percent"] == 3
        assert state["supplies"][0]["state"] == "low"
    await recorder.stop()


async def test_printer_goes_unavailable_and_comes_back(broker, fleet) -> None:
    printers, sim = fleet
    recorder = Recorder(*broker)
    await recorder.start()
    agent = Agent(make_settings(broker, printers))
    t = topics()
    async with running(agent):
        await polled_all(agent)
        victim = printers[1]
        polled = next(p for p in agent.poller.printers.values() if p.key.startswith(victim.address))
        pid = polled.snapshot.id
        await recorder.wait_for(t.printer_availability(pid), lambda p: p == b"online")

        victim.offline = True
        sim.write(victim)
        await agent.poller.poll_all()
        await recorder.wait_for(t.printer_availability(pid), lambda p: p == b"offline")
        # The others stay online, the agent stays online, the last state stays retained.
        for other in agent.poller.printers.values():
            if other is not polled:
                assert recorder.last(t.printer_availability(other.snapshot.id)) == b"online"
        assert recorder.last(t.agent_availability) == b"online"
        assert recorder.last(t.printer_state(pid)) is not None

        victim.offline = False
        victim.supplies[0].level = 42
        sim.write(victim)
        await agent.poller.poll_all()
        await recorder.wait_for(t.printer_availability(pid), lambda p: p == b"online")
        assert polled.snapshot.id == pid  # same printer, same id, same device
    await recorder.stop()


async def test_reannounce_when_home_assistant_comes_online(broker, fleet) -> None:
    printers, _sim = fleet
    recorder = Recorder(*broker)
    await recorder.start()
    agent = Agent(make_settings(broker, printers[:1]))
    t = topics()
    async with running(agent):
        [polled] = await polled_all(agent)
        topic = t.discovery(polled.snapshot.id)
        await recorder.wait_for(topic)
        count = recorder.count(topic)
        async with aiomqtt.Client(*broker, identifier="fake-ha") as ha:
            await ha.publish("homeassistant/status", "online", qos=1)
        for _ in range(100):
            if recorder.count(topic) > count:
                break
            await asyncio.sleep(0.05)
        assert recorder.count(topic) == count + 1
    await recorder.stop()


async def test_removed_printer_is_cleaned_up(broker, fleet) -> None:
    printers, _sim = fleet
    t = topics()
    first = Agent(make_settings(broker, printers[:2]))
    async with running(first):
        ids = [p.snapshot.id for p in await polled_all(first)]
        await asyncio.sleep(0.3)
    before = await retained(*broker, "#")
    for pid in ids:
        assert t.discovery(pid) in before and t.printer_state(pid) in before

    # A restart with the same printers, one of them not answering: nothing is removed.
    recorder = Recorder(*broker)
    await recorder.start()
    printers[1].offline = True
    _sim.write(printers[1])
    same = Agent(make_settings(broker, printers[:2]))
    async with running(same):
        await asyncio.wait_for(same.publisher.connected.wait(), 10)
        await asyncio.sleep(1.5)
    await recorder.stop()
    assert not [m for m in recorder.messages if "/config" in m[0] and m[1] == b""]
    during = await retained(*broker, "#")
    assert all(t.discovery(pid) in during for pid in ids)
    assert len(json.loads(during[t.agent_printers])) == 2

    # The agent restarts with only the first printer configured: the second disappears.
    second = Agent(make_settings(broker, printers[:1]))
    async with running(second):
        await asyncio.wait_for(second.publisher.connected.wait(), 10)
        await asyncio.sleep(0.5)
    after = await retained(*broker, "#")
    kept, removed = ids
    assert t.discovery(kept) in after
    assert t.discovery(removed) not in after
    assert t.printer_state(removed) not in after
    assert t.printer_availability(removed) not in after
    assert list(json.loads(after[t.agent_printers])) == [kept]


async def test_broker_restart_loses_nothing(broker, fleet) -> None:
    """Publishing while the broker is away: everything is sent once it is reachable."""
    printers, _sim = fleet
    host, port = broker
    settings = make_settings((host, port), printers[:1])
    agent = Agent(settings)
    # Poll before any broker connection exists: the publisher keeps the result.
    await agent.poller.poll_all()
    polled = next(iter(agent.poller.printers.values()))
    async with running(agent):
        await asyncio.wait_for(agent.publisher.connected.wait(), 10)
        await asyncio.sleep(0.3)
    found = await retained(host, port, "#")
    assert json.loads(found[topics().printer_state(polled.snapshot.id)])["id"] == polled.snapshot.id
