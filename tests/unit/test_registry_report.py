"""The registry report and the KSK-roll checklist, from events and verdicts: per registrant what was decided and
how each resolver saw the child; per resolver what it trusts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from testbed.registry.events import RegistryEvent
from testbed.report.anchor_checklist import checklist_lines
from testbed.report.json_report import run_document
from testbed.report.registry_report import refusal_lines, registry_json, report_lines
from testbed.run.checks import Verdict, evaluate
from testbed.run.observation import Observation
from testbed.scenario.model import Check, Expectation

ZONES = (".", "jp.", "travel.jp.", "shop.jp.")


def event(phase: str, child: str, decision: str, **kw: object) -> RegistryEvent:
    base = dict(scenario="s", phase=phase, parent="jp.", child=child, action="submit-ds", decision=decision,
                reason=f"{decision} because", acceptance="strict", policy="lab", at=0, submitted=("1 13 2 AB...CD",),
                zones=ZONES)
    base.update(kw)
    return RegistryEvent(**base)  # type: ignore[arg-type]


def verdict(phase: str, resolver: str, qname: str, qtype: str, outcome: str) -> Verdict:
    ad = outcome == "secure"
    rcode = "SERVFAIL" if outcome == "bogus" else "NOERROR"
    obs = Observation(rcode=rcode, ad=ad, answer=["192.0.2.1"], cd_rcode="NOERROR" if outcome == "bogus" else None,
                      cd_answer=["192.0.2.1"] if outcome == "bogus" else [])
    check = Check(qname=qname, qtype=qtype, expect=Expectation(outcome))  # type: ignore[arg-type]
    return replace(evaluate(check, resolver, obs), scenario="s", file=Path("s.yaml"), phase=phase)


def test_the_report_lists_decisions_and_each_resolvers_view_of_the_child() -> None:
    events = [event("wrong", "travel.jp.", "rejected"), event("right", "travel.jp.", "accepted")]
    verdicts = [verdict("wrong", "unbound", "www.travel.jp.", "A", "insecure"),
                verdict("wrong", "unbound", "travel.jp.", "DS", "secure"),          # the parent's data: not counted
                verdict("right", "unbound", "www.travel.jp.", "A", "secure"),
                verdict("right", "bind", "www.shop.jp.", "A", "secure")]            # another zone: not counted
    lines = report_lines(verdicts, events)
    assert lines[0] == "registry report" and "  s: travel.jp." in lines
    assert "    seen after wrong: unbound insecure" in lines and "    seen after right: unbound secure" in lines
    assert not any("bind" in line for line in lines)
    assert refusal_lines(events) == ["  s / wrong: registry jp. DS submission for travel.jp.: REJECTED: rejected "
                                     "because"]
    document = registry_json(verdicts, events)
    entry = document["registrants"]["s"]["travel.jp."]
    assert [e["decision"] for e in entry["events"]] == ["rejected", "accepted"]
    assert entry["seen"] == {"wrong": {"unbound": "insecure"}, "right": {"unbound": "secure"}}
    assert "registry" in run_document(verdicts, "netns", [], events)
    assert "registry" not in run_document(verdicts, "netns", [])        # no registry events: the old shape


def test_the_roll_checklist_names_each_resolvers_mechanism_and_what_it_trusts() -> None:
    roll = event("end", ".", "trusted", parent=".", action="await-anchor",
                 details=("unbound: trusts only ksk-2024; ksk-2024 (1) trusted, ksk (2) revoked",))
    verdicts = [verdict("end", "unbound", ".", "SOA", "secure"), verdict("end", "pdns", ".", "SOA", "secure")]
    lines = checklist_lines(verdicts, [roll])
    assert lines[0].startswith("root KSK roll")
    assert "  unbound: RFC 5011 (auto-trust-anchor-file)" in lines
    assert "    s [end]: trusts only ksk-2024; ksk-2024 (1) trusted, ksk (2) revoked" in lines
    assert "  pdns: static anchor: no RFC 5011" in lines
    assert checklist_lines(verdicts, [event("p", "travel.jp.", "accepted")]) == []
