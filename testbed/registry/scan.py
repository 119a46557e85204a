"""The registry's CDS/CDNSKEY scanner: one scan asks every name server of the child for its CDS, CDNSKEY and DNSKEY
RRsets (with signatures), and decides what the child's request means for the DS RRset at the parent.

The decision on what was seen is ``faults.cds.parental_agent_verdict`` (RFC 7344 section 4.1, RFC 8078 section 4):
the records must be signed by a key the current DS names, a delete request must stand alone, CDS and CDNSKEY must
agree, and the new DS set must name a key that signs the DNSKEY RRset. Around it, the policy's rules: every server
must serve the same records, at most ``max_cds`` CDS, the requested DS must use allowed algorithms and digests. For
an insecure child (no DS yet: bootstrapping, RFC 8078 section 3 and RFC 9615) the records are checked for
consistency with the child's own keys, and the timeline action waits for the policy's number of unchanged scans
unless an authenticated RFC 9615 signal removes the wait.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import dns.dnssec
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.DS
import dns.rrset
import dns.zone

from testbed.faults.cds import _make_ds, parental_agent_verdict
from testbed.registry.agent import algorithm_text, digest_text, ds_text
from testbed.registry.fetch import ServerAnswer
from testbed.registry.policy import RegistryPolicy

SCANNED = ("CDS", "CDNSKEY", "DNSKEY")


@dataclass(frozen=True)
class ScanOutcome:
    """What one scan found: ``accept`` (publish ``ds``), ``delete`` (remove the DS), ``reject`` (``reason`` says
    why: the DS stays as it is) or ``none`` (no CDS/CDNSKEY: nothing to do). ``seen`` fingerprints the records, so
    consecutive scans can be compared."""

    kind: str
    reason: str
    ds: list[dns.rdtypes.ANY.DS.DS] = field(default_factory=list)
    seen: frozenset[str] = frozenset()


def _zone_of(child: dns.name.Name, answers: dict[str, ServerAnswer]) -> dns.zone.Zone:
    """The scanned RRsets and their signatures as a zone, the form ``parental_agent_verdict`` takes."""
    zone = dns.zone.Zone(child, relativize=False)
    for answer in answers.values():
        for rrset in (answer.rrset, answer.rrsigs):
            if rrset is None:
                continue
            node = zone.find_node(child, create=True)
            rdataset = node.find_rdataset(dns.rdataclass.IN, rrset.rdtype, rrset.covers, create=True)
            rdataset.update(rrset)
    return zone


def compact(item: str) -> str:
    """'CDS 34696 13 2 3a00...' / 'CDNSKEY 257 3 13 u/+S...' as a registrar's screen shows them: short."""
    rdtype, _, text = item.partition(" ")
    rdata: Any = dns.rdata.from_text(dns.rdataclass.IN, rdtype, text)
    if rdtype == "CDS":
        return f"CDS {ds_text(rdata)}" if rdata.algorithm else "CDS 0 0 0 00 (delete)"
    if not rdata.algorithm:
        return "CDNSKEY 0 3 0 AA== (delete)"
    return f"CDNSKEY {rdata.flags} {rdata.protocol} {rdata.algorithm} (key tag {dns.dnssec.key_id(rdata)})"


def fingerprint(answers: dict[str, ServerAnswer]) -> frozenset[str]:
    return frozenset(f"{rdtype} {text}" for rdtype in ("CDS", "CDNSKEY")
                     for text in answers[rdtype].records())


def decide(child: str, per_server: list[dict[str, ServerAnswer]], current_ds: list[dns.rdtypes.ANY.DS.DS],
           policy: RegistryPolicy, now: float) -> ScanOutcome:
    """One scan's decision from every server's CDS, CDNSKEY and DNSKEY answers."""
    origin = dns.name.from_text(child)
    for answers in per_server:
        for rdtype in SCANNED:
            answer = answers[rdtype]
            if answer.error:
                return ScanOutcome("reject", f"{answer.where} {answer.error} for {rdtype}")
    seen = [fingerprint(a) for a in per_server]
    if policy.all_servers_agree and len(set(seen)) > 1:
        counts = "; ".join(f"{a['CDS'].where}: " + (", ".join(compact(i) for i in sorted(s)) if s else "none")
                           for a, s in zip(per_server, seen, strict=True))
        return ScanOutcome("reject", f"the name servers disagree on CDS/CDNSKEY ({_short(counts)}); the policy "
                                     f"wants all of them to serve the same request")
    first = per_server[0]
    if not seen[0]:
        return ScanOutcome("none", "no CDS or CDNSKEY published")
    cds = first["CDS"].rrset
    if policy.max_cds is not None and cds is not None and len(cds) > policy.max_cds:
        return ScanOutcome("reject", f"{len(cds)} CDS records, more than the policy's {policy.max_cds}", seen=seen[0])
    if first["DNSKEY"].rrset is None:
        return ScanOutcome("reject", f"{first['DNSKEY'].where} serves no DNSKEY RRset", seen=seen[0])
    zone = _zone_of(origin, first)
    # an insecure child has no DS to authenticate its request: judge it against the DS it asks for (its own keys)
    asked: list[Any] = list(cds or [])
    requested: list[Any] = current_ds or [dns.rdtypes.ANY.DS.DS(dns.rdataclass.IN, dns.rdatatype.DS, r.key_tag,
                                                                r.algorithm, r.digest_type, r.digest)
                                          for r in asked if r.algorithm]
    if not current_ds and not requested and first["CDNSKEY"].rrset is not None:
        requested = [_make_ds(origin, key, policy.digests[0]) for key in first["CDNSKEY"].rrset if key.algorithm]
    verdict = parental_agent_verdict(zone, requested, now=now)
    if verdict.action == "reject":
        why = verdict.reason
        if not current_ds and "current DS" in why:
            why = why.replace("a key the current DS names", "a key the requested DS names (bootstrapping)")
        return ScanOutcome("reject", why, seen=seen[0])
    if verdict.action == "delete":
        if not current_ds:
            return ScanOutcome("none", "a delete request, but the parent publishes no DS for the child", seen=seen[0])
        if not policy.delete:
            return ScanOutcome("reject", "the policy does not act on delete requests", seen=seen[0])
        return ScanOutcome("delete", "delete request (CDS 0 0 0 00, RFC 8078 section 4)", seen=seen[0])
    for ds in verdict.ds:
        if ds.algorithm not in policy.algorithms:
            return ScanOutcome("reject", f"CDS {ds_text(ds)}: algorithm {algorithm_text(ds.algorithm)} is not "
                                         "accepted by this registry", seen=seen[0])
        if ds.digest_type not in policy.digests:
            return ScanOutcome("reject", f"CDS {ds_text(ds)}: digest type {digest_text(ds.digest_type)} is not "
                                         "accepted by this registry", seen=seen[0])
    if {ds.to_text() for ds in verdict.ds} == {ds.to_text() for ds in current_ds}:
        return ScanOutcome("none", "the CDS asks for the DS the parent publishes already", verdict.ds, seen[0])
    return ScanOutcome("accept", "the CDS/CDNSKEY request is signed, consistent and keeps the chain intact "
                                 "(RFC 7344 section 4.1)", verdict.ds, seen[0])


def _short(text: str, most: int = 400) -> str:
    return text if len(text) <= most else text[:most] + "..."


def scan_answers(fetch_one: Callable[[str, str, str, str], ServerAnswer], servers: list[tuple[str, str]],
                 child: str) -> list[dict[str, ServerAnswer]]:
    """Every server's answers for CDS, CDNSKEY and DNSKEY: ``fetch_one(ns, address, qname, qtype)``."""
    return [{rdtype: fetch_one(ns, address, child, rdtype) for rdtype in SCANNED} for ns, address in servers]


def rrset_texts(rrset: dns.rrset.RRset | None) -> list[str]:
    return sorted(r.to_text() for r in rrset) if rrset is not None else []
