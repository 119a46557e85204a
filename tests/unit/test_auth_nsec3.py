"""answer() on NSEC3 zones signed by dnssec-signzone: RFC 5155 7.2 proofs, checked against hashes computed here."""

from __future__ import annotations

import base64
import copy
import shutil

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import pytest

from testbed.auth import ZoneSet, answer
from testbed.auth.samples import EXAMPLE, sign_nsec3

pytestmark = pytest.mark.skipif(shutil.which("dnssec-signzone") is None, reason="needs bind9-utils")

N = dns.name.from_text
T = dns.rdatatype
SALT, ITERATIONS = "aabbccdd", 1
DS_LINE = "sub.example. 300 IN DS 12345 15 2 " + "0123456789abcdef" * 4
TEXT = EXAMPLE + DS_LINE + "\n"


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """NSEC3 with salt and an extra iteration, no opt-out: every name has its NSEC3."""
    return sign_nsec3(TEXT, "example.", tmp_path_factory.mktemp("plain"), salt=SALT, iterations=ITERATIONS)


@pytest.fixture(scope="module")
def optout(tmp_path_factory):
    """NSEC3 opt-out, no salt: insecure.example. has no NSEC3 of its own."""
    return sign_nsec3(TEXT, "example.", tmp_path_factory.mktemp("optout"), opt_out=True)


def params(zone):
    rd = zone.find_rdataset("example.", T.NSEC3PARAM)[0]
    return rd.salt, rd.iterations


def digest(zone, name):
    salt, iterations = params(zone)
    return dns.dnssec.nsec3_hash(N(name), salt, iterations, 1)


def ask(zone, qname, qtype, do=True):
    r = answer(dns.message.make_query(qname, qtype, want_dnssec=do), ZoneSet({"example.": zone}))
    return dns.message.from_wire(r.to_wire(max_size=65535))


def nsec3s(r):
    return [rr for rr in r.authority if rr.rdtype == T.NSEC3]


def owner_hash(rrset):
    return rrset.name.labels[0].decode().upper()


def next_hash(rrset):
    return base64.b32hexencode(rrset[0].next).decode()


def matching(r, zone, name):
    return [rr for rr in nsec3s(r) if owner_hash(rr) == digest(zone, name)]


def covering(r, zone, name):
    h = digest(zone, name)
    out = []
    for rr in nsec3s(r):
        owner, nxt = owner_hash(rr), next_hash(rr)
        if (owner < h < nxt) if owner < nxt else (h > owner or h < nxt):
            out.append(rr)
    return out


def signed(r, rrset):
    return any(s.rdtype == T.RRSIG and s.covers == T.NSEC3 and s.name == rrset.name for s in r.authority)


def test_nxdomain_closest_encloser_proof(plain):
    r = ask(plain, "nope.example.", "A")
    assert r.rcode() == dns.rcode.NXDOMAIN and r.flags & dns.flags.AA
    ce, nc, wc = matching(r, plain, "example."), covering(r, plain, "nope.example."), covering(r, plain, "*.example.")
    assert ce and nc and wc
    assert len(nsec3s(r)) == len({rr.name for rr in ce + nc + wc}) <= 3  # nothing else, no duplicates
    assert all(signed(r, rr) for rr in nsec3s(r))
    assert any(rr.rdtype == T.SOA for rr in r.authority)


def test_nxdomain_deep_name_uses_deepest_encloser(plain):
    r = ask(plain, "x.y.www.example.", "A")
    assert r.rcode() == dns.rcode.NXDOMAIN
    assert matching(r, plain, "www.example.")
    assert covering(r, plain, "y.www.example.")  # the next closer name, not the query name
    assert covering(r, plain, "*.www.example.")


def test_nodata_matching_nsec3(plain):
    r = ask(plain, "www.example.", "TXT")
    assert r.rcode() == dns.rcode.NOERROR and r.answer == []
    (match,) = nsec3s(r)
    assert owner_hash(match) == digest(plain, "www.example.") and signed(r, match)
    bitmap = match[0].to_text().split()[5:]
    assert "A" in bitmap and "TXT" not in bitmap


def test_empty_non_terminal_has_its_own_nsec3(plain):
    r = ask(plain, "b.example.", "A")
    assert r.rcode() == dns.rcode.NOERROR
    assert matching(r, plain, "b.example.") and len(nsec3s(r)) == 1


def test_wildcard_answer_proves_next_closer_absent(plain):
    r = ask(plain, "x.y.wild.example.", "TXT")
    assert r.rcode() == dns.rcode.NOERROR and r.answer[0].name == N("x.y.wild.example.")
    assert len(nsec3s(r)) == 1 and covering(r, plain, "y.wild.example.")


def test_wildcard_nodata(plain):
    r = ask(plain, "x.wild.example.", "A")
    assert r.rcode() == dns.rcode.NOERROR and r.answer == []
    assert matching(r, plain, "wild.example.")
    assert covering(r, plain, "x.wild.example.")
    assert matching(r, plain, "*.wild.example.")


def test_secure_referral_has_ds(plain):
    r = ask(plain, "www.sub.example.", "A")
    assert not r.flags & dns.flags.AA
    assert {rr.rdtype for rr in r.authority} == {T.NS, T.DS, T.RRSIG}


def test_insecure_referral_matching_nsec3(plain):
    r = ask(plain, "www.insecure.example.", "A")
    assert not r.flags & dns.flags.AA
    (match,) = nsec3s(r)
    assert owner_hash(match) == digest(plain, "insecure.example.")
    bitmap = match[0].to_text().split()[5:]
    assert "NS" in bitmap and "DS" not in bitmap


def test_opt_out_referral_closest_provable_encloser(optout):
    r = ask(optout, "www.insecure.example.", "A")
    assert not r.flags & dns.flags.AA
    assert not matching(r, optout, "insecure.example.")
    assert matching(r, optout, "example.")
    (cover,) = covering(r, optout, "insecure.example.")
    assert cover[0].flags & 1  # the opt-out flag is what lets the resolver accept it
    assert len(nsec3s(r)) == 2


def test_ds_query_at_opt_out_delegation(optout):
    r = ask(optout, "insecure.example.", "DS")
    assert r.flags & dns.flags.AA and r.rcode() == dns.rcode.NOERROR and r.answer == []
    assert matching(r, optout, "example.") and covering(r, optout, "insecure.example.")


def test_ds_nodata_matching_without_opt_out(plain):
    r = ask(plain, "insecure.example.", "DS")
    assert matching(r, plain, "insecure.example.") and len(nsec3s(r)) == 1


def test_do0_has_no_nsec3(plain):
    r = ask(plain, "nope.example.", "A", do=False)
    assert r.rcode() == dns.rcode.NXDOMAIN and not nsec3s(r)


def _with_nsec3param(zone, text):
    zone = copy.deepcopy(zone)
    with zone.writer() as txn:
        txn.delete(N("example."), T.NSEC3PARAM)
        if text:
            txn.add(N("example."), 0, dns.rdata.from_text("IN", "NSEC3PARAM", text))
    return zone


@pytest.mark.parametrize("param", [None, "1 0 5 ffff"], ids=["missing", "wrong"])
def test_parameters_from_nsec3_records_when_nsec3param_missing_or_wrong(plain, param):
    zone = _with_nsec3param(plain, param)
    r = ask(zone, "nope.example.", "A")
    assert matching(r, plain, "example.") and covering(r, plain, "nope.example.")


def test_missing_proof_record_is_not_invented(plain):
    zone = copy.deepcopy(plain)
    apex = N(digest(plain, "example.") + ".example.")
    with zone.writer() as txn:
        txn.delete(apex, T.NSEC3)
    r = ask(zone, "nope.example.", "A")
    assert r.rcode() == dns.rcode.NXDOMAIN
    assert not matching(r, plain, "example.")  # gone from the zone, so gone from the answer
    assert all(zone.get_node(rr.name) is not None for rr in nsec3s(r))
