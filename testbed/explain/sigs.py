"""Judge the RRSIGs over one RRset the way RFC 4035 section 5.3.1 lists the checks, one reason per signature.

dnspython's ``validate_rrsig`` says only "unknown key" or "verify failure"; a person wants to know which of the
RFC's conditions failed, so each condition is checked here in the RFC's order and only the cryptography is left to
dnspython. An RRset is valid when any one signature is (RFC 6840 section 5.4).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import dns.dnssec
import dns.name
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rrset
from dns.rdtypes.ANY.DNSKEY import DNSKEY
from dns.rdtypes.ANY.RRSIG import RRSIG

# Algorithms a validator of the target versions validates (fault-catalog.md section 3): RFC 8624 MUST/RECOMMENDED.
SUPPORTED_ALGORITHMS = frozenset({5, 7, 8, 10, 13, 14, 15, 16})
ZONE_FLAG = 0x0100
REVOKE_FLAG = 0x0080


def alg_text(algorithm: int) -> str:
    try:
        return f"{dns.dnssec.Algorithm(algorithm).name} ({algorithm})"
    except ValueError:
        return f"algorithm {algorithm}"


def when(timestamp: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(timestamp))


def span(seconds: int) -> str:
    """A rough human span: '1 day', '5 minutes', '3 hours'."""
    seconds = abs(seconds)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = round(seconds / size)
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} second{'' if seconds == 1 else 's'}"


def rrset_text(name: dns.name.Name, rdtype: int) -> str:
    return f"{name.to_text(omit_final_dot=True) or '.'}/{dns.rdatatype.to_text(dns.rdatatype.RdataType.make(rdtype))}"


def zone_text(name: dns.name.Name | str) -> str:
    text = name.to_text(omit_final_dot=True) if isinstance(name, dns.name.Name) else name.rstrip(".")
    return text or "the root"


@dataclass
class SigResult:
    """One RRSIG's judgement. ``problem`` is a short reason code (expired, not-yet-valid, unknown-key...)."""

    sig: RRSIG
    ok: bool
    problem: str = ""
    why: str = ""                     # the clause of a sentence: "expired 2026-12-03 19:00 UTC, 1 day before ..."
    wildcard: bool = False            # Labels < owner labels: the RRset was expanded from a wildcard

    def facts(self) -> dict[str, Any]:
        return {"key_tag": self.sig.key_tag, "algorithm": self.sig.algorithm, "signer": str(self.sig.signer),
                "inception": self.sig.inception, "expiration": self.sig.expiration, "problem": self.problem}


@dataclass
class RRsetJudgement:
    ok: bool
    results: list[SigResult] = field(default_factory=list)
    problem: str = ""                 # the reason of the most telling failed signature, or "no-rrsig"
    why: str = ""

    @property
    def good(self) -> SigResult | None:
        return next((r for r in self.results if r.ok), None)

    @property
    def wildcard(self) -> bool:
        good = self.good
        return good is not None and good.wildcard


# Which failure to name when every signature failed: the one closest to "the right key signed it, but...".
_PRIORITY = ("expired", "not-yet-valid", "expiry-before-inception", "bad-signature", "labels", "revoked-key",
             "no-zone-bit", "bad-protocol", "algorithm-mismatch", "unknown-key", "signer", "unsupported-algorithm")


def owner_labels(name: dns.name.Name) -> int:
    """The RRSIG Labels count for ``name``: no root label, no leading '*'."""
    count = len(name) - 1
    return count - 1 if name.is_wild() else count


def judge_rrset(rrset: dns.rrset.RRset, sigs: Iterable[RRSIG], keys: Iterable[DNSKEY], zone: dns.name.Name,
                now: int) -> RRsetJudgement:
    """Judge every signature over ``rrset`` against the zone's ``keys`` at ``now``."""
    sigs = [s for s in sigs if s.type_covered == rrset.rdtype]
    what = rrset_text(rrset.name, rrset.rdtype)
    if not sigs:
        return RRsetJudgement(ok=False, problem="no-rrsig", why=f"{what} carries no RRSIG")
    keys = list(keys)
    results = [judge_sig(rrset, sig, keys, zone, now) for sig in sigs]
    if any(r.ok for r in results):
        return RRsetJudgement(ok=True, results=results)
    worst = min(results, key=lambda r: _PRIORITY.index(r.problem) if r.problem in _PRIORITY else len(_PRIORITY))
    return RRsetJudgement(ok=False, results=results, problem=worst.problem, why=worst.why)


def absolute(stamp: int, now: int) -> int:
    """An RRSIG time (32-bit, RFC 4034 3.1.5 serial arithmetic) as the POSIX time nearest to ``now``."""
    delta = (stamp - now) & 0xFFFFFFFF
    if delta >= 1 << 31:
        delta -= 1 << 32
    return now + delta


def judge_sig(rrset: dns.rrset.RRset, sig: RRSIG, keys: list[DNSKEY], zone: dns.name.Name, now: int) -> SigResult:
    what = f"RRSIG over {rrset_text(rrset.name, rrset.rdtype)} by key {sig.key_tag}"

    def bad(problem: str, why: str) -> SigResult:
        return SigResult(sig, False, problem, f"{what} {why}")

    if sig.signer != zone:
        return bad("signer", f"names signer {zone_text(sig.signer)}, not {zone_text(zone)}, the zone that "
                             f"holds the RRset")
    labels = owner_labels(rrset.name)
    if sig.labels > labels:
        return bad("labels", f"has Labels {sig.labels}, more than the {labels} labels of its owner")
    if sig.algorithm not in SUPPORTED_ALGORITHMS:
        return bad("unsupported-algorithm", f"uses {alg_text(sig.algorithm)}, which validators do not support")
    tagged = [k for k in keys if dns.dnssec.key_id(k) == sig.key_tag]
    if not tagged:
        return bad("unknown-key", f"names a key tag that matches no DNSKEY of {zone_text(zone)}")
    same_alg = [k for k in tagged if k.algorithm == sig.algorithm]
    if not same_alg:
        return bad("algorithm-mismatch", f"says {alg_text(sig.algorithm)}, but DNSKEY {sig.key_tag} of "
                                         f"{zone_text(zone)} is {alg_text(tagged[0].algorithm)}")
    usable = [k for k in same_alg if k.flags & ZONE_FLAG]
    if not usable:
        return bad("no-zone-bit", f"is made by DNSKEY {sig.key_tag}, which lacks the Zone Key flag (flags "
                                  f"{same_alg[0].flags}), so it may not sign zone data (RFC 4034 2.1.1)")
    usable = [k for k in usable if k.protocol == 3]
    if not usable:
        return bad("bad-protocol", f"is made by DNSKEY {sig.key_tag}, whose protocol field is "
                                   f"{same_alg[0].protocol}, not 3 (RFC 4034 2.1.2)")
    if rrset.rdtype != dns.rdatatype.DNSKEY:
        unrevoked = [k for k in usable if not k.flags & REVOKE_FLAG]
        if not unrevoked:
            return bad("revoked-key", f"is made by DNSKEY {sig.key_tag}, which is revoked (RFC 5011 2.1)")
        usable = unrevoked
    inception, expiration = absolute(sig.inception, now), absolute(sig.expiration, now)
    if expiration < inception:
        return bad("expiry-before-inception", f"expires {when(expiration)}, before its own inception "
                                              f"{when(inception)}")
    if now > expiration:
        return bad("expired", f"expired {when(expiration)}, {span(now - expiration)} before the lab clock")
    if now < inception:
        return bad("not-yet-valid", f"is not valid until {when(inception)}, {span(inception - now)} "
                                    f"after the lab clock")
    keyset = dns.rdataset.Rdataset(dns.rdataclass.IN, dns.rdatatype.DNSKEY)
    for key in usable:
        keyset.add(key)
    if not _verifies(rrset, sig, keyset, zone, now):
        return bad("bad-signature", "does not verify: the signature or the data was altered after signing")
    return SigResult(sig, True, wildcard=sig.labels < labels)


def _verifies(rrset: dns.rrset.RRset, sig: RRSIG, keyset: dns.rdataset.Rdataset, zone: dns.name.Name,
              now: int) -> bool:
    """The cryptography alone: the window was judged above, with serial arithmetic."""
    if sig.inception <= sig.expiration:
        try:
            dns.dnssec.validate_rrsig(rrset, sig, {zone: keyset}, now=sig.inception,
                                      policy=dns.dnssec.allow_all_policy)
            return True
        except (dns.dnssec.ValidationFailure, dns.dnssec.UnsupportedAlgorithm, ValueError):
            return False
    # A window across the 32-bit wrap: dnspython compares times plainly and would call it expired, so verify the
    # signature with its lower-level helpers (private, hence this narrow use).
    try:
        data = dns.dnssec._make_rrsig_signature_data(rrset, sig)
    except dns.dnssec.ValidationFailure:
        return False
    for key in keyset:
        try:
            dns.dnssec._validate_signature(sig.signature, data, key)
            return True
        except Exception:  # noqa: BLE001 - InvalidSignature, ValidationFailure, unsupported keys alike: not this key
            continue
    return False
