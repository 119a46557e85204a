"""The parental agent's DS check (testbed/registry/agent.py) on zones signed by our signer, as the servers would
answer: a correct DS is accepted, each rule refuses what it should, with a reason a registrar can pass on."""

from __future__ import annotations

import time
from functools import cache
from pathlib import Path

import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest

from testbed.build.topology import plan
from testbed.build.zones import BuildContext, KeyStore
from testbed.clock import LabClock
from testbed.dnssec import make_ds
from testbed.registry.agent import check_ds
from testbed.registry.fetch import ServerAnswer
from testbed.registry.policy import POLICIES, get_policy
from testbed.run.runner import build_scenario
from testbed.scenario.model import Scenario
from testbed.timeline.actions import _typo

CHILD = "example.jp."
LAB = POLICIES["lab"]
KEYSTORE = KeyStore()


@cache
def built() -> BuildContext:
    scenario = Scenario(name="agent", file=Path("agent.yaml"))
    return build_scenario(scenario, plan(scenario, []), LabClock(), KEYSTORE, serial=1)


def answer(ns: str = "ns1.example.jp.", keys: dns.rrset.RRset | None = None,
           sigs: dns.rrset.RRset | None = None) -> ServerAnswer:
    zone = built().zones[CHILD].signed
    assert zone is not None
    origin = dns.name.from_text(CHILD)
    dnskeys = zone.find_rrset(origin, dns.rdatatype.DNSKEY)
    rrsigs = zone.find_rrset(origin, dns.rdatatype.RRSIG, dns.rdatatype.DNSKEY)
    return ServerAnswer(ns, "10.53.0.6", rrset=keys if keys is not None else dnskeys,
                        rrsigs=sigs if sigs is not None else rrsigs)


def ksk_ds(digest: int = 2):  # noqa: ANN201
    ksk = next(k for k in built().zones[CHILD].keys if k.role == "ksk")
    return make_ds(ksk, digest)


def test_the_ksk_ds_is_accepted() -> None:
    decision = check_ds(CHILD, [ksk_ds()], [answer()], LAB, time.time())
    assert decision.accepted, decision.reason
    assert "matches a SEP key" in decision.reason


def test_a_mistyped_digest_is_refused_as_a_typo() -> None:
    decision = check_ds(CHILD, [_typo(ksk_ds())], [answer()], LAB, time.time())
    assert not decision.accepted
    assert "digest does not match DNSKEY" in decision.reason and "mistyped" in decision.reason


def test_a_zsk_ds_is_refused_no_sep_bit() -> None:
    zsk = next(k for k in built().zones[CHILD].keys if k.role == "zsk")
    decision = check_ds(CHILD, [make_ds(zsk, 2)], [answer()], LAB, time.time())
    assert not decision.accepted and "no SEP bit" in decision.reason


def test_sha1_digest_is_refused_by_policy() -> None:
    decision = check_ds(CHILD, [ksk_ds(1)], [answer()], LAB, time.time())
    assert not decision.accepted and "digest type 1 (SHA-1)" in decision.reason


def test_a_key_that_does_not_sign_the_dnskey_rrset_is_refused() -> None:
    # the RRSIGs of the DNSKEY RRset removed: the KSK is published but signs nothing
    empty = dns.rrset.RRset(dns.name.from_text(CHILD), dns.rdataclass.IN, dns.rdatatype.RRSIG, dns.rdatatype.DNSKEY)
    decision = check_ds(CHILD, [ksk_ds()], [answer(sigs=empty)], LAB, time.time())
    assert not decision.accepted and "does not sign the DNSKEY RRset" in decision.reason


def test_signatures_that_expire_within_the_margin_are_refused() -> None:
    # 30-day signatures judged 29.5 days on: valid, but not for the policy's one-day margin
    later = time.time() + 29.5 * 86400
    decision = check_ds(CHILD, [ksk_ds()], [answer()], LAB, later)
    assert not decision.accepted and "within the registry's margin" in decision.reason
    assert not check_ds(CHILD, [ksk_ds()], [answer()], LAB, time.time() + 31 * 86400).accepted


def test_servers_that_disagree_or_fail_are_refused() -> None:
    other = answer("ns2.example.jp.")
    zone = built().zones[CHILD].signed
    assert zone is not None
    fewer = dns.rrset.RRset(dns.name.from_text(CHILD), dns.rdataclass.IN, dns.rdatatype.DNSKEY)
    fewer.add(next(iter(zone.find_rrset(dns.name.from_text(CHILD), dns.rdatatype.DNSKEY))))
    decision = check_ds(CHILD, [ksk_ds()], [answer(), answer("ns2.example.jp.", keys=fewer)], LAB, time.time())
    assert not decision.accepted and "disagree" in decision.reason
    assert check_ds(CHILD, [ksk_ds()], [answer(), other], LAB, time.time()).accepted
    down = ServerAnswer("ns2.example.jp.", "10.53.0.7", error="no answer over TCP within 3 s")
    decision = check_ds(CHILD, [ksk_ds()], [answer(), down], LAB, time.time())
    assert not decision.accepted and "ns2.example.jp. (10.53.0.7) no answer" in decision.reason
    unsigned = ServerAnswer("ns1.example.jp.", "10.53.0.6")
    assert "serves no DNSKEY RRset" in check_ds(CHILD, [ksk_ds()], [unsigned], LAB, time.time()).reason


def test_unknown_policy_names_the_known_ones() -> None:
    from testbed.errors import ScenarioError

    with pytest.raises(ScenarioError, match="unknown registry policy 'dk-like'") as info:
        get_policy("dk-like")
    assert "ch-like" in (info.value.fix or "")
