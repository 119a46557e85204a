"""The delay_ms behaviour: answers leave late by the asked amount, over UDP and TCP."""

from __future__ import annotations

import asyncio
import time

import dns.message
import dns.query

from testbed.auth.behaviour import Behaviour
from testbed.auth.config import AuthConfig, Endpoint
from testbed.auth.samples import signed_pair
from testbed.auth.server import AuthServer
from testbed.auth.zoneset import ZoneSet


def test_delay_ms_holds_answers_back() -> None:
    async def scenario() -> tuple[float, float, float]:
        parent, _ = signed_pair(int(time.time()) - 3600)
        zones = ZoneSet({"example.": parent})
        origin = "example."
        config = AuthConfig(endpoints=(Endpoint("127.0.0.1", 0, zones, Behaviour(delay_ms=300)),))
        async with AuthServer(config) as server:
            (address, port), *_ = server.addresses
            query = dns.message.make_query(origin, "SOA")
            loop = asyncio.get_running_loop()
            t0 = time.monotonic()
            await loop.run_in_executor(None, lambda: dns.query.udp(query, address, port=port, timeout=5))
            udp = time.monotonic() - t0
            t0 = time.monotonic()
            await loop.run_in_executor(None, lambda: dns.query.tcp(query, address, port=port, timeout=5))
            tcp = time.monotonic() - t0
            server.load(AuthConfig(endpoints=(Endpoint("127.0.0.1", 0, zones, Behaviour()),)))
            t0 = time.monotonic()
            await loop.run_in_executor(None, lambda: dns.query.udp(query, address, port=port, timeout=5))
            return udp, tcp, time.monotonic() - t0

    udp, tcp, undelayed = asyncio.run(scenario())
    assert udp >= 0.3 and tcp >= 0.3
    assert undelayed < 0.3
