"""The authoritative lookup of RFC 1034 section 4.3.2 with the DNSSEC additions of RFC 4035 section 3.1.

Works on one ``ServedZone`` and fills the three sections of a response. It never decides transport questions
(truncation, EDNS, behaviour switches): that is ``answer.py``'s job.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

from testbed.auth import proofs
from testbed.auth.zonedata import ServedZone

RRSIG = dns.rdatatype.RRSIG
CNAME = dns.rdatatype.CNAME
DS = dns.rdatatype.DS
NS = dns.rdatatype.NS
ANY = dns.rdatatype.ANY
SOA = dns.rdatatype.SOA
NSEC = dns.rdatatype.NSEC

# Deep enough for any sane chain, short enough that a CNAME loop in a broken zone costs nothing.
MAX_CNAME_CHAIN = 16

_Key = tuple[dns.name.Name, int, int]


@dataclass
class Sections:
    """What lookup found: the three sections, the rcode and whether the answer is authoritative."""

    answer: list[dns.rrset.RRset] = field(default_factory=list)
    authority: list[dns.rrset.RRset] = field(default_factory=list)
    additional: list[dns.rrset.RRset] = field(default_factory=list)
    rcode: dns.rcode.Rcode = dns.rcode.NOERROR
    referral: bool = False
    _seen: set[tuple[int, _Key]] = field(default_factory=set, repr=False)

    @property
    def authoritative(self) -> bool:
        # A referral is not authoritative, unless a CNAME chain reached it after authoritative answer data.
        return bool(self.answer) or not self.referral

    def add(self, section: list[dns.rrset.RRset], rrset: dns.rrset.RRset | None) -> None:
        """Add an RRset once: proofs for the name and for its wildcard are often the same record."""
        if rrset is None:
            return
        key = (id(section), (rrset.name, rrset.rdtype, rrset.covers))
        if key not in self._seen:
            self._seen.add(key)
            section.append(rrset)


class _Step:
    """One name of a (possibly CNAME-chained) lookup in one zone."""

    def __init__(self, zone: ServedZone, qtype: int, dnssec: bool, out: Sections) -> None:
        self.zone = zone
        self.qtype = qtype
        self.dnssec = dnssec
        self.out = out

    def put(self, section: list[dns.rrset.RRset], owner: dns.name.Name, rdtype: int,
            as_name: dns.name.Name | None = None) -> dns.rrset.RRset | None:
        """Add owner's RRset of rdtype and, with DO=1, its RRSIG. as_name renames both (wildcard synthesis)."""
        rrset = self.zone.rrset(owner, rdtype)
        if rrset is None:
            return None
        self.out.add(section, _renamed(rrset, as_name))
        if self.dnssec:
            sig = self.zone.rrset(owner, RRSIG, rdtype)
            if sig is not None:
                # RFC 4035 3.1.3.3: the RRSIG is copied as is; its labels field tells validators it was a wildcard.
                self.out.add(section, _renamed(sig, as_name))
        return rrset

    def run(self, name: dns.name.Name) -> dns.name.Name | None:
        """Answer for name; returns a CNAME target to chase, if any."""
        zone = self.zone
        cut = self.find_cut(name)
        if cut is not None:
            self.referral(cut)
            return None
        node = zone.nodes.get(name)
        if node is not None:
            return self.at_node(name, name, None)
        if name in zone.ents:
            self.nodata(name, ent=True)
            return None
        encloser = zone.closest_encloser(name)
        wildcard = proofs.wildcard_of(encloser)
        if wildcard in zone.nodes:
            return self.at_node(name, wildcard, encloser)
        self.nxdomain(name, encloser)
        return None

    def find_cut(self, name: dns.name.Name) -> dns.name.Name | None:
        """The highest zone cut at or above name. DS at the cut itself is parent-side data (RFC 4035 3.1.4.1)."""
        cuts = self.zone.cuts
        if not cuts:
            return None
        for depth in range(len(self.zone.origin) + 1, len(name) + 1):
            ancestor = name.split(depth)[1]
            if ancestor in cuts and not (self.qtype == DS and depth == len(name)):
                return ancestor
        return None

    def at_node(self, qname: dns.name.Name, owner: dns.name.Name,
                encloser: dns.name.Name | None) -> dns.name.Name | None:
        """Answer from the node at owner: qname itself, or the wildcard '*.encloser' synthesizing qname."""
        node = self.zone.nodes[owner]
        as_name = qname if encloser is not None else None
        answer = self.out.answer
        before = len(answer)  # earlier links of a CNAME chain are already there
        target = None
        if self.qtype == ANY:
            # RFC 8482 allows less, but everything at the node is more useful when someone digs at the lab.
            for rds in node.rdatasets:
                if rds.rdtype != RRSIG:
                    self.put(answer, owner, rds.rdtype, as_name)
        elif self.qtype == RRSIG:
            # Asked for explicitly: sent whatever DO says, as other servers do.
            for rds in node.rdatasets:
                if rds.rdtype == RRSIG:
                    self.out.add(answer, _renamed(self.zone.rrset(owner, RRSIG, rds.covers), as_name))
        elif self.put(answer, owner, self.qtype, as_name) is None and self.qtype != CNAME:
            cname = self.put(answer, owner, CNAME, as_name)
            if cname is not None:
                target = cname[0].target
        if len(answer) == before:
            if encloser is None:
                self.nodata(qname, ent=False)
            else:
                self.wildcard_nodata(qname, owner, encloser)
            return None
        if encloser is not None and self.dnssec:
            self.wildcard_answer_proof(qname, encloser)
        return target

    # -- the negative and referral cases ---------------------------------------------------------------------

    def soa(self) -> None:
        self.put(self.out.authority, self.zone.origin, SOA)

    def referral(self, cut: dns.name.Name) -> None:
        out, zone = self.out, self.zone
        out.referral = True
        ns = self.zone.rrset(cut, NS)
        out.add(out.authority, ns)
        if self.dnssec and self.put(out.authority, cut, DS) is None:
            self.proof_no_ds(cut)
        for rd in ns or ():
            target = rd.target
            if not target.is_subdomain(zone.origin):
                continue
            # Glue below a cut is not signed; in-zone authoritative addresses are (RFC 4035 3.1.1).
            signed = self.dnssec and not self._below_cut(target)
            for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
                if signed:
                    self.put(out.additional, target, rdtype)
                else:
                    out.add(out.additional, zone.rrset(target, rdtype))

    def _below_cut(self, name: dns.name.Name) -> bool:
        return any(name.is_subdomain(cut) for cut in self.zone.cuts)

    def proof_no_ds(self, cut: dns.name.Name) -> None:
        """Insecure referral (RFC 4035 3.1.4, RFC 5155 7.2.7): NSEC at the cut, or the NSEC3 match / opt-out proof."""
        if self.zone.denial == "nsec":
            self.put(self.out.authority, cut, NSEC)
        elif self.zone.denial == "nsec3":
            proofs.nsec3_match_or_opt_out(self, cut)

    def nodata(self, name: dns.name.Name, *, ent: bool) -> None:
        """NOERROR, no data (RFC 4035 3.1.3.1, RFC 5155 7.2.3 and 7.2.4)."""
        self.soa()
        if not self.dnssec:
            return
        if self.zone.denial == "nsec":
            # An empty non-terminal owns no NSEC: the one before it in canonical order covers it.
            owner = self.zone.nsec_covering(name) if ent else name
            if owner is not None:
                self.put(self.out.authority, owner, NSEC)
        elif self.zone.denial == "nsec3":
            proofs.nsec3_match_or_opt_out(self, name)

    def nxdomain(self, name: dns.name.Name, encloser: dns.name.Name) -> None:
        """Name error (RFC 4035 3.1.3.2, RFC 5155 7.2.2)."""
        self.out.rcode = dns.rcode.NXDOMAIN
        self.soa()
        if not self.dnssec:
            return
        if self.zone.denial == "nsec":
            proofs.nsec_cover(self, name)
            proofs.nsec_cover(self, proofs.wildcard_of(encloser))
        elif self.zone.denial == "nsec3":
            proofs.nsec3_closest_encloser(self, name, wildcard=True)

    def wildcard_answer_proof(self, qname: dns.name.Name, encloser: dns.name.Name) -> None:
        """The exact name does not exist (RFC 4035 3.1.3.3, RFC 5155 7.2.6)."""
        if self.zone.denial == "nsec":
            proofs.nsec_cover(self, qname)
        elif self.zone.denial == "nsec3":
            proofs.nsec3_cover(self, proofs.next_closer(qname, encloser))

    def wildcard_nodata(self, qname: dns.name.Name, wildcard: dns.name.Name, encloser: dns.name.Name) -> None:
        """Wildcard matched but lacks the type (RFC 4035 3.1.3.4, RFC 5155 7.2.5)."""
        self.soa()
        if not self.dnssec:
            return
        if self.zone.denial == "nsec":
            proofs.nsec_cover(self, qname)
            self.put(self.out.authority, wildcard, NSEC)
        elif self.zone.denial == "nsec3":
            proofs.nsec3_match(self, encloser)
            proofs.nsec3_cover(self, proofs.next_closer(qname, encloser))
            proofs.nsec3_match(self, wildcard)


def _renamed(rrset: dns.rrset.RRset | None, name: dns.name.Name | None) -> dns.rrset.RRset | None:
    if rrset is None or name is None:
        return rrset
    copy = dns.rrset.RRset(name, rrset.rdclass, rrset.rdtype, rrset.covers)
    copy.update(rrset)
    copy.ttl = rrset.ttl
    return copy


def lookup(zone: ServedZone, qname: dns.name.Name, qtype: int, dnssec: bool) -> Sections:
    """Answer qname/qtype from zone, chasing CNAMEs that stay inside the zone."""
    out = Sections()
    step = _Step(zone, qtype, dnssec, out)
    seen = {qname}
    name = qname
    for _ in range(MAX_CNAME_CHAIN):
        target = step.run(name)
        # The resolver follows targets outside this zone itself; a loop just stops here.
        if target is None or target in seen or not target.is_subdomain(zone.origin):
            break
        seen.add(target)
        name = target
    return out
