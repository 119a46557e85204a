"""Judge authenticated denial of existence: NSEC (RFC 4035 section 5.4, RFC 6840 section 4) and NSEC3 (RFC 5155
section 8), for NXDOMAIN, NODATA, wildcard answers and the absence of a DS at a delegation.

Signatures over the NSEC/NSEC3 records are judged first, one link each; then one ``denial`` link says whether the
records prove what the answer claims, and if not, which proof is missing.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import dns.dnssec
import dns.name
import dns.rdatatype
import dns.rrset
from dns.rdtypes.ANY.DNSKEY import DNSKEY
from dns.rdtypes.ANY.NSEC import NSEC
from dns.rdtypes.ANY.NSEC3 import NSEC3
from dns.rdtypes.ANY.RRSIG import RRSIG

from testbed.explain.model import Link
from testbed.explain.sigs import judge_rrset, rrset_text, zone_text

NSEC3_MAX_ITERATIONS = 150        # what every target resolver accepted (fault-catalog.md 5.4); RFC 9276 3.2


def name_text(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True) or "."


def has_type(bitmap_rdata: NSEC | NSEC3, rdtype: int) -> bool:
    for window, bitmap in bitmap_rdata.windows:
        if rdtype // 256 != window:
            continue
        offset = (rdtype % 256) // 8
        if offset < len(bitmap) and bitmap[offset] & (0x80 >> (rdtype % 8)):
            return True
    return False


def types_text(rdata: NSEC | NSEC3) -> str:
    return " ".join(dns.rdatatype.to_text(dns.rdatatype.RdataType.make(t)) for t in _types(rdata))


def _types(rdata: NSEC | NSEC3) -> list[int]:
    out = []
    for window, bitmap in rdata.windows:
        for i, byte in enumerate(bitmap):
            for bit in range(8):
                if byte & (0x80 >> bit):
                    out.append(window * 256 + i * 8 + bit)
    return out


def _between(low: object, value: object, high: object) -> bool:
    """low < value < high in a circular chain (the last record's next is the first)."""
    if low < high:                                        # type: ignore[operator]
        return low < value < high                         # type: ignore[operator]
    return value > low or value < high                    # type: ignore[operator]


def _ancestor(name: dns.name.Name, other: dns.name.Name) -> dns.name.Name:
    """The longest common ancestor of two names."""
    _, _, common = name.fullcompare(other)
    return name.split(common)[1]


@dataclass
class Need:
    """What the answer claims and therefore what must be proven."""

    kind: str                         # nxdomain | nodata | wildcard | nods
    qname: dns.name.Name
    qtype: int
    wildcard_labels: int | None = None        # for "wildcard": the RRSIG Labels of the expanded answer


def judge_denial(need: Need, authority: list[dns.rrset.RRset], zone: dns.name.Name, keys: list[DNSKEY],
                 now: int) -> list[Link]:
    sigs: dict[tuple[dns.name.Name, int], list[RRSIG]] = {}
    for rrset in authority:
        if rrset.rdtype == dns.rdatatype.RRSIG:
            for sig in rrset:
                sigs.setdefault((rrset.name, sig.type_covered), []).append(sig)
    links: list[Link] = []
    nsecs: list[tuple[dns.name.Name, NSEC]] = []
    nsec3s: list[tuple[dns.name.Name, NSEC3]] = []
    for rrset in authority:
        if rrset.rdtype not in (dns.rdatatype.NSEC, dns.rdatatype.NSEC3):
            continue
        judged = judge_rrset(rrset, sigs.get((rrset.name, rrset.rdtype), []), keys, zone, now)
        what = rrset_text(rrset.name, rrset.rdtype)
        facts = {"zone": str(zone), "rrset": f"{rrset.name}/{dns.rdatatype.to_text(rrset.rdtype)}",
                 "problem": judged.problem}
        if judged.ok:
            links.append(Link("rrsig", what, "valid", f"signed by key {judged.good.sig.key_tag}"
                              if judged.good else "", facts=facts))
        else:
            worst = next((r for r in judged.results if r.problem == judged.problem), None)
            verdict = "missing" if judged.problem == "no-rrsig" else "invalid"
            sentence = (f"the {what} record proving the denial carries no RRSIG" if verdict == "missing"
                        else judged.why)
            links.append(Link("rrsig", what, verdict, judged.why, sentence,  # type: ignore[arg-type]
                              {**facts, **(worst.facts() if worst else {})}))
        for rdata in rrset:
            if isinstance(rdata, NSEC):
                nsecs.append((rrset.name, rdata))
            elif isinstance(rdata, NSEC3):
                nsec3s.append((rrset.name, rdata))
    if nsec3s and not nsecs:
        links.append(_nsec3_proof(need, nsec3s, zone))
    else:
        links.append(_nsec_proof(need, nsecs, zone))
    return links


def _claim(need: Need) -> str:
    q = name_text(need.qname)
    t = dns.rdatatype.to_text(dns.rdatatype.RdataType.make(need.qtype))
    return {"nxdomain": f"the NXDOMAIN for {q}", "nodata": f"the NODATA answer for {q}/{t}",
            "wildcard": f"the wildcard answer for {q}/{t}",
            "nods": f"the answer that {q} has no DS"}[need.kind]


def _link(need: Need, verdict: str, detail: str, sentence: str = "", problem: str = "", **facts: object) -> Link:
    return Link("denial", _claim(need), verdict, detail, sentence or "", {  # type: ignore[arg-type]
        "qname": str(need.qname), "qtype": dns.rdatatype.to_text(dns.rdatatype.RdataType.make(need.qtype)),
        "claim": need.kind,
        "problem": problem, **facts})


# ---- NSEC --------------------------------------------------------------------------------------------------------

def _nsec_proof(need: Need, nsecs: list[tuple[dns.name.Name, NSEC]], zone: dns.name.Name) -> Link:
    claim = _claim(need)
    q = need.qname
    if not nsecs:
        return _link(need, "missing", "no NSEC or NSEC3 record", f"{claim} carries no NSEC or NSEC3 record proving "
                     f"it", problem="no-nsec", zone=str(zone))
    matching = next((r for o, r in nsecs if o == q), None)

    def covering(name: dns.name.Name) -> tuple[dns.name.Name, NSEC] | None:
        for owner, rdata in nsecs:
            if owner != name and _between(owner, name, rdata.next) and not _overreaches(owner, rdata, name):
                return owner, rdata
        return None

    if need.kind == "nods":
        if matching is None:
            return _link(need, "missing", f"no NSEC at {name_text(q)}",
                         f"{claim} carries no NSEC for {name_text(q)} proving there is none, so the insecure "
                         f"delegation is not proven", problem="no-nsec", zone=str(zone))
        if has_type(matching, dns.rdatatype.DS):
            return _link(need, "invalid", f"NSEC bitmap lists DS ({types_text(matching)})",
                         f"the NSEC at {name_text(q)} lists DS in its type bitmap, so the DS exists but was not "
                         f"given: the delegation is not proven insecure", problem="bitmap-has-ds", zone=str(zone))
        if has_type(matching, dns.rdatatype.SOA):
            return _link(need, "invalid", f"the NSEC has the SOA bit ({types_text(matching)})",
                         f"the NSEC used to prove {name_text(q)} has no DS is the child's own apex NSEC (SOA bit "
                         f"set), not the parent's (RFC 6840 4.4)", problem="child-apex-nsec", zone=str(zone))
        if not has_type(matching, dns.rdatatype.NS):
            return _link(need, "invalid", f"the NSEC lacks the NS bit ({types_text(matching)})",
                         f"the NSEC at {name_text(q)} lacks the NS bit, so it does not prove an insecure delegation "
                         f"(RFC 6840 4.4)", problem="no-ns-bit", zone=str(zone))
        return _link(need, "insecure", f"NSEC at {name_text(q)}: {types_text(matching)}",
                     f"{name_text(q)} is an insecure delegation: the NSEC at {name_text(zone)} proves it has no DS",
                     problem="insecure-delegation", zone=str(zone))

    if need.kind == "nodata":
        if matching is not None:
            if has_type(matching, need.qtype):
                t = dns.rdatatype.to_text(dns.rdatatype.RdataType.make(need.qtype))
                return _link(need, "invalid", f"bitmap lists {t}: {types_text(matching)}",
                             f"{claim} is contradicted by its own NSEC: the NSEC at {name_text(q)} lists {t} in its "
                             f"type bitmap", problem="bitmap-has-qtype", zone=str(zone))
            if has_type(matching, dns.rdatatype.CNAME):
                return _link(need, "invalid", f"bitmap lists CNAME: {types_text(matching)}",
                             f"{claim} hides the CNAME {name_text(q)}/CNAME: the NSEC at {name_text(q)} lists "
                             f"CNAME in its type bitmap",
                             problem="hides-cname", zone=str(zone))
            return _link(need, "valid", f"NSEC at {name_text(q)}: {types_text(matching)}")
        cover = covering(q)
        if cover is not None and cover[1].next.is_subdomain(q) and cover[1].next != q:
            return _link(need, "valid", f"{name_text(q)} is an empty non-terminal (NSEC {name_text(cover[0])} -> "
                                        f"{name_text(cover[1].next)})")
        if cover is not None:
            ce = _closest_encloser(q, cover)
            star = dns.name.from_text("*", ce)
            wild = next((r for o, r in nsecs if o == star), None)
            if wild is not None and not has_type(wild, need.qtype):
                return _link(need, "valid", f"wildcard NODATA: {name_text(star)} has {types_text(wild)}")
        return _link(need, "missing", f"no NSEC at {name_text(q)}",
                     f"{claim} carries no NSEC for {name_text(q)} showing the type is absent", problem="no-nsec",
                     zone=str(zone))

    # nxdomain and wildcard: the name itself must be covered
    cover = covering(q)
    if cover is None:
        over = next(((o, r) for o, r in nsecs if _overreaches(o, r, q)), None)
        if over is not None:
            return _link(need, "invalid", f"NSEC {name_text(over[0])} is a delegation point",
                         f"{claim} relies on the NSEC at {name_text(over[0])}, a delegation (NS without SOA), which "
                         f"cannot deny names below the cut (RFC 6840 4.1)", problem="overreach", zone=str(zone))
        if matching is not None:
            return _link(need, "invalid", f"an NSEC exists at {name_text(q)}",
                         f"{claim} is contradicted by an NSEC at {name_text(q)}, which proves the name exists",
                         problem="name-exists", zone=str(zone))
        return _link(need, "missing", f"no NSEC covers {name_text(q)}",
                     f"{claim} carries no NSEC covering the name", problem="qname-not-covered", zone=str(zone))
    owner, rdata = cover
    if need.kind == "wildcard":
        return _link(need, "valid", f"NSEC {name_text(owner)} -> {name_text(rdata.next)} covers {name_text(q)}")
    if rdata.next.is_subdomain(q):
        return _link(need, "invalid", f"NSEC next name {name_text(rdata.next)} is below {name_text(q)}",
                     f"{claim} is wrong: the NSEC {name_text(owner)} -> {name_text(rdata.next)} shows names below "
                     f"{name_text(q)}, so it exists as an empty non-terminal (RFC 8020)", problem="ent-nxdomain",
                     zone=str(zone))
    ce = _closest_encloser(q, cover)
    star = dns.name.from_text("*", ce)
    if any(o == star for o, _ in nsecs):
        return _link(need, "invalid", f"wildcard {name_text(star)} exists",
                     f"{claim} is wrong: the NSEC at {name_text(star)} shows a wildcard that should have answered",
                     problem="wildcard-exists", zone=str(zone))
    if covering(star) is None:
        return _link(need, "missing", f"no NSEC covers the wildcard {name_text(star)}",
                     f"{claim} carries no NSEC proving there is no wildcard {name_text(star)}",
                     problem="wildcard-not-covered", zone=str(zone))
    return _link(need, "valid", f"NSEC {name_text(owner)} -> {name_text(rdata.next)} covers the name; no wildcard")


def _overreaches(owner: dns.name.Name, rdata: NSEC, name: dns.name.Name) -> bool:
    """An NSEC at a delegation point (NS without SOA) or a DNAME says nothing about names below it."""
    if not name.is_subdomain(owner) or name == owner:
        return False
    cut = has_type(rdata, dns.rdatatype.NS) and not has_type(rdata, dns.rdatatype.SOA)
    return cut or has_type(rdata, dns.rdatatype.DNAME)


def _closest_encloser(q: dns.name.Name, cover: tuple[dns.name.Name, NSEC]) -> dns.name.Name:
    a, b = _ancestor(q, cover[0]), _ancestor(q, cover[1].next)
    return a if len(a) >= len(b) else b


# ---- NSEC3 -------------------------------------------------------------------------------------------------------

@dataclass
class _Hashed:
    owner: dns.name.Name
    rdata: NSEC3
    owner_hash: str
    next_hash: str


def _nsec3_proof(need: Need, found: list[tuple[dns.name.Name, NSEC3]], zone: dns.name.Name) -> Link:
    claim = _claim(need)
    usable = [(o, r) for o, r in found if r.algorithm == 1 and r.flags in (0, 1)]
    if not usable:
        r = found[0][1]
        why = (f"hash algorithm {r.algorithm}, which validators do not know (RFC 5155 8.1)" if r.algorithm != 1
               else f"flags {r.flags}, which validators must ignore (RFC 5155 8.2)")
        return _link(need, "invalid", f"every NSEC3 ignored: {why}",
                     f"{claim} rests on NSEC3 records with {why}", problem="nsec3-ignored", zone=str(zone))
    params = {(r.algorithm, r.iterations, r.salt) for _, r in usable}
    if len(params) > 1:
        return _link(need, "invalid", "NSEC3 records with different parameters",
                     f"{claim} mixes NSEC3 records with different salt or iterations (RFC 5155 8.2)",
                     problem="nsec3-mixed", zone=str(zone))
    algorithm, iterations, salt = params.pop()
    if iterations > NSEC3_MAX_ITERATIONS:
        return _link(need, "insecure", f"{iterations} NSEC3 iterations",
                     f"{claim} uses NSEC3 with {iterations} iterations, above the {NSEC3_MAX_ITERATIONS} validators "
                     f"accept, so it is treated as insecure (RFC 9276 3.2)", problem="nsec3-iterations",
                     zone=str(zone), iterations=iterations)
    records = [_Hashed(o, r, o.labels[0].decode().lower(),
                       base64.b32hexencode(r.next).decode().lower().rstrip("=")) for o, r in usable]

    def h(name: dns.name.Name) -> str:
        return dns.dnssec.nsec3_hash(name, salt, iterations, algorithm).lower()

    def match(name: dns.name.Name) -> _Hashed | None:
        digest = h(name)
        return next((r for r in records if r.owner_hash == digest), None)

    def cover(name: dns.name.Name) -> _Hashed | None:
        digest = h(name)
        return next((r for r in records if _between(r.owner_hash, digest, r.next_hash)), None)

    q = need.qname
    z = str(zone)
    if need.kind == "nodata" and need.qtype == dns.rdatatype.DS and match(q) is None:
        need = Need("nods", q, need.qtype)      # a DS NODATA without a matching NSEC3: an opt-out span's proof
    if need.kind in ("nods", "nodata"):
        m = match(q)
        if m is not None:
            if need.kind == "nods":
                if has_type(m.rdata, dns.rdatatype.DS):
                    return _link(need, "invalid", "NSEC3 bitmap lists DS",
                                 f"the NSEC3 for {name_text(q)} lists DS in its type bitmap, so the DS exists but was "
                                 f"not given", problem="bitmap-has-ds", zone=z)
                if has_type(m.rdata, dns.rdatatype.SOA) or not has_type(m.rdata, dns.rdatatype.NS):
                    return _link(need, "invalid", f"NSEC3 bitmap: {types_text(m.rdata)}",
                                 f"the NSEC3 for {name_text(q)} ({types_text(m.rdata)}) is not a delegation's, so it "
                                 f"does not prove an insecure delegation (RFC 5155 8.6)", problem="not-delegation",
                                 zone=z)
                return _link(need, "insecure", f"NSEC3 for {name_text(q)}: {types_text(m.rdata)}",
                             f"{name_text(q)} is an insecure delegation: the NSEC3 at {name_text(zone)} proves it has "
                             f"no DS", problem="insecure-delegation", zone=z)
            if has_type(m.rdata, need.qtype):
                t = dns.rdatatype.to_text(dns.rdatatype.RdataType.make(need.qtype))
                return _link(need, "invalid", f"NSEC3 bitmap lists {t}",
                             f"{claim} is contradicted by its own NSEC3: the NSEC3 for {name_text(q)} lists {t} in "
                             f"its type bitmap", problem="bitmap-has-qtype", zone=z)
            if has_type(m.rdata, dns.rdatatype.CNAME):
                return _link(need, "invalid", "NSEC3 bitmap lists CNAME",
                             f"{claim} hides the CNAME {name_text(q)}/CNAME: the NSEC3 for {name_text(q)} lists CNAME",
                             problem="hides-cname",
                             zone=z)
            return _link(need, "valid", f"NSEC3 for {name_text(q)}: {types_text(m.rdata)}")
    if need.kind == "wildcard" and need.wildcard_labels is not None:
        source = q.split(need.wildcard_labels + 1)[1]
        covered = cover(dns.name.Name(q.labels[-(len(source) + 1):]))
        if covered is None:
            return _link(need, "missing", f"no NSEC3 covers the next closer name of {name_text(q)}",
                         f"{claim} carries no NSEC3 proving {name_text(q)} itself does not exist (RFC 5155 8.8)",
                         problem="no-next-closer", zone=z)
        return _link(need, "valid", f"NSEC3 covers the next closer name under {name_text(source)}")
    # closest encloser proof (RFC 5155 8.3)
    ce, nc = None, None
    name = q.parent() if q != zone else q
    child = q
    while True:
        if match(name) is not None:
            ce, nc = name, child
            break
        if name == zone or len(name) <= len(zone):
            break
        child, name = name, name.parent()
    if ce is None or nc is None:
        if need.kind == "nodata":
            return _link(need, "missing", f"no NSEC3 matches {name_text(q)}",
                         f"{claim} carries no NSEC3 matching {name_text(q)}", problem="no-match", zone=z)
        return _link(need, "missing", f"no NSEC3 matches a closest encloser of {name_text(q)}",
                     f"{claim} carries no NSEC3 matching a closest encloser of the name (RFC 5155 8.3)",
                     problem="no-closest-encloser", zone=z)
    nc_cover = cover(nc)
    if nc_cover is None:
        return _link(need, "missing", f"no NSEC3 covers the next closer name {name_text(nc)}",
                     f"{claim} carries no NSEC3 covering the next closer name {name_text(nc)} (RFC 5155 8.4)",
                     problem="no-next-closer", zone=z)
    opt_out = bool(nc_cover.rdata.flags & 1)
    if need.kind == "nods":
        if opt_out:
            return _link(need, "insecure", f"opt-out NSEC3 covers {name_text(nc)}",
                         f"{name_text(q)} is an insecure delegation inside an opt-out span: the NSEC3 covering "
                         f"{name_text(nc)} has the opt-out flag (RFC 5155 8.6)", problem="opt-out", zone=z)
        return _link(need, "invalid", f"the NSEC3 covering {name_text(nc)} lacks opt-out",
                     f"no NSEC3 matches {name_text(q)} and the NSEC3 covering it lacks the opt-out flag, so the "
                     f"missing DS is not proven (RFC 5155 8.6)", problem="no-opt-out", zone=z)
    star = dns.name.from_text("*", ce)
    if need.kind == "nodata":
        w = match(star)
        if w is not None and not has_type(w.rdata, need.qtype):
            return _link(need, "valid", f"wildcard NODATA at {name_text(star)}")
        return _link(need, "missing", f"no NSEC3 matches {name_text(q)}",
                     f"{claim} carries no NSEC3 matching {name_text(q)}", problem="no-match", zone=z)
    if match(star) is not None:
        return _link(need, "invalid", f"wildcard {name_text(star)} exists",
                     f"{claim} is wrong: an NSEC3 matches the wildcard {name_text(star)}, which should have answered",
                     problem="wildcard-exists", zone=z)
    if cover(star) is None:
        return _link(need, "missing", f"no NSEC3 covers the wildcard {name_text(star)}",
                     f"{claim} carries no NSEC3 proving there is no wildcard {name_text(star)} (RFC 5155 8.4)",
                     problem="wildcard-not-covered", zone=z)
    if opt_out:
        return _link(need, "insecure", f"opt-out NSEC3 covers {name_text(nc)}",
                     f"{claim} is covered only by an opt-out NSEC3, which cannot prove the name is absent from "
                     f"{zone_text(zone)}, so the answer is insecure (RFC 5155 9.2)", problem="opt-out", zone=z)
    return _link(need, "valid", f"closest encloser {name_text(ce)}, next closer {name_text(nc)} covered, no wildcard")
