"""DEL group: delegations, and the proofs that a delegation is insecure (fault-catalog.md 4.5).

The proof faults act on the signed parent, at the child's name (the zone cut): the DS, the NSEC or NSEC3 record that
matches the cut, and their signatures. The lame-delegation fault changes the parent's glue before signing, so the
parent's data stays correctly signed and only the address the resolver is sent to is wrong.
"""

from __future__ import annotations

from typing import Any

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.util
import dns.zone

from testbed.build.zones import BuildContext, ZoneBuild
from testbed.dnssec import nsec3_hash
from testbed.errors import ScenarioError
from testbed.faults.common import replace_rrsigs, resign, signed_zone, zone_of, zone_signing_keys
from testbed.faults.ds import parent_of, signed_child
from testbed.faults.registry import fault, param, variant
from testbed.scenario.model import Expectation

# A lab address (last octet) no host ever has: servers take 1-99, resolvers 101 onwards, the probe 250.
UNUSED_HOST = 200

_CUT = {"zone": "the child zone: the fault is at its cut in the parent, e.g. example.jp."}


def types_of(rdata: Any) -> set[int]:
    """The types in an NSEC or NSEC3 type bitmap (RFC 4034 section 4.1.2)."""
    found = set()
    for window, bitmap in rdata.windows:
        for i, byte in enumerate(bitmap):
            for bit in range(8):
                if byte & (0x80 >> bit):
                    found.add(window * 256 + i * 8 + bit)
    return found


def denial_at(zone: dns.zone.Zone, name: dns.name.Name) -> tuple[dns.name.Name, dns.rdatatype.RdataType]:
    """The owner and type of the NSEC or NSEC3 record that matches ``name`` in a signed zone."""
    if zone.get_rdataset(name, dns.rdatatype.NSEC) is not None:
        return name, dns.rdatatype.NSEC
    assert zone.origin is not None
    param = zone.get_rdataset(zone.origin, dns.rdatatype.NSEC3PARAM)
    if param is not None:
        p = param[0]
        owner = dns.name.from_text(nsec3_hash(name, bytes(p.salt), p.iterations), zone.origin)
        if zone.get_rdataset(owner, dns.rdatatype.NSEC3) is not None:
            return owner, dns.rdatatype.NSEC3
    raise ScenarioError(f"zone {zone.origin} has no NSEC or NSEC3 record matching {name}",
                        fix="the parent must be signed, and not with NSEC3 opt-out over this delegation")


def drop(zone: dns.zone.Zone, owner: dns.name.Name, rdtype: dns.rdatatype.RdataType) -> None:
    """Remove an RRset and the RRSIGs over it."""
    node = zone.get_node(owner)
    if node is None:
        return
    node.delete_rdataset(dns.rdataclass.IN, rdtype)
    node.delete_rdataset(dns.rdataclass.IN, dns.rdatatype.RRSIG, rdtype)


def signed_parent_of(ctx: BuildContext, params: dict[str, Any], *, child_signed: bool) -> tuple[ZoneBuild, ZoneBuild]:
    child = signed_child(ctx, params) if child_signed else zone_of(ctx, params)
    if child.plan.parent is None:
        raise ScenarioError("the root has no parent", fix="pick a zone below the root, e.g. example.jp.")
    parent = parent_of(ctx, child)
    signed_zone(parent)             # raises a clear error when the parent is unsigned
    return child, parent


def window(build: ZoneBuild) -> tuple[int, int]:
    assert build.options is not None
    return build.options.inception, build.options.expiration


@fault("delegation-no-ds-proof", group="delegation", layer="signed", reference="RFC 4035 section 5.2",
       summary="the DS is stripped from the signed parent together with the NSEC/NSEC3 that would prove it absent: "
               "referral and DS answer carry no proof", params=_CUT, required=("zone",),
       expect=Expectation("bogus", ede=(12,)), cases=("DEL-03",))
def delegation_no_ds_proof(ctx: BuildContext, params: dict[str, Any]) -> None:
    child, parent = signed_parent_of(ctx, params, child_signed=True)
    zone = signed_zone(parent)
    owner, rdtype = denial_at(zone, child.origin)
    drop(zone, child.origin, dns.rdatatype.DS)
    drop(zone, owner, rdtype)


@fault("delegation-nsec-no-ns-bit", group="delegation", layer="signed", reference="RFC 6840 section 4.4",
       summary="the parent's (correctly signed) NSEC/NSEC3 at an unsigned delegation lacks the NS bit, so it cannot "
               "prove an insecure delegation", params={"zone": "an unsigned child, e.g. insecure.jp."},
       required=("zone",), expect=Expectation("bogus", ede=(6, 12)), cases=("DEL-04",))
def delegation_nsec_no_ns_bit(ctx: BuildContext, params: dict[str, Any]) -> None:
    child, parent = signed_parent_of(ctx, params, child_signed=False)
    zone = signed_zone(parent)
    owner, rdtype = denial_at(zone, child.origin)
    rdataset = zone.get_rdataset(owner, rdtype)
    assert rdataset is not None
    old = rdataset[0]
    kept = sorted(types_of(old) - {int(dns.rdatatype.NS)})
    new = old.replace(windows=dns.rdtypes.util.Bitmap.from_rdtypes([dns.rdatatype.RdataType.make(t)
                                                                     for t in kept]).windows)
    rdataset.clear()
    rdataset.add(new)
    # Signed again over the new bitmap: the signature is valid, only the claim is wrong.
    inception, expiration = window(parent)
    resign(parent, owner, rdtype, inception=inception, expiration=expiration, keys=zone_signing_keys(parent))


@fault("delegation-child-apex-nsec", group="delegation", layer="signed", reference="RFC 4035 section 5.2; "
       "RFC 6840 section 4.4", summary="the DS is stripped from the parent, and the parent serves the child's own "
       "apex NSEC (SOA bit set, signed by the child) as the proof that there is no DS", params=_CUT,
       required=("zone",), expect=Expectation("bogus", ede=(6, 12)), cases=("DEL-05",))
def delegation_child_apex_nsec(ctx: BuildContext, params: dict[str, Any]) -> None:
    child, parent = signed_parent_of(ctx, params, child_signed=True)
    pzone = signed_zone(parent)
    czone = signed_zone(child)
    if pzone.get_rdataset(child.origin, dns.rdatatype.NSEC) is None:
        raise ScenarioError(f"{parent.name} is not signed with NSEC", fix="sign the parent with denial: nsec")
    apex_nsec = czone.get_rdataset(child.origin, dns.rdatatype.NSEC)
    apex_sigs = czone.get_rdataset(child.origin, dns.rdatatype.RRSIG, dns.rdatatype.NSEC)
    if apex_nsec is None or apex_sigs is None:
        raise ScenarioError(f"{child.name} is not signed with NSEC", fix="sign the child with denial: nsec")
    drop(pzone, child.origin, dns.rdatatype.DS)
    drop(pzone, child.origin, dns.rdatatype.NSEC)
    node = pzone.find_node(child.origin)
    nsec = node.find_rdataset(dns.rdataclass.IN, dns.rdatatype.NSEC, create=True)
    nsec.update(apex_nsec)
    replace_rrsigs(pzone, child.origin, dns.rdatatype.NSEC, list(apex_sigs))


@fault("delegation-ds-stripped", group="delegation", layer="signed", reference="RFC 4035 section 5.2",
       summary="the DS is stripped from the signed parent, but the parent's NSEC/NSEC3 at the cut still lists DS",
       params=_CUT, required=("zone",), expect=Expectation("bogus", ede=(6, 12)), cases=("DEL-06",))
def delegation_ds_stripped(ctx: BuildContext, params: dict[str, Any]) -> None:
    child, parent = signed_parent_of(ctx, params, child_signed=True)
    zone = signed_zone(parent)
    if zone.get_rdataset(child.origin, dns.rdatatype.DS) is None:
        raise ScenarioError(f"{parent.name} has no DS for {child.name}", fix="pick a signed child with a DS")
    drop(zone, child.origin, dns.rdatatype.DS)


LAME_KINDS = ("refused", "not-authoritative", "unreachable")


@fault("lame-delegation", group="delegation", layer="zone", reference="RFC 1034 section 4.3.2; RFC 8914 section "
       "4.23", summary="the parent's glue for the child's name servers points at a host that answers REFUSED, "
       "answers with a referral (not authoritative), or does not exist",
       params={**_CUT, "lame": param(f"what the listed server does: one of {', '.join(LAME_KINDS)} (default refused)",
                                "choice", choices=LAME_KINDS)},
       required=("zone",), expect=Expectation("servfail", ede=(22,)), cases=())
def lame_delegation(ctx: BuildContext, params: dict[str, Any]) -> None:
    child = zone_of(ctx, params)
    if child.plan.parent is None:
        raise ScenarioError("the root has no parent", fix="pick a zone below the root, e.g. example.jp.")
    kind = str(params.get("lame", "refused"))
    if kind not in LAME_KINDS:
        raise ScenarioError(f"lame: {kind!r} is not one of {', '.join(LAME_KINDS)}", fix="use one of those words")
    address = _lame_address(ctx, child, kind)
    parent = parent_of(ctx, child)
    glued = 0
    for ns in child.plan.ns_names:
        name = dns.name.from_text(ns)
        rdataset = parent.unsigned.get_rdataset(name, dns.rdatatype.A)
        if rdataset is None:
            continue
        ttl = rdataset.ttl
        rdataset.clear()
        rdataset.add(dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.A, address), ttl)
        glued += 1
    if not glued:
        raise ScenarioError(f"{parent.name} holds no glue for {child.name}'s name servers",
                            fix="pick a child whose name servers are named inside it (the presets' are)")


def _lame_address(ctx: BuildContext, child: ZoneBuild, kind: str) -> str:
    topology = ctx.topology
    if kind == "unreachable":
        if any(s.host == UNUSED_HOST for s in topology.servers.values()):
            raise ScenarioError(f"host .{UNUSED_HOST} is taken by a server", fix="use fewer extra servers")
        return topology.address(UNUSED_HOST)
    if kind == "not-authoritative":
        # A root server: asked for a name under the child it answers with a referral to the TLD, not an answer.
        return topology.server_address(topology.zones["."].servers[0])
    # refused: a server that carries no zone at or above the child answers REFUSED (the builtin server's rule for
    # names outside its zones), like an authoritative server with the zone removed or allow-query closed.
    for server in topology.servers.values():
        if server.name in child.plan.servers:
            continue
        if not any(child.origin.is_subdomain(dns.name.from_text(z)) for z in server.zones):
            return topology.server_address(server.name)
    raise ScenarioError(f"every server of this topology carries a zone at or above {child.name}",
                        fix="pick another child (example.jp. works with the jp preset)")

# One id per catalog case, so `testbed faults` names each of them.
variant("lame-refused", of="lame-delegation", preset={"lame": "refused"}, cases=("DEL-09",),
        summary="the child's name server answers REFUSED for the child zone")
variant("lame-not-authoritative", of="lame-delegation", preset={"lame": "not-authoritative"}, cases=("DEL-10",),
        summary="the child's name server answers, but not authoritatively (no AA): a lame delegation")
variant("ns-unreachable", of="lame-delegation", preset={"lame": "unreachable"}, cases=("DEL-11",),
        summary="the child's only name server address answers nothing at all")
