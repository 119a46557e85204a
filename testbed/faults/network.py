"""NET group, network side: what the path does to the answers of a zone's servers (fault-catalog.md 4.9).

Faults act on what a server sends, inside its own namespace or container (testbed/netfaults.py), so the
resolver sees a slow, lossy, dead or fragment-losing path exactly as it would in the field. How the servers
themselves misbehave (truncation, refused TCP, FORMERR to EDNS, ...) is in transport.py, which targets servers
the same way (``targets``).
"""

from __future__ import annotations

from typing import Any

from testbed.build.zones import BuildContext
from testbed.errors import ScenarioError
from testbed.faults.registry import fault, param
from testbed.scenario.model import Expectation

TARGET_PARAMS = {"zone": "every server of this zone is affected, e.g. jp.",
                 "server": "one server host instead, e.g. jp-a (see `testbed build` servers.json)"}


def targets(ctx: BuildContext, params: dict[str, Any]) -> list[str]:
    if "server" in params:
        server = str(params["server"])
        if server not in ctx.topology.servers:
            raise ScenarioError(f"no server {server!r} in this topology",
                                fix=f"use one of: {', '.join(ctx.topology.servers)}")
        return [server]
    if "zone" in params:
        return list(ctx.zone(str(params["zone"])).plan.servers)
    raise ScenarioError("a network fault needs 'zone' or 'server'", fix="add zone: jp. (or server: jp-a)")


def _set(ctx: BuildContext, params: dict[str, Any], **settings: Any) -> None:
    for server in targets(ctx, params):
        ctx.network.setdefault(server, {}).update(settings)


@fault("server-latency", group="network", layer="server", reference="RFC 1035 section 7.2 (resolver timeouts)",
       summary="the zone's servers answer after an added delay", expect=Expectation("secure"),
       params={**TARGET_PARAMS,
               "delay_ms": param("added delay in milliseconds (default 200)", "int", low=0, high=60000)})
def server_latency(ctx: BuildContext, params: dict[str, Any]) -> None:
    # The server holds its answers back itself rather than through tc netem: the same latency on every kernel
    # (netem is a module many VM kernels lack) and on both backends.
    for server in targets(ctx, params):
        ctx.server_behaviour.setdefault(server, {})["delay_ms"] = int(params.get("delay_ms", 200))


@fault("server-unreachable", group="network", layer="network", reference="RFC 4035 section 5; RFC 8914 EDE 22",
       summary="the zone's servers are cut off: their link is down", expect=Expectation("servfail", ede=(22, 23)),
       params=TARGET_PARAMS)
def server_unreachable(ctx: BuildContext, params: dict[str, Any]) -> None:
    _set(ctx, params, down=True)


@fault("server-packet-loss", group="network", layer="network", reference="RFC 1035 section 7.2",
       summary="the zone's servers lose a share of their answers", expect=Expectation("secure"),
       params={**TARGET_PARAMS,
               "loss_pct": param("share of answers lost, 0-100 (default 30)", "number", low=0, high=100)})
def server_packet_loss(ctx: BuildContext, params: dict[str, Any]) -> None:
    _set(ctx, params, loss_pct=float(params.get("loss_pct", 30)))


@fault("udp-size-cap", group="network", layer="network", reference="RFC 6891 section 6.2.5; RFC 7766 section 5",
       summary="UDP answers larger than a size never arrive (lost fragments); TCP still works",
       expect=Expectation("secure"), cases=("NET-03",),
       params={**TARGET_PARAMS,
               "udp_max": param("largest UDP DNS message that gets through, bytes (default 512)", "int",
                                             low=12, high=65535)})
def udp_size_cap(ctx: BuildContext, params: dict[str, Any]) -> None:
    _set(ctx, params, udp_max=int(params.get("udp_max", 512)))
