"""Hostile and broken SNMP answers: clear results or clear errors, never a crash."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from conftest import sim_network

from mqtt_agent import mib
from mqtt_agent.errors import NotAPrinter, SnmpTimeout
from mqtt_agent.reader import PrinterReader
from mqtt_agent.simulator import HEX, INT, OCTETS, OID, SimPrinter, SnmpSimulator, demo_fleet
from mqtt_agent.snmp import SnmpClient, SnmpTarget


def hostile_printer(address: str) -> SimPrinter:
    printer = demo_fleet(1, address.rsplit(".", 1)[0])[0]
    printer.name = "hostile"
    extra = {
        # a level that is text, a description of 10,000 bytes, an unknown type code, a colorant
        # index pointing nowhere, a maximum of zero, an error state that is an integer, a status
        # that is a string, 400 extra supply rows (the walk caps them), binary garbage as a name.
        f"{mib.PRT_SUPPLY_LEVEL}.1.1": (OCTETS, "lots"),
        f"{mib.PRT_SUPPLY_DESCRIPTION}.1.2": (OCTETS, "X" * 10000),
        f"{mib.PRT_SUPPLY_TYPE}.1.2": (INT, "999"),
        f"{mib.PRT_SUPPLY_COLORANT_INDEX}.1.3": (INT, "77"),
        f"{mib.PRT_SUPPLY_MAX_CAPACITY}.1.4": (INT, "0"),
        f"{mib.HR_PRINTER_ERROR_STATE}.1": (INT, "12"),
        f"{mib.HR_DEVICE_STATUS}.1": (OCTETS, "running"),
        f"{mib.PRT_INPUT_NAME}.1.1": (HEX, "fffe00c3"),
        mib.SYS_OBJECT_ID: (OID, "1.3.6.1.4.1.11.2.3.9.1"),
    }
    for i in range(5, 405):
        extra[f"{mib.PRT_SUPPLY_DESCRIPTION}.1.{i}"] = (OCTETS, f"Row {i}")
        extra[f"{mib.PRT_SUPPLY_LEVEL}.1.{i}"] = (INT, str(-(i % 5)))
    printer.extra = extra
    return printer


def not_a_printer(address: str) -> SimPrinter:
    printer = demo_fleet(1, address.rsplit(".", 1)[0])[0]
    printer.name = "server"
    printer.supplies, printer.trays = [], []
    printer.printer_mib = False  # but it keeps an hrDevicePrinter row, like a print server
    printer.sys_descr = "Hardware: Intel64 Family 6 - Software: Windows Version 6.3"
    printer.sys_object_id = "1.3.6.1.4.1.311.1.1.3.1.2"
    return printer


@pytest.fixture
async def sim() -> AsyncIterator[tuple[SnmpSimulator, list[SimPrinter]]]:
    net = sim_network()
    printers = [hostile_printer(f"{net}.201"), not_a_printer(f"{net}.202")]
    printers[1].address = f"{net}.202"
    simulator = SnmpSimulator(printers)
    simulator.start()
    try:
        await simulator.wait_ready()
        yield simulator, printers
    finally:
        simulator.stop()


async def test_hostile_answers_give_a_clean_snapshot(sim) -> None:
    _simulator, printers = sim
    client = SnmpClient()
    try:
        reader = PrinterReader(client, SnmpTarget(printers[0].address, printers[0].port))
        snapshot = await reader.poll()
    finally:
        client.close()
    supplies = {s.key: s for s in snapshot.supplies}
    assert supplies["1.1"].level is None and supplies["1.1"].state == "unknown"
    assert len(supplies["1.2"].name) <= 255 and supplies["1.2"].kind == "other"
    assert supplies["1.3"].color == "magenta"  # no colorant row 77: the description decides
    assert supplies["1.4"].estimated is True
    assert len(snapshot.supplies) == 256  # the walk stops at its row cap
    assert snapshot.errors == ["door_open", "jammed"]  # integer 12 read as the bit octet 0x0c
    assert snapshot.device_status is None
    snapshot.to_json()  # serialisable


async def test_not_a_printer_is_refused(sim) -> None:
    _simulator, printers = sim
    client = SnmpClient()
    try:
        reader = PrinterReader(client, SnmpTarget(printers[1].address, printers[1].port))
        with pytest.raises(NotAPrinter, match="no Printer-MIB"):
            await reader.poll()
    finally:
        client.close()


async def test_silent_address_times_out() -> None:
    client = SnmpClient()
    try:
        reader = PrinterReader(client, SnmpTarget(f"{sim_network()}.250", 1161, timeout=0.3, retries=0))
        with pytest.raises(SnmpTimeout):
            await reader.poll()
    finally:
        client.close()


async def test_unresolvable_name_is_a_clear_error() -> None:
    from mqtt_agent.errors import SnmpError

    client = SnmpClient()
    try:
        reader = PrinterReader(client, SnmpTarget("printer.invalid", 161, timeout=0.3, retries=0))
        with pytest.raises(SnmpError, match="cannot resolve"):
            await reader.poll()
    finally:
        client.close()
