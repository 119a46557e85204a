"""Did a real server serve the zone it was given? Ask it for every authoritative RRset of the built zone, with
its signatures, and list what differs.

The builtin server serves exactly what a fault made; a real one may repair, drop or refuse parts of it (NSD sends
no RRSIG at all for a zone whose DNSKEY RRset is unsigned). A resolver's verdict over data the server changed says
nothing about the fault, so the lab reports such a zone as sanitised instead of judging the resolvers on it.
NSEC3 RRsets are not asked for: their owners are hashes that servers answer by proof rules, not by lookup.
"""

from __future__ import annotations

from collections.abc import Iterator

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.zone

MAX_LISTED = 4          # differences quoted per zone; the count says how many more there were
TRY_TIMEOUT = 2.0


def authoritative_rrsets(zone: dns.zone.Zone) -> Iterator[tuple[dns.name.Name, dns.rdataset.Rdataset,
                                                                  dns.rdataset.Rdataset | None]]:
    """(owner, RRset, its RRSIGs) for every RRset a query for it answers from this zone's own data: not glue,
    not a delegation's NS or NSEC, not NSEC3 (see the module text)."""
    origin = zone.origin
    assert origin is not None
    cuts = [name for name, node in zone.nodes.items()
            if name != origin and node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.NS) is not None]
    for name in sorted(zone.nodes):
        absolute = name.derelativize(origin)
        if any(absolute.is_subdomain(cut.derelativize(origin)) and name != cut for cut in cuts):
            continue
        at_cut = name in cuts
        node = zone.nodes[name]
        for rdataset in node.rdatasets:
            kind = rdataset.rdtype
            if kind in (dns.rdatatype.RRSIG, dns.rdatatype.NSEC3) or not len(rdataset):
                continue
            if at_cut and kind != dns.rdatatype.DS:
                continue        # the NSEC at a cut exists, but a query for it is rightly referred to the child
            sigs = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.RRSIG, covers=kind)
            yield absolute, rdataset, sigs


def _ask(address: str, name: dns.name.Name, rdtype: int) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype, want_dnssec=True, payload=1232)
    query.flags &= ~dns.flags.RD
    response, _ = dns.query.udp_with_fallback(query, address, timeout=TRY_TIMEOUT)
    return response


def _describe(rdatas: set[str]) -> str:
    return "nothing" if not rdatas else "; ".join(sorted(rdatas))[:160]


def differences(zone: dns.zone.Zone, address: str) -> list[str]:
    """One sentence per RRset the server at ``address`` serves differently from ``zone`` (at most MAX_LISTED,
    then a count)."""
    found: list[str] = []
    for name, rdataset, sigs in authoritative_rrsets(zone):
        kind = dns.rdatatype.to_text(rdataset.rdtype)
        try:
            response = _ask(address, name, rdataset.rdtype)
        except (dns.exception.DNSException, OSError) as exc:
            found.append(f"{name}/{kind}: no answer ({type(exc).__name__})")
            continue
        served = {rr.to_text() for rrset in response.answer
                  if rrset.name == name and rrset.rdtype == rdataset.rdtype for rr in rrset}
        served_sigs = {rr.to_text() for rrset in response.answer
                       if rrset.name == name and rrset.rdtype == dns.rdatatype.RRSIG
                       and rrset.covers == rdataset.rdtype for rr in rrset}
        want = {rr.to_text() for rr in rdataset}
        want_sigs = {rr.to_text() for rr in sigs} if sigs is not None else set()
        if served != want:
            found.append(f"{name}/{kind}: served {_describe(served)} instead of {_describe(want)}")
        elif served_sigs != want_sigs:
            found.append(f"{name}/{kind}: served {len(served_sigs)} RRSIG(s) of the zone's {len(want_sigs)}"
                         + (f" and {len(served_sigs - want_sigs)} it does not have" if served_sigs - want_sigs
                            else ""))
    if len(found) > MAX_LISTED:
        found = found[:MAX_LISTED] + [f"and {len(found) - MAX_LISTED} more RRsets"]
    return found
