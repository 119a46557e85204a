"""Plan: a scenario plus a preset becomes a Topology: which zones exist, who serves them, which addresses.

Pure data, no network. The lab's subnet is an input so the same plan can be laid on any lab's address range.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from pathlib import Path

from testbed.build.zonefile_source import file_name_servers
from testbed.errors import ScenarioError
from testbed.scenario.model import BUILTIN_SERVER, Scenario, SigningSpec, Where, ZoneSpec

DEFAULT_SUBNET = ipaddress.IPv4Network("10.53.0.0/24")
PROBE_HOST = 250          # the probe (our query client) always sits at .250
FIRST_RESOLVER_HOST = 101
FIRST_EXTRA_SERVER_HOST = 20


@dataclass(frozen=True)
class ServerPlan:
    """One authoritative server host. ``host`` is the last octet of its address in the lab subnet."""

    name: str
    host: int
    zones: tuple[str, ...]
    software: str = "builtin"


@dataclass(frozen=True)
class ResolverPlan:
    name: str
    host: int


@dataclass
class ZonePlan:
    """One zone to build: its records before signing, its policy and the servers that carry it."""

    name: str
    parent: str | None
    records: list[str]
    signing: SigningSpec
    servers: tuple[str, ...]
    ns_names: tuple[str, ...] = ()
    # bring your own (ZoneSpec's fields of the same names): testbed/build/byo.py reads them
    file: Path | None = None
    ds: tuple[str, ...] = ()
    keys_dir: Path | None = None
    signer: str | None = None
    where: Where | None = None
    delegations: int = 0                # generated delegations (``delegations: N`` in the scenario)


@dataclass
class Topology:
    subnet: ipaddress.IPv4Network
    zones: dict[str, ZonePlan]          # root first, parents before children
    servers: dict[str, ServerPlan]
    resolvers: dict[str, ResolverPlan] = field(default_factory=dict)

    def address(self, host: int) -> str:
        return str(self.subnet.network_address + host)

    def server_address(self, server: str) -> str:
        return self.address(self.servers[server].host)

    def resolver_address(self, resolver: str) -> str:
        return self.address(self.resolvers[resolver].host)

    @property
    def probe_address(self) -> str:
        return self.address(PROBE_HOST)

    @property
    def root_hints(self) -> list[tuple[str, str]]:
        """(name server name, address) pairs for the root, in the order resolvers should learn them."""
        root = self.zones["."]
        return [(ns, self.server_address(srv)) for ns, srv in zip(root.ns_names, root.servers, strict=True)]

    def shape(self) -> tuple:
        """What a running lab must have for this topology: hosts and their addresses. Zone data is not part of it."""
        return (str(self.subnet),
                tuple(sorted((s.name, s.host, s.software) for s in self.servers.values())),
                tuple(sorted((r.name, r.host) for r in self.resolvers.values())))


# ---- the `jp` preset -------------------------------------------------------------------------------------------
# root (2 servers) -> jp. (2 servers) -> example.jp. (signed), insecure.jp. (unsigned), co.jp. -> example.co.jp.
# Modelled on JP's registry: a TLD with attribute-type second-level zones (co.jp) under it.

_CHILD_RECORDS = (
    "www 300 IN A 192.0.2.80",
    "www 300 IN AAAA 2001:db8::80",
    "@ 300 IN MX 10 mail",
    "mail 300 IN A 192.0.2.25",
    "txt 300 IN TXT \"dnssec-testbed\"",
    "*.wild 300 IN A 192.0.2.99",
    "alias 300 IN CNAME www",
)

_PRESET_JP: dict[str, dict] = {
    ".": {"servers": ("root-a", "root-b"), "records": ()},
    "jp.": {"servers": ("jp-a", "jp-b"), "records": ()},
    "co.jp.": {"servers": ("cojp",), "records": ()},
    "example.jp.": {"servers": ("child",), "records": _CHILD_RECORDS},
    "insecure.jp.": {"servers": ("child",), "records": _CHILD_RECORDS, "signed": False},
    "example.co.jp.": {"servers": ("child",), "records": _CHILD_RECORDS},
}
_PRESET_JP_HOSTS = {"root-a": 1, "root-b": 2, "jp-a": 3, "jp-b": 4, "cojp": 5, "child": 6}

PRESETS: dict[str, tuple[dict[str, dict], dict[str, int]]] = {"jp": (_PRESET_JP, _PRESET_JP_HOSTS)}


def parent_of(zone: str, existing: set[str] | dict) -> str | None:
    """The closest enclosing zone of ``zone`` among ``existing`` (None for the root)."""
    if zone == ".":
        return None
    labels = zone.rstrip(".").split(".")
    for i in range(1, len(labels)):
        candidate = ".".join(labels[i:]) + "."
        if candidate in existing:
            return candidate
    return "."


def ns_names_for(zone: str, count: int) -> tuple[str, ...]:
    """In-zone name server names (``ns1.<zone>``), except the root's, which live under ``root-servers.test.``."""
    if zone == ".":
        return tuple(f"{chr(ord('a') + i)}.root-servers.test." for i in range(count))
    return tuple(f"ns{i + 1}.{zone}" for i in range(count))


def plan(scenario: Scenario, resolvers: list[str], subnet: ipaddress.IPv4Network = DEFAULT_SUBNET) -> Topology:
    """Lay the scenario's preset plus its zone changes onto ``subnet``."""
    if scenario.topology not in PRESETS:
        raise ScenarioError(f"unknown topology {scenario.topology!r}", file=scenario.file,
                            fix=f"use one of: {', '.join(sorted(PRESETS))}")
    preset_zones, preset_hosts = PRESETS[scenario.topology]
    hosts = dict(preset_hosts)
    zones: dict[str, ZonePlan] = {}
    for name, spec in preset_zones.items():
        zones[name] = ZonePlan(name=name, parent=None, records=list(spec["records"]),
                               signing=SigningSpec(signed=spec.get("signed", True)), servers=spec["servers"])
    for zspec in scenario.zones:
        _apply_zone_spec(zones, hosts, zspec)
    software = _server_software(zones, hosts, scenario)

    ordered = sorted(zones.values(), key=lambda z: (0 if z.name == "." else len(z.name.rstrip(".").split("."))))
    names = {z.name for z in ordered}
    for z in ordered:
        z.parent = parent_of(z.name, names)
        z.ns_names = ns_names_for(z.name, len(z.servers))
        if z.file is not None:
            z.ns_names, z.servers = file_name_servers(z.file, z.name, z.servers, z.where)

    servers: dict[str, ServerPlan] = {}
    for name, host in hosts.items():
        served = tuple(z.name for z in ordered if name in z.servers)
        if served:
            servers[name] = ServerPlan(name=name, host=host, zones=served, software=software.get(name, BUILTIN_SERVER))
    resolver_plans = {r: ResolverPlan(r, FIRST_RESOLVER_HOST + i) for i, r in enumerate(resolvers)}
    return Topology(subnet=subnet, zones={z.name: z for z in ordered}, servers=servers, resolvers=resolver_plans)


def _server_software(zones: dict[str, ZonePlan], hosts: dict[str, int], scenario: Scenario) -> dict[str, str]:
    """Which software each server host runs: its zones' choice (``server:`` on the zone, else the scenario's, else
    the builtin server). One host runs one program, so a zone whose choice differs from the other zones of its
    host moves to a host of its own, ``<host>-<software>`` (a mixed hierarchy on the preset's shared hosts)."""
    chosen = {z.name: z.server for z in scenario.zones if z.server}
    by_host: dict[str, str] = {}
    # zones that name no software of their own first: the host keeps the default, the zones that chose move
    for zone in sorted(zones.values(), key=lambda z: (z.name in chosen, len(z.name.rstrip(".").split(".")), z.name)):
        want = chosen.get(zone.name) or scenario.server or BUILTIN_SERVER
        servers = []
        for server in zone.servers:
            if by_host.setdefault(server, want) != want:
                server = f"{server}-{want}"
                if server not in hosts:
                    hosts[server] = FIRST_EXTRA_SERVER_HOST + len([h for h in hosts.values()
                                                                   if h >= FIRST_EXTRA_SERVER_HOST])
                by_host[server] = want
            servers.append(server)
        zone.servers = tuple(servers)
    return by_host


def _apply_zone_spec(zones: dict[str, ZonePlan], hosts: dict[str, int], zspec: ZoneSpec) -> None:
    for server in zspec.servers:
        if server not in hosts:
            hosts[server] = FIRST_EXTRA_SERVER_HOST + len([h for h in hosts.values() if h >= FIRST_EXTRA_SERVER_HOST])
    existing = zones.get(zspec.name)
    if existing is None:
        zones[zspec.name] = ZonePlan(name=zspec.name, parent=None, records=list(zspec.records),
                                     signing=zspec.signing or SigningSpec(), servers=zspec.servers or ("child",),
                                     delegations=zspec.delegations, file=zspec.file, ds=zspec.ds,
                                     keys_dir=zspec.keys_dir, signer=zspec.signer, where=zspec.where)
        return
    # a zone file replaces the preset's records: the file is the zone
    replaced = zspec.replace_records or zspec.file is not None
    records = list(zspec.records) if replaced else existing.records + list(zspec.records)
    zones[zspec.name] = replace(existing, records=records, signing=zspec.signing or existing.signing,
                                servers=zspec.servers or existing.servers,
                                delegations=zspec.delegations or existing.delegations, file=zspec.file, ds=zspec.ds,
                                keys_dir=zspec.keys_dir, signer=zspec.signer, where=zspec.where)
