"""The DS, delegation, trust-anchor, rollover and CDS faults break exactly what they claim, shown by tools that do
not share our code.

For every scenario of those groups the signed zones are built as a lab would serve them and each is given to
ldns-verify-zone: the zones a fault breaks visibly must fail it, every other signed zone must pass (the no-fault
controls pass clean). Most faults here live in the DS, the anchor or the delegation's glue, which a zone verifier
cannot judge; for those a direct check (dnspython computing DS digests and validating RRSIGs, BIND's dnssec-cds for
the parental agent) shows the fault is there.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

import dns.dnssec
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rrset
import dns.zone
import pytest

from testbed.build.topology import plan
from testbed.build.zones import BuildContext, KeyStore
from testbed.clock import LabClock
from testbed.dnssec import nsec3_hash
from testbed.faults import fault_params
from testbed.faults.cds import parental_agent_verdict
from testbed.faults.delegation import UNUSED_HOST, types_of
from testbed.scenario import load_scenario
from testbed.timeline.build import build_scenario
from tests.conftest import ROOT

CONFORMANCE = ROOT / "scenarios" / "conformance"
GROUPS = ("ds", "delegation", "trust-anchor", "rollover", "cds")
SCENARIOS = {p.stem: p for g in GROUPS for p in sorted((CONFORMANCE / g).glob("*.yaml"))}
KEYSTORE = KeyStore()       # one run's keys, as in a lab: the decoy and next keys stay the same across scenarios
CHILD = dns.name.from_text("example.jp.")
ROOT_NAME = dns.name.root
DS_T, DNSKEY_T, RRSIG_T = dns.rdatatype.DS, dns.rdatatype.DNSKEY, dns.rdatatype.RRSIG

needs_ldns = pytest.mark.skipif(shutil.which("ldns-verify-zone") is None, reason="needs ldnsutils")

# Zones ldns-verify-zone must reject, per scenario; every other signed zone of the scenario must verify.
LDNS_BROKEN: dict[str, set[str]] = {
    "ds-rrsig-bad-in-parent": {"jp."},                          # RRSIG(DS) with a flipped bit
    "ds-rrsig-missing-in-parent": {"jp."},                      # DS without RRSIG
    "forged-insecure-no-proof": {"jp."},                        # the NSEC at the cut is gone: the chain is broken
    "insecure-claim-child-apex-nsec": {"jp."},                  # a foreign NSEC at the cut
    "cname-secure-to-bogus": {"example.co.jp."},                # rrsig-expired on the CNAME target
    "zsk-used-before-cached-keyset-expires": {"example.jp."},   # signatures by a key not in the DNSKEY RRset
    "zsk-old-removed-early": {"example.jp."},
    "cds-unsigned": {"example.jp."},                            # CDS/CDNSKEY without RRSIG
}
# ldns-verify-zone does not compare NSEC type bitmaps with the types present; BIND's dnssec-verify does.
BITMAP_BROKEN: dict[str, set[str]] = {
    "ds-stripped-nsec-lists-ds": {"jp."},                       # the NSEC bitmap lists a DS that is not there
    "insecure-claim-no-ns-bit": {"jp."},                        # the NSEC bitmap lacks the NS that is there
}


@cache
def built(name: str) -> BuildContext:
    scenario = load_scenario(SCENARIOS[name], known_faults=fault_params())
    return build_scenario(scenario, plan(scenario, []), LabClock(), KEYSTORE, serial=1)


@cache
def ldns_verdicts(name: str) -> dict[str, tuple[bool, str]]:
    """Zone name -> (ldns-verify-zone accepted it, its output), for every signed zone of the scenario."""
    ctx = built(name)
    out: dict[str, tuple[bool, str]] = {}
    with tempfile.TemporaryDirectory() as folder:
        procs = {}
        for zone_name, build in ctx.zones.items():
            if build.signed is None:
                continue
            path = Path(folder) / ("root.zone" if zone_name == "." else f"{zone_name}zone")
            build.signed.to_file(str(path), relativize=False, want_origin=False)
            procs[zone_name] = subprocess.Popen(["ldns-verify-zone", str(path)], stdout=subprocess.PIPE,
                                                stderr=subprocess.STDOUT, text=True)
        for zone_name, proc in procs.items():
            text, _ = proc.communicate(timeout=60)
            out[zone_name] = (proc.returncode == 0 and "Zone is verified and complete" in text, text)
    return out


# ---- small DNSSEC facts computed with dnspython ------------------------------------------------------------

def served(ctx: BuildContext, zone: str) -> dns.zone.Zone:
    return ctx.zones[zone].zone()


def rrset(zone: dns.zone.Zone, owner: dns.name.Name, rdtype: int) -> dns.rrset.RRset | None:
    rdataset = zone.get_rdataset(owner, rdtype)
    if rdataset is None:
        return None
    out = dns.rrset.RRset(owner, dns.rdataclass.IN, rdtype)
    out.update(rdataset)
    return out


def parent_ds(ctx: BuildContext, child: str = "example.jp.") -> list[dns.rdata.Rdata]:
    parent = ctx.zones[child].plan.parent
    assert parent is not None
    found = served(ctx, parent).get_rdataset(dns.name.from_text(child), DS_T)
    return list(found or ())


def dnskeys(ctx: BuildContext, zone: str = "example.jp.") -> list[dns.rdata.Rdata]:
    return list(served(ctx, zone).get_rdataset(dns.name.from_text(zone), DNSKEY_T) or ())


def matches(ds: dns.rdata.Rdata, key: dns.rdata.Rdata, owner: dns.name.Name) -> bool:
    """The DS is exactly the one computed from this DNSKEY (all four fields)."""
    try:
        return dns.dnssec.make_ds(owner, key, ds.digest_type, policy=dns.dnssec.allow_all_policy) == ds
    except (dns.dnssec.UnsupportedAlgorithm, ValueError):
        return False


def dnskey_signers(ctx: BuildContext, zone: str = "example.jp.") -> set[int]:
    """Key tags of the zone's DNSKEYs whose RRSIG over the DNSKEY RRset validates."""
    return signers(ctx, zone, dns.name.from_text(zone), DNSKEY_T)


def signers(ctx: BuildContext, zone: str, owner: dns.name.Name, rdtype: int) -> set[int]:
    data = served(ctx, zone)
    target = rrset(data, owner, rdtype)
    keys = rrset(data, dns.name.from_text(zone), DNSKEY_T)
    if target is None or keys is None:
        return set()
    good = set()
    for sig in data.get_rdataset(owner, RRSIG_T, rdtype) or ():
        for key in keys:
            if dns.dnssec.key_id(key) != sig.key_tag:
                continue
            try:
                dns.dnssec.validate_rrsig(target, sig, {keys.name: dns.rdataset.from_rdata(3600, key)})
            except dns.dnssec.ValidationFailure:
                continue
            good.add(sig.key_tag)
    return good


def matched_keys(ctx: BuildContext, child: str = "example.jp.") -> list[dns.rdata.Rdata]:
    owner = dns.name.from_text(child)
    return [key for key in dnskeys(ctx, child) if any(matches(ds, key, owner) for ds in parent_ds(ctx, child))]


def anchor_matches(ctx: BuildContext, zone: str) -> list[dns.rdata.Rdata]:
    """The DNSKEYs of ``zone`` that one of the resolvers' trust anchors (DS texts) names exactly."""
    owner = dns.name.from_text(zone)
    anchors = [dns.rdata.from_text(dns.rdataclass.IN, DS_T, text.split(" DS ", 1)[1])
               for text in ctx.trust_anchor_ds() if dns.name.from_text(text.split()[0]) == owner]
    return [key for key in dnskeys(ctx, zone) if any(matches(ds, key, owner) for ds in anchors)]


def nsec_types_at(ctx: BuildContext, zone: str, owner: str) -> set[int]:
    found = served(ctx, zone).get_rdataset(dns.name.from_text(owner), dns.rdatatype.NSEC)
    assert found is not None, f"no NSEC at {owner} in {zone}"
    return types_of(found[0])


def glue(ctx: BuildContext, name: str = "ns1.example.jp.", zone: str = "jp.") -> str:
    found = served(ctx, zone).get_rdataset(dns.name.from_text(name), dns.rdatatype.A)
    assert found is not None
    return found[0].address


def data_signer_tags(ctx: BuildContext, zone: str = "example.jp.") -> set[int]:
    """Key tags of every RRSIG over anything but DNSKEY/CDS/CDNSKEY."""
    tags = set()
    for _, node in served(ctx, zone).nodes.items():
        for rds in node.rdatasets:
            if rds.rdtype == RRSIG_T and rds.covers not in (DNSKEY_T, dns.rdatatype.CDS, dns.rdatatype.CDNSKEY):
                tags |= {sig.key_tag for sig in rds}
    return tags


def tags(keys: list[dns.rdata.Rdata]) -> set[int]:
    return {dns.dnssec.key_id(key) for key in keys}


# ---- what each fault must have done -----------------------------------------------------------------------

def _ds_missing(ctx: BuildContext) -> None:
    assert parent_ds(ctx) == [] and dnskeys(ctx)
    assert DS_T not in nsec_types_at(ctx, "jp.", "example.jp.")        # the parent proves the DS absent


def _digest_mismatch(ctx: BuildContext) -> None:
    ksks = [k for k in dnskeys(ctx) if k.flags & 1]
    [ds] = parent_ds(ctx)
    assert not matched_keys(ctx)
    right = dns.dnssec.make_ds(CHILD, ksks[0], ds.digest_type)
    assert (ds.key_tag, ds.algorithm) == (right.key_tag, right.algorithm)
    assert bin(int.from_bytes(ds.digest, "big") ^ int.from_bytes(right.digest, "big")).count("1") == 1


def _keytag_mismatch(ctx: BuildContext) -> None:
    [ds] = parent_ds(ctx)
    assert ds.key_tag not in tags(dnskeys(ctx))
    ksk = next(k for k in dnskeys(ctx) if k.flags & 1)
    assert ds.digest == dns.dnssec.make_ds(CHILD, ksk, ds.digest_type).digest     # only the tag is wrong


def _alg(expected: int, child: str = "example.jp.") -> Callable[[BuildContext], None]:
    def check(ctx: BuildContext) -> None:
        assert {ds.algorithm for ds in parent_ds(ctx, child)} == {expected}
        assert expected not in {k.algorithm for k in dnskeys(ctx, child)}
    return check


def _alg_unassigned(ctx: BuildContext) -> None:
    _alg(100)(ctx)
    _alg(200, "example.co.jp.")(ctx)


def _digest_type(expected: int) -> Callable[[BuildContext], None]:
    def check(ctx: BuildContext) -> None:
        assert {ds.digest_type for ds in parent_ds(ctx)} == {expected}
    return check


def _sha1_only(ctx: BuildContext) -> None:
    assert {ds.digest_type for ds in parent_ds(ctx)} == {1}
    assert tags(matched_keys(ctx)) <= dnskey_signers(ctx) and matched_keys(ctx)


def _sha256_bad_sha1_good(ctx: BuildContext) -> None:
    by_type = {ds.digest_type: ds for ds in parent_ds(ctx)}
    assert set(by_type) == {1, 2}
    keys = dnskeys(ctx)
    assert any(matches(by_type[1], k, CHILD) for k in keys)
    assert not any(matches(by_type[2], k, CHILD) for k in keys)


def _extra_for_absent_key(ctx: BuildContext) -> None:
    keys = dnskeys(ctx)
    matched = [ds for ds in parent_ds(ctx) if any(matches(ds, k, CHILD) for k in keys)]
    assert len(matched) == 1 and len(parent_ds(ctx)) == 2


def _bad_plus_unsupported(ctx: BuildContext) -> None:
    assert {ds.algorithm for ds in parent_ds(ctx)} == {13, 100}
    assert not matched_keys(ctx)


def _child_unsigned(ctx: BuildContext) -> None:
    assert parent_ds(ctx) and not dnskeys(ctx)
    assert not any(rds.rdtype == RRSIG_T for node in served(ctx, "example.jp.").nodes.values()
                   for rds in node.rdatasets)


def _non_signing_key(ctx: BuildContext) -> None:
    matched = matched_keys(ctx)
    assert matched and all(k.flags == 256 for k in matched)
    assert not tags(matched) & dnskey_signers(ctx)


def _no_zone_bit(ctx: BuildContext) -> None:
    matched = matched_keys(ctx)
    assert [k.flags for k in matched] == [0]
    # The flags-0 key signs the DNSKEY RRset, so only the bit is wrong. dnspython will not validate with a key
    # lacking the zone bit; ldns-verify-zone, which ignores the bit, validates this signature in the test above.
    sigs = served(ctx, "example.jp.").get_rdataset(CHILD, RRSIG_T, DNSKEY_T)
    assert tags(matched) <= {sig.key_tag for sig in sigs}
    # BIND's own tool agrees it is no zone key: dnssec-dsfromkey makes no DS from it
    if shutil.which("dnssec-dsfromkey"):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "keys"
            path.write_text("".join(f"example.jp. 3600 IN DNSKEY {k.to_text()}\n" for k in matched))
            proc = subprocess.run(["dnssec-dsfromkey", "-2", "-f", str(path), "example.jp."], capture_output=True,
                                  text=True, timeout=30)
            assert proc.stdout.strip() == ""


def _no_ds_proof(ctx: BuildContext) -> None:
    jp = served(ctx, "jp.")
    assert parent_ds(ctx) == [] and jp.get_rdataset(CHILD, dns.rdatatype.NSEC) is None
    assert jp.get_rdataset(CHILD, dns.rdatatype.NS) is not None


def _no_ns_bit(ctx: BuildContext) -> None:
    types = nsec_types_at(ctx, "jp.", "insecure.jp.")
    assert dns.rdatatype.NS not in types and DS_T not in types
    # re-signed over the new bitmap: the signature is valid, only the claim is wrong
    assert signers(ctx, "jp.", dns.name.from_text("insecure.jp."), dns.rdatatype.NSEC)


def _child_apex_nsec(ctx: BuildContext) -> None:
    jp = served(ctx, "jp.")
    assert parent_ds(ctx) == []
    assert jp.get_rdataset(CHILD, dns.rdatatype.NSEC) == served(ctx, "example.jp.").get_rdataset(
        CHILD, dns.rdatatype.NSEC)
    assert dns.rdatatype.SOA in nsec_types_at(ctx, "jp.", "example.jp.")
    assert {sig.signer for sig in jp.get_rdataset(CHILD, RRSIG_T, dns.rdatatype.NSEC)} == {CHILD}


def _ds_stripped(ctx: BuildContext) -> None:
    assert parent_ds(ctx) == [] and DS_T in nsec_types_at(ctx, "jp.", "example.jp.")


def _lame(kind: str) -> Callable[[BuildContext], None]:
    def check(ctx: BuildContext) -> None:
        topology = ctx.topology
        address = glue(ctx)
        if kind == "refused":
            assert address == topology.server_address("cojp")      # carries only co.jp.
        elif kind == "not-authoritative":
            assert address == topology.server_address("root-a")
        else:
            assert address == topology.address(UNUSED_HOST)
            assert all(s.host != UNUSED_HOST for s in topology.servers.values())
        assert address != topology.server_address("child")
    return check


def _lame_unsigned_child(ctx: BuildContext) -> None:
    topology = ctx.topology
    assert glue(ctx, "ns1.insecure.jp.") == topology.server_address("cojp")      # carries only co.jp.
    assert glue(ctx) == topology.server_address("child")                        # the signed sibling is untouched
    assert ctx.zones["insecure.jp."].signed is None and parent_ds(ctx, "insecure.jp.") == []


def _digest_sm3_at_co_jp(ctx: BuildContext) -> None:
    assert {ds.digest_type for ds in parent_ds(ctx, "co.jp.")} == {6}
    assert not matched_keys(ctx, "co.jp.")
    # the DS of co.jp. is the right SHA-256 digest of its KSK, only the type number is changed
    ksk = next(k for k in dnskeys(ctx, "co.jp.") if k.flags & 1)
    (ds,) = parent_ds(ctx, "co.jp.")
    assert ds.digest == dns.dnssec.make_ds("co.jp.", ksk, 2).digest
    assert matched_keys(ctx, "example.co.jp.")            # below the cut the chain is intact


def _jp_unsigned(ctx: BuildContext) -> None:
    assert ctx.zones["jp."].signed is None and parent_ds(ctx, "jp.") == []
    assert DS_T not in nsec_types_at(ctx, ".", "jp.")


def _insecure_delegation_nsec(ctx: BuildContext) -> None:
    types = nsec_types_at(ctx, "jp.", "insecure.jp.")
    assert dns.rdatatype.NS in types and DS_T not in types and dns.rdatatype.SOA not in types


def _insecure_delegation_nsec3(ctx: BuildContext) -> None:
    jp = served(ctx, "jp.")
    param = jp.get_rdataset(dns.name.from_text("jp."), dns.rdatatype.NSEC3PARAM)[0]
    owner = dns.name.from_text(nsec3_hash("insecure.jp.", bytes(param.salt), param.iterations),
                               dns.name.from_text("jp."))
    types = types_of(jp.get_rdataset(owner, dns.rdatatype.NSEC3)[0])
    assert dns.rdatatype.NS in types and DS_T not in types


def _anchor(ctx: BuildContext, owner: str) -> list[dns.rdata.Rdata]:
    return [dns.rdata.from_text(dns.rdataclass.IN, DS_T, text.split(" DS ", 1)[1])
            for text in ctx.trust_anchor_ds() if text.split()[0] == owner]


def _ta_mismatch(ctx: BuildContext) -> None:
    assert _anchor(ctx, ".") and not anchor_matches(ctx, ".")


def _ta_absent(ctx: BuildContext) -> None:
    assert ctx.trust_anchor_ds() == []


def _ta_island(zone: str) -> Callable[[BuildContext], None]:
    def check(ctx: BuildContext) -> None:
        assert [text.split()[0] for text in ctx.trust_anchor_ds()] == [zone]
        assert tags(anchor_matches(ctx, zone)) <= dnskey_signers(ctx, zone) and anchor_matches(ctx, zone)
    return check


def _ta_unsupported_alg(ctx: BuildContext) -> None:
    assert {ds.algorithm for ds in _anchor(ctx, ".")} == {100}


def _ta_key_not_signing(ctx: BuildContext) -> None:
    matched = anchor_matches(ctx, ".")
    assert [k.flags for k in matched] == [256] and not tags(matched) & dnskey_signers(ctx, ".")


def _ta_old_key_revoked(ctx: BuildContext) -> None:
    keys = dnskeys(ctx, ".")
    revoked = [k for k in keys if k.flags & 0x0080]
    assert len(revoked) == 1 and tags(revoked) <= dnskey_signers(ctx, ".")     # it self-signs, RFC 5011 2.1
    assert len(_anchor(ctx, ".")) == 2
    matched = anchor_matches(ctx, ".")
    assert len(matched) == 1 and not matched[0].flags & 0x0080 and tags(matched) <= dnskey_signers(ctx, ".")


def _ta_key_missing(ctx: BuildContext) -> None:
    assert len(_anchor(ctx, ".")) == 2
    matched = anchor_matches(ctx, ".")
    assert len(matched) == 1 and tags(matched) <= dnskey_signers(ctx, ".")


def _ta_stale(ctx: BuildContext) -> None:
    assert not anchor_matches(ctx, ".")
    # the anchor is the one every other scenario of the run gets: only the root's keys moved
    assert ctx.trust_anchor_ds() == built("control-root-anchor").trust_anchor_ds()
    assert dnskey_signers(ctx, ".")


def _prepublished(ctx: BuildContext) -> None:
    zsks = [k for k in dnskeys(ctx) if k.flags == 256]
    assert len(zsks) == 2
    assert len(tags(zsks) & data_signer_tags(ctx)) == 1       # one ZSK signs, the other is only published


def _zsk_too_early(ctx: BuildContext) -> None:
    assert data_signer_tags(ctx) and not data_signer_tags(ctx) & tags(dnskeys(ctx))
    assert matched_keys(ctx) and tags(matched_keys(ctx)) <= dnskey_signers(ctx)     # the key chain itself is fine


def _zsk_removed_early(ctx: BuildContext) -> None:
    zone = served(ctx, "example.jp.")
    www = {sig.key_tag for sig in zone.get_rdataset(dns.name.from_text("www.example.jp."), RRSIG_T, dns.rdatatype.A)}
    assert not www & tags(dnskeys(ctx))
    assert signers(ctx, "example.jp.", dns.name.from_text("mail.example.jp."), dns.rdatatype.A)


def _ds_for_unpublished(ctx: BuildContext) -> None:
    assert parent_ds(ctx) and not matched_keys(ctx)
    assert dnskey_signers(ctx)           # the child's own keys are consistent


def _algorithm_roll_ds_first(ctx: BuildContext) -> None:
    assert {ds.algorithm for ds in parent_ds(ctx)} == {8, 13}
    assert {k.algorithm for k in matched_keys(ctx)} == {8, 13}
    signer_algs = {k.algorithm for k in dnskeys(ctx) if dns.dnssec.key_id(k) in dnskey_signers(ctx)}
    assert signer_algs == {8, 13}
    data_algs = {k.algorithm for k in dnskeys(ctx) if dns.dnssec.key_id(k) in data_signer_tags(ctx)}
    assert data_algs == {13}


def _tld_rolled_to_unsupported(ctx: BuildContext) -> None:
    assert {ds.algorithm for ds in parent_ds(ctx, "jp.")} == {100}
    assert {k.algorithm for k in matched_keys(ctx, "jp.")} == {100}
    assert 100 not in {k.algorithm for k in dnskeys(ctx, "jp.") if dns.dnssec.key_id(k) in dnskey_signers(ctx, "jp.")}
    assert matched_keys(ctx, "example.jp.") and matched_keys(ctx, "co.jp.")       # the zones below are intact


def _algorithm_roll_to_unsupported(ctx: BuildContext) -> None:
    assert {ds.algorithm for ds in parent_ds(ctx, "example.jp.")} == {13, 100}
    assert {ds.algorithm for ds in parent_ds(ctx, "example.co.jp.")} == {100}
    for child in ("example.jp.", "example.co.jp."):
        assert 100 in {k.algorithm for k in matched_keys(ctx, child)}


FAULT_CHECKS: dict[str, Callable[[BuildContext], None]] = {
    "ds-missing-signed-child": _ds_missing,
    "ds-digest-mismatch": _digest_mismatch,
    "ds-keytag-mismatch": _keytag_mismatch,
    "ds-alg-mismatch-supported": _alg(8),
    "ds-alg-unassigned": _alg_unassigned,
    "ds-digest-unassigned": _digest_type(100),
    "ds-digest-gost": _digest_type(3),
    "ds-sha1-only": _sha1_only,
    "ds-sha256-bad-plus-sha1-good": _sha256_bad_sha1_good,
    "ds-multi-one-valid": _extra_for_absent_key,
    "ds-supported-bad-plus-unsupported": _bad_plus_unsupported,
    "ds-present-child-unsigned": _child_unsigned,
    "ds-points-at-non-signing-key": _non_signing_key,
    "ds-for-key-without-zone-bit": _no_zone_bit,
    "insecure-delegation-nsec": _insecure_delegation_nsec,
    "insecure-delegation-nsec3": _insecure_delegation_nsec3,
    "forged-insecure-no-proof": _no_ds_proof,
    "insecure-claim-no-ns-bit": _no_ns_bit,
    "insecure-claim-child-apex-nsec": _child_apex_nsec,
    "ds-stripped-nsec-lists-ds": _ds_stripped,
    "lame-refused": _lame("refused"),
    "lame-not-authoritative": _lame("not-authoritative"),
    "ns-unreachable": _lame("unreachable"),
    "lame-refused-unsigned-child": _lame_unsigned_child,
    "ds-digest-sm3-at-co-jp": _digest_sm3_at_co_jp,
    "unsigned-zone-under-unsigned-tld": _jp_unsigned,
    "root-ta-mismatch": _ta_mismatch,
    "root-ta-absent": _ta_absent,
    "ta-at-jp-island": _ta_island("jp."),
    "ta-at-wrong-side-of-cut": _ta_island("example.jp."),
    "ta-at-co-jp-island": _ta_island("co.jp."),
    "ta-unsupported-alg": _ta_unsupported_alg,
    "ta-key-not-signing": _ta_key_not_signing,
    "rfc5011-revoke-old": _ta_old_key_revoked,
    "rfc5011-missing-key": _ta_key_missing,
    "ta-stale-after-roll": _ta_stale,
    "zsk-prepublish-correct": _prepublished,
    "zsk-used-before-cached-keyset-expires": _zsk_too_early,
    "zsk-old-removed-early": _zsk_removed_early,
    "ksk-ds-swapped-before-dnskey": _ds_for_unpublished,
    "ksk-old-removed-while-old-ds-cached": _ds_for_unpublished,
    "algo-roll-ds-first": _algorithm_roll_ds_first,
    "algo-roll-to-unsupported": _algorithm_roll_to_unsupported,
    "algo-roll-tld-to-unsupported": _tld_rolled_to_unsupported,
}

# The parental agent's side of the CDS cases (fault-catalog.md 4.8).
AGENT: dict[str, str] = {
    "cds-valid": "accept", "cds-matches-no-dnskey": "reject", "cds-unsigned": "reject",
    "cds-signed-by-key-not-in-ds": "reject", "cds-delete": "delete", "cds-delete-mixed": "reject",
    "cds-cdnskey-inconsistent": "reject", "control-no-cds": "none",
}
# BIND 9.18's dnssec-cds implements RFC 7344 4.1 (signer in the DS, the new DS set validates the DNSKEY RRset)
# but neither the RFC 8078 delete records nor the CDS/CDNSKEY consistency rule, so it is asked only about these.
DNSSEC_CDS_CASES = ("cds-valid", "cds-matches-no-dnskey", "cds-unsigned", "cds-signed-by-key-not-in-ds")


CHECKED = set(FAULT_CHECKS) | set(LDNS_BROKEN) | set(BITMAP_BROKEN) | set(AGENT)


def faulted(name: str) -> bool:
    return bool(load_scenario(SCENARIOS[name], known_faults=fault_params()).faults)


def test_every_case_of_these_groups_is_checked_somewhere() -> None:
    assert len(SCENARIOS) >= 55
    for name in SCENARIOS:
        if faulted(name):
            assert name in CHECKED, f"{name} has no truth check"
    assert not CHECKED - set(SCENARIOS), CHECKED - set(SCENARIOS)


@needs_ldns
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_ldns_verify_zone_rejects_exactly_the_broken_zones(name: str) -> None:
    verdicts = ldns_verdicts(name)
    assert verdicts, "no signed zone"
    broken = LDNS_BROKEN.get(name, set())
    for zone, (ok, text) in verdicts.items():
        if zone in broken:
            assert not ok, f"{zone} should fail ldns-verify-zone in {name}"
        else:
            assert ok, f"{zone} in {name}: {text}"
    for zone, build in built(name).zones.items():
        if build.signed is None:          # an unsigned zone stays unsigned
            assert not any(rds.rdtype in (RRSIG_T, DNSKEY_T) for node in build.zone().nodes.values()
                           for rds in node.rdatasets), zone


@pytest.mark.skipif(shutil.which("dnssec-verify") is None, reason="needs BIND's dnssec-verify")
@pytest.mark.parametrize("name", sorted(BITMAP_BROKEN))
def test_dnssec_verify_rejects_exactly_the_zones_with_a_wrong_bitmap(name: str, tmp_path: Path) -> None:
    for zone, build in built(name).zones.items():
        if build.signed is None:
            continue
        path = tmp_path / ("root.zone" if zone == "." else f"{zone}zone")
        build.signed.to_file(str(path), relativize=False, want_origin=False)
        proc = subprocess.run(["dnssec-verify", "-o", zone, str(path)], capture_output=True, text=True, timeout=60)
        if zone in BITMAP_BROKEN[name]:
            assert proc.returncode != 0 and "bit map mismatch" in proc.stderr + proc.stdout, zone
        else:
            assert proc.returncode == 0, f"{zone} in {name}: {proc.stderr}"


@pytest.mark.parametrize("name", sorted(FAULT_CHECKS))
def test_the_fault_is_in_the_data(name: str) -> None:
    FAULT_CHECKS[name](built(name))


@pytest.mark.parametrize("name", sorted(AGENT))
def test_parental_agent_verdict(name: str) -> None:
    ctx = built(name)
    child = ctx.zones["example.jp."]
    verdict = parental_agent_verdict(served(ctx, "example.jp."), child.ds_records())
    assert verdict.action == AGENT[name], verdict.reason
    if verdict.action == "accept":
        # the DS set it would publish names a key that signs the child's DNSKEY RRset
        assert {ds.key_tag for ds in verdict.ds} <= dnskey_signers(ctx)


@pytest.mark.skipif(shutil.which("dnssec-cds") is None, reason="needs BIND's dnssec-cds")
@pytest.mark.parametrize("name", DNSSEC_CDS_CASES)
def test_dnssec_cds_agrees_with_the_parental_agent(name: str, tmp_path: Path) -> None:
    ctx = built(name)
    child = ctx.zones["example.jp."]
    apex = served(ctx, "example.jp.").find_node(CHILD)
    kept = {DNSKEY_T, dns.rdatatype.CDS, dns.rdatatype.CDNSKEY}
    lines = [f"example.jp. {rds.ttl} IN {dns.rdatatype.to_text(rds.rdtype)} {rd.to_text()}"
             for rds in apex.rdatasets if rds.rdtype in kept or (rds.rdtype == RRSIG_T and rds.covers in kept)
             for rd in rds]
    (tmp_path / "child.db").write_text("\n".join(lines) + "\n")
    (tmp_path / "dsset-example.jp.").write_text("".join(f"example.jp. 3600 IN DS {ds.to_text()}\n"
                                                         for ds in child.ds_records()))
    proc = subprocess.run(["dnssec-cds", "-f", str(tmp_path / "child.db"), "-d", str(tmp_path), "-s", "-86400",
                           "example.jp."], capture_output=True, text=True, timeout=30)
    ours = parental_agent_verdict(served(ctx, "example.jp."), child.ds_records())
    if AGENT[name] == "accept":
        assert proc.returncode == 0, proc.stderr
        theirs = {dns.rdata.from_text(dns.rdataclass.IN, DS_T, line.split(" DS ", 1)[1])
                  for line in proc.stdout.splitlines() if " DS " in line}
        assert theirs == set(ours.ds)
    else:
        assert proc.returncode != 0, f"dnssec-cds accepted {name}: {proc.stdout}"
