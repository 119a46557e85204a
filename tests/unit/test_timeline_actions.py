"""Timeline actions and the phase builder, without a network: what each action does to the lab state, and what the
signed zones of a phase then hold (keys published or signing, DS at the parent, TTLs, denial, frozen zones)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dns.dnssec
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest

from testbed.build.topology import Topology, plan
from testbed.build.zones import DELEGATION_TTL, BuildContext, KeyStore
from testbed.clock import LabClock
from testbed.dnssec import make_ds
from testbed.dnssec.keys import REVOKE_FLAG
from testbed.errors import ScenarioError
from testbed.run.phases import TimelineRun, action_params
from testbed.scenario.model import ActionSpec, Phase, Scenario, SigningSpec, Where, ZoneSpec
from testbed.timeline.actions import ActionEnv, registry
from testbed.timeline.build import PhaseBuilder
from testbed.timeline.state import LabState, initial_state

EXAMPLE = "example.jp."


class Timeline:
    """A topology, its state and a builder: apply actions by id, build a phase, look at the zones."""

    def __init__(self, *zones: ZoneSpec) -> None:
        self.scenario = Scenario(name="t", file=Path("t.yaml"), zones=zones)
        self.topology: Topology = plan(self.scenario, ["unbound"])
        self.keystore = KeyStore()
        self.state: LabState = initial_state(self.topology, self.keystore, LabClock())
        self.builder = PhaseBuilder(self.scenario, self.topology, self.keystore)
        self.serial = 0

    def do(self, action: str, **params: Any) -> None:
        act = registry()[action]
        act.apply(self.state, action_params(act, ActionSpec(action, params)), ActionEnv(self.keystore))

    def build(self) -> BuildContext:
        self.serial += 1
        return self.builder.build(self.state, self.serial)


def rrset(ctx: BuildContext, zone: str, owner: str, rdtype: str, covers: str | None = None) -> dns.rrset.RRset | None:
    signed = ctx.zones[zone].zone()
    name = dns.name.from_text(owner)
    if covers is None:
        rds = signed.get_rdataset(name, dns.rdatatype.from_text(rdtype))
    else:
        rds = signed.get_rdataset(name, dns.rdatatype.RRSIG, dns.rdatatype.from_text(covers))
    if rds is None:
        return None
    out = dns.rrset.RRset(name, dns.rdataclass.IN, rds.rdtype, rds.covers)
    out.update(rds)
    out.ttl = rds.ttl
    return out


def signer_tags(ctx: BuildContext, zone: str, owner: str, covered: str) -> set[int]:
    sigs = rrset(ctx, zone, owner, "RRSIG", covered)
    return {sig.key_tag for sig in sigs} if sigs else set()


def dnskey_tags(ctx: BuildContext, zone: str) -> set[int]:
    return {dns.dnssec.key_id(k) for k in rrset(ctx, zone, zone, "DNSKEY") or []}


def validates(ctx: BuildContext, zone: str, owner: str, rdtype: str, keys: dns.rrset.RRset | None = None) -> None:
    """The RRset's signatures check out against ``keys`` (default: the zone's published DNSKEY RRset)."""
    keys = keys or rrset(ctx, zone, zone, "DNSKEY")
    data, sigs = rrset(ctx, zone, owner, rdtype), rrset(ctx, zone, owner, "RRSIG", rdtype)
    assert data is not None and sigs is not None and keys is not None
    now = ctx.clock.now()
    dns.dnssec.validate(data, sigs, {dns.name.from_text(zone): keys}, now=now)


# ---- the initial state -------------------------------------------------------------------------------------------

def test_initial_state_is_the_planned_hierarchy_with_a_static_root_anchor() -> None:
    t = Timeline()
    example = t.state.zone(EXAMPLE)
    assert set(example.keys) == {"ksk", "zsk"} and all(k.published and k.active for k in example.keys.values())
    assert example.parent_ds == [make_ds(example.keys["ksk"].key, 2)]
    insecure = t.state.zone("insecure.jp")
    assert not insecure.signed and insecure.keys == {} and insecure.parent_ds == []
    root_ksk = t.state.zone(".").keys["ksk"].key
    assert t.state.anchor == [f". IN DS {make_ds(root_ksk, 2).to_text()}"] and not t.state.anchor_managed
    # the run's usual keys: a timeline starts where a plain scenario of the same run leaves the resolvers
    assert root_ksk == t.keystore.get(".", 13, "ksk")
    ctx = t.build()
    assert ctx.trust_anchor_ds() == t.state.anchor
    validates(ctx, EXAMPLE, "www.example.jp.", "A")


def test_unknown_zone_and_key_say_what_exists() -> None:
    t = Timeline()
    with pytest.raises(ScenarioError, match="no zone 'nope.jp'"):
        t.do("retire-key", zone="nope.jp", key="zsk")
    with pytest.raises(ScenarioError, match=r"no key named 'zsk-9' \(its keys: ksk, zsk\)"):
        t.do("retire-key", zone=EXAMPLE, key="zsk-9")
    with pytest.raises(ScenarioError, match="unsigned"):
        t.do("publish-key", zone="insecure.jp.", key="zsk", role="zsk")
    with pytest.raises(ScenarioError, match="needs a role"):
        t.do("publish-key", zone=EXAMPLE, key="zsk-2")
    with pytest.raises(ScenarioError, match="already has a key named 'zsk'"):
        t.do("generate-key", zone=EXAMPLE, key="zsk", role="zsk")


# ---- keys --------------------------------------------------------------------------------------------------------

def test_zsk_pre_publication_then_activation() -> None:
    t = Timeline()
    example = t.state.zone(EXAMPLE)
    old_zsk = example.keys["zsk"].key.key_tag
    t.do("publish-key", zone=EXAMPLE, key="zsk-2", role="zsk")
    new_zsk = example.keys["zsk-2"].key.key_tag
    ctx = t.build()
    assert new_zsk in dnskey_tags(ctx, EXAMPLE)                       # published ...
    assert signer_tags(ctx, EXAMPLE, "www.example.jp.", "A") == {old_zsk}  # ... but not signing
    validates(ctx, EXAMPLE, "www.example.jp.", "A")
    t.do("activate-key", zone=EXAMPLE, key="zsk-2")
    t.do("retire-key", zone=EXAMPLE, key="zsk")
    ctx = t.build()
    assert signer_tags(ctx, EXAMPLE, "www.example.jp.", "A") == {new_zsk}
    assert old_zsk in dnskey_tags(ctx, EXAMPLE)                       # retired: still published
    t.do("remove-key", zone=EXAMPLE, key="zsk")
    ctx = t.build()
    assert old_zsk not in dnskey_tags(ctx, EXAMPLE)
    validates(ctx, EXAMPLE, "www.example.jp.", "A")


def test_a_key_activated_before_publication_signs_but_is_not_in_the_dnskey_rrset() -> None:
    """RFC 6781 4.1.4's first step: the new algorithm's signatures come before its keys."""
    t = Timeline(ZoneSpec(EXAMPLE, signing=SigningSpec(algorithm=8)))
    t.do("activate-key", zone=EXAMPLE, key="ksk-13", role="ksk", algorithm=13)
    t.do("activate-key", zone=EXAMPLE, key="zsk-13", role="zsk", algorithm=13)
    example = t.state.zone(EXAMPLE)
    ksk13, zsk13 = example.keys["ksk-13"].key, example.keys["zsk-13"].key
    ctx = t.build()
    published = rrset(ctx, EXAMPLE, EXAMPLE, "DNSKEY")
    assert published is not None and {k.algorithm for k in published} == {8}
    assert {sig.algorithm for sig in rrset(ctx, EXAMPLE, "www.example.jp.", "RRSIG", "A") or []} == {8, 13}
    assert signer_tags(ctx, EXAMPLE, EXAMPLE, "DNSKEY") == {example.keys["ksk"].key.key_tag, ksk13.key_tag}
    validates(ctx, EXAMPLE, EXAMPLE, "DNSKEY")        # the published RRset, signed again after the new key left it
    # the algorithm-13 signature over the DNSKEY RRset is good too, for a resolver that has the new key already
    new_keys = dns.rrset.from_rdata(dns.name.from_text(EXAMPLE), 3600, ksk13.dnskey)
    validates(ctx, EXAMPLE, EXAMPLE, "DNSKEY", keys=new_keys)
    t.do("publish-key", zone=EXAMPLE, key="ksk-13")
    t.do("publish-key", zone=EXAMPLE, key="zsk-13")
    assert {ksk13.key_tag, zsk13.key_tag} <= dnskey_tags(t.build(), EXAMPLE)
    t.do("unpublish-key", zone=EXAMPLE, key="zsk")
    ctx = t.build()
    assert example.keys["zsk"].key.key_tag not in dnskey_tags(ctx, EXAMPLE)
    assert example.keys["zsk"].key.key_tag in signer_tags(ctx, EXAMPLE, "www.example.jp.", "A")


def test_revoked_ksk_is_published_with_the_revoke_bit_and_signs_the_dnskey_rrset() -> None:
    t = Timeline()
    t.do("publish-key", zone=".", key="ksk-2", role="ksk")
    t.do("activate-key", zone=".", key="ksk-2")
    t.do("revoke-key", zone=".", key="ksk")
    ctx = t.build()
    old = t.state.zone(".").keys["ksk"].key
    revoked_tag = old.with_flags(old.flags | REVOKE_FLAG).key_tag
    flags = {dns.dnssec.key_id(k): k.flags for k in rrset(ctx, ".", ".", "DNSKEY") or []}
    assert flags[revoked_tag] == 257 | REVOKE_FLAG and old.key_tag not in flags
    assert revoked_tag in signer_tags(ctx, ".", ".", "DNSKEY")
    validates(ctx, ".", ".", "DNSKEY")
    # the anchor an operator would configure now leaves the revoked key out
    assert t.state.root_anchor() == [f". IN DS {make_ds(t.state.zone('.').keys['ksk-2'].key, 2).to_text()}"]
    with pytest.raises(ScenarioError, match="only a KSK or CSK"):
        t.do("revoke-key", zone=".", key="zsk")


# ---- the parent's DS ---------------------------------------------------------------------------------------------

def test_registrar_ds_submission_withdrawal_and_a_typo() -> None:
    t = Timeline()
    example = t.state.zone(EXAMPLE)
    t.do("generate-key", zone=EXAMPLE, key="ksk-2", role="ksk")
    new = example.keys["ksk-2"]
    assert not new.published and not new.active
    t.do("submit-ds", zone=EXAMPLE, key="ksk-2")
    t.do("submit-ds", zone=EXAMPLE, key="ksk-2")                   # submitting twice publishes it once
    ctx = t.build()
    parent_ds = rrset(ctx, "jp.", EXAMPLE, "DS")
    assert parent_ds is not None and set(parent_ds) == {make_ds(example.keys["ksk"].key, 2), make_ds(new.key, 2)}
    assert new.key.key_tag not in dnskey_tags(ctx, EXAMPLE)
    validates(ctx, "jp.", EXAMPLE, "DS")
    t.do("remove-key", zone=EXAMPLE, key="ksk")
    t.do("withdraw-ds", zone=EXAMPLE, key="ksk")                   # a removed key's DS can still be withdrawn
    assert example.parent_ds == [make_ds(new.key, 2)]
    with pytest.raises(ScenarioError, match="publishes no DS for key ksk"):
        t.do("withdraw-ds", zone=EXAMPLE, key="ksk")
    t.do("withdraw-ds", zone=EXAMPLE)
    assert example.parent_ds == [] and rrset(t.build(), "jp.", EXAMPLE, "DS") is None

    t.do("submit-ds", zone=EXAMPLE, key="ksk-2", typo=True)
    (typo,) = example.parent_ds
    good = make_ds(new.key, 2)
    assert (typo.key_tag, typo.algorithm, typo.digest_type) == (good.key_tag, good.algorithm, good.digest_type)
    assert typo.digest != good.digest and sum(a != b for a, b in zip(typo.digest, good.digest, strict=True)) == 1
    with pytest.raises(ScenarioError, match="root has no parent"):
        t.do("submit-ds", zone=".", key="ksk")


def test_ds_ttl_at_the_parent_and_other_ttls() -> None:
    t = Timeline()
    t.do("set-ttl", zone=EXAMPLE, type="DS", ttl=600)
    t.do("set-ttl", zone=EXAMPLE, type="DNSKEY", ttl=7200)
    t.do("set-ttl", zone=EXAMPLE, type="A", name="www", ttl=60)
    t.do("publish-key", zone=EXAMPLE, key="zsk-2", role="zsk")     # a published-only key gets the DNSKEY TTL too
    ctx = t.build()
    assert rrset(ctx, "jp.", EXAMPLE, "DS").ttl == 600                                 # type: ignore[union-attr]
    assert rrset(ctx, "jp.", "insecure.jp.", "NS").ttl == DELEGATION_TTL               # type: ignore[union-attr]
    assert rrset(ctx, EXAMPLE, EXAMPLE, "DNSKEY").ttl == 7200                          # type: ignore[union-attr]
    assert rrset(ctx, EXAMPLE, "www.example.jp.", "A").ttl == 60                       # type: ignore[union-attr]
    assert rrset(ctx, EXAMPLE, "www.example.jp.", "RRSIG", "A").ttl == 60              # type: ignore[union-attr]
    validates(ctx, "jp.", EXAMPLE, "DS")
    validates(ctx, EXAMPLE, "www.example.jp.", "A")
    with pytest.raises(ScenarioError, match="no www.example.jp. TXT"):
        t.do("set-ttl", zone=EXAMPLE, type="TXT", name="www", ttl=60)
        t.build()


def test_set_records_replaces_the_rrset_and_keeps_its_ttl() -> None:
    t = Timeline()
    t.do("set-records", zone=EXAMPLE, name="www", type="A", data="192.0.2.81")
    t.do("set-records", zone=EXAMPLE, name="new.example.jp.", type="TXT", data=['"a"', '"b"'], ttl=120)
    ctx = t.build()
    www = rrset(ctx, EXAMPLE, "www.example.jp.", "A")
    assert www is not None and [r.to_text() for r in www] == ["192.0.2.81"] and www.ttl == 300
    assert rrset(ctx, EXAMPLE, "new.example.jp.", "TXT").ttl == 120                     # type: ignore[union-attr]
    validates(ctx, EXAMPLE, "new.example.jp.", "TXT")
    with pytest.raises(ScenarioError, match="not valid A data"):
        t.do("set-records", zone=EXAMPLE, name="www", type="A", data="not-an-address")
    with pytest.raises(ScenarioError, match="not in zone"):
        t.do("set-records", zone=EXAMPLE, name="www.other.jp.", type="A", data="192.0.2.1")


# ---- signing and denial ------------------------------------------------------------------------------------------

def test_sign_and_unsign_a_zone_the_parent_ds_is_the_registrants_business() -> None:
    t = Timeline()
    t.do("sign-zone", zone="insecure.jp.", keys="csk")
    insecure = t.state.zone("insecure.jp.")
    assert set(insecure.keys) == {"csk"} and insecure.parent_ds == []
    ctx = t.build()
    validates(ctx, "insecure.jp.", "www.insecure.jp.", "A")
    assert rrset(ctx, "jp.", "insecure.jp.", "DS") is None
    with pytest.raises(ScenarioError, match="signed already"):
        t.do("sign-zone", zone="insecure.jp.")
    t.do("unsign-zone", zone=EXAMPLE)
    ctx = t.build()
    assert rrset(ctx, EXAMPLE, EXAMPLE, "DNSKEY") is None
    assert rrset(ctx, EXAMPLE, "www.example.jp.", "RRSIG", "A") is None
    assert rrset(ctx, "jp.", EXAMPLE, "DS") is not None          # until the registrant withdraws it


def test_change_algorithm_replaces_every_key_at_once() -> None:
    t = Timeline()
    t.do("change-algorithm", zone=EXAMPLE, algorithm=14)
    example = t.state.zone(EXAMPLE)
    assert set(example.keys) == {"ksk-14", "zsk-14"} and {k.key.algorithm for k in example.keys.values()} == {14}
    ctx = t.build()
    assert {k.algorithm for k in rrset(ctx, EXAMPLE, EXAMPLE, "DNSKEY") or []} == {14}
    assert all(ds.algorithm == 13 for ds in rrset(ctx, "jp.", EXAMPLE, "DS") or [])   # DS untouched


def test_nsec_to_nsec3_and_its_parameters() -> None:
    t = Timeline()
    assert rrset(t.build(), EXAMPLE, EXAMPLE, "NSEC3PARAM") is None
    t.do("set-denial", zone=EXAMPLE, denial="nsec3", salt="cafe", iterations=5)
    param = rrset(t.build(), EXAMPLE, EXAMPLE, "NSEC3PARAM")
    assert param is not None and (param[0].salt, param[0].iterations) == (b"\xca\xfe", 5)
    t.do("set-denial", zone=EXAMPLE, denial="nsec3", salt="-", iterations=0)
    param = rrset(t.build(), EXAMPLE, EXAMPLE, "NSEC3PARAM")
    assert param is not None and (param[0].salt, param[0].iterations) == (b"", 0)
    with pytest.raises(ScenarioError, match="not hexadecimal"):
        t.do("set-denial", zone=EXAMPLE, denial="nsec3", salt="xyz")
    with pytest.raises(ScenarioError, match="nsec, nsec3"):
        t.do("set-denial", zone=EXAMPLE, denial="nsec5")


# ---- the clock, frozen zones, the anchor -------------------------------------------------------------------------

def test_advance_moves_the_clock_and_the_signatures_with_it() -> None:
    t = Timeline()
    first = t.build()
    t.do("advance", by=40 * 86400)
    assert t.state.clock.offset == 40 * 86400
    later = t.build()
    old = rrset(first, EXAMPLE, "www.example.jp.", "RRSIG", "A")[0]                  # type: ignore[index]
    new = rrset(later, EXAMPLE, "www.example.jp.", "RRSIG", "A")[0]                  # type: ignore[index]
    assert new.inception - old.inception >= 40 * 86400
    assert later.clock.now() > old.expiration                                         # the old ones would be expired
    with pytest.raises(ScenarioError, match="positive"):
        t.do("advance", by=0)


def test_a_frozen_zone_is_served_as_last_published_until_it_thaws() -> None:
    t = Timeline()
    before = t.build()
    t.do("freeze-zone", zone=EXAMPLE)
    t.do("publish-key", zone=EXAMPLE, key="ksk-2", role="ksk")
    t.do("submit-ds", zone=EXAMPLE, key="ksk-2")
    t.do("advance", by=3600)
    frozen = t.build()
    ksk2 = t.state.zone(EXAMPLE).keys["ksk-2"].key
    assert frozen.zones[EXAMPLE].zone() is before.zones[EXAMPLE].zone()               # same data, same serial
    assert make_ds(ksk2, 2) in set(rrset(frozen, "jp.", EXAMPLE, "DS") or [])       # the parent moved on
    t.do("resign", zone=EXAMPLE)                                                      # one publication ...
    once = t.build()
    assert ksk2.key_tag in dnskey_tags(once, EXAMPLE)
    assert t.build().zones[EXAMPLE].zone() is once.zones[EXAMPLE].zone()               # ... then frozen again
    t.do("unfreeze-zone", zone=EXAMPLE)
    assert t.build().zones[EXAMPLE].zone() is not once.zones[EXAMPLE].zone()


def test_trust_anchor_modes() -> None:
    t = Timeline()
    t.do("set-trust-anchor", mode="managed")
    ctx = t.build()
    assert ctx.trust_anchor_managed and ctx.trust_anchor_ds() == t.state.root_anchor()
    t.do("set-trust-anchor", mode="none")
    ctx = t.build()
    assert ctx.trust_anchor_ds() == [] and not ctx.trust_anchor_managed
    t.do("unsign-zone", zone=".")
    with pytest.raises(ScenarioError, match="root is unsigned"):
        t.do("set-trust-anchor", mode="static")
    with pytest.raises(ScenarioError, match="static, managed, none"):
        t.do("set-trust-anchor", mode="dynamic")


def test_a_signed_zone_without_an_active_key_is_refused() -> None:
    t = Timeline()
    t.do("retire-key", zone=EXAMPLE, key="ksk")
    t.do("retire-key", zone=EXAMPLE, key="zsk")
    with pytest.raises(ScenarioError, match="no key of it is active"):
        t.build()


# ---- the registry and the runner's handling of parameters and lab actions ----------------------------------------

def test_every_action_is_documented_and_its_signature_well_formed() -> None:
    kinds = {"zone", "zones", "duration", "int", "bool", "text", "any"}
    actions = registry()
    # the brief's list: pre-publish, activate, retire, revoke, remove; DS submit/withdraw; re-sign; NSEC3; algorithm;
    # sign and unsign; TTLs; the clock
    assert {"publish-key", "activate-key", "retire-key", "revoke-key", "remove-key", "submit-ds", "withdraw-ds",
            "resign", "set-denial", "change-algorithm", "sign-zone", "unsign-zone", "set-ttl", "advance"} \
        <= set(actions)
    for action in actions.values():
        assert action.summary and action.reference.startswith("RFC"), action.id
        assert set(action.required) <= set(action.params), action.id
        plain = {kind for kind, _ in action.params.values() if not kind.startswith("choice:")}
        assert plain <= kinds, action.id
        for kind, _ in action.params.values():     # "choice:a|b": a non-empty list of words
            assert not kind.startswith("choice:") or all(kind[len("choice:"):].split("|")), action.id
        assert action.to_json()["id"] == action.id


def test_action_params_maps_a_one_value_form_and_rejects_strangers() -> None:
    advance = registry()["advance"]
    assert action_params(advance, ActionSpec("advance", {"value": 60})) == {"by": 60}
    where = Where(Path("x.yaml"), 9)
    with pytest.raises(ScenarioError) as info:
        action_params(registry()["retire-key"], ActionSpec("retire-key", {"value": "example.jp."}, where))
    assert (info.value.file, info.value.line) == ("x.yaml", 9)
    with pytest.raises(ScenarioError, match="needs the parameter"):
        action_params(registry()["retire-key"], ActionSpec("retire-key", {"zone": EXAMPLE}))
    with pytest.raises(ScenarioError, match="no parameter 'colour'"):
        action_params(advance, ActionSpec("advance", {"by": 1, "colour": "red"}))


class FakeLab:
    """Just enough of a Lab for TimelineRun: serials, and a record of what was loaded."""

    def __init__(self) -> None:
        self.loads: list[tuple[int, bool, bool]] = []
        self.serial = 0
        self.resolvers: dict[str, object] = {}

    def next_serial(self) -> int:
        self.serial += 1
        return self.serial

    def load(self, build: BuildContext, *, flush: bool = True, restart: bool = False) -> None:
        self.loads.append((build.clock.offset, flush, restart))


def test_a_lab_action_sees_what_the_phase_did_before_it_and_the_first_load_starts_clean() -> None:
    t = Timeline()
    run = TimelineRun.__new__(TimelineRun)
    run.lab, run.scenario, run.state, run.builder = FakeLab(), t.scenario, t.state, t.builder  # type: ignore[assignment]
    run.adapters = []
    run.env = ActionEnv(t.keystore, lab=run.lab)  # type: ignore[arg-type]
    run.loads = 0
    lab: FakeLab = run.lab  # type: ignore[assignment]
    phase = Phase("p", actions=(ActionSpec("set-trust-anchor", {"mode": "managed"}), ActionSpec("advance", {"by": 5}),
                                ActionSpec("await-anchor", {"key": "ksk", "state": "trusted"}),
                                ActionSpec("advance", {"by": 7})))
    run.phase(phase)
    # served before await-anchor (with the clock as it was then), and again after the last change
    assert lab.loads == [(5, True, True), (12, False, False)]
    run.phase(Phase("quiet", checks=()))
    assert lab.loads[-1] == (12, False, False)                     # a phase without actions still serves its zones
    run.phase(Phase("flushed", flush=True))
    assert lab.loads[-1] == (12, True, False)
    with pytest.raises(ScenarioError, match="unknown action 'fly'"):
        run.phase(Phase("x", actions=(ActionSpec("fly"),)))


def test_without_the_virtual_clock_advance_waits_for_real_after_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fallback for a resolver that cannot run on the shim: one real clock, short real waits, served first."""
    import testbed.run.phases as run_module

    t = Timeline()
    lab = FakeLab()
    lab.on_virtual_clock = lambda name: name != "custom"  # type: ignore[attr-defined]
    events: list[object] = []
    monkeypatch.setattr(run_module.time, "sleep", lambda seconds: events.append(("sleep", seconds)))
    original_load = lab.load

    def load(build: BuildContext, **kwargs: bool) -> None:
        events.append(("load", build.clock.offset))
        original_load(build, **kwargs)

    lab.load = load  # type: ignore[method-assign]

    class Adapter:
        name = "custom"

    pool = type("Pool", (), {"resolvers": ["custom"], "keystore": t.keystore, "adapters": {"custom": Adapter()}})()
    lab.topology = t.topology  # type: ignore[attr-defined]
    run = TimelineRun(lab, t.scenario, pool)  # type: ignore[arg-type]
    assert run.real_time == ["custom"]
    run.phase(Phase("p", actions=(ActionSpec("retire-key", {"zone": EXAMPLE, "key": "zsk"}),
                                  ActionSpec("advance", {"by": 3}))))
    # the retired key was served before the real wait, and served again afterwards (fresh signatures, same clock)
    assert events == [("load", 0), ("sleep", 3), ("load", 0)]
    assert run.state.clock.offset == 0
    with pytest.raises(ScenarioError, match="would take that long in real time") as info:
        run.phase(Phase("q", actions=(ActionSpec("advance", {"by": 30 * 86400}),)))
    assert info.value.fix and "custom" in info.value.fix and "timeshim build" in info.value.fix


def test_the_actions_command_lists_the_registry() -> None:
    import json

    from click.testing import CliRunner

    from testbed.cli.main import cli

    listed = CliRunner().invoke(cli, ["actions", "--json"])
    assert listed.exit_code == 0
    assert [a["id"] for a in json.loads(listed.output)] == list(registry())
    text = CliRunner().invoke(cli, ["actions"]).output
    assert "advance: BY" in text and "submit-ds: {...}" in text and "typo" in text
