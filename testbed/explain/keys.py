"""Judge a zone's DNSKEY RRset against the DS set that vouches for it (RFC 4035 section 5.2).

The DS set comes from the parent (already validated) or from the lab's trust anchor. A DS counts only when its
key algorithm and digest type are ones validators support; a zone whose every DS is unsupported is insecure, not
bogus. With a SHA-256 or stronger DS present, SHA-1 DS records are ignored (RFC 4509 section 3).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dns.dnssec
import dns.name
import dns.rdatatype
import dns.rrset
from dns.rdtypes.ANY.DNSKEY import DNSKEY
from dns.rdtypes.ANY.DS import DS
from dns.rdtypes.ANY.RRSIG import RRSIG

from testbed.explain.model import Link
from testbed.explain.sigs import REVOKE_FLAG, SUPPORTED_ALGORITHMS, ZONE_FLAG, alg_text, judge_rrset, zone_text

SUPPORTED_DIGESTS = frozenset({1, 2, 4})
DIGEST_NAMES = {1: "SHA-1", 2: "SHA-256", 3: "GOST R 34.11-94", 4: "SHA-384", 6: "SM3"}


def digest_text(digest_type: int) -> str:
    return DIGEST_NAMES.get(digest_type, f"digest type {digest_type}")


def ds_text(ds: DS) -> str:
    return f"key tag {ds.key_tag}, {digest_text(ds.digest_type)}"


@dataclass
class KeyJudgement:
    """The outcome: ``state`` secure (``keys`` are the zone's validated keys), insecure or bogus."""

    state: str
    links: list[Link] = field(default_factory=list)
    keys: list[DNSKEY] = field(default_factory=list)


# When several DS records all fail, name the one that got furthest: a matching key whose signature failed says
# more than a digest that matches nothing.
_PROGRESS = ("signature", "not-signing", "revoked", "no-zone-bit", "bad-protocol", "digest-mismatch",
             "algorithm-mismatch", "unknown-key")


def judge_dnskeys(zone: dns.name.Name, ds_set: list[DS], source: str, dnskeys: dns.rrset.RRset | None,
                  sigs: list[RRSIG], now: int) -> KeyJudgement:
    """``source`` says where the DS set came from, for sentences: "the DS at jp" or "the trust anchor"."""
    z = zone_text(zone)
    subject = f"DS {z}" if source != "the trust anchor" else f"trust anchor {z}"
    usable = [ds for ds in ds_set if ds.algorithm in SUPPORTED_ALGORITHMS and ds.digest_type in SUPPORTED_DIGESTS]
    if any(ds.digest_type != 1 for ds in usable):
        usable = [ds for ds in usable if ds.digest_type != 1]     # RFC 4509 section 3
    if not usable:
        what = ", ".join(f"{alg_text(ds.algorithm)} / {digest_text(ds.digest_type)}" for ds in ds_set)
        sentence = (f"every DS for {z} ({what}) uses an algorithm or digest type validators do not support, so "
                    f"{z} is treated as unsigned (RFC 4035 5.2)")
        return KeyJudgement("insecure", [Link("ds", subject, "insecure", f"only unsupported DS: {what}", sentence,
                                              {"zone": str(zone), "problem": "unsupported-ds",
                                               "key_tags": [ds.key_tag for ds in ds_set],
                                               "digest_types": [ds.digest_type for ds in ds_set],
                                               "algorithms": [ds.algorithm for ds in ds_set]})])
    if dnskeys is None or len(dnskeys) == 0:
        ds = usable[0]
        sentence = (f"{source} for {z} ({ds_text(ds)}) says {z} is signed, but {z} serves no DNSKEY RRset")
        return KeyJudgement("bogus", [Link("dnskey", f"{z} DNSKEY", "missing", "no DNSKEY RRset", sentence,
                                           {"zone": str(zone), "problem": "no-dnskey", "key_tag": ds.key_tag})])
    keys: list[DNSKEY] = list(dnskeys)
    failures: list[tuple[str, Link]] = []
    for ds in usable:
        verdict = _judge_one_ds(zone, ds, source, subject, dnskeys, keys, sigs, now)
        if verdict[0] == "ok":
            link = verdict[1]
            return KeyJudgement("secure", [link, Link("dnskey", f"{z} DNSKEY", "valid",
                                                      f"{len(keys)} keys ({_tags(keys)}), signed by key "
                                                      f"{ds.key_tag}", facts={"zone": str(zone)})], keys)
        failures.append(verdict)
    failures.sort(key=lambda f: _PROGRESS.index(f[0]) if f[0] in _PROGRESS else len(_PROGRESS))
    return KeyJudgement("bogus", [failures[0][1]])


def _tags(keys: list[DNSKEY]) -> str:
    return ", ".join(f"{dns.dnssec.key_id(k)}/{k.flags}" for k in keys)


def _judge_one_ds(zone: dns.name.Name, ds: DS, source: str, subject: str, dnskeys: dns.rrset.RRset,
                  keys: list[DNSKEY], sigs: list[RRSIG], now: int) -> tuple[str, Link]:
    z = zone_text(zone)
    facts = {"zone": str(zone), "key_tag": ds.key_tag, "digest_type": ds.digest_type, "algorithm": ds.algorithm}
    head = f"{source} for {z} ({ds_text(ds)})"

    def fail(problem: str, detail: str, sentence: str, kind: str = "ds") -> tuple[str, Link]:
        return problem, Link("ds" if kind == "ds" else "dnskey", subject if kind == "ds" else f"{z} DNSKEY",
                             "invalid", detail, sentence, {**facts, "problem": problem})

    tagged = [k for k in keys if dns.dnssec.key_id(k) == ds.key_tag]
    same = [k for k in tagged if k.algorithm == ds.algorithm]
    if not tagged:
        return fail("unknown-key", f"key tag {ds.key_tag} matches no DNSKEY (have {_tags(keys)})",
                    f"{head} matches no DNSKEY of {z} (its keys: {_tags(keys)})")
    if not same:
        return fail("algorithm-mismatch", f"DS says {alg_text(ds.algorithm)}, key is {alg_text(tagged[0].algorithm)}",
                    f"{head} says {alg_text(ds.algorithm)}, but DNSKEY {ds.key_tag} of {z} is "
                    f"{alg_text(tagged[0].algorithm)}: it matches no DNSKEY of {z}")
    matched = []
    for key in same:
        try:
            digest = dns.dnssec.make_ds(zone, key, ds.digest_type, validating=True,
                                        policy=dns.dnssec.allow_all_policy)
        except (dns.dnssec.UnsupportedAlgorithm, ValueError):
            continue
        if digest.digest == ds.digest:
            matched.append(key)
    if not matched:
        return fail("digest-mismatch", f"digest differs from DNSKEY {ds.key_tag}'s",
                    f"{head} matches no DNSKEY of {z}: key {ds.key_tag} is there, but its digest differs")
    zone_keys = [k for k in matched if k.flags & ZONE_FLAG]
    if not zone_keys:
        return fail("no-zone-bit", f"matches DNSKEY {ds.key_tag}, which lacks the Zone Key flag",
                    f"{head} matches DNSKEY {ds.key_tag} of {z}, which lacks the Zone Key flag (flags "
                    f"{matched[0].flags}), so it may not vouch for the zone (RFC 4034 2.1.1)")
    proto = [k for k in zone_keys if k.protocol == 3]
    if not proto:
        return fail("bad-protocol", f"matches DNSKEY {ds.key_tag}, whose protocol is {zone_keys[0].protocol}",
                    f"{head} matches DNSKEY {ds.key_tag} of {z}, whose protocol field is {zone_keys[0].protocol}, "
                    f"not 3 (RFC 4034 2.1.2)")
    live = [k for k in proto if not k.flags & REVOKE_FLAG]
    if not live:
        return fail("revoked", f"matches DNSKEY {ds.key_tag}, which is revoked",
                    f"{head} matches DNSKEY {ds.key_tag} of {z}, but that key carries the REVOKE flag, so it may "
                    f"not be used (RFC 5011 2.1)")
    own_sigs = [s for s in sigs if s.key_tag == ds.key_tag and s.algorithm == ds.algorithm]
    if not own_sigs:
        signers = sorted({s.key_tag for s in sigs if s.type_covered == dns.rdatatype.DNSKEY})
        others = f"only by key {', '.join(map(str, signers))}" if signers else "by no key at all"
        return fail("not-signing", f"DNSKEY {ds.key_tag} does not sign the DNSKEY RRset ({others})",
                    f"DNSKEY {ds.key_tag} of {z}, the key {source} names, does not sign the DNSKEY RRset of {z} "
                    f"(it is signed {others})", kind="dnskey")
    judged = judge_rrset(dnskeys, own_sigs, live, zone, now)
    if not judged.ok:
        worst = next((r for r in judged.results if r.problem == judged.problem), None)
        return "signature", Link("dnskey", f"{z} DNSKEY", "invalid", judged.why, judged.why,
                                 {**facts, **(worst.facts() if worst else {}), "problem": judged.problem})
    return "ok", Link("ds", subject, "valid", f"{ds_text(ds)} matches DNSKEY {ds.key_tag}", facts=facts)
