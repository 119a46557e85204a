"""Build one phase: the topology's zones, changed and signed as the ``LabState`` says, at the lab clock's time.

Every scenario is built here: a static scenario is a timeline of one phase from the initial state
(``build_scenario``). The pipeline: unsigned data, keys, signing bottom-up so each parent carries its children's DS,
then the scenario's faults at their layers. What the state adds: replaced records and TTLs, the keys each zone
publishes and signs with (which need not be the same set), the DS set each parent publishes, the configured trust
anchor, the denial settings, and frozen zones (served exactly as last published). Where the state's DS set or
anchor is just what the zone's keys give, the build derives it from the keys as they stand after the faults, so a
fault that swaps keys moves the DS and anchor with it, as in any static scenario.
"""

from __future__ import annotations

import dataclasses

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rrset
import dns.zone

from testbed.build.topology import Topology
from testbed.build.zones import DELEGATION_TTL, BuildContext, KeyStore, ZoneBuild, parse_zone, prepare, sign_options
from testbed.clock import LabClock
from testbed.dnssec import Key, make_ds, sign_rrset, sign_zone
from testbed.errors import ScenarioError
from testbed.faults.common import find_rrset, replace_rrsigs
from testbed.faults.registry import LAYER_ORDER, apply_faults
from testbed.scenario.model import Scenario
from testbed.timeline.state import ANCHOR_DIGEST, LabState, ZoneState, initial_state

IN = dns.rdataclass.IN


class PhaseBuilder:
    """Builds the phases of one timeline; remembers each zone's last published form for frozen zones."""

    def __init__(self, scenario: Scenario, topology: Topology, keystore: KeyStore) -> None:
        self.scenario = scenario
        self.topology = topology
        self.keystore = keystore
        self.last: dict[str, ZoneBuild] = {}
        self.served: dict[tuple[str, str], ZoneBuild | dns.zone.Zone] = {}     # (server, zone) -> what it serves

    def build(self, state: LabState, serial: int) -> BuildContext:
        ctx = prepare(delegated(self.topology, state), state.clock, self.keystore, serial)
        for build in ctx.zones.values():
            if not build.presigned:     # a signed zone file is served as it is (testbed/build/byo.py)
                apply_zone_state(build, state.zones[build.name], state.clock)
        add_signals(ctx, state)
        drop_left_ns(ctx, state)
        anchor = self.configured_anchor(ctx, state)
        for layer in LAYER_ORDER:
            if layer == "signed":
                self.sign(ctx, state)
            apply_faults(ctx, self.scenario, layer)
        if anchor is not None and ctx.trust_anchor_override is None:
            ctx.trust_anchor_override = anchor      # the operator's anchor; a trust-anchor fault's own wins
        ctx.trust_anchor_managed = state.anchor_managed
        for server in sorted(state.down):
            ctx.network.setdefault(server, {}).update(down=True)
        self.per_server(ctx, state)
        checks = [*self.scenario.checks, *(c for phase in self.scenario.phases for c in phase.checks)]
        ctx.probes = tuple(dict.fromkeys((c.qname, c.qtype) for c in checks))
        return ctx

    def per_server(self, ctx: BuildContext, state: LabState) -> None:
        """A server a zone is frozen on keeps what it served when it froze (a secondary whose zone transfers have
        stopped); the zone's other servers serve the new version."""
        for build in ctx.zones.values():
            zone = state.zones[build.name]
            for server in build.plan.servers:
                key = (server, build.name)
                if server in zone.frozen_on and key in self.served:
                    ctx.server_zones[key] = self.served[key]
                else:
                    # what it serves: its own (an operator's) signed zone, or the zone as built, kept lazily
                    self.served[key] = ctx.server_zones.get(key) or build

    def configured_anchor(self, ctx: BuildContext, state: LabState) -> list[str] | None:
        """The state's anchor where it differs from the one the root's served keys give; None: derive it."""
        root = ctx.zones["."]
        previous = self.last.get(".")
        if _serves_last(state.zones["."], previous):
            assert previous is not None
            root = previous
        derived = [f". IN DS {make_ds(k, ANCHOR_DIGEST).to_text()}" for k in root.sep_keys()]
        return None if state.anchor == derived else list(state.anchor)

    def sign(self, ctx: BuildContext, state: LabState) -> None:
        """``zones.sign_all`` with the state's DS TTLs, unpublished signing keys and frozen zones."""
        deepest_first = sorted(ctx.zones.values(), key=lambda b: -len(b.origin.labels))
        for build in deepest_first:
            if build.plan.parent is not None:
                ctx.zones[build.plan.parent].add_ds(build.name, build.ds_records(), state.zones[build.name].ds_ttl)
        for build in deepest_first:
            zone = state.zones[build.name]
            previous = self.last.get(build.name)
            if _serves_last(zone, previous):
                assert previous is not None
                # publication has stalled: serve what was published last, old serial and ageing signatures included
                # (the parent's DS, published above from the zone's current keys, stays what it is)
                build.ds_override = build.ds_records()
                build.unsigned, build.signed, build.options = previous.unsigned, previous.signed, previous.options
                build.keys = previous.keys
            elif build.presigned:
                pass
            elif build.is_signed and build.keys:
                assert build.options is not None
                build.sign()        # ours, text to text unless a fault took the zone as data; or the zone's own signer
                hide_unpublished(build, zone)
                sign_cds_with(build, zone)
                sign_per_operator(ctx, build, zone)
            zone.publish_once = False
            self.last[build.name] = build


def delegated(topology: Topology, state: LabState) -> Topology:
    """The topology with the delegations ``set-ns`` changed: the same servers under the DNS operator's names."""
    renamed = {name: zone.ns_names for name, zone in state.zones.items() if zone.ns_names}
    if not renamed:
        return topology
    zones = {name: dataclasses.replace(plan, ns_names=renamed.get(name, plan.ns_names))
             for name, plan in topology.zones.items()}
    return dataclasses.replace(topology, zones=zones)


def apply_zone_state(build: ZoneBuild, zone: ZoneState, clock: LabClock) -> None:
    """Records, TTLs, keys, parent DS and signing options of one zone, before anything is signed."""
    signing = dataclasses.replace(build.plan.signing, signed=zone.signed, algorithm=zone.algorithm,
                                  denial=zone.denial, nsec3=zone.nsec3, ds_digests=zone.ds_digests,
                                  validity_days=zone.validity_days, inception_offset=zone.inception_offset)
    build.plan = dataclasses.replace(build.plan, signing=signing)
    origin = build.origin
    for (owner, rdtype), (ttl, texts) in zone.rrsets.items():
        name = dns.name.from_text(owner)
        node = build.unsigned.find_node(name, create=True)
        node.delete_rdataset(IN, dns.rdatatype.from_text(rdtype))
        rdataset = node.find_rdataset(IN, dns.rdatatype.from_text(rdtype), create=True)
        rdataset.update_ttl(ttl)
        for text in texts:
            rdataset.add(dns.rdata.from_text(IN, rdtype, text, origin=origin))
    for (owner, rdtype), ttl in zone.ttls.items():
        existing = build.unsigned.get_rdataset(dns.name.from_text(owner), dns.rdatatype.from_text(rdtype))
        if existing is None:
            raise ScenarioError(f"set-ttl: zone {zone.name} has no {owner} {rdtype} RRset",
                                fix="name an RRset the zone has")
        existing.ttl = ttl
    # the parent publishes what the registry holds, whatever the child does (or whether it is signed at all)
    build.keys = [k.as_published() for k in zone.active_keys()] if zone.signed else []
    build.ds_override = None if zone.parent_ds == build.ds_records() else list(zone.parent_ds)
    if not zone.signed:
        return
    add_cds(build, zone)
    # published but not signing (pre-published, retired): the signer keeps DNSKEYs already in the zone
    signing_keys = {id(k) for k in zone.active_keys()}
    extra = [k.as_published() for k in zone.published_keys() if id(k) not in signing_keys]
    if extra:
        apex = build.unsigned.find_node(origin, create=True)
        rdataset = apex.find_rdataset(IN, dns.rdatatype.DNSKEY, create=True)
        rdataset.update_ttl(zone.dnskey_ttl if zone.dnskey_ttl is not None else _soa_ttl(build))
        for key in extra:
            rdataset.add(key.dnskey)
    options = sign_options(signing, clock)
    build.options = dataclasses.replace(options, dnskey_ttl=zone.dnskey_ttl)
    if not zone.active_keys():
        raise ScenarioError(f"zone {zone.name} is signed but no key of it is active, so nothing would sign it",
                            fix="activate a key, or unsign the zone")


CDS_TTL = 300
DELETE = {"CDS": "0 0 0 00", "CDNSKEY": "0 3 0 AA=="}     # RFC 8078 section 4


def cds_rdatas(zone: ZoneState) -> dict[str, list[dns.rdata.Rdata]]:
    """The CDS and CDNSKEY records the child's state asks for (RFC 7344 section 3; RFC 8078 section 4)."""
    rdatas: dict[str, list[dns.rdata.Rdata]] = {"CDS": [], "CDNSKEY": []}
    if zone.cds == ["delete"]:
        for rdtype, text in DELETE.items():
            rdatas[rdtype].append(dns.rdata.from_text(IN, rdtype, text))
    else:
        for name in zone.cds or ():
            key = zone.key(name)
            for ds in zone.ds_for(key, zone.cds_digests or None):
                rdatas["CDS"].append(dns.rdata.from_text(IN, "CDS", ds.to_text()))
            rdatas["CDNSKEY"].append(dns.rdata.from_text(IN, "CDNSKEY", key.as_published().dnskey.to_text()))
    if not zone.cdnskey:
        del rdatas["CDNSKEY"]
    return rdatas


def _put(zone: dns.zone.Zone, owner: dns.name.Name, rdatas: dict[str, list[dns.rdata.Rdata]]) -> None:
    node = zone.find_node(owner, create=True)
    for rdtype, items in rdatas.items():
        rdataset = node.find_rdataset(IN, dns.rdatatype.from_text(rdtype), create=True)
        rdataset.update_ttl(CDS_TTL)
        for rdata in items:
            rdataset.add(rdata)


def add_cds(build: ZoneBuild, zone: ZoneState) -> None:
    """The CDS/CDNSKEY the child publishes at its apex, before signing: its KSKs sign them."""
    if zone.cds:
        _put(build.unsigned, build.origin, cds_rdatas(zone))


def add_signals(ctx: BuildContext, state: LabState) -> None:
    """RFC 9615 section 3: the DNS operator publishes each child's CDS/CDNSKEY under
    ``_dsboot.<child>._signal.<ns>`` in the zone that holds the name server name, signed with that zone."""
    for build in ctx.zones.values():
        zone = state.zones[build.name]
        if not (zone.signal and zone.cds and zone.signed):
            continue
        for ns in build.plan.ns_names:
            owner = dns.name.from_text(f"_dsboot.{zone.name}_signal.{ns}")
            holders = [b for b in ctx.zones.values() if owner.is_subdomain(b.origin) and b.name != zone.name]
            if not holders:
                continue
            holder = max(holders, key=lambda b: len(b.origin.labels))
            _put(holder.unsigned, owner, cds_rdatas(zone))


def sign_per_operator(ctx: BuildContext, build: ZoneBuild, zone: ZoneState) -> None:
    """Multi-signer (RFC 8901 section 2.1.2): each operator's server serves the zone signed by its own ZSK alone and
    by the shared KSKs, or by its own KSK where it has one (model 2 with a KSK per operator: the parent's DS set
    covers each). Its DNSKEY RRset holds the other operators' ZSKs too (unless it ``omits`` them), but not their
    KSKs: each operator's KSK signs its own DNSKEY RRset only."""
    if not zone.operators or build.options is None:
        return
    text = build.unsigned.to_text(relativize=False)
    own_ksks = set(zone.operator_ksks.values())
    shared = [k for k in zone.active_keys() if k.is_sep and k.name not in own_ksks]
    for server, zsk_name in zone.operators.items():
        own = zone.key(zsk_name)
        ksks = [zone.key(zone.operator_ksks[server])] if server in zone.operator_ksks else shared
        unsigned = parse_zone(text, zone.name)
        apex = unsigned.find_node(build.origin, create=True)
        dnskeys = apex.find_rdataset(IN, dns.rdatatype.DNSKEY, create=True)
        dnskeys.update_ttl(zone.dnskey_ttl if zone.dnskey_ttl is not None else _soa_ttl(build))
        dnskeys.clear()         # the main build's DNSKEYs (published, not signing): chosen here per operator
        omitted = zone.omits.get(server, set())
        for key in zone.published_keys():
            if key is not own and key not in ksks and key.name not in omitted and key.name not in own_ksks:
                dnskeys.add(key.as_published().dnskey)
        if len(dnskeys) == 0:
            apex.delete_rdataset(IN, dns.rdatatype.DNSKEY)
        ctx.server_zones[(server, zone.name)] = sign_zone(unsigned, [k.as_published() for k in ksks] +
                                                          [own.as_published()], build.options)


def drop_left_ns(ctx: BuildContext, state: LabState) -> None:
    """``leave-ns``: the leaving servers' names out of the child's apex NS RRset and the parent's delegation, their
    address records (glue, or the child's own) with them. Done on the unsigned data, so both zones are signed so."""
    for build in ctx.zones.values():
        left = state.zones[build.name].ns_left
        if not left:
            continue
        names = [dns.name.from_text(ns) for ns, server in zip(build.plan.ns_names, build.plan.servers, strict=True)
                 if server in left]
        holders = [build] + ([ctx.zones[build.plan.parent]] if build.plan.parent in ctx.zones else [])
        for holder in holders:
            ns_rdataset = holder.unsigned.get_rdataset(build.origin, dns.rdatatype.NS)
            if ns_rdataset is not None:
                for rdata in [r for r in ns_rdataset if r.target in names]:
                    ns_rdataset.discard(rdata)
            for name in names:
                if name.is_subdomain(holder.origin) and holder.unsigned.get_node(name) is not None:
                    for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
                        holder.unsigned.delete_rdataset(name, rdtype)


def sign_cds_with(build: ZoneBuild, zone: ZoneState) -> None:
    """``publish-cds: {signed_by: KEY}``: the CDS/CDNSKEY carry only that key's signatures."""
    if not zone.cds or zone.cds_signer is None or build.signed is None:
        return
    assert build.options is not None
    key = zone.key(zone.cds_signer).as_published()
    for rdtype in (dns.rdatatype.CDS, dns.rdatatype.CDNSKEY):
        if build.signed.get_rdataset(build.origin, rdtype) is None:
            continue
        rrset = find_rrset(build.signed, build.origin, rdtype)
        replace_rrsigs(build.signed, build.origin, rdtype,
                       [sign_rrset(rrset, key, build.options.inception, build.options.expiration)])


def hide_unpublished(build: ZoneBuild, zone: ZoneState) -> None:
    """Take the DNSKEYs of active-but-unpublished keys out of the signed DNSKEY RRset (``sign_zone`` publishes every
    key it signs with) and sign the RRset again with every active KSK, the unpublished ones included: RFC 6781
    4.1.4's first step has the new algorithm's signatures in the zone before its keys."""
    hidden = [k.as_published() for k in zone.active_keys() if not k.published]
    if not hidden or build.signed is None:
        return
    assert build.options is not None
    signed = build.signed
    origin = build.origin
    keep = find_rrset(signed, origin, dns.rdatatype.DNSKEY)
    dnskeys = dns.rrset.RRset(origin, IN, dns.rdatatype.DNSKEY)
    dnskeys.update_ttl(keep.ttl)
    hidden_rdata = {k.dnskey for k in hidden}
    for rdata in keep:
        if rdata not in hidden_rdata:
            dnskeys.add(rdata)
    node = signed.find_node(origin)
    node.replace_rdataset(dns.rdataset.from_rdata_list(keep.ttl, list(dnskeys)))
    signers: list[Key] = [k for k in build.keys if k.role in ("ksk", "csk")] or list(build.keys)
    sigs = [sign_rrset(dnskeys, key, build.options.inception, build.options.expiration) for key in signers]
    replace_rrsigs(signed, origin, dns.rdatatype.DNSKEY, sigs)


def build_scenario(scenario: Scenario, topology: Topology, clock: LabClock, keystore: KeyStore,
                   serial: int) -> BuildContext:
    """A static scenario's zones: its one phase, built from the initial state (the topology as planned), with every
    fault applied at its layer."""
    return PhaseBuilder(scenario, topology, keystore).build(initial_state(topology, keystore, clock), serial)


def _serves_last(zone: ZoneState, previous: ZoneBuild | None) -> bool:
    """Whether a zone's servers keep what was published last (publication has stalled)."""
    return zone.frozen and not zone.publish_once and previous is not None


def _soa_ttl(build: ZoneBuild) -> int:
    soa = build.unsigned.get_rdataset(build.origin, dns.rdatatype.SOA)
    return soa.ttl if soa is not None else DELEGATION_TTL
