"""Small tools the fault modules share: finding an RRset, re-signing it, dropping its signatures."""

from __future__ import annotations

from typing import Any, TypeVar, cast

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.RRSIG
import dns.rrset
import dns.zone

from testbed.build.zones import BuildContext, ZoneBuild
from testbed.dnssec import Key, sign_rrset
from testbed.errors import ScenarioError

RdataT = TypeVar("RdataT", bound=dns.rdata.Rdata)

RRSET_PARAM = "owner/type of the RRset, e.g. www.example.jp./A"


def replaced(rdata: RdataT, **changes: Any) -> RdataT:
    """``rdata.replace(...)`` keeping its type: dnspython declares replace() on the base Rdata, so it loses the
    subclass (an RRSIG stays an RRSIG, a DNSKEY a DNSKEY)."""
    return cast(RdataT, rdata.replace(**changes))


def origin_of(zone: dns.zone.Zone) -> dns.name.Name:
    """The zone's origin. dnspython types it Optional for a zone made without one; every zone the build makes
    has one, so a missing origin is a bug, said plainly."""
    if zone.origin is None:
        raise ValueError("a zone of the build has no origin")
    return zone.origin
ZONE_PARAM = "the zone to break, e.g. example.jp."


def parse_rrset_ref(text: str) -> tuple[dns.name.Name, dns.rdatatype.RdataType]:
    try:
        owner, rdtype = text.rsplit("/", 1)
        return dns.name.from_text(owner), dns.rdatatype.from_text(rdtype)
    except (ValueError, dns.exception.DNSException) as exc:
        raise ScenarioError(f"rrset {text!r} is not owner/TYPE", fix="write it like www.example.jp./A") from exc


def zone_of(ctx: BuildContext, params: dict[str, Any]) -> ZoneBuild:
    return ctx.zone(str(params["zone"]))


def signed_zone(build: ZoneBuild) -> dns.zone.Zone:
    if build.signed is None:
        raise ScenarioError(f"zone {build.name} is not signed, so its signatures cannot be broken",
                            fix="pick a signed zone, or set signing: {signed: true} for it")
    return build.signed


def find_rrset(zone: dns.zone.Zone, owner: dns.name.Name, rdtype: dns.rdatatype.RdataType) -> dns.rrset.RRset:
    rdataset = zone.get_rdataset(owner, rdtype)
    if rdataset is None:
        raise ScenarioError(f"zone {zone.origin} has no {owner}/{dns.rdatatype.to_text(rdtype)} RRset",
                            fix="name an RRset the zone has (see `testbed build` output)")
    rrset = dns.rrset.RRset(owner, dns.rdataclass.IN, rdtype)
    rrset.update(rdataset)
    return rrset


def zone_signing_keys(build: ZoneBuild) -> list[Key]:
    zsks = [k for k in build.keys if k.role in ("zsk", "csk")]
    return zsks or build.keys


def replace_rrsigs(zone: dns.zone.Zone, owner: dns.name.Name, covered: dns.rdatatype.RdataType,
                   rrsigs: list[dns.rdtypes.ANY.RRSIG.RRSIG]) -> None:
    """Put exactly ``rrsigs`` over ``owner``/``covered`` (an empty list removes them all)."""
    node = zone.find_node(owner)
    node.delete_rdataset(dns.rdataclass.IN, dns.rdatatype.RRSIG, covered)
    if rrsigs:
        rdataset = node.find_rdataset(dns.rdataclass.IN, dns.rdatatype.RRSIG, covered, create=True)
        ttl = find_rrset(zone, owner, covered).ttl  # signatures carry the TTL of the RRset they cover
        rdataset.update_ttl(ttl)
        for sig in rrsigs:
            rdataset.add(sig)


def resign(build: ZoneBuild, owner: dns.name.Name, rdtype: dns.rdatatype.RdataType, *, inception: int,
           expiration: int, keys: list[Key] | None = None) -> None:
    """Replace the RRset's signatures with correctly made ones over another validity window."""
    zone = signed_zone(build)
    rrset = find_rrset(zone, owner, rdtype)
    sigs = [sign_rrset(rrset, key, inception, expiration) for key in (keys or zone_signing_keys(build))]
    replace_rrsigs(zone, owner, rdtype, sigs)


def rrset_keys(build: ZoneBuild, rdtype: dns.rdatatype.RdataType) -> list[Key]:
    """The keys that sign this type in the zone: SEP keys for DNSKEY, zone-signing keys otherwise."""
    if rdtype == dns.rdatatype.DNSKEY:
        return build.sep_keys() or build.keys
    return zone_signing_keys(build)
