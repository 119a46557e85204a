"""Serve a built scenario in this process: the builtin server on loopback addresses, one per lab server.

The topology is planned on ``LOCAL_SUBNET`` (127.53.0.0/24) so that glue and root hints already name loopback
addresses; every address listens on a free port and the fetch maps address to port. No namespace, container or
root is needed: this is what unit tests and ``testbed explain`` use when the scenario needs nothing but the
builtin server (no network faults, no other server software).
"""

from __future__ import annotations

import asyncio
import ipaddress
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from testbed.auth.behaviour import Behaviour
from testbed.auth.config import AuthConfig, Endpoint
from testbed.auth.server import AuthServer
from testbed.auth.zoneset import ZoneSet
from testbed.build.zones import BuildContext
from testbed.explain.fetch import memo, udp_fetcher
from testbed.explain.walk import Fetch

LOCAL_SUBNET = ipaddress.IPv4Network("127.53.0.0/24")


@dataclass
class Served:
    fetch: Fetch
    ports: dict[str, int]


def can_serve_locally(ctx: BuildContext) -> str | None:
    """None when this build can be served in-process as the lab would serve it; else why not."""
    if any(ctx.network.values()):
        return "it has network faults, which need the lab's network"
    software = {s.software for s in ctx.topology.servers.values()}
    if software - {"builtin"}:
        return f"it uses server software {', '.join(sorted(software - {'builtin'}))}"
    if not ctx.topology.subnet.subnet_of(ipaddress.IPv4Network("127.0.0.0/8")):
        return f"it was planned on {ctx.topology.subnet}, not on a loopback subnet"
    return None


@contextmanager
def serving(ctx: BuildContext) -> Iterator[Served]:
    """Serve ``ctx``'s zones, with its server-behaviour faults, until the block ends."""
    endpoints = []
    for name, plan in ctx.topology.servers.items():
        zones = ZoneSet({zone: ctx.zone_for(name, zone) for zone in plan.zones})    # a frozen secondary's own
        behaviour = Behaviour.from_mapping(ctx.server_behaviour.get(name) or {})
        endpoints.append(Endpoint(ctx.topology.server_address(name), 0, zones, behaviour))
    loop = asyncio.new_event_loop()
    server = AuthServer(AuthConfig(tuple(endpoints)))
    ready = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.start())
        except BaseException as exc:        # handed to the caller's thread
            failure.append(exc)
            ready.set()
            return
        ready.set()
        loop.run_forever()
        loop.run_until_complete(server.close())
        # TCP handlers still waiting on an idle connection: end them here rather than leave them to the collector
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))

    thread = threading.Thread(target=run, name="explain-auth", daemon=True)
    thread.start()
    ready.wait()
    if failure:
        thread.join()
        loop.close()
        raise failure[0]
    try:
        ports = dict(server.addresses)
        yield Served(memo(udp_fetcher(ports)), ports)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
