"""The authoritative lookup of RFC 1034 section 4.3.2 with the DNSSEC additions of RFC 4035 section 3.1.

Works on one ``ServedZone`` and fills the three sections of a response. It never decides transport questions
(truncation, EDNS, behaviour switches): that is ``answer.py``'s job. Names travel as ``Key``s; dnspython names are
only carried along for the wire (the query name, the owners stored in RRsets).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dns.name
import dns.rcode
import dns.rdatatype

import testbed.auth.proofs as proofs  # the module, not the package: the package imports this one
from testbed.auth.wire import Entry, Key, ServedRRset, key_of
from testbed.auth.zonedata import ServedZone, is_under

RRSIG = int(dns.rdatatype.RRSIG)
CNAME = int(dns.rdatatype.CNAME)
DS = int(dns.rdatatype.DS)
NS = int(dns.rdatatype.NS)
ANY = int(dns.rdatatype.ANY)
SOA = int(dns.rdatatype.SOA)
NSEC = int(dns.rdatatype.NSEC)
ADDRESS_TYPES = (int(dns.rdatatype.A), int(dns.rdatatype.AAAA))

# Deep enough for any sane chain, short enough that a CNAME loop in a broken zone costs nothing.
MAX_CNAME_CHAIN = 16


@dataclass
class Sections:
    """What lookup found: the three sections, the rcode and whether it is authoritative."""

    answer: list[Entry] = field(default_factory=list)
    authority: list[Entry] = field(default_factory=list)
    additional: list[Entry] = field(default_factory=list)
    rcode: dns.rcode.Rcode = dns.rcode.NOERROR
    referral: bool = False
    # The first this many additional RRsets are required (in-domain glue, RFC 9471): TC=1 if they do not fit.
    required_additional: int = 0
    _seen: set[tuple[int, int, Key]] = field(default_factory=set, repr=False)

    @property
    def authoritative(self) -> bool:
        # A referral is not authoritative, unless a CNAME chain reached it after authoritative answer data.
        return bool(self.answer) or not self.referral

    def add(self, section: list[Entry], rrset: ServedRRset | None, owner: dns.name.Name | None = None,
            owner_key: Key = ()) -> None:
        """Add an RRset once (proofs for a name and for its wildcard are often the same record). owner renames it:
        wildcard synthesis (RFC 4592), with the RRSIG copied as is (its labels field tells validators)."""
        if rrset is None:
            return
        seen = (id(section), id(rrset), owner_key)  # cached RRsets are unique per owner and type
        if seen in self._seen:
            return
        self._seen.add(seen)
        if owner is None:
            section.append((rrset.name, rrset.key, rrset))
        else:
            section.append((owner, owner_key, rrset))


class _Step:
    """The lookup of one name, then of each CNAME target in the same zone."""

    def __init__(self, zone: ServedZone, qname: dns.name.Name, qtype: int, dnssec: bool, out: Sections) -> None:
        self.zone = zone
        self.qname = qname  # the synthesized owner of wildcard answers, as the client wrote it
        self.qtype = qtype
        self.dnssec = dnssec
        self.out = out
        self.as_name: dns.name.Name | None = None  # set while answering from a wildcard
        self.as_key: Key = ()

    def put(self, section: list[Entry], owner: Key, rdtype: int, *, synthesized: bool = False) -> ServedRRset | None:
        """Add owner's RRset of rdtype and, with DO=1, its RRSIG; synthesized ones are renamed to the query name."""
        rrset = self.zone.rrset(owner, rdtype)
        if rrset is None:
            return None
        name, key = (self.as_name, self.as_key) if synthesized else (None, ())
        self.out.add(section, rrset, name, key)
        if self.dnssec:
            self.out.add(section, self.zone.rrset(owner, RRSIG, rdtype), name, key)
        return rrset

    def run(self, name: dns.name.Name, key: Key) -> dns.name.Name | None:
        """Answer for one name; returns a CNAME target to chase, if any."""
        zone = self.zone
        cut = self.find_cut(key)
        if cut is not None:
            self.referral(cut)
            return None
        if key in zone.nodes:
            return self.at_node(key, key, None)
        if key in zone.ents:
            self.nodata(key, ent=True)
            return None
        encloser = zone.closest_encloser(key)
        wildcard = proofs.wildcard_of(encloser)
        if wildcard in zone.nodes:
            self.as_name, self.as_key = name, key
            return self.at_node(key, wildcard, encloser)
        self.nxdomain(key, encloser)
        return None

    def find_cut(self, key: Key) -> Key | None:
        """The highest zone cut at or above a name. DS at the cut itself is parent-side data (RFC 4035 3.1.4.1)."""
        cuts = self.zone.cuts
        if not cuts:
            return None
        size = len(key)
        for depth in range(len(self.zone.okey) + 1, size + 1):
            ancestor = key[size - depth:]
            if ancestor in cuts and not (self.qtype == DS and depth == size):
                return ancestor
        return None

    def at_node(self, key: Key, owner: Key, encloser: Key | None) -> dns.name.Name | None:
        """Answer from the node at owner: the name itself, or the wildcard '*.encloser' synthesizing it."""
        types = self.zone.types_at(owner)
        synthesized = encloser is not None
        answer = self.out.answer
        before = len(answer)  # earlier links of a CNAME chain are already there
        target = None
        if self.qtype == ANY:
            # RFC 8482 allows less, but everything at the node is more useful when someone digs at the lab.
            for rdtype, _ in types:
                if rdtype != RRSIG:
                    self.put(answer, owner, rdtype, synthesized=synthesized)
        elif self.qtype == RRSIG:
            # Asked for explicitly: sent whatever DO says, as other servers do.
            for rdtype, covers in types:
                if rdtype == RRSIG:
                    rrset = self.zone.rrset(owner, RRSIG, covers)
                    self.out.add(answer, rrset, *((self.as_name, self.as_key) if synthesized else (None, ())))
        elif self.put(answer, owner, self.qtype, synthesized=synthesized) is None and self.qtype != CNAME:
            cname = self.put(answer, owner, CNAME, synthesized=synthesized)
            if cname is not None:
                target = cname[0].target
        if len(answer) == before:
            if encloser is None:
                self.nodata(key, ent=False)
            else:
                self.wildcard_nodata(key, owner, encloser)
        elif encloser is not None and self.dnssec:
            self.wildcard_answer_proof(key, encloser)
        return target

    # -- the negative and referral cases ---------------------------------------------------------------------

    def soa(self) -> None:
        self.put(self.out.authority, self.zone.okey, SOA)

    def referral(self, cut: Key) -> None:
        out, zone = self.out, self.zone
        out.referral = True
        ns = zone.rrset(cut, NS)
        out.add(out.authority, ns)
        if self.dnssec and self.put(out.authority, cut, DS) is None:
            self.proof_no_ds(cut)
        targets = [key_of(rd.target) for rd in ns or ()]
        # In-domain glue first: without it the child cannot be reached, so it must fit (RFC 9471); addresses of
        # other names (sibling glue, signed in-zone addresses) are optional (RFC 2181 section 9).
        in_domain = [t for t in targets if is_under(t, cut)]
        for target in in_domain:
            for rdtype in ADDRESS_TYPES:
                out.add(out.additional, zone.rrset(target, rdtype))
        out.required_additional = len(out.additional)
        for target in targets:
            if not zone.contains(target) or target in in_domain:
                continue
            # Glue below a cut is not signed; in-zone authoritative addresses are (RFC 4035 3.1.1).
            signed = self.dnssec and not self._below_cut(target)
            for rdtype in ADDRESS_TYPES:
                if signed:
                    self.put(out.additional, target, rdtype)
                else:
                    out.add(out.additional, zone.rrset(target, rdtype))

    def _below_cut(self, key: Key) -> bool:
        return any(key[i:] in self.zone.cuts for i in range(len(key) - len(self.zone.okey)))

    def proof_no_ds(self, cut: Key) -> None:
        """Insecure referral (RFC 4035 3.1.4, RFC 5155 7.2.7): NSEC at the cut, or the NSEC3 match / opt-out proof."""
        if self.zone.denial == "nsec":
            self.put(self.out.authority, cut, NSEC)
        elif self.zone.denial == "nsec3":
            proofs.nsec3_match_or_opt_out(self, cut)

    def nodata(self, key: Key, *, ent: bool) -> None:
        """NOERROR, no data (RFC 4035 3.1.3.1, RFC 5155 7.2.3 and 7.2.4)."""
        self.soa()
        if not self.dnssec:
            return
        if self.zone.denial == "nsec":
            # An empty non-terminal owns no NSEC: the one before it in canonical order covers it.
            owner = self.zone.nsec_covering(key) if ent else key
            if owner is not None:
                self.put(self.out.authority, owner, NSEC)
        elif self.zone.denial == "nsec3":
            proofs.nsec3_match_or_opt_out(self, key)

    def nxdomain(self, key: Key, encloser: Key) -> None:
        """Name error (RFC 4035 3.1.3.2, RFC 5155 7.2.2)."""
        self.out.rcode = dns.rcode.NXDOMAIN
        self.soa()
        if not self.dnssec:
            return
        if self.zone.denial == "nsec":
            proofs.nsec_cover(self, key)
            proofs.nsec_cover(self, proofs.wildcard_of(encloser))
        elif self.zone.denial == "nsec3":
            proofs.nsec3_closest_encloser(self, key, wildcard=True)

    def wildcard_answer_proof(self, key: Key, encloser: Key) -> None:
        """The exact name does not exist (RFC 4035 3.1.3.3, RFC 5155 7.2.6)."""
        if self.zone.denial == "nsec":
            proofs.nsec_cover(self, key)
        elif self.zone.denial == "nsec3":
            proofs.nsec3_cover(self, proofs.next_closer(key, encloser))

    def wildcard_nodata(self, key: Key, wildcard: Key, encloser: Key) -> None:
        """Wildcard matched but lacks the type (RFC 4035 3.1.3.4, RFC 5155 7.2.5)."""
        self.soa()
        if not self.dnssec:
            return
        if self.zone.denial == "nsec":
            proofs.nsec_cover(self, key)
            self.put(self.out.authority, wildcard, NSEC)
        elif self.zone.denial == "nsec3":
            proofs.nsec3_match(self, encloser)
            proofs.nsec3_cover(self, proofs.next_closer(key, encloser))
            proofs.nsec3_match(self, wildcard)


def lookup(zone: ServedZone, qname: dns.name.Name, qtype: int, dnssec: bool, qkey: Key | None = None) -> Sections:
    """Answer qname/qtype from zone, chasing CNAMEs that stay inside the zone."""
    out = Sections()
    name, key = qname, key_of(qname) if qkey is None else qkey
    step = _Step(zone, qname, qtype, dnssec, out)
    seen = {key}
    for _ in range(MAX_CNAME_CHAIN):
        target = step.run(name, key)
        if target is None:
            break
        name, key = target, key_of(target)
        # The resolver follows targets outside this zone itself; a loop just stops here.
        if key in seen or not is_under(key, zone.okey):
            break
        seen.add(key)
        step.as_name, step.as_key = None, ()
    return out
