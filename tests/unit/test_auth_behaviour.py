"""Each Behaviour switch of the builtin server, through answer() / answer_wire()."""

from __future__ import annotations

import time

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import pytest

from testbed.auth import Behaviour, ZoneSet, answer, answer_wire
from testbed.auth.samples import signed_pair
from testbed.errors import TestbedError

T = dns.rdatatype


@pytest.fixture(scope="module")
def zones():
    return ZoneSet({"example.": signed_pair(int(time.time()) - 3600)[0]})


def query(qname="www.example.", qtype="A", **kw):
    kw.setdefault("want_dnssec", True)
    return dns.message.make_query(qname, qtype, **kw)


def all_rrsets(r):
    return r.answer + r.authority + r.additional


def test_default_behaviour_is_well_behaved(zones):
    assert answer(query(), zones, Behaviour()).rcode() == dns.rcode.NOERROR


def test_drop_qtypes(zones):
    b = Behaviour(drop_qtypes=frozenset({"dnskey"}))
    assert b.drop_qtypes == {"DNSKEY"}
    assert answer(query("example.", "DNSKEY"), zones, b) is None
    assert answer(query("example.", "SOA"), zones, b) is not None
    assert answer_wire(query("example.", "DNSKEY").to_wire(), zones, b) is None


def test_strip_rrsigs(zones):
    b = Behaviour(strip_rrsigs=True)
    for qname, qtype in [("www.example.", "A"), ("nope.example.", "A"), ("x.sub.example.", "A"),
                         ("www.example.", "RRSIG")]:
        r = answer(query(qname, qtype), zones, b)
        assert all(rr.rdtype != T.RRSIG for rr in all_rrsets(r))
    r = answer(query("nope.example.", "A"), zones, b)
    assert any(rr.rdtype == T.NSEC for rr in r.authority)  # only signatures go, the proof stays


def test_tc_always_on_udp_only(zones):
    b = Behaviour(tc_always=True)
    r = answer(query(), zones, b)
    assert r.flags & dns.flags.TC and r.answer == [] and r.question
    r = answer(query(), zones, b, tcp=True)
    assert not r.flags & dns.flags.TC and r.answer


def test_edns_intolerant(zones):
    b = Behaviour(edns_intolerant=True)
    r = answer(query(), zones, b)
    assert r.rcode() == dns.rcode.FORMERR and r.edns == -1
    wire = answer_wire(query().to_wire(), zones, b)
    assert dns.message.from_wire(wire).edns == -1
    r = answer(query(use_edns=False, want_dnssec=False), zones, b)
    assert r.rcode() == dns.rcode.NOERROR and r.answer


def test_udp_max_drops_larger_answers(zones):
    b = Behaviour(udp_max=300)
    assert answer(query("example.", "SOA", want_dnssec=False), zones, b) is not None
    big = query("www.example.", "ANY")
    assert 300 < len(answer(big, zones).to_wire()) <= 1232
    assert answer(big, zones, b) is None
    assert answer(big, zones, b, tcp=True) is not None


def test_edns_payload_raises_our_udp_maximum(zones):
    q = query("big.example.", "TXT", payload=4096)
    assert answer(q, zones).flags & dns.flags.TC
    r = answer(q, zones, Behaviour(edns_payload=4096))
    assert not r.flags & dns.flags.TC and r.payload == 4096
    # With udp_max below it, the big answer is sent... and lost, as with dropped fragments.
    assert answer(q, zones, Behaviour(edns_payload=4096, udp_max=1232)) is None


def test_unresponsive(zones):
    b = Behaviour(unresponsive=True)
    assert answer(query(), zones, b) is None
    assert answer(query(), zones, b, tcp=True) is None
    assert answer_wire(b"garbage garbage garbage", zones, b) is None


def test_from_mapping_validates():
    b = Behaviour.from_mapping({"drop_qtypes": ["DNSKEY", "ds"], "udp_max": 1200, "strip_rrsigs": True})
    assert b == Behaviour(drop_qtypes=frozenset({"DNSKEY", "DS"}), udp_max=1200, strip_rrsigs=True)
    for bad in ({"nope": True}, {"strip_rrsigs": "yes"}, {"drop_qtypes": "DNSKEY"}, {"drop_qtypes": ["BOGUS"]},
                {"udp_max": 5}, {"edns_payload": None}):
        with pytest.raises(TestbedError):
            Behaviour.from_mapping(bad, file="x.json")
