"""The registry's timeline actions without a network: what the child publishes (CDS/CDNSKEY at the apex, RFC 9615
signals in the operator's zone, per-server freezes), what acceptance: none does, and bad input refused with a fix."""

from __future__ import annotations

from pathlib import Path

import dns.dnssec
import dns.name
import dns.rdatatype
import dns.zone
import pytest

from testbed.errors import ScenarioError
from testbed.scenario.model import SigningSpec, ZoneSpec
from tests.unit.test_timeline_actions import EXAMPLE, Timeline, rrset, signer_tags, validates

SHOP, OPERATOR = "shop.jp.", "dns-operator.jp."


def test_publish_cds_puts_signed_cds_and_cdnskey_at_the_apex() -> None:
    t = Timeline()
    t.do("publish-key", zone=EXAMPLE, key="ksk-2", role="ksk")
    t.do("activate-key", zone=EXAMPLE, key="ksk-2")
    t.do("publish-cds", zone=EXAMPLE, keys="ksk-2")
    ctx = t.build()
    new = t.state.zone(EXAMPLE).key("ksk-2")
    cds = rrset(ctx, EXAMPLE, EXAMPLE, "CDS")
    assert cds is not None and [r.key_tag for r in cds] == [new.key.key_tag]
    cdnskey = rrset(ctx, EXAMPLE, EXAMPLE, "CDNSKEY")
    assert cdnskey is not None and dns.dnssec.key_id(next(iter(cdnskey))) == new.key.key_tag
    ksks = {k.key.key_tag for k in t.state.zone(EXAMPLE).keys.values() if k.is_sep}
    assert signer_tags(ctx, EXAMPLE, EXAMPLE, "CDS") == ksks        # the KSKs sign them (RFC 7344 section 4.1)
    validates(ctx, EXAMPLE, EXAMPLE, "CDS")
    t.do("withdraw-cds", zone=EXAMPLE)
    assert rrset(t.build(), EXAMPLE, EXAMPLE, "CDS") is None


def test_delete_request_and_signed_by_zsk() -> None:
    t = Timeline()
    t.do("publish-cds", zone=EXAMPLE, delete=True)
    ctx = t.build()
    assert [r.to_text() for r in rrset(ctx, EXAMPLE, EXAMPLE, "CDS") or []] == ["0 0 0 00"]
    assert [r.to_text() for r in rrset(ctx, EXAMPLE, EXAMPLE, "CDNSKEY") or []] == ["0 3 0 AA=="]
    t.do("publish-cds", zone=EXAMPLE, keys="ksk", signed_by="zsk")
    ctx = t.build()
    assert signer_tags(ctx, EXAMPLE, EXAMPLE, "CDS") == {t.state.zone(EXAMPLE).key("zsk").key.key_tag}
    with pytest.raises(ScenarioError, match="not both"):
        t.do("publish-cds", zone=EXAMPLE, keys="ksk", delete=True)
    with pytest.raises(ScenarioError, match="a CDS names a KSK"):
        t.do("publish-cds", zone=EXAMPLE, keys="zsk")


def test_a_server_frozen_alone_keeps_its_version_while_the_other_moves_on() -> None:
    t = Timeline(ZoneSpec(name=EXAMPLE, servers=("child", "child-b")))
    t.build()
    t.do("freeze-zone", zone=EXAMPLE, server="child-b")
    t.do("publish-cds", zone=EXAMPLE, keys="ksk")
    ctx = t.build()
    origin = dns.name.from_text(EXAMPLE)
    assert ctx.zone_for("child", EXAMPLE).get_rdataset(origin, dns.rdatatype.CDS) is not None
    assert ctx.zone_for("child-b", EXAMPLE).get_rdataset(origin, dns.rdatatype.CDS) is None
    t.do("unfreeze-zone", zone=EXAMPLE, server="child-b")
    assert t.build().zone_for("child-b", EXAMPLE).get_rdataset(origin, dns.rdatatype.CDS) is not None


def test_set_ns_and_the_rfc9615_signal_in_the_operators_zone() -> None:
    t = Timeline(ZoneSpec(name=OPERATOR, records=("www 300 A 192.0.2.53",)),
                 ZoneSpec(name=SHOP, records=("www 300 A 192.0.2.21",)))
    t.do("set-ns", zone=SHOP, ns="ns1.dns-operator.jp.")
    t.do("publish-cds", zone=SHOP, keys="ksk", signal=True)
    ctx = t.build()
    assert [r.to_text() for r in rrset(ctx, "jp.", SHOP, "NS") or []] == ["ns1.dns-operator.jp."]
    assert rrset(ctx, OPERATOR, "ns1.dns-operator.jp.", "A") is not None     # the operator's zone has its address
    owner = "_dsboot.shop.jp._signal.ns1.dns-operator.jp."
    signal = rrset(ctx, OPERATOR, owner, "CDS")
    apex = rrset(ctx, SHOP, SHOP, "CDS")
    assert signal is not None and apex is not None and set(signal) == set(apex)     # same records, other owner
    validates(ctx, OPERATOR, owner, "CDS")                                    # signed with the operator's zone


def test_acceptance_none_publishes_a_typo_and_records_it() -> None:
    t = Timeline()
    t.do("registry-policy", zone="jp.", acceptance="none")
    t.do("submit-ds", zone=EXAMPLE, key="ksk", typo=True)
    event = t.state.events[-1]
    assert event.decision == "published" and event.child == EXAMPLE and event.parent == "jp."
    assert event.ds_after and "checks nothing" in event.reason


@pytest.mark.parametrize(("action", "params", "message", "fix"), [
    ("registry-policy", {"acceptance": "strict", "policy": "dk-like"}, "unknown registry policy 'dk-like'",
     "ch-like"),
    ("registry-policy", {"acceptance": "maybe"}, "acceptance 'maybe'", "strict"),
    ("registry-policy", {"acceptance": "strict", "zone": "www.example.jp."}, "no zone", "use one of"),
    ("registry-policy", {"acceptance": "strict", "zone": EXAMPLE}, "has no child zone", "parent"),
    ("registry-scan", {"zone": "."}, "the root has no parent", "below the root"),
    ("set-ns", {"zone": EXAMPLE, "ns": "ns1.example.com."}, "outside the lab", "zone of the scenario"),
])
def test_bad_registry_input_is_refused_with_a_fix(action: str, params: dict, message: str, fix: str) -> None:
    t = Timeline()
    with pytest.raises(ScenarioError, match=message) as info:
        t.do(action, **params)
    assert fix in (info.value.fix or "")


def test_a_signal_for_an_in_bailiwick_name_server_is_refused() -> None:
    t = Timeline(ZoneSpec(name=SHOP, signing=SigningSpec()))
    t.do("set-ns", zone=SHOP, ns="ns1.shop.jp.")
    with pytest.raises(ScenarioError, match="outside the child") as info:
        t.do("publish-cds", zone=SHOP, keys="ksk", signal=True)
    assert "set-ns" in (info.value.fix or "")


def test_validate_catches_an_unknown_policy_at_its_line(tmp_path: Path) -> None:
    from testbed.cli.main import known_names
    from testbed.scenario import load_scenario

    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nphases:\n  - name: p\n    actions:\n      - registry-policy: {acceptance: strict, "
                    "policy: dk-like}\n    checks:\n      - query: . SOA\n        expect: secure\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, **known_names())
    assert info.value.line == 5 and "dk-like" in str(info.value) and "ch-like" in str(info.value)


def _tags(zone: dns.zone.Zone, rdtype: str, covers: str | None = None) -> set[int]:
    origin = dns.name.from_text(EXAMPLE)
    if covers is None:
        return {dns.dnssec.key_id(k) for k in zone.get_rdataset(origin, dns.rdatatype.DNSKEY) or []}
    sigs = zone.get_rdataset(origin, dns.rdatatype.RRSIG, dns.rdatatype.from_text(covers)) or []
    return {s.key_tag for s in sigs}


def test_operators_with_their_own_ksks_then_one_leaves_the_ns_set() -> None:
    t = Timeline(ZoneSpec(name=EXAMPLE, servers=("child", "child-b")))
    t.do("add-operator", zone=EXAMPLE, server="child", key="zsk", ksk="ksk")
    t.do("add-operator", zone=EXAMPLE, server="child-b", key="zsk-b", ksk="ksk-b")
    t.do("submit-ds", zone=EXAMPLE, key="ksk-b")
    ctx = t.build()
    tag = {name: dns.dnssec.key_id(k.as_published().dnskey) for name, k in t.state.zone(EXAMPLE).keys.items()}
    a, b = ctx.zone_for("child", EXAMPLE), ctx.zone_for("child-b", EXAMPLE)
    # RFC 8901 figure 2: each DNSKEY RRset has its own KSK and both ZSKs, signed by its own KSK alone
    assert _tags(a, "DNSKEY") == {tag["ksk"], tag["zsk"], tag["zsk-b"]}
    assert _tags(b, "DNSKEY") == {tag["ksk-b"], tag["zsk"], tag["zsk-b"]}
    assert _tags(a, "DNSKEY", "DNSKEY") == {tag["ksk"]} and _tags(b, "DNSKEY", "DNSKEY") == {tag["ksk-b"]}
    assert {ds.key_tag for ds in rrset(ctx, "jp.", EXAMPLE, "DS") or []} == {tag["ksk"], tag["ksk-b"]}
    ns_b = [ns for ns in (r.target.to_text() for r in rrset(ctx, "jp.", EXAMPLE, "NS") or [])
            if ns.startswith("ns2.")]
    assert ns_b
    t.do("remove-operator", zone=EXAMPLE, server="child-b")
    t.do("remove-key", zone=EXAMPLE, key="zsk-b")
    t.do("remove-key", zone=EXAMPLE, key="ksk-b")
    t.do("leave-ns", zone=EXAMPLE, server="child-b")
    ctx = t.build()
    b = ctx.zone_for("child-b", EXAMPLE)       # a plain secondary of A's zone now
    assert _tags(b, "DNSKEY") == {tag["ksk"], tag["zsk"]} and _tags(b, "DNSKEY", "DNSKEY") == {tag["ksk"]}
    assert ns_b[0] not in {r.target.to_text() for r in rrset(ctx, "jp.", EXAMPLE, "NS") or []}
    assert ns_b[0] not in {r.target.to_text() for r in rrset(ctx, EXAMPLE, EXAMPLE, "NS") or []}
    assert rrset(ctx, "jp.", ns_b[0], "A") is None and rrset(ctx, EXAMPLE, ns_b[0], "A") is None
    validates(ctx, EXAMPLE, EXAMPLE, "NS")      # the shrunk NS RRset is signed as served


def test_bad_multi_signer_input_is_refused_with_a_fix() -> None:
    t = Timeline(ZoneSpec(name=EXAMPLE, servers=("child", "child-b")))
    with pytest.raises(ScenarioError, match="signs nothing") as info:
        t.do("remove-operator", zone=EXAMPLE, server="child-b")
    assert "add-operator it first" in info.value.fix
    with pytest.raises(ScenarioError, match="is a zsk") as info:
        t.do("add-operator", zone=EXAMPLE, server="child-b", key="zsk-b", ksk="zsk")
    assert "name a KSK" in info.value.fix
