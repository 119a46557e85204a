"""The parental agent's DS check: is a submitted DS safe to publish, judged against the child's live DNSKEY RRset?

A registry that publishes a DS that matches no key the child signs its DNSKEY RRset with turns the child bogus for
every validator (RFC 4035 section 5.2). Under ``acceptance: strict`` the agent refuses such a DS before publication,
with the reason a registrar would pass on to the registrant. The rules, in order:

1. every name server of the child answers (over TCP when the policy says so) with a DNSKEY RRset, the same one;
2. the DS names an algorithm and a digest type the registry's policy allows (no RSASHA1 5/7, no SHA-1 digest:
   RFC 9905 section 2);
3. the DS matches a DNSKEY in that RRset (key tag, algorithm and digest), a zone key with the SEP bit and without
   the REVOKE bit;
4. that key signs the DNSKEY RRset: an RRSIG by it validates at the lab clock, on every server;
5. that signature stays valid for at least the policy's margin.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, cast

import dns.dnssec
import dns.exception
import dns.name
import dns.rdata
import dns.rdataset
import dns.rdatatype
import dns.rdtypes.ANY.DS
import dns.rrset

from testbed.registry.fetch import ServerAnswer
from testbed.registry.policy import RegistryPolicy

ZONE_FLAG, SEP_FLAG, REVOKE_FLAG = 0x0100, 0x0001, 0x0080
DIGEST_NAMES = {1: "SHA-1", 2: "SHA-256", 3: "GOST R 34.11-94", 4: "SHA-384"}


@dataclass(frozen=True)
class Decision:
    accepted: bool
    reason: str


def lab_time(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(seconds))


def algorithm_text(number: int) -> str:
    try:
        return f"{number} ({dns.dnssec.algorithm_to_text(number)})"
    except (ValueError, dns.exception.DNSException):
        return str(number)


def digest_text(number: int) -> str:
    return f"{number} ({DIGEST_NAMES[number]})" if number in DIGEST_NAMES else str(number)


def ds_text(ds: Any) -> str:
    """A DS as a registrar's form shows it: key tag, algorithm, digest type and the digest, shortened."""
    digest = ds.digest.hex().upper()
    return f"{ds.key_tag} {ds.algorithm} {ds.digest_type} {digest[:8]}...{digest[-4:]}"


def compute_ds(child: dns.name.Name, key: Any, digest_type: int) -> dns.rdata.Rdata | None:
    try:
        return dns.dnssec.make_ds(child, key, cast(Any, digest_type), policy=dns.dnssec.allow_all_policy)
    except (dns.dnssec.UnsupportedAlgorithm, ValueError, dns.exception.DNSException):
        return None


def valid_signatures(rrset: dns.rrset.RRset, rrsigs: dns.rrset.RRset | None, dnskeys: dns.rrset.RRset,
                     now: float) -> dict[dns.rdata.Rdata, int]:
    """DNSKEY -> the latest expiration among its RRSIGs over ``rrset`` that validate at ``now``."""
    good: dict[dns.rdata.Rdata, int] = {}
    for sig in rrsigs or ():
        for key in dnskeys:
            if dns.dnssec.key_id(key) != sig.key_tag or key.algorithm != sig.algorithm:
                continue
            try:
                dns.dnssec.validate_rrsig(rrset, sig, {dnskeys.name: dns.rdataset.from_rdata(dnskeys.ttl, key)},
                                          now=now, policy=dns.dnssec.allow_all_policy)
            except (dns.dnssec.ValidationFailure, dns.exception.DNSException):
                continue
            good[key] = max(good.get(key, 0), sig.expiration)
    return good


def server_problems(answers: list[ServerAnswer], what: str, policy: RegistryPolicy) -> str | None:
    """Why the servers' answers cannot be used (an error, no RRset, disagreement), or None."""
    for answer in answers:
        if answer.error:
            return f"{answer.where} {answer.error}"
    missing = [a.where for a in answers if a.rrset is None]
    if missing and what == "DNSKEY":
        return f"{', '.join(missing)} serves no DNSKEY RRset: the zone is not signed there"
    if policy.all_servers_agree and len({a.records() for a in answers}) > 1:
        lines = "; ".join(f"{a.where}: {len(a.records())} {what}" for a in answers)
        return f"the name servers disagree on the {what} RRset ({lines}); the policy wants all of them to agree"
    return None


def check_ds(child: str, submitted: list[dns.rdtypes.ANY.DS.DS], answers: list[ServerAnswer],
             policy: RegistryPolicy, now: float) -> Decision:
    """Whether the registry may publish ``submitted`` (all of it) as ``child``'s DS RRset."""
    origin = dns.name.from_text(child)
    if not answers:
        return Decision(False, f"{child} has no name servers to check the DS against")
    problem = server_problems(answers, "DNSKEY", policy)
    if problem:
        return Decision(False, f"cannot check the DS against {child}'s DNSKEY RRset: {problem}")
    accepted: list[str] = []
    for ds in submitted:
        if ds.algorithm not in policy.algorithms:
            return Decision(False, f"DS {ds_text(ds)}: algorithm {algorithm_text(ds.algorithm)} is not accepted by "
                                   f"this registry (RFC 9905 section 2 for 5/7; it accepts "
                                   f"{', '.join(map(str, policy.algorithms))})")
        if ds.digest_type not in policy.digests:
            return Decision(False, f"DS {ds_text(ds)}: digest type {digest_text(ds.digest_type)} is not accepted by "
                                   f"this registry (RFC 9905 section 2 for SHA-1; it accepts "
                                   f"{', '.join(map(digest_text, policy.digests))})")
        for answer in answers:
            reason = _check_at(origin, ds, answer, policy, now)
            if reason:
                return Decision(False, f"DS {ds_text(ds)}: {reason}")
        accepted.append(ds_text(ds))
    servers = ", ".join(a.ns for a in answers)
    return Decision(True, f"DS {'; '.join(accepted)} matches a SEP key that signs {child}'s DNSKEY RRset on every "
                          f"name server ({servers}), valid past the registry's margin")


def _check_at(origin: dns.name.Name, ds: Any, answer: ServerAnswer, policy: RegistryPolicy,
              now: float) -> str | None:
    assert answer.rrset is not None
    keys: list[Any] = list(answer.rrset)
    same_tag = [k for k in keys if dns.dnssec.key_id(k) == ds.key_tag and k.algorithm == ds.algorithm]
    key = next((k for k in same_tag if compute_ds(origin, k, ds.digest_type) == ds), None)
    if key is None:
        if same_tag:
            return (f"the digest does not match DNSKEY {ds.key_tag} published at {answer.where}: a mistyped digest? "
                    f"(RFC 4034 section 5.1.4)")
        tags = ", ".join(f"{dns.dnssec.key_id(k)}/{k.algorithm}" for k in answer.rrset if k.flags & SEP_FLAG)
        return (f"matches no DNSKEY published at {answer.where} (its SEP keys, tag/algorithm: {tags or 'none'}); "
                f"publish the key first, or submit the DS of a key the zone has (RFC 4035 section 5.2)")
    if not key.flags & ZONE_FLAG:
        return f"DNSKEY {ds.key_tag} has no Zone Key bit (RFC 4034 section 2.1.1)"
    if key.flags & REVOKE_FLAG:
        return f"DNSKEY {ds.key_tag} is revoked (RFC 5011 section 2.1)"
    if not key.flags & SEP_FLAG:
        return f"DNSKEY {ds.key_tag} is not a key-signing key (no SEP bit, flags {key.flags}); submit the KSK's DS"
    signed = valid_signatures(answer.rrset, answer.rrsigs, answer.rrset, now)
    if key not in signed:
        return (f"DNSKEY {ds.key_tag} does not sign the DNSKEY RRset at {answer.where} (no RRSIG by it validates "
                f"at {lab_time(now)}): the DS would not lead to a validated key set (RFC 4035 section 5.2)")
    if signed[key] - now < policy.signature_margin:
        return (f"the DNSKEY RRset's signature by key {ds.key_tag} at {answer.where} expires {lab_time(signed[key])}, "
                f"within the registry's margin of {policy.signature_margin // 3600} h; re-sign the zone first")
    return None
