"""answer() on NSEC-signed zones: each RFC 1034 / RFC 4035 answer shape, checked on the wire."""

from __future__ import annotations

import time

import dns.dnssec
import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.tsigkeyring
import pytest

from testbed.auth import ZoneSet, answer, answer_wire, load_zone_text
from testbed.auth.samples import EXAMPLE, signed_pair

N = dns.name.from_text
T = dns.rdatatype


@pytest.fixture(scope="module")
def pair():
    return signed_pair(int(time.time()) - 3600)


@pytest.fixture(scope="module")
def parent_only(pair):
    return ZoneSet({"example.": pair[0]})


@pytest.fixture(scope="module")
def both(pair):
    return ZoneSet({"example.": pair[0], "sub.example.": pair[1]})


def ask(zones, qname, qtype, *, do=True, tcp=False, **kw):
    query = dns.message.make_query(qname, qtype, want_dnssec=do, **kw)
    response = answer(query, zones, tcp=tcp)
    assert response is not None
    # Everything must survive the wire: that is what resolvers see.
    return dns.message.from_wire(response.to_wire(max_size=65535))


def find(section, name, rdtype, covers=T.NONE):
    for rrset in section:
        if rrset.name == N(name) and rrset.rdtype == rdtype and rrset.covers == covers:
            return rrset
    return None


def types(section):
    return sorted((str(r.name), T.to_text(r.rdtype), T.to_text(r.covers) if r.covers else "NONE") for r in section)


def keys_of(zone):
    return {zone.origin: zone.find_rdataset(zone.origin, T.DNSKEY)}


def nsec_covers(rrset, name):
    """RFC 4034 canonical order: owner < name < next, or the last NSEC (next = apex) for names after it."""
    owner, nxt, name = rrset.name, rrset[0].next, N(name)
    if owner < nxt:
        return owner < name < nxt
    return name > owner or name < nxt


def test_positive_answer_is_authoritative_and_signed(pair, parent_only):
    r = ask(parent_only, "www.example.", "A")
    assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA
    assert types(r.answer) == [("www.example.", "A", "NONE"), ("www.example.", "RRSIG", "A")]
    dns.dnssec.validate(find(r.answer, "www.example.", T.A), find(r.answer, "www.example.", T.RRSIG, T.A),
                        keys_of(pair[0]))
    assert r.authority == [] and r.additional == []


def test_do0_omits_all_dnssec_records(parent_only):
    for qname, qtype in [("www.example.", "A"), ("nope.example.", "A"), ("www.example.", "TXT"),
                         ("www.sub.example.", "A"), ("x.wild.example.", "TXT")]:
        r = ask(parent_only, qname, qtype, do=False)
        for section in (r.answer, r.authority, r.additional):
            assert all(rr.rdtype not in (T.RRSIG, T.NSEC, T.NSEC3, T.DS) for rr in section), (qname, qtype)
        assert not r.ednsflags & dns.flags.DO


def test_edns_echo(parent_only):
    r = ask(parent_only, "www.example.", "A", do=True)
    assert r.edns == 0 and r.payload == 1232 and r.ednsflags & dns.flags.DO
    q = dns.message.make_query("www.example.", "A", use_edns=False)
    assert answer(q, parent_only).edns == -1


def test_cname_chased_within_zone(parent_only):
    r = ask(parent_only, "alias.example.", "A")
    assert types(r.answer) == [("alias.example.", "CNAME", "NONE"), ("alias.example.", "RRSIG", "CNAME"),
                               ("www.example.", "A", "NONE"), ("www.example.", "RRSIG", "A")]
    assert r.flags & dns.flags.AA


def test_cname_out_of_zone_and_loop(parent_only):
    r = ask(parent_only, "outside.example.", "A")
    assert types(r.answer) == [("outside.example.", "CNAME", "NONE"), ("outside.example.", "RRSIG", "CNAME")]
    r = ask(parent_only, "loop.example.", "A")
    assert [rr.rdtype for rr in r.answer] == [T.CNAME, T.RRSIG]
    r = ask(parent_only, "alias.example.", "CNAME")
    assert [rr.rdtype for rr in r.answer] == [T.CNAME, T.RRSIG]


def test_nxdomain_nsec_proofs(pair, parent_only):
    r = ask(parent_only, "nope.example.", "A")
    assert r.rcode() == dns.rcode.NXDOMAIN and r.flags & dns.flags.AA and r.answer == []
    soa = find(r.authority, "example.", T.SOA)
    dns.dnssec.validate(soa, find(r.authority, "example.", T.RRSIG, T.SOA), keys_of(pair[0]))
    nsecs = [rr for rr in r.authority if rr.rdtype == T.NSEC]
    assert any(nsec_covers(n, "nope.example.") for n in nsecs)
    assert any(nsec_covers(n, "*.example.") for n in nsecs)
    for n in nsecs:
        dns.dnssec.validate(n, find(r.authority, str(n.name), T.RRSIG, T.NSEC), keys_of(pair[0]))


def test_nxdomain_below_existing_name_covers_wildcard_at_closest_encloser(parent_only):
    r = ask(parent_only, "x.y.www.example.", "A")
    assert r.rcode() == dns.rcode.NXDOMAIN
    nsecs = [rr for rr in r.authority if rr.rdtype == T.NSEC]
    assert any(nsec_covers(n, "x.y.www.example.") for n in nsecs)
    assert any(nsec_covers(n, "*.www.example.") for n in nsecs)


def test_nodata_matching_nsec(parent_only):
    r = ask(parent_only, "www.example.", "TXT")
    assert r.rcode() == dns.rcode.NOERROR and r.answer == [] and r.flags & dns.flags.AA
    nsec = find(r.authority, "www.example.", T.NSEC)
    assert nsec is not None and find(r.authority, "www.example.", T.RRSIG, T.NSEC) is not None
    assert "TXT" not in nsec[0].to_text().split()[1:]
    assert find(r.authority, "example.", T.SOA) is not None


def test_empty_non_terminal_is_nodata(parent_only):
    r = ask(parent_only, "b.example.", "A")
    assert r.rcode() == dns.rcode.NOERROR and r.answer == []
    nsecs = [rr for rr in r.authority if rr.rdtype == T.NSEC]
    assert len(nsecs) == 1 and nsec_covers(nsecs[0], "b.example.")


def test_wildcard_expansion(pair, parent_only):
    r = ask(parent_only, "x.wild.example.", "TXT")
    assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA
    txt = find(r.answer, "x.wild.example.", T.TXT)
    sig = find(r.answer, "x.wild.example.", T.RRSIG, T.TXT)
    assert txt is not None and sig[0].labels == 2  # copied as is: it names the wildcard's own labels
    dns.dnssec.validate(txt, sig, keys_of(pair[0]))  # dnspython reconstructs *.wild.example. from labels
    nsecs = [rr for rr in r.authority if rr.rdtype == T.NSEC]
    assert len(nsecs) == 1 and nsec_covers(nsecs[0], "x.wild.example.")


def test_wildcard_cname_is_synthesized_and_chased(parent_only):
    r = ask(parent_only, "foo.wc.example.", "A")
    assert types(r.answer) == [("foo.wc.example.", "CNAME", "NONE"), ("foo.wc.example.", "RRSIG", "CNAME"),
                               ("www.example.", "A", "NONE"), ("www.example.", "RRSIG", "A")]
    assert any(rr.rdtype == T.NSEC and nsec_covers(rr, "foo.wc.example.") for rr in r.authority)


def test_wildcard_nodata(parent_only):
    r = ask(parent_only, "x.wild.example.", "A")
    assert r.rcode() == dns.rcode.NOERROR and r.answer == []
    assert find(r.authority, "*.wild.example.", T.NSEC) is not None  # the wildcard has no A
    assert any(rr.rdtype == T.NSEC and nsec_covers(rr, "x.wild.example.") for rr in r.authority)


def test_secure_referral_with_ds_and_glue(parent_only):
    r = ask(parent_only, "www.sub.example.", "A")
    assert r.rcode() == dns.rcode.NOERROR and not r.flags & dns.flags.AA and r.answer == []
    assert types(r.authority) == [("sub.example.", "DS", "NONE"), ("sub.example.", "NS", "NONE"),
                                  ("sub.example.", "RRSIG", "DS")]
    assert types(r.additional) == [("ns.sub.example.", "A", "NONE")]


def test_insecure_referral_with_nsec_proof(parent_only):
    r = ask(parent_only, "host.insecure.example.", "A")
    assert not r.flags & dns.flags.AA
    assert types(r.authority) == [("insecure.example.", "NS", "NONE"), ("insecure.example.", "NSEC", "NONE"),
                                  ("insecure.example.", "RRSIG", "NSEC")]
    bitmap = find(r.authority, "insecure.example.", T.NSEC)[0].to_text().split()[1:]
    assert "NS" in bitmap and "DS" not in bitmap and "SOA" not in bitmap
    assert find(r.additional, "ns.insecure.example.", T.A) is not None


def test_referral_at_cut_name(parent_only):
    r = ask(parent_only, "sub.example.", "NS")
    assert not r.flags & dns.flags.AA and find(r.authority, "sub.example.", T.NS) is not None


def test_child_zone_answers_its_names(both):
    r = ask(both, "www.sub.example.", "A")
    assert r.flags & dns.flags.AA and find(r.answer, "www.sub.example.", T.A) is not None
    r = ask(both, "sub.example.", "DNSKEY")
    assert find(r.answer, "sub.example.", T.DNSKEY) is not None


def test_ds_at_apex_comes_from_parent(pair, both):
    r = ask(both, "sub.example.", "DS")
    assert r.flags & dns.flags.AA and r.rcode() == dns.rcode.NOERROR
    sig = find(r.answer, "sub.example.", T.RRSIG, T.DS)
    assert sig is not None and sig[0].signer == N("example.")
    dns.dnssec.validate(find(r.answer, "sub.example.", T.DS), sig, keys_of(pair[0]))


def test_ds_at_apex_without_parent_is_child_nodata(pair):
    r = ask(ZoneSet({"sub.example.": pair[1]}), "sub.example.", "DS")
    assert r.rcode() == dns.rcode.NOERROR and r.answer == []
    assert find(r.authority, "sub.example.", T.SOA) is not None
    assert find(r.authority, "sub.example.", T.NSEC) is not None


def test_ds_nodata_at_insecure_cut_in_parent(parent_only):
    r = ask(parent_only, "insecure.example.", "DS")
    assert r.flags & dns.flags.AA and r.answer == []
    assert find(r.authority, "insecure.example.", T.NSEC) is not None


def test_refused_outside_zones_and_other_classes(parent_only):
    r = ask(parent_only, "www.example.net.", "A")
    assert r.rcode() == dns.rcode.REFUSED and not r.flags & dns.flags.AA
    r = ask(parent_only, "www.example.", "A", rdclass="CH")
    assert r.rcode() == dns.rcode.REFUSED


def test_any_returns_the_node(parent_only):
    r = ask(parent_only, "www.example.", "ANY")
    assert {(rr.rdtype, rr.covers) for rr in r.answer} >= {(T.A, T.NONE), (T.AAAA, T.NONE), (T.NSEC, T.NONE),
                                                           (T.RRSIG, T.A)}


def test_truncation_honours_payload_size(parent_only):
    r = ask(parent_only, "big.example.", "TXT", do=False, use_edns=False)
    assert r.flags & dns.flags.TC and r.answer == [] and len(r.question) == 1
    r = ask(parent_only, "big.example.", "TXT", do=True, payload=4096)  # capped at our 1232
    assert r.flags & dns.flags.TC and r.edns == 0
    r = ask(parent_only, "big.example.", "TXT", do=True, tcp=True)
    assert not r.flags & dns.flags.TC and len(find(r.answer, "big.example.", T.TXT)) == 12
    r = ask(parent_only, "www.example.", "A", do=True, payload=100)  # below 512 counts as 512
    assert not r.flags & dns.flags.TC and r.answer


def test_rd_and_cd_copied_and_id_echoed(parent_only):
    q = dns.message.make_query("www.example.", "A", want_dnssec=True)
    q.flags |= dns.flags.CD
    r = answer(q, parent_only)
    assert r.id == q.id and r.flags & dns.flags.CD and r.flags & dns.flags.RD and r.flags & dns.flags.QR


def test_notimp_formerr_badvers_and_responses_ignored(parent_only):
    q = dns.message.make_query("example.", "SOA")
    q.set_opcode(dns.opcode.NOTIFY)
    assert answer(q, parent_only).rcode() == dns.rcode.NOTIMP
    q = dns.message.make_query("example.", "SOA")
    q.question = []
    assert answer(q, parent_only).rcode() == dns.rcode.FORMERR
    q = dns.message.make_query("example.", "SOA", use_edns=1)
    r = answer(q, parent_only)
    assert r.rcode() == dns.rcode.BADVERS and r.edns == 0 and r.answer == []
    q = dns.message.make_query("example.", "SOA")
    q.flags |= dns.flags.QR
    assert answer(q, parent_only) is None
    wire = answer_wire(q.to_wire()[:2] + b"\x01\x00" + b"\x00\x05garbage", parent_only)
    assert wire is not None
    r = dns.message.from_wire(wire)
    assert r.rcode() == dns.rcode.FORMERR and r.id == q.id
    assert answer_wire(b"\x00\x01", parent_only) is None  # not even a header
    q = dns.message.make_query("example.", "AXFR")
    assert answer(q, parent_only, tcp=True).rcode() == dns.rcode.REFUSED


def test_broken_zone_served_as_written():
    text = EXAMPLE + "www.example. 300 IN CNAME elsewhere.example.net.\n"
    text = "\n".join(line for line in text.splitlines() if " SOA " not in line and " NS ns1" not in line)
    zone = load_zone_text(text, "example.")
    zones = ZoneSet({"example.": zone})
    r = ask(zones, "www.example.", "A")  # CNAME beside A: both kept, the A answers
    assert find(r.answer, "www.example.", T.A) is not None and r.answer[0].rdtype == T.A
    r = ask(zones, "www.example.", "MX")  # no MX: the CNAME is followed
    assert find(r.answer, "www.example.", T.CNAME) is not None
    r = ask(zones, "nope.example.", "A")  # no SOA, no NSEC: a bare NXDOMAIN, no crash
    assert r.rcode() == dns.rcode.NXDOMAIN and r.authority == []
    r = ask(zones, "example.", "DNSKEY")
    assert r.rcode() == dns.rcode.NOERROR and r.answer == []


def test_missing_rrsig_and_missing_nsec_are_not_invented(pair):
    import copy
    zone = copy.deepcopy(pair[0])
    with zone.writer() as txn:
        txn.delete(N("www.example."), T.RRSIG, T.A)
        for name in list(txn.iterate_names()):
            if txn.get(name, T.NSEC) and name != N("example."):
                txn.delete(name, T.NSEC)
    zones = ZoneSet({"example.": zone})
    r = ask(zones, "www.example.", "A")
    assert types(r.answer) == [("www.example.", "A", "NONE")]
    r = ask(zones, "nope.example.", "A")
    # Only the apex NSEC is left; it is sent for whatever it is worth and nothing is made up.
    assert [rr.name for rr in r.authority if rr.rdtype == T.NSEC] == [N("example.")]


def test_question_case_echoed_and_owner_compressed_to_it(parent_only):
    q = dns.message.make_query("wWw.ExAmPlE.", "A")
    wire = answer_wire(q.to_wire(), parent_only)
    assert b"\x03wWw\x07ExAmPlE\x00" in wire  # the question exactly as sent (0x20 resolvers check it)
    r = dns.message.from_wire(wire)
    assert r.answer[0].name.to_text() == "wWw.ExAmPlE."  # the owner is a pointer to the question


def test_unusual_queries_take_the_full_parser(parent_only):
    q = dns.message.make_query("www.example.", "A")
    q.question.append(dns.rrset.RRset(N("example."), dns.rdataclass.IN, T.SOA))
    r = dns.message.from_wire(answer_wire(q.to_wire(), parent_only))
    assert r.rcode() == dns.rcode.FORMERR and r.question == []

    q = dns.message.make_query("www.example.", "A")
    q.use_tsig(dns.tsigkeyring.from_text({"k.": "c2VjcmV0c2VjcmV0c2VjcmV0"}), keyname="k.")
    r = dns.message.from_wire(answer_wire(q.to_wire(), parent_only), keyring=False)  # it carries a BADKEY TSIG
    assert r.rcode() == dns.rcode.NOTAUTH
    q = dns.message.make_query("www.example.", "A", use_edns=0, options=[dns.edns.GenericOption(10, b"12345678")])
    r = dns.message.from_wire(answer_wire(q.to_wire(), parent_only))  # a cookie: ignored, answered
    assert r.answer and r.edns == 0


def test_wildcard_cname_chain_through_the_same_wildcard():
    text = EXAMPLE + "*.chain.example. 300 IN CNAME next.chain.example.\n"
    zones = ZoneSet({"example.": load_zone_text(text, "example.")})
    r = ask(zones, "first.chain.example.", "A", do=False)
    assert [str(rr.name) for rr in r.answer] == ["first.chain.example.", "next.chain.example."]
