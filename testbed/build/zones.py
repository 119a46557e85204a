"""Build and sign: a Topology becomes signed zones, parent DS records and the root trust anchor.

Order of work, and where each fault layer hooks in:
  1. unsigned zone data from the plan             <- "zone" faults edit records
  2. keys per signed zone (reused within a run)   <- "keys" faults swap keys, DS or the trust anchor
  3. sign bottom-up, each parent gets its children's DS before it is signed
  4. signed data                                  <- "signed" faults edit the signed zones
  5. server behaviour and network settings        <- "server" / "network" faults
"""

from __future__ import annotations

import io
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.DS
import dns.zone

from testbed.build.generated import delegation_lines
from testbed.build.topology import Topology, ZonePlan
from testbed.clock import LabClock
from testbed.dnssec import Key, SignOptions, generate_key, make_ds, sign_zone
from testbed.dnssec.zonefile import sign_zone_text
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


class ZoneBuild:
    """One zone on its way through the build. Faults edit these fields at their layer.

    The zone data lives as text until something asks for it as a dnspython zone (``unsigned``, ``signed``,
    ``zone()``): a registry zone with a million delegations is signed text to text by our signer (one path for
    labs, ``testbed build`` and ``testbed sign``) and written once, without ever becoming a million dnspython
    nodes. Once a fault or a timeline action takes the dnspython zone, that object is the zone from then on (it may
    have been changed in place), and the text is rendered from it when needed.
    """

    def __init__(self, plan: ZonePlan, unsigned: dns.zone.Zone | None = None, *, unsigned_text: str | None = None,
                 keys: list[Key] | None = None, ds_override: list[dns.rdtypes.ANY.DS.DS] | None = None,
                 signed: dns.zone.Zone | None = None, options: SignOptions | None = None,
                 presigned: bool = False) -> None:
        if (unsigned is None) == (unsigned_text is None):
            raise ValueError("give the unsigned zone either as a dnspython zone or as text")
        self.plan = plan
        self._unsigned = unsigned
        self._unsigned_text = unsigned_text
        self._signed = signed
        self._signed_text: str | None = None
        self.keys: list[Key] = list(keys or [])
        self.ds_override = ds_override          # None: DS computed from the SEP keys
        self.options = options
        # (first file written, the text it holds, its identity): the identity tells whether another build has
        # since been renamed over that path (a zone frozen on one server keeps this build while the others move on)
        self._written: tuple[Path, str, tuple[int, int, int, int]] | None = None
        self.presigned = presigned      # a signed zone file (testbed/build/byo.py): served as it is, never re-signed

    # -- the data, as dnspython zones (for faults and timelines) -------------------------------------------------
    @property
    def unsigned(self) -> dns.zone.Zone:
        if self._unsigned is None:
            assert self._unsigned_text is not None
            self._unsigned = parse_zone(self._unsigned_text, self.plan.name)
            self._unsigned_text = None
        return self._unsigned

    @unsigned.setter
    def unsigned(self, zone: dns.zone.Zone) -> None:
        self._unsigned, self._unsigned_text = zone, None

    @property
    def signed(self) -> dns.zone.Zone | None:
        if self._signed is None and self._signed_text is not None:
            self._signed = parse_zone(self._signed_text, self.plan.name, "<signed zone>")
            self._signed_text = None
        return self._signed

    @signed.setter
    def signed(self, zone: dns.zone.Zone | None) -> None:
        self._signed, self._signed_text = zone, None

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
        signed = self.signed
        return signed if signed is not None else self.unsigned

    # -- the data, as text (signing, writing, serving) -----------------------------------------------------------
    @property
    def has_signed(self) -> bool:
        return self._signed is not None or self._signed_text is not None

    @property
    def is_text(self) -> bool:
        """Whether the zone is still text: nothing has taken it as a dnspython zone (the registry-scale path)."""
        return self._unsigned is None and self._signed is None

    def add_records(self, lines: list[str]) -> None:
        """Add records (absolute owner names) to the unsigned zone, as text while it is text."""
        if self._unsigned_text is not None:
            self._unsigned_text += "".join(line + "\n" for line in lines)
            return
        text = "\n".join(lines)
        for name, node in dns.zone.from_text(text, origin=self.plan.name, relativize=False,
                                             check_origin=False).nodes.items():
            target = self.unsigned.find_node(name, create=True)
            for rdataset in node.rdatasets:
                found = target.find_rdataset(rdataset.rdclass, rdataset.rdtype, rdataset.covers, create=True)
                found.update_ttl(rdataset.ttl)
                for rdata in rdataset:
                    found.add(rdata)

    def add_ds(self, child: str, ds_list: list[dns.rdtypes.ANY.DS.DS], ttl: int | None = None) -> None:
        """Put a child's DS records into this (parent) zone before signing, at ``DELEGATION_TTL``; ``ttl`` then sets
        the TTL of the child's whole DS RRset (a timeline's DS TTL). As text lines while the zone is text."""
        if self._unsigned_text is not None and ttl is None:
            self.add_records([f"{child} {DELEGATION_TTL} IN DS {ds.to_text()}" for ds in ds_list])
            return
        add_ds(self.unsigned, child, ds_list)
        rdataset = self.unsigned.get_rdataset(dns.name.from_text(child), dns.rdatatype.DS)
        if ttl is not None and rdataset is not None:
            rdataset.ttl = ttl

    def sign(self) -> None:
        """Sign with the zone's keys and options: text to text while the unsigned zone is text (our fast path),
        ``sign_zone`` on the dnspython zone once a fault has taken it. Both are our signer's one engine."""
        assert self.options is not None
        if self.plan.signer not in (None, OUR_SIGNER):
            # a real tool (testbed/build/signers.py), its output verified before it is used
            from testbed.build.signers import sign_with_tool

            self.signed = sign_with_tool(self.plan.signer, self.unsigned, self.keys, self.options)
            return
        if self._unsigned_text is not None:
            self._signed_text, _ = sign_zone_text(self._unsigned_text, self.plan.name, self.keys, self.options,
                                                  source=f"zone {self.plan.name}")
            self._signed = None
        else:
            self.signed = sign_zone(self.unsigned, self.keys, self.options)

    def text(self) -> str:
        """The zone file text as it stands now (signed if signing has happened), absolute owner names."""
        if self._signed_text is not None:
            return self._signed_text
        if self._signed is not None:
            return self._signed.to_text(relativize=False, want_origin=False)
        if self._unsigned_text is not None:
            return self._unsigned_text
        assert self._unsigned is not None
        return self._unsigned.to_text(relativize=False, want_origin=False)

    def soa_serial(self) -> int | None:
        """The apex SOA serial as served, without parsing the whole zone."""
        if self._signed is not None or (self._signed_text is None and self._unsigned is not None):
            soa = self.zone().get_rdataset(self.origin, dns.rdatatype.SOA)
            return soa[0].serial if soa else None
        for line in io.StringIO(self.text()):   # lazily: the SOA comes first, the zone may have millions of lines
            fields = line.split()
            if "SOA" in fields[:4] and not line.startswith(("$", ";", " ", "\t")):
                at = fields.index("SOA")
                if fields[0] in ("@", self.plan.name) and len(fields) > at + 3:
                    return int(fields[at + 3])
        return None

    def write_file(self, path: Path) -> None:
        """Write the zone file to ``path``, atomically (a new file renamed over the old one, so a server reading
        it sees the old or the new zone, and a link to it elsewhere keeps the old). A zone served by several servers
        is written once: while the zone is text (immutable), later calls hard-link the first file (a copy where links
        cannot go). A dnspython zone may have been changed in place since, so it is written afresh each time."""
        text = self._signed_text if self._signed_text is not None else (
            self._unsigned_text if self._signed is None else None)
        first = self._written
        tmp = path.with_name(path.name + ".tmp")
        tmp.unlink(missing_ok=True)
        if text is not None and first is not None and first[1] is text and _identity(first[0]) == first[2]:
            try:
                os.link(first[0], tmp)
            except OSError:
                shutil.copyfile(first[0], tmp)
            tmp.replace(path)
            return
        with open(tmp, "w", encoding="utf-8", errors="surrogateescape", newline="\n") as handle:
            handle.write(self.text() if text is None else text)
        tmp.replace(path)
        self._written = (path.resolve(), text, _identity(path) or (0, 0, 0, 0)) if text is not None else None


def _identity(path: Path) -> tuple[int, int, int, int] | None:
    """Device, inode, size and mtime of a file: an inode alone may be reused by the file renamed over it."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


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
    # (server, zone) -> what that one server serves instead of the zone's current form: a stalled secondary's
    # zone as an earlier phase built it, or a multi-signer operator's own signed zone
    server_zones: dict[tuple[str, str], ZoneBuild | dns.zone.Zone] = field(default_factory=dict)

    def zone_for(self, server: str, zone: str) -> dns.zone.Zone:
        """The zone data ``server`` serves for ``zone``: its own copy, or the zone as built."""
        served = self.server_zones.get((server, zone)) or self.zones[zone]
        return served.zone() if isinstance(served, ZoneBuild) else served

    def write_zone_for(self, server: str, zone: str, path: Path) -> None:
        """Write what ``server`` serves for ``zone`` to ``path``: the zone as built is written once and shared by
        its servers (``ZoneBuild.write_file``); a server's own copy is written for it alone."""
        served = self.server_zones.get((server, zone)) or self.zones[zone]
        if isinstance(served, ZoneBuild):
            served.write_file(path)
            return
        tmp = path.with_name(path.name + ".tmp")
        tmp.unlink(missing_ok=True)
        served.to_file(str(tmp), relativize=False, want_origin=False)
        tmp.replace(path)

    def serial_for(self, server: str, zone: str) -> int | None:
        """The SOA serial ``server`` serves for ``zone``, without parsing a zone that is still text."""
        served = self.server_zones.get((server, zone)) or self.zones[zone]
        if isinstance(served, ZoneBuild):
            return served.soa_serial()
        soa = served.get_rdataset(zone, dns.rdatatype.SOA)
        return soa[0].serial if soa else None

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
    lines += _hosted_name_servers(plan, topology, child_names)
    lines += plan.records
    if plan.delegations:
        origin_labels = len(origin.labels)
        taken = {n.labels[-origin_labels - 1].decode().lower() for n in [*child_names, *map(dns.name.from_text,
                 plan.ns_names)] if len(n.labels) > origin_labels and n.is_subdomain(origin)}
        lines += delegation_lines(plan.name, plan.delegations, taken)
    return "\n".join(lines) + "\n"


def _hosted_name_servers(plan: ZonePlan, topology: Topology, child_names: list[dns.name.Name]) -> list[str]:
    """Addresses of other zones' name servers whose names live in this zone (a DNS operator's zone that hosts its
    customers' name server names, as RFC 9615 bootstrapping needs): the zone is authoritative for them."""
    origin = dns.name.from_text(plan.name)
    lines = []
    for other in topology.zones.values():
        if other.name == plan.name:
            continue
        for ns, server in zip(other.ns_names, other.servers, strict=True):
            name = dns.name.from_text(ns)
            if name.is_subdomain(origin) and not any(name.is_subdomain(c) for c in child_names) \
                    and not name.is_subdomain(dns.name.from_text(other.name)):
                lines.append(f"{ns} {DELEGATION_TTL} IN A {topology.server_address(server)}")
    return list(dict.fromkeys(lines))


def parse_zone(text: str, origin: str, source: str = "<zone>") -> dns.zone.Zone:
    """Zone text as a dnspython zone with absolute names."""
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
        keys = load_key_folder(plan.keys_dir, plan.name, file=where.file if where else None,
                               line=where.line if where else None)
        # the default algorithm yields to the keys; one the scenario chose must be the keys' own
        chosen = plan.signing.algorithm
        if chosen != SigningSpec().algorithm and keys[0].algorithm != chosen:
            raise ScenarioError(f"the keys of {plan.name} in {plan.keys_dir} are algorithm {keys[0].algorithm}, "
                                f"but the zone's signing policy says algorithm {chosen}",
                                file=where.file if where else None, line=where.line if where else None,
                                fix=f"bring algorithm {chosen} keys, or set signing: {{algorithm: "
                                    f"{keys[0].algorithm}}} (or leave the algorithm out: the keys choose it)")
        return keys
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
        build = ZoneBuild(plan=plan, unsigned_text=text)
        build.keys = zone_keys(plan, keystore)
        build.options = sign_options(plan.signing, clock)
        zones[plan.name] = build
    return BuildContext(topology=topology, clock=clock, keystore=keystore, zones=zones)


def sign_all(ctx: BuildContext) -> None:
    """Step 3: every parent gets its children's DS (computed from their keys, or a fault's override), then every
    signed zone is signed. A DS depends only on keys, never on the child's signed data, so order does not matter."""
    for build in ctx.zones.values():
        if build.plan.parent is not None:
            ctx.zones[build.plan.parent].add_ds(build.name, build.ds_records())
    for build in ctx.zones.values():
        if build.is_signed and build.keys:
            build.sign()
