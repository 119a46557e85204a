"""Build and sign: a Topology becomes signed zones, parent DS records and the root trust anchor.

Order of work, and where each fault layer hooks in:
  1. unsigned zone data from the plan             <- "zone" faults edit records
  2. keys per signed zone (reused within a run)   <- "keys" faults swap keys, DS or the trust anchor
  3. sign bottom-up, each parent gets its children's DS before it is signed
  4. signed data                                  <- "signed" faults edit the signed zones
  5. server behaviour and network settings        <- "server" / "network" faults
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.DS
import dns.zone

from testbed.build.topology import Topology, ZonePlan
from testbed.clock import LabClock
from testbed.dnssec import Key, SignOptions, generate_key, make_ds, sign_zone
from testbed.errors import ScenarioError
from testbed.scenario.model import OUR_SIGNER, FaultSpec, SigningSpec

SOA_TIMERS = "3600 900 604800 300"     # refresh retry expire minimum: short negative TTL for quick tests
DELEGATION_TTL = 3600


class KeyStore:
    """Keys for one run: made on first use, reused by every scenario of the run so the trust anchor stays put
    (resolvers need a restart only when a scenario really changes the root key)."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, int, str, int], Key] = {}

    def get(self, zone: str, algorithm: int, role: str, index: int = 0) -> Key:
        slot = (zone, algorithm, role, index)
        if slot not in self._keys:
            self._keys[slot] = generate_key(zone, algorithm, role)
        return self._keys[slot]


@dataclass
class ZoneBuild:
    """One zone on its way through the build. Faults edit these fields at their layer."""

    plan: ZonePlan
    unsigned: dns.zone.Zone
    keys: list[Key] = field(default_factory=list)
    ds_override: list[dns.rdtypes.ANY.DS.DS] | None = None   # None: DS computed from the SEP keys
    signed: dns.zone.Zone | None = None
    options: SignOptions | None = None
    presigned: bool = False          # a signed zone file (testbed/build/byo.py): served as it is, never re-signed

    @property
    def name(self) -> str:
        return self.plan.name

    @property
    def origin(self) -> dns.name.Name:
        return dns.name.from_text(self.plan.name)

    @property
    def is_signed(self) -> bool:
        return self.plan.signing.signed

    def sep_keys(self) -> list[Key]:
        return [k for k in self.keys if k.role in ("ksk", "csk")]

    def ds_records(self) -> list[dns.rdtypes.ANY.DS.DS]:
        if self.ds_override is not None:
            return list(self.ds_override)
        if not self.is_signed:
            return []
        return [make_ds(k, d) for k in self.sep_keys() for d in self.plan.signing.ds_digests]

    def zone(self) -> dns.zone.Zone:
        """The zone as it stands now: signed if signing has happened, else unsigned."""
        return self.signed if self.signed is not None else self.unsigned


@dataclass
class BuildContext:
    """Everything the build produces; what faults may change."""

    topology: Topology
    clock: LabClock
    keystore: KeyStore
    zones: dict[str, ZoneBuild]
    trust_anchor_override: list[str] | None = None          # DS texts; None: the root's SEP keys
    trust_anchor_managed: bool = False                      # RFC 5011: resolvers track the anchored zone's keys
    # (name, type) of the scenario's checks: a real server's answers to them are compared with the builtin's
    probes: tuple[tuple[str, str], ...] = ()
    server_behaviour: dict[str, dict[str, Any]] = field(default_factory=dict)   # server -> Behaviour fields
    network: dict[str, dict[str, Any]] = field(default_factory=dict)            # host -> netem/iptables settings

    def zone(self, name: str, where: FaultSpec | None = None) -> ZoneBuild:
        key = name if name.endswith(".") else name + "."
        key = key.lower()
        if key not in self.zones:
            raise ScenarioError(f"no zone {name!r} in this topology",
                                file=where.where.file if where and where.where else None,
                                line=where.where.line if where and where.where else None,
                                fix=f"use one of: {', '.join(self.zones)}")
        return self.zones[key]

    def trust_anchor_ds(self) -> list[str]:
        if self.trust_anchor_override is not None:
            return list(self.trust_anchor_override)
        root = self.zones["."]
        if not root.keys and root.ds_override:      # a root brought signed, keys unknown: its DS set is the anchor
            return [f". IN DS {ds.to_text()}" for ds in root.ds_override]
        return [f". IN DS {make_ds(k, 2).to_text()}" for k in root.sep_keys()]

    def trust_anchor_dnskey(self) -> list[str]:
        return [f". IN DNSKEY {k.dnskey.to_text()}" for k in self.zones["."].sep_keys()]


def zone_file_name(zone: str) -> str:
    """The file a zone is written to, in a lab's server folder or in ``testbed build`` output."""
    return "root.zone" if zone == "." else f"{zone.rstrip('.')}.zone"


def unsigned_zone_text(plan: ZonePlan, topology: Topology, serial: int) -> str:
    """RFC 1035 text of the zone before signing: SOA, NS, addresses of its own name servers, delegations
    with glue, and the records the preset and the scenario add."""
    lines = [f"$ORIGIN {plan.name}",
             f"@ 3600 IN SOA {plan.ns_names[0]} hostmaster.{plan.name if plan.name != '.' else ''} "
             f"{serial} {SOA_TIMERS}"]
    lines += [f"@ {DELEGATION_TTL} IN NS {ns}" for ns in plan.ns_names]
    children = [z for z in topology.zones.values() if z.parent == plan.name]
    child_names = [dns.name.from_text(c.name) for c in children]
    origin = dns.name.from_text(plan.name)
    for ns, server in zip(plan.ns_names, plan.servers, strict=True):
        ns_name = dns.name.from_text(ns)
        # our own servers' addresses are authoritative here unless they sit below a child's cut
        if ns_name.is_subdomain(origin) and not any(ns_name.is_subdomain(c) for c in child_names):
            lines.append(f"{ns} {DELEGATION_TTL} IN A {topology.server_address(server)}")
    for child in children:
        lines += [f"{child.name} {DELEGATION_TTL} IN NS {ns}" for ns in child.ns_names]
        child_origin = dns.name.from_text(child.name)
        for ns, server in zip(child.ns_names, child.servers, strict=True):
            if dns.name.from_text(ns).is_subdomain(child_origin):     # in-bailiwick: glue needed
                lines.append(f"{ns} {DELEGATION_TTL} IN A {topology.server_address(server)}")
    lines += plan.records
    return "\n".join(lines) + "\n"


def parse_zone(text: str, origin: str, source: str = "<zone>") -> dns.zone.Zone:
    try:
        return dns.zone.from_text(text, origin=origin, relativize=False, check_origin=False)
    except dns.exception.SyntaxError as exc:
        raise ScenarioError(f"zone {origin} does not parse: {exc}", file=source,
                            fix="check the record lines given for this zone") from exc


def sign_options(signing: SigningSpec, clock: LabClock) -> SignOptions:
    now = clock.now()
    return SignOptions(inception=now - signing.inception_offset,
                       expiration=now + signing.validity_days * 86400,
                       denial=signing.denial,
                       nsec3_iterations=signing.nsec3.iterations,
                       nsec3_salt=bytes.fromhex(signing.nsec3.salt),
                       nsec3_opt_out=signing.nsec3.opt_out)


def _file_build(plan: ZonePlan, topology: Topology, serial: int, lab_text: str, keystore: KeyStore,
                clock: LabClock) -> ZoneBuild:
    """A zone from the scenario's own file (testbed/build/byo.py): signed, it is served as it is."""
    from testbed.build import byo

    zone, presigned = byo.file_zone(plan, topology, serial, lab_text)
    if not presigned:
        build = ZoneBuild(plan=plan, unsigned=zone, keys=zone_keys(plan, keystore),
                          options=sign_options(plan.signing, clock))
        if plan.ds:
            build.ds_override = byo.scenario_ds(plan)
        return build
    byo.verify_signatures(plan, zone)
    return ZoneBuild(plan=plan, unsigned=zone, signed=zone, ds_override=byo.presigned_ds(plan, zone), presigned=True)


def zone_keys(plan: ZonePlan, keystore: KeyStore) -> list[Key]:
    if not plan.signing.signed:
        return []
    if plan.keys_dir is not None:
        from testbed.dnssec.keyfiles import load_key_folder

        where = plan.where
        return load_key_folder(plan.keys_dir, plan.name, file=where.file if where else None,
                               line=where.line if where else None)
    alg = plan.signing.algorithm
    if plan.signing.keys == "csk":
        return [keystore.get(plan.name, alg, "csk")]
    return [keystore.get(plan.name, alg, "ksk"), keystore.get(plan.name, alg, "zsk")]


def add_ds(parent: dns.zone.Zone, child: str, ds_list: list[dns.rdtypes.ANY.DS.DS]) -> None:
    if not ds_list:
        return
    node = parent.find_node(dns.name.from_text(child), create=True)
    rdataset = node.find_rdataset(dns.rdataclass.IN, dns.rdatatype.DS, create=True)
    rdataset.update_ttl(DELEGATION_TTL)
    for ds in ds_list:
        rdataset.add(ds)


def prepare(topology: Topology, clock: LabClock, keystore: KeyStore, serial: int) -> BuildContext:
    """Steps 1-2: unsigned zones and their keys."""
    zones = {}
    for plan in topology.zones.values():
        text = unsigned_zone_text(plan, topology, serial)
        if plan.file is not None:
            zones[plan.name] = _file_build(plan, topology, serial, text, keystore, clock)
            continue
        build = ZoneBuild(plan=plan, unsigned=parse_zone(text, plan.name))
        build.keys = zone_keys(plan, keystore)
        build.options = sign_options(plan.signing, clock)
        zones[plan.name] = build
    return BuildContext(topology=topology, clock=clock, keystore=keystore, zones=zones)


def sign_all(ctx: BuildContext) -> None:
    """Step 3: every parent gets its children's DS (computed from their keys, or a fault's override), then every
    signed zone is signed. A DS depends only on keys, never on the child's signed data, so order does not matter."""
    for build in ctx.zones.values():
        if build.plan.parent is not None:
            parent = ctx.zones[build.plan.parent]
            add_ds(parent.unsigned, build.name, build.ds_records())
    for build in ctx.zones.values():
        if build.is_signed and build.keys:
            assert build.options is not None
            build.signed = sign_build(build)


def sign_build(build: ZoneBuild) -> dns.zone.Zone:
    """``build``'s unsigned zone signed by its keys and options, with the zone's signer: ours, or a real tool
    (testbed/build/signers.py) whose output is verified before it is used."""
    assert build.options is not None
    if build.plan.signer not in (None, OUR_SIGNER):
        from testbed.build.signers import sign_with_tool

        return sign_with_tool(build.plan.signer, build.unsigned, build.keys, build.options)
    return sign_zone(build.unsigned, build.keys, build.options)
