"""``testbed compose SCENARIO -o DIR``: a self-contained docker compose project that serves one scenario.

The project holds everything: signed zones and server configs, resolver configs, the images' build contexts
(so ``docker-compose up`` builds what is missing), and a ``probe`` service to query from, because the network is
internal and this machine's own address on it is not guaranteed to be routable for a person's dig. The file is
compose format 2.4, which both Debian's docker-compose 1.29 and ``docker compose`` v2 accept with
``internal``, ``ipam`` and static ``ipv4_address``.

Paths inside the containers are fixed (``/lab/...``), unlike the lab's, which are absolute on this machine:
configs are rendered for the container paths and the project's folders are bind-mounted there, so the project
can be moved or copied elsewhere. Network-layer faults of the scenario run in the host's entrypoint (tc, as in
testbed/netfaults.py) and need NET_ADMIN on that one service.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import shlex
from pathlib import Path
from typing import Any

import yaml

from testbed.build.topology import PROBE_HOST, Topology, plan
from testbed.build.zones import BuildContext, KeyStore, zone_file_name
from testbed.clock import LabClock
from testbed.errors import LabError
from testbed.lab.backends.subnets import free_subnet
from testbed.lab.images import image_tag, write_context
from testbed.lab.lab import AUTH_IMAGE
from testbed.lab.netfaults import NetFault, fault_commands
from testbed.resolvers import ResolverContext, get_adapter
from testbed.resolvers.base import write_rendered
from testbed.scenario.model import Scenario
from testbed.timeline.build import build_scenario

LAB = Path("/lab")                   # where the project's folders appear inside every container
GATEWAY_HOST = 254                   # Docker puts this machine's bridge address here, off every lab host
PROBE_SERVICE = "probe"
PROBE_IMAGE = "unbound"              # has dig (bind9-dnsutils); see compose/unbound/Dockerfile
RESOLV_CONF = "# lab hosts never use the system resolver\nnameserver 127.0.0.1\noptions timeout:1 attempts:1\n"
LIMITS: dict[str, Any] = {"mem_limit": "256m", "pids_limit": 256, "init": True,
                          "sysctls": {"net.ipv6.conf.all.disable_ipv6": 1, "net.ipv6.conf.default.disable_ipv6": 1}}


def _service(image_key: str, address: str, command: list[str], volumes: list[str], **extra: Any) -> dict[str, Any]:
    return {"image": image_tag(image_key), "build": {"context": f"./images/{image_key}"},
            "command": command, "volumes": [*volumes, "./resolv.conf:/etc/resolv.conf:ro"],
            "networks": {"lab": {"ipv4_address": address}}, **copy.deepcopy(LIMITS), **extra}


def _with_netfaults(service: dict[str, Any], host: str, settings: dict[str, Any], out: Path,
                    written: list[str]) -> None:
    """Run the host's network faults before its command: an entrypoint script, and NET_ADMIN for tc."""
    fault = NetFault(**settings)
    lines = ["#!/bin/sh", f"# network faults of {host} (testbed/netfaults.py), then the host's command", "set -e"]
    lines += [shlex.join(argv) for _, argv in fault_commands(fault)]
    lines.append('exec "$@"')
    script = out / "netfaults" / f"{host}.sh"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text("\n".join(lines) + "\n")
    written.append(str(script))
    service["volumes"].append(f"./netfaults/{host}.sh:{LAB}/netfaults/{host}.sh:ro")
    service["entrypoint"] = ["/bin/sh", f"{LAB}/netfaults/{host}.sh"]
    service["cap_add"] = ["NET_ADMIN"]


def _write_server(build: BuildContext, topology: Topology, name: str, out: Path) -> list[str]:
    """The builtin server's folder, in the same layout the lab writes (testbed/lab.py)."""
    folder = out / "servers" / name
    folder.mkdir(parents=True, exist_ok=True)
    written, zones = [], {}
    for zone in topology.servers[name].zones:
        path = folder / zone_file_name(zone)
        build.zones[zone].write_file(path)
        zones[zone] = path.name
        written.append(str(path))
    listen = [{"address": topology.server_address(name), "port": 53, "zones": list(topology.servers[name].zones),
               "behaviour": build.server_behaviour.get(name, {})}]
    (folder / "config.json").write_text(json.dumps({"listen": listen, "zones": zones}, indent=1) + "\n")
    written.append(str(folder / "config.json"))
    return written


def compose_document(topology: Topology, resolvers: list[str], network_faults: dict[str, dict[str, Any]],
                     out: Path, written: list[str]) -> dict[str, Any]:
    subnet = topology.subnet
    services: dict[str, Any] = {}
    for name in topology.servers:
        if topology.servers[name].software != "builtin":
            raise LabError(f"testbed compose exports the builtin server only; {name} runs "
                           f"{topology.servers[name].software}",
                           fix="export the scenario without 'server:' (or --auth), or run it with testbed run")
        services[name] = _service(AUTH_IMAGE, topology.server_address(name),
                                  ["python3", "-m", "testbed.auth", f"{LAB}/servers/{name}/config.json"],
                                  [f"./servers/{name}:{LAB}/servers/{name}:ro"])
    for name in resolvers:
        adapter = get_adapter(name)
        ctx = _resolver_context(topology, name, ())
        services[name] = _service(adapter.image, topology.resolver_address(name), adapter.command(ctx),
                                  [f"./resolvers/{name}:{LAB}/resolvers/{name}"],
                                  depends_on=sorted(topology.servers))
    for host, settings in network_faults.items():
        if host in services and settings:
            _with_netfaults(services[host], host, settings, out, written)
    services[PROBE_SERVICE] = _service(PROBE_IMAGE, topology.probe_address, ["sleep", "infinity"], [],
                                       depends_on=list(resolvers))
    return {
        "version": "2.4",
        "services": services,
        "networks": {"lab": {
            "driver": "bridge",
            "internal": True,          # no NAT, no way out: the lab's root servers are the only root
            "ipam": {"config": [{"subnet": str(subnet), "gateway": str(subnet.network_address + GATEWAY_HOST)}]},
        }},
    }


def _resolver_context(topology: Topology, name: str, anchor: tuple[str, ...]) -> ResolverContext:
    return ResolverContext(address=topology.resolver_address(name), subnet=str(topology.subnet),
                           folder=LAB / "resolvers" / name, root_hints=tuple(topology.root_hints),
                           trust_anchor_ds=anchor)


def write_compose(scenario: Scenario, out: Path, resolvers: list[str],
                  subnet: ipaddress.IPv4Network | None = None) -> list[str]:
    """Sign the scenario (faults applied) and write a runnable compose project to ``out``; returns the files.
    ``subnet`` None: the first lab subnet no route and no running lab uses on this host (a fixed one collided with
    whatever docker network already held it, and `up` failed with "Pool overlaps")."""
    topology = plan(scenario, resolvers, subnet or free_subnet())
    if PROBE_HOST >= GATEWAY_HOST:
        raise AssertionError("the probe address must not be the gateway")
    build = build_scenario(scenario, topology, LabClock(), KeyStore(), serial=1)
    out.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    for name in topology.servers:
        written += _write_server(build, topology, name, out)
    anchor = tuple(build.trust_anchor_ds())
    for name in resolvers:
        adapter = get_adapter(name)
        ctx = _resolver_context(topology, name, anchor)
        folder = out / "resolvers" / name
        files = adapter.render(ctx)
        write_rendered(adapter, folder, files)          # an rndc key as a 0600 file
        written += [str(folder / rel) for rel in files]
    (out / "trust-anchor.ds").write_text("\n".join(anchor) + "\n")
    (out / "resolv.conf").write_text(RESOLV_CONF)
    written += [str(out / "trust-anchor.ds"), str(out / "resolv.conf")]
    for key in sorted({AUTH_IMAGE, PROBE_IMAGE, *(get_adapter(r).image for r in resolvers)}):
        write_context(key, out / "images" / key)
        written.append(str(out / "images" / key))
    doc = compose_document(topology, resolvers, dict(build.network), out, written)
    (out / "docker-compose.yml").write_text(_header(scenario, topology, resolvers)
                                            + yaml.safe_dump(doc, sort_keys=False, width=120))
    written.append(str(out / "docker-compose.yml"))
    return written


def _header(scenario: Scenario, topology: Topology, resolvers: list[str]) -> str:
    first = resolvers[0] if resolvers else None
    query = f"{scenario.checks[0].qname} {scenario.checks[0].qtype}" if scenario.checks else "www.example.jp. A"
    lines = [f"# dnssec-testbed: scenario {scenario.name}" + (f" ({scenario.file})" if scenario.file else ""),
             "# Start:  docker-compose up -d        (or: docker compose up -d)",
             "# Query from inside the lab network (it is internal, with no way out):"]
    if first:
        lines.append(f"#   docker-compose exec {PROBE_SERVICE} dig +dnssec @{topology.resolver_address(first)} {query}")
    for name in resolvers:
        lines.append(f"#   resolver {name}: {topology.resolver_address(name)}")
    for name in topology.servers:
        lines.append(f"#   server {name}: {topology.server_address(name)} "
                     f"({', '.join(topology.servers[name].zones)})")
    lines += ["# Stop:   docker-compose down -v", ""]
    return "\n".join(lines) + "\n"
