"""Bring your own zone: ``zones: example.jp.: {file: example.jp.zone}`` serves an RFC 1035 zone file.

Unsigned, it is signed like any lab zone (the scenario's policy, or its own keys and signer). Signed (an apex
DNSKEY RRset and RRSIGs), it is served exactly as it is, and its parent gets DS records for its SEP keys (or the
DS the scenario gives). Either way the file's apex NS records name the zone's servers: the parent's delegation
and glue use those names, pointing at the lab hosts that serve the zone.

What the lab owns in an unsigned file and replaces: the SOA serial (each load has its own, so the lab can see a
reload), the address records of the zone's own name servers (they must point at lab hosts), and delegations to
zones the lab itself builds below it. A signed file is never changed; it must be a leaf of the lab's hierarchy,
since the lab cannot give it DS records for children it signs without re-signing it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import dns.dnssec
import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.DS
import dns.rrset
import dns.zone

from testbed.build.zonefile_source import read_zone_source, zone_file_error
from testbed.errors import ScenarioError

if TYPE_CHECKING:
    from testbed.build.topology import Topology, ZonePlan

DNSSEC_TYPES = (dns.rdatatype.RRSIG, dns.rdatatype.NSEC, dns.rdatatype.NSEC3, dns.rdatatype.NSEC3PARAM)


def _error(plan: ZonePlan, message: str, fix: str) -> ScenarioError:
    return zone_file_error(plan.where, plan.file, message, fix)


def read_zone_file(plan: ZonePlan) -> dns.zone.Zone:
    """A fresh parse of the zone's file (faults edit what they get). Errors name the zone file's own line."""
    assert plan.file is not None
    return read_zone_source(plan.file, plan.name, plan.where)


def is_presigned(zone: dns.zone.Zone) -> bool:
    """A signed file: it has an apex DNSKEY RRset and at least one RRSIG."""
    assert zone.origin is not None
    if zone.get_rdataset(zone.origin, dns.rdatatype.DNSKEY) is None:
        return False
    return any(r.rdtype == dns.rdatatype.RRSIG for node in zone.nodes.values() for r in node.rdatasets)


def file_zone(plan: ZonePlan, topology: Topology, serial: int, lab_text: str) -> tuple[dns.zone.Zone, bool]:
    """The zone to build from ``plan.file``, and whether it comes signed. ``lab_text`` is the zone the lab would
    make without a file (SOA, NS, their addresses, delegations to lab zones, the scenario's records)."""
    zone = read_zone_file(plan)
    if check_file_zone(plan, topology, zone):
        return zone, True
    return _merge_unsigned(plan, topology, serial, zone, lab_text), False


def check_file_zone(plan: ZonePlan, topology: Topology, zone: dns.zone.Zone) -> bool:
    """Whether the zone a file holds comes signed, once it is known to fit the scenario: a signed file is a leaf
    without added records, a file with DNSKEYs is signed. Errors name the scenario's line and the fix."""
    if is_presigned(zone):
        children = [z.name for z in topology.zones.values() if z.parent == plan.name]
        if children:
            raise _error(plan, f"the signed zone file of {plan.name} would need delegations with DS for the lab's "
                               f"zones below it ({', '.join(children)}), which it cannot get without re-signing",
                         "serve the file unsigned (the lab signs it), or bring the zone as a leaf of the hierarchy")
        if plan.records:
            raise _error(plan, f"records cannot be added to the signed zone file of {plan.name}: they would be "
                               "unsigned", "add them to the file and sign it again")
        return True
    assert zone.origin is not None
    if zone.get_rdataset(zone.origin, dns.rdatatype.DNSKEY) is not None:
        raise _error(plan, f"the zone file of {plan.name} has DNSKEY records but no RRSIG: neither a signed zone "
                           "nor an unsigned one", "remove the DNSKEY records (the lab signs the zone), or sign it")
    return False


def _merge_unsigned(plan: ZonePlan, topology: Topology, serial: int, file_zone: dns.zone.Zone,
                    lab_text: str) -> dns.zone.Zone:
    try:
        lab = dns.zone.from_text(lab_text, origin=plan.name, relativize=False, check_origin=False)
    except dns.exception.SyntaxError as exc:
        raise _error(plan, f"zone {plan.name} does not parse: {exc}",
                     "check the record lines given for this zone") from exc
    origin = lab.origin
    assert origin is not None
    own_ns = {dns.name.from_text(n) for n in plan.ns_names}
    lab_cuts = [dns.name.from_text(z.name) for z in topology.zones.values() if z.parent == plan.name]
    soa = file_zone.get_rdataset(origin, dns.rdatatype.SOA)
    assert soa is not None
    lab.replace_rdataset(origin, _with_serial(soa, serial))
    for name, node in file_zone.nodes.items():
        if any(name.is_subdomain(cut) for cut in lab_cuts):
            continue            # a zone the lab builds: its delegation and glue are the lab's
        for rdataset in node.rdatasets:
            kind = rdataset.rdtype
            if kind in DNSSEC_TYPES or (name == origin and kind in (dns.rdatatype.SOA, dns.rdatatype.NS)):
                continue
            if name in own_ns and kind in (dns.rdatatype.A, dns.rdatatype.AAAA):
                continue        # the zone's name servers live at lab addresses
            target = lab.find_node(name, create=True).find_rdataset(rdataset.rdclass, kind, rdataset.covers,
                                                                    create=True)
            target.update(rdataset)
    return lab


def _with_serial(soa: dns.rdataset.Rdataset, serial: int) -> dns.rdataset.Rdataset:
    import dns.rdataset

    old = soa[0]
    return dns.rdataset.from_rdata(soa.ttl, old.replace(serial=serial))


def scenario_ds(plan: ZonePlan) -> list[dns.rdtypes.ANY.DS.DS]:
    """The DS records the scenario gives for the zone (``ds:``), as rdata."""
    return [dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DS, text) for text in plan.ds]  # type: ignore[misc]


def presigned_ds(plan: ZonePlan, zone: dns.zone.Zone) -> list[dns.rdtypes.ANY.DS.DS]:
    """The DS the parent of a signed file gets: the scenario's, else one per SEP key and digest type."""
    if plan.ds:
        return scenario_ds(plan)
    assert zone.origin is not None
    dnskeys = zone.get_rdataset(zone.origin, dns.rdatatype.DNSKEY)
    assert dnskeys is not None
    sep = [k for k in dnskeys if k.flags & 0x0001]
    if not sep:
        raise _error(plan, f"the signed zone file of {plan.name} has no SEP key (DNSKEY flags 257) for a DS",
                     "publish the KSK with flags 257, or give the DS in the scenario (ds: [...])")
    return [dns.dnssec.make_ds(zone.origin, key, dns.dnssec.DSDigest(digest),
                               policy=dns.dnssec.allow_all_policy)
            for key in sep for digest in plan.signing.ds_digests]


def verify_signatures(plan: ZonePlan, zone: dns.zone.Zone) -> None:
    """Every RRSIG of a signed file must verify with the file's own DNSKEYs (at its own inception time: an old
    snapshot's expired signature is a finding for the resolvers, a forged one is a broken input). A missing
    RRSIG is not checked here: serving one is a fault a scenario may want."""
    assert zone.origin is not None
    origin = zone.origin
    dnskeys = zone.get_rdataset(origin, dns.rdatatype.DNSKEY)
    keys = {origin: dnskeys}
    for name, node in zone.nodes.items():
        for sigs in node.rdatasets:
            if sigs.rdtype != dns.rdatatype.RRSIG:
                continue
            covered = node.get_rdataset(dns.rdataclass.IN, sigs.covers)
            what = f"{name}/{dns.rdatatype.to_text(sigs.covers)}"
            if covered is None:
                raise _error(plan, f"the signed zone file of {plan.name} has an RRSIG over {what}, which it lacks",
                             "sign the zone again")
            rrset = dns.rrset.from_rdata_list(name, covered.ttl, list(covered))
            for sig in sigs:
                try:
                    dns.dnssec.validate_rrsig(rrset, sig, keys, origin, now=sig.inception)  # type: ignore[arg-type]
                except dns.dnssec.ValidationFailure as exc:
                    raise _error(plan, f"a signature of the signed zone file of {plan.name} does not verify: the "
                                       f"RRSIG (key tag {sig.key_tag}) over {what}: {exc}",
                                 "sign the zone again with the keys it publishes; to serve a broken signature on "
                                 "purpose, inject it as a fault (testbed faults)") from exc
