"""mDNS end-to-end check, run by test_zero_sweep.py inside a fresh network namespace.

Announces fake printers with python-zeroconf on 127.0.0.1, runs an MdnsWatcher beside them and
prints, as JSON, every on_address call it received. Needs a loopback with MULTICAST set, which
the host's loopback lacks, hence the namespace: the multicast never leaves it.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import time

from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from mqtt_agent.zeroconf_watch import MdnsService, MdnsWatcher

IPP, IPPS, PDL, LPD = (
    "_ipp._tcp.local.",
    "_ipps._tcp.local.",
    "_pdl-datastream._tcp.local.",
    "_printer._tcp.local.",
)
OFFICE, LOBBY, GHOST, BOGUS = "127.0.0.11", "127.0.0.12", "127.0.0.13", "0.0.0.0"
OFFICE_TXT = {
    "txtvers": "1",
    "ty": "HP Color LaserJet Pro M454dw",
    "product": "(HP Color LaserJet Pro M454dw)",
    "usb_MFG": "HP",
    "usb_MDL": "Color LaserJet Pro M454dw",
    "note": "2nd floor",
    "adminurl": "http://npi-office.local./",
    "UUID": "564e4233-5231-3233-3435-a08cfd123456",
    "Color": "T",
    "rp": "ipp/print",
}


def txt_string(raw: bytes) -> bytes:
    return bytes([len(raw)]) + raw


# A TXT record with invalid UTF-8, a control character, a key without a value, an empty key and
# a last length byte that runs past the end of the record.
LOBBY_TXT = (
    txt_string(b"ty=Lobby \xff\xfeJet")
    + txt_string(b"note=a\x07b")
    + txt_string(b"Duplex")
    + txt_string(b"=nokey")
    + b"\x30usb_MDL=trunc"
)


def info(
    service_type: str, instance: str, address: str | None, port: int, txt: object, host: str
) -> AsyncServiceInfo:
    return AsyncServiceInfo(
        service_type,
        f"{instance}.{service_type}",
        addresses=[socket.inet_aton(address)] if address else [],
        port=port,
        properties=txt,  # type: ignore[arg-type]
        server=host,
    )


def describe(address: str, service: MdnsService) -> dict[str, object]:
    return {
        "address": address,
        "type": service.service_type,
        "instance": service.instance,
        "host": service.host,
        "addresses": list(service.addresses),
        "port": service.port,
        "properties": dict(service.properties),
        "make_and_model": service.make_and_model,
        "t": round(time.monotonic() - START, 2),
    }


START = time.monotonic()


async def wait_for(predicate: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        await asyncio.sleep(0.05)
    return False


async def main() -> int:
    events: list[dict[str, object]] = []
    result: dict[str, object] = {"events": events}

    async def on_address(address: str, service: MdnsService) -> None:
        events.append(describe(address, service))
        if service.instance == "Office Laser":
            raise RuntimeError("a failing callback must not stop the watcher")

    responder = AsyncZeroconf(interfaces=["127.0.0.1"])
    office = [
        info(IPP, "Office Laser", OFFICE, 631, OFFICE_TXT, "npi-office.local."),
        info(PDL, "Office Laser", OFFICE, 9100, {"ty": "HP Color LaserJet Pro M454dw"}, "npi-office.local."),
        info(IPPS, "Office Laser", OFFICE, 631, OFFICE_TXT, "npi-office.local."),
        info(IPP, "Ghost", None, 631, {"ty": "No Address"}, "ghost.local."),
        info(IPP, "Bogus", BOGUS, 631, {"ty": "Unspecified Address"}, "bogus.local."),
    ]
    lobby = info(LPD, "Lobby Jet", LOBBY, 515, LOBBY_TXT, "lobby-jet.local.")
    watcher = MdnsWatcher(on_address, interfaces=["127.0.0.1"], resolve_timeout=1.5)
    try:
        # Registered before the watcher starts (found by its queries) ...
        announced = await asyncio.gather(*(responder.async_register_service(i) for i in office))
        await asyncio.gather(*announced)
        result["started"] = await watcher.start()
        # ... and after (found from the announcement).
        await (await responder.async_register_service(lobby))
        result["found_both"] = await wait_for(lambda: {OFFICE, LOBBY} <= watcher.addresses, 10)
        await asyncio.sleep(2.0)  # the ghost's resolution times out; late duplicates would show
        result["addresses"] = sorted(watcher.addresses)
        result["first_round"] = len(events)

        # Goodbye, then announce again: a new appearance is reported again.
        await responder.async_unregister_service(lobby)
        result["lobby_gone"] = await wait_for(lambda: LOBBY not in watcher.addresses, 5)
        await (await responder.async_register_service(lobby))
        result["lobby_back"] = await wait_for(lambda: sum(e["address"] == LOBBY for e in events) >= 2, 10)
        # One type of the office printer going away leaves it announced: no new report.
        await responder.async_unregister_service(office[1])
        await asyncio.sleep(1.0)
        result["office_still"] = OFFICE in watcher.addresses
    finally:
        await watcher.stop()
        await responder.async_close()
    result["stopped"] = not watcher.running
    # An interface that does not exist: start() says so and logs, it does not raise.
    broken = MdnsWatcher(on_address, interfaces=["192.0.2.77"], retry_interval=0.2)
    result["bad_interface_started"] = await broken.start()
    await asyncio.sleep(0.5)  # a retry or two, quietly
    await broken.stop()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
