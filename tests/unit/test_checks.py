"""Observations from real dnspython messages, their outcome words, and the verdicts checks give them."""

from __future__ import annotations

from pathlib import Path

import dns.edns
import dns.flags
import dns.message
import dns.rcode
import dns.rrset
import pytest

from testbed.run.checks import Verdict, evaluate, mismatches
from testbed.run.observation import Observation
from testbed.scenario.model import Check, Expectation, Override

QNAME = "www.example.jp."


def response(rcode: int = dns.rcode.NOERROR, *, ad: bool = False, ede: tuple[tuple[int, str], ...] = (),
             answer: tuple[str, ...] = (), cd: bool = False, qname: str = QNAME,
             qtype: str = "A") -> dns.message.Message:
    """A resolver's reply as dnspython would parse it off the wire."""
    query = dns.message.make_query(qname, qtype, want_dnssec=True)
    if cd:
        query.flags |= dns.flags.CD
    msg = dns.message.make_response(query)
    msg.set_rcode(rcode)
    if ad:
        msg.flags |= dns.flags.AD
    if ede:
        msg.use_edns(0, dns.flags.DO, 1232, options=[dns.edns.EDEOption(code, text or None) for code, text in ede])
    for line in answer:
        msg.answer.append(dns.rrset.from_text(*line.split(maxsplit=4)))
    # Round-trip through wire format so the test sees exactly what the probe would.
    return dns.message.from_wire(msg.to_wire())


def observe(resp: dns.message.Message | None, cd_resp: dns.message.Message | None = None, *,
            error: str | None = None, qtype: str = "A") -> Observation:
    return Observation.from_messages(resp, cd_resp, QNAME, qtype, error=error)


WWW = f"{QNAME} 300 IN A 192.0.2.80"


# ---- observations --------------------------------------------------------------------------------------------------

def test_secure_answer() -> None:
    obs = observe(response(ad=True, answer=(WWW,)))
    assert (obs.rcode, obs.ad, obs.answer, obs.ede, obs.cd_answer) == ("NOERROR", True, ["192.0.2.80"], [], None)
    assert obs.outcome == "secure"


def test_insecure_answer_and_nxdomain_outcomes() -> None:
    assert observe(response(answer=(WWW,))).outcome == "insecure"
    assert observe(response(dns.rcode.NXDOMAIN, ad=True)).outcome == "secure"
    assert observe(response(dns.rcode.NXDOMAIN)).outcome == "insecure"


def test_bogus_needs_data_with_cd() -> None:
    served = response(dns.rcode.SERVFAIL, ede=((7, "signature expired"),))
    obs = observe(served, response(answer=(WWW,), cd=True))
    assert obs.outcome == "bogus"
    assert obs.ede == [(7, "signature expired")] and obs.ede_codes == [7]
    assert obs.cd_rcode == "NOERROR" and obs.cd_answer == ["192.0.2.80"] and obs.answer == []


def test_servfail_even_with_cd_or_without_a_cd_query() -> None:
    assert observe(response(dns.rcode.SERVFAIL), response(dns.rcode.SERVFAIL, cd=True)).outcome == "servfail"
    assert observe(response(dns.rcode.SERVFAIL)).outcome == "servfail"


def test_other_rcodes_and_errors() -> None:
    assert observe(response(dns.rcode.REFUSED)).outcome == "refused"
    timeout = observe(None, error="no answer from 10.53.0.101 within 5s")
    assert (timeout.rcode, timeout.outcome) == (None, "timeout")
    assert observe(None, error="10.53.0.101 refused the connection").outcome == "error"
    assert observe(None).error == "no response"


def test_answer_follows_cname_chain_and_ignores_other_names() -> None:
    resp = response(ad=True, answer=(f"{QNAME} 300 IN CNAME alias.example.jp.",
                                     "alias.example.jp. 300 IN CNAME final.example.jp.",
                                     "other.example.jp. 300 IN A 192.0.2.1",
                                     "final.example.jp. 300 IN A 192.0.2.7"))
    assert observe(resp).answer == ["192.0.2.7"]
    assert Observation.from_messages(resp, None, QNAME, "CNAME").answer == ["alias.example.jp."]


def test_cname_loop_does_not_hang() -> None:
    resp = response(answer=(f"{QNAME} 300 IN CNAME {QNAME}",))
    assert observe(resp).answer == []


def test_observation_json_is_the_observed_object() -> None:
    obs = observe(response(dns.rcode.SERVFAIL, ede=((6, ""),)), response(answer=(WWW,), cd=True))
    assert obs.to_json() == {"rcode": "SERVFAIL", "ad": False, "ede": [{"code": 6, "text": ""}], "answer": [],
                             "cd_rcode": "NOERROR", "cd_answer": ["192.0.2.80"]}


# ---- verdicts ------------------------------------------------------------------------------------------------------

def check(outcome: str, **fields: object) -> Check:
    overrides = fields.pop("overrides", ())
    return Check(qname=QNAME, qtype="A", expect=Expectation(outcome, **fields),  # type: ignore[arg-type]
                 overrides=overrides, reference="RFC 4035 section 5.3.1")  # type: ignore[arg-type]


BOGUS_7 = observe(response(dns.rcode.SERVFAIL, ede=((7, "expired"),)), response(answer=(WWW,), cd=True))
BOGUS_NO_EDE = observe(response(dns.rcode.SERVFAIL), response(answer=(WWW,), cd=True))
SECURE = observe(response(ad=True, answer=(WWW,)))


def test_pass() -> None:
    verdict = evaluate(check("bogus", ede=(7,), answer=("192.0.2.80",)), "unbound", BOGUS_7,
                       scenario="expired-rrsig", file=Path("s/x.yaml"), phase="p1", duration_ms=12.5)
    assert isinstance(verdict, Verdict)
    assert (verdict.status, verdict.reason) == ("pass", "")
    assert (verdict.scenario, verdict.file, verdict.phase, verdict.duration_ms) == (
        "expired-rrsig", Path("s/x.yaml"), "p1", 12.5)
    assert verdict.expected == Expectation("bogus", ede=(7,), answer=("192.0.2.80",))
    assert verdict.reference == "RFC 4035 section 5.3.1"


def test_fail_names_every_mismatching_field() -> None:
    verdict = evaluate(check("bogus", ede=(7,)), "unbound", SECURE)
    assert verdict.status == "fail"
    assert verdict.reason == ("expected bogus, got secure; expected rcode SERVFAIL, got NOERROR; "
                              "expected EDE one of [7], got none")


@pytest.mark.parametrize(("expected", "obs", "reason"), [
    (Expectation("secure"), observe(response(answer=(WWW,))), "expected secure, got insecure"),
    (Expectation("secure", rcode="NXDOMAIN"), SECURE, "expected rcode NXDOMAIN, got NOERROR"),
    (Expectation("bogus", ede=(6, 7)), BOGUS_NO_EDE, "expected EDE one of [6, 7], got none"),
    (Expectation("bogus", ede=(9,)), BOGUS_7, "expected EDE one of [9], got 7 (expired)"),
    (Expectation("bogus", ede=()), BOGUS_7, "expected no EDE, got 7 (expired)"),
    (Expectation("secure", answer=("192.0.2.81",)), SECURE,
     "expected answer to include 192.0.2.81, got 192.0.2.80"),
    (Expectation("secure", answer=()), SECURE, "expected no A data, got 192.0.2.80"),
    (Expectation("servfail"), BOGUS_7, "expected servfail, got bogus"),
    (Expectation("secure"), observe(response(dns.rcode.REFUSED)),
     "expected secure, got refused; expected rcode NOERROR or NXDOMAIN, got REFUSED"),
])
def test_each_mismatch_in_plain_words(expected: Expectation, obs: Observation, reason: str) -> None:
    assert "; ".join(mismatches(expected, obs, "A")) == reason


def test_matches_need_no_words() -> None:
    assert mismatches(Expectation("secure", rcode="NOERROR", ede=(), answer=()),
                      observe(response(ad=True)), "A") == []
    # EDE "one of": any listed code will do; rdata compares normalised, not as raw text
    assert mismatches(Expectation("bogus", ede=(6, 7), answer=("192.0.2.80",)), BOGUS_7, "A") == []
    aaaa = observe(response(ad=True, answer=(f"{QNAME} 300 IN AAAA 2001:db8::80",), qtype="AAAA"), qtype="AAAA")
    assert mismatches(Expectation("secure", answer=("2001:DB8:0:0::80",)), aaaa, "AAAA") == []
    mx = observe(response(ad=True, answer=(f"{QNAME} 300 IN MX 10 Mail.Example.JP.",), qtype="MX"), qtype="MX")
    assert mismatches(Expectation("secure", answer=("10  mail.example.jp.",)), mx, "MX") == []


def test_xfail_when_the_override_matches() -> None:
    override = Override("bind", Expectation("bogus", ede=()), "BIND 9.18 sends no DNSSEC EDE codes", "ISC KB 1")
    chk = check("bogus", ede=(7,), overrides=(override,))
    verdict = evaluate(chk, "bind", BOGUS_NO_EDE)
    assert (verdict.status, verdict.reason) == ("xfail", "BIND 9.18 sends no DNSSEC EDE codes")
    assert verdict.expected == override.expectation
    assert verdict.reference == "ISC KB 1"
    # the same observation from a resolver without an override is a plain failure
    assert evaluate(chk, "unbound", BOGUS_NO_EDE).status == "fail"
    assert evaluate(chk, "unbound", BOGUS_7).status == "pass"


def test_fail_when_the_override_does_not_match() -> None:
    override = Override("bind", Expectation("bogus", ede=()), "BIND 9.18 sends no DNSSEC EDE codes")
    verdict = evaluate(check("bogus", ede=(7,), overrides=(override,)), "bind", BOGUS_7)
    assert verdict.status == "fail"
    assert verdict.reason == ("with the bind override (BIND 9.18 sends no DNSSEC EDE codes): "
                              "expected no EDE, got 7 (expired)")


def test_error_when_there_is_no_answer() -> None:
    override = Override("bind", Expectation("secure"), "whatever")
    obs = observe(None, error="no answer from 10.53.0.101 within 5s")
    for resolver in ("bind", "unbound"):
        verdict = evaluate(check("bogus", overrides=(override,)), resolver, obs)
        assert (verdict.status, verdict.reason) == ("error", "no answer from 10.53.0.101 within 5s")
