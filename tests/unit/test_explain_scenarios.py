"""`testbed explain` names the fault each scenario injects: for every quickstart scenario and 80+ conformance
scenarios from every group, the walk's first broken (or insecure) link must be of the kind the fault makes, and its
sentence must name the fault's own parameters (zone, RRset, server) and a key tag the lab really uses.

Cost: each scenario is built and served in this process on 127.53.0.x, with one key set for the module; the whole
file takes about 35-45 s on the 2-core machine under load. The one network-fault scenario needs a lab (netns, ~5 s).
"""

from __future__ import annotations

import dns.dnssec
import dns.rdatatype
import pytest

from testbed.build.zones import BuildContext, KeyStore
from testbed.explain.model import Chain
from testbed.explain.run import explain_built, explain_local, scenario_queries
from testbed.explain.walk import parse_anchors
from testbed.faults import fault_params
from testbed.scenario import load_scenario
from tests.conftest import QUICKSTART, ROOT, requires_netns

CONFORMANCE = ROOT / "scenarios" / "conformance"
KEYS = KeyStore()

# scenario -> the problem code of the first link that is not valid; None: every link holds
QUICKSTART_EXPECTED = {
    "bogus-ds": "digest-mismatch", "expired-rrsig": "expired", "missing-rrsig": "no-rrsig",
    "not-yet-valid-rrsig": "not-yet-valid", "insecure-child": "insecure-delegation", "secure-a": None,
    "secure-co-jp": None, "secure-nodata": None, "secure-nxdomain-nsec": None, "secure-nxdomain-nsec3": None,
}
CONFORMANCE_EXPECTED = {
    "cds/cds-unsigned": "no-rrsig",
    "cds/cds-valid": None,
    "client/cd-on-bogus": "expired",
    "client/control-bogus-without-do": "expired",
    "delegation/cname-secure-to-bogus": "expired",
    "delegation/ds-stripped-nsec-lists-ds": "bitmap-has-ds",
    "delegation/forged-insecure-no-proof": "no-nsec",
    "delegation/insecure-claim-no-ns-bit": "no-ns-bit",
    "delegation/lame-not-authoritative": "lame",
    "delegation/lame-refused": "no-answer",
    "delegation/ns-unreachable": "no-answer",
    "delegation/insecure-delegation-nsec3": "insecure-delegation",
    "denial/ent-answered-nxdomain": "ent-nxdomain",
    "denial/insecure-delegation-nsec-rrsig-bad": "bad-signature",
    "denial/nodata-bitmap-has-qtype": "bitmap-has-qtype",
    "denial/nodata-hiding-cname": "hides-cname",
    "denial/nodata-nsec-missing": "no-nsec",
    "denial/nodata-nsec3-bitmap-has-qtype": "bitmap-has-qtype",
    "denial/nsec-ancestor-overreach": "overreach",
    "denial/nsec-rrsig-bad": "bad-signature",
    "denial/nsec-rrsig-missing": "no-rrsig",
    "denial/nsec3-bad-flags": "nsec3-ignored",
    "denial/nsec3-iter-over-limit": "nsec3-iterations",
    "denial/nsec3-iter-over-limit-bad-sig": "bad-signature",
    "nsec3-iterations/nsec3-iterations-150": None,
    "nsec3-iterations/nsec3-iterations-151": "nsec3-iterations",
    "sha1/rsasha1-nsec": None,
    "sha1/rsasha1-nsec3-sha1": None,
    "denial/nsec3-missing": "no-nsec",
    "denial/nsec3-no-closest-encloser": "no-closest-encloser",
    "denial/nsec3-no-ds-without-optout": "no-opt-out",
    "denial/nsec3-no-next-closer": "no-next-closer",
    "denial/nsec3-no-wildcard-cover": "wildcard-not-covered",
    "denial/nsec3-optout-nxdomain": "opt-out",
    "denial/nsec3-optout-unsigned-delegation": "opt-out",
    "denial/nsec3-rrsig-missing": "no-rrsig",
    "denial/nxdomain-no-wildcard-denial": "wildcard-not-covered",
    "denial/nxdomain-nsec-missing": "no-nsec",
    "denial/nxdomain-qname-not-covered": "qname-not-covered",
    "denial/wildcard-answer-no-proof": "qname-not-covered",
    "denial/wildcard-answer-nsec3-no-next-closer": "no-next-closer",
    "dnskey/dnskey-alg-unsupported-zone": "unsupported-ds",
    "dnskey/dnskey-all-keys-replaced": "unknown-key",
    "dnskey/dnskey-ksk-removed": "unknown-key",
    "dnskey/dnskey-no-zone-bit-all": "no-zone-bit",
    "dnskey/dnskey-no-zone-bit-zsk": "no-zone-bit",
    "dnskey/dnskey-protocol-not-3": "bad-protocol",
    "dnskey/dnskey-revoked-ksk-ds-matches": "revoked",
    "dnskey/dnskey-rrset-missing": "no-dnskey",
    "dnskey/dnskey-rrsig-bad": "bad-signature",
    "dnskey/dnskey-rrsig-missing": "not-signing",
    "dnskey/dnskey-sep-bit-clear": None,
    "dnskey/dnskey-tld-zsk-removed": "unknown-key",
    "dnskey/dnskey-zsk-material-corrupt": "bad-signature",
    "dnskey/dnskey-zsk-removed": "unknown-key",
    "ds/ds-alg-mismatch-supported": "algorithm-mismatch",
    "ds/ds-alg-unassigned": "unsupported-ds",
    "ds/ds-digest-mismatch": "digest-mismatch",
    "ds/ds-digest-unassigned": "unsupported-ds",
    "ds/ds-for-key-without-zone-bit": "no-zone-bit",
    "ds/ds-keytag-mismatch": "unknown-key",
    "ds/ds-missing-signed-child": "insecure-delegation",
    "ds/ds-multi-one-valid": None,
    "ds/ds-points-at-non-signing-key": "not-signing",
    "ds/ds-present-child-unsigned": "no-dnskey",
    "ds/ds-rrsig-bad-in-parent": "bad-signature",
    "ds/ds-rrsig-missing-in-parent": "no-rrsig",
    "ds/ds-sha256-bad-plus-sha1-good": "digest-mismatch",
    "rollover/algo-roll-tld-to-unsupported": "unsupported-ds",
    "rollover/ksk-ds-swapped-before-dnskey": "unknown-key",
    "rollover/zsk-old-removed-early": "unknown-key",
    "rollover/zsk-used-before-cached-keyset-expires": "unknown-key",
    "signatures/rrsig-alg-mismatch": "algorithm-mismatch",
    "signatures/rrsig-bad-signature-bytes": "bad-signature",
    "signatures/rrsig-exp-before-inception": "expiry-before-inception",
    "signatures/rrsig-expired-a": "expired",
    "signatures/rrsig-expired-all": "expired",
    "signatures/rrsig-labels-gt-owner": "labels",
    "signatures/rrsig-missing-a": "no-rrsig",
    "signatures/rrsig-not-yet-valid-a": "not-yet-valid",
    "signatures/rrsig-one-good-one-bad": None,
    "signatures/rrsig-origttl-tampered": "bad-signature",
    "signatures/rrsig-signer-ancestor": "signer",
    "signatures/rrsig-signer-not-zone": "signer",
    "signatures/rrsig-stripped-leaving-unsupported-alg": "unsupported-algorithm",
    "signatures/rrsig-unknown-keytag": "unknown-key",
    "signatures/tampered-rdata": "bad-signature",
    "time/clock-after-expiry": "expired",
    "time/clock-before-inception": "not-yet-valid",
    "time/expired-300s-ago": "expired",
    "time/inception-now+300s": "not-yet-valid",
    "time/serial-arith-wrap": None,
    "transport/all-auth-timeout": "no-answer",
    "transport/auth-servfail-on-dnskey": "no-answer",
    "transport/do-ignored-rrsig-stripped": "not-signing",
    "transport/edns-formerr": "not-signing",
    "transport/one-ns-bogus-one-good": None,
    "transport/tc-tcp-blocked": "no-answer",
    "transport/tc-then-tcp-ok": None,
    "trust-anchor/root-ta-absent": "no-anchor",
    "trust-anchor/root-ta-mismatch": "unknown-key",
    "trust-anchor/ta-key-not-signing": "not-signing",
    "trust-anchor/ta-stale-after-roll": "unknown-key",
    "trust-anchor/ta-unsupported-alg": "unsupported-ds",
}


def zone_tags(ctx: BuildContext, zone: str) -> set[int]:
    """Every key tag the lab uses for ``zone``: its keys, its DS at the parent, its RRSIGs, the anchors for it."""
    build = ctx.zones.get(zone)
    tags: set[int] = set()
    if build is not None:
        tags |= {dns.dnssec.key_id(k.dnskey) for k in build.keys}
        tags |= {ds.key_tag for ds in build.ds_records()}
        for _, _, rdata in build.zone().iterate_rdatas():
            if rdata.rdtype == dns.rdatatype.RRSIG:
                tags.add(rdata.key_tag)
            elif rdata.rdtype == dns.rdatatype.DNSKEY:
                tags.add(dns.dnssec.key_id(rdata))
    for owner, anchors in parse_anchors(ctx.trust_anchor_ds()).items():
        if owner.to_text() == zone:
            tags |= {ds.key_tag for ds in anchors}
    return tags


def rrset_text(ref: str) -> str:
    owner, rdtype = ref.rsplit("/", 1)
    return f"{owner.rstrip('.')}/{rdtype.upper()}"


def judge(scenario, ctx: BuildContext, chains: list[Chain], expected: str | None) -> None:
    if expected is None:
        assert all(c.broken is None for c in chains), [c.sentence for c in chains]
        return
    chain = next(c for c in chains if c.broken is not None or c.insecure is not None)
    link = chain.broken or chain.insecure
    sentence = chain.sentence
    assert link.facts.get("problem") == expected, sentence
    # the sentence names what was injected: one of the scenario's faults has every parameter it names in it
    named = []
    for fault in scenario.faults:
        params = dict(fault.params)
        wanted = []
        if "rrset" in params:
            wanted.append(rrset_text(str(params["rrset"])))
        if "zone" in params and str(params["zone"]) != ".":
            wanted.append(str(params["zone"]).rstrip("."))
        if "server" in params:
            wanted.append(ctx.topology.server_address(str(params["server"])))
        named.append(all(w in sentence for w in wanted))
    assert not scenario.faults or any(named), f"{sentence!r} names none of {[dict(f.params) for f in scenario.faults]}"
    if "key_tag" in link.facts:
        tag = link.facts["key_tag"]
        assert str(tag) in sentence
        zone = link.facts.get("signer", link.facts["zone"])      # a foreign signer's tag is its own zone's
        assert tag in zone_tags(ctx, zone), f"key tag {tag} is no key tag of {zone}"


@pytest.mark.parametrize("name", sorted(QUICKSTART_EXPECTED))
def test_quickstart_sentence_names_the_fault(name):
    scenario = load_scenario(QUICKSTART / f"{name}.yaml", known_faults=fault_params())
    ctx, chains = explain_local(scenario, keystore=KEYS)
    judge(scenario, ctx, chains, QUICKSTART_EXPECTED[name])


@pytest.mark.parametrize("name", sorted(CONFORMANCE_EXPECTED))
def test_conformance_sentence_names_the_fault(name):
    scenario = load_scenario(CONFORMANCE / f"{name}.yaml", known_faults=fault_params())
    ctx, chains = explain_local(scenario, keystore=KEYS)
    judge(scenario, ctx, chains, CONFORMANCE_EXPECTED[name])


def test_every_group_is_covered():
    groups = {p.name for p in CONFORMANCE.iterdir() if p.is_dir()}
    covered = {name.split("/")[0] for name in CONFORMANCE_EXPECTED} | {"network"}
    assert covered == groups
    assert len(CONFORMANCE_EXPECTED) >= 40


@requires_netns
def test_network_fault_is_explained_in_a_lab():
    """A network fault exists only on the lab network: explain serves it in a lab without resolvers."""
    scenario = load_scenario(CONFORMANCE / "network" / "child-unreachable.yaml", known_faults=fault_params())
    where, chains = explain_built(scenario, scenario_queries(scenario), "netns")
    assert "netns" in where
    link = chains[0].broken
    assert link is not None and link.kind == "server" and link.facts["problem"] == "no-answer"
    assert "ns1.example.jp" in chains[0].sentence


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    from testbed.cli.main import main

    code = 0
    try:
        main(list(argv))
    except SystemExit as exited:
        code = int(exited.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_prints_the_tree_then_the_sentence(capsys):
    code, out, _ = cli(capsys, "explain", str(QUICKSTART / "expired-rrsig.yaml"), "--backend", "local")
    assert code == 0
    assert "in-process" in out
    tree, rest = out.split("=> bogus: ", 1)
    sentence = rest.splitlines()[0]
    assert "example.jp DNSKEY" in tree and "BAD" in tree
    assert sentence.startswith("RRSIG over www.example.jp/A by key ") and "before the lab clock" in sentence


def test_cli_bad_input_exits_2_with_the_reason(capsys, tmp_path):
    code, _, err = cli(capsys, "explain", str(QUICKSTART / "secure-a.yaml"), "--query", "www.example.com", "A")
    assert code == 2 and "outside the lab's zones" in err
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: broken\nfaults:\n  - fault: rrsig-expired\n    zone: example.jp.\n"
                      "    rrset: nosuch.example.jp./A\nchecks:\n  - query: www.example.jp. A\n    expect: secure\n")
    code, _, err = cli(capsys, "explain", str(broken))
    assert code == 2 and "nosuch.example.jp" in err and "Traceback" not in err


def test_a_timeline_is_walked_phase_by_phase():
    """ksk-double-ksk-too-early swaps the DS before the new KSK is published: that phase's sentence names the DS
    at jp for example.jp and a key tag the parent really publishes; the phases before it are sound."""
    from testbed.explain.run import explain_timeline_local
    from testbed.run.phases import action_params
    from testbed.run.select import load

    (scenario,) = load((ROOT / "scenarios" / "rollout" / "ksk-double-ksk-too-early.yaml",))
    phases = explain_timeline_local(scenario, None, action_params)
    assert [label.split(" ")[0] for label, _, _ in phases] == [p.name for p in scenario.phases]
    assert all(c.broken is None for c in phases[0][2])
    broken = [(label, ctx, c) for label, ctx, chains in phases for c in chains if c.broken is not None]
    assert broken, [c.sentence for _, _, chains in phases for c in chains]
    _, ctx, chain = broken[0]
    link = chain.broken
    assert link.facts["zone"] == "example.jp." and "example.jp" in chain.sentence
    assert link.facts["key_tag"] in {ds.key_tag for ds in ctx.zones["example.jp."].ds_records()}
