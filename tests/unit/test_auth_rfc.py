"""The builtin server on the wire, held to the RFC points it once got wrong: NSEC3 owner names (RFC 5155 7.2.8),
truncation (RFC 2181 section 9) and TSIG with an unknown key (RFC 8945 5.2.2). 127.0.0.x only."""

from __future__ import annotations

import asyncio
import base64
import io
import socket
import struct
import time

import dns.dnssec
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.tsig
import dns.tsigkeyring
import pytest

from testbed.auth import AuthConfig, AuthServer, Endpoint, ZoneSet, load_zone_text
from testbed.auth.samples import EXAMPLE
from testbed.dnssec import SignOptions, generate_key, sign_zone

N = dns.name.from_text
T = dns.rdatatype
ORIGIN = N("example.")


@pytest.fixture(scope="module")
def nsec3_zone():
    now = int(time.time())
    keys = [generate_key("example.", 13, "ksk"), generate_key("example.", 13, "zsk")]
    options = SignOptions(inception=now - 3600, expiration=now + 86400, denial="nsec3", nsec3_iterations=1,
                          nsec3_salt=bytes.fromhex("aabb"))
    return sign_zone(load_zone_text(EXAMPLE, "example."), keys, options)


def udp_exchange(zone, wires: list[bytes]) -> list[bytes]:
    """Send each raw query over UDP to a server on 127.0.0.1 serving zone; the raw answers."""
    async def main() -> list[bytes]:
        config = AuthConfig((Endpoint("127.0.0.1", 0, ZoneSet({"example.": zone})),))
        async with AuthServer(config) as server:
            address, port = server.addresses[0]
            loop = asyncio.get_running_loop()
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.setblocking(False)
                await loop.sock_connect(sock, (address, port))
                out = []
                for wire in wires:
                    await loop.sock_sendall(sock, wire)
                    out.append(await asyncio.wait_for(loop.sock_recv(sock, 65535), 5))
                return out
    return asyncio.run(main())


def ask(zone, qname: str, qtype: str, **kw) -> tuple[dns.message.Message, bytes]:
    kw.setdefault("want_dnssec", kw.get("use_edns", True) is not False)
    (wire,) = udp_exchange(zone, [dns.message.make_query(qname, qtype, **kw).to_wire()])
    return dns.message.from_wire(wire), wire


# -- RFC 5155 7.2.8: NSEC3 owner names do not exist -----------------------------------------------------------------


def nsec3_params(zone) -> tuple[bytes, int]:
    rd = zone.find_rdataset(ORIGIN, T.NSEC3PARAM)[0]
    return rd.salt, rd.iterations


def hash_of(zone, name: dns.name.Name) -> bytes:
    salt, iterations = nsec3_params(zone)
    return base64.b32hexdecode(dns.dnssec.nsec3_hash(name, salt, iterations, 1))


def covers(rrset: dns.rrset.RRset, digest: bytes) -> bool:
    owner = base64.b32hexdecode(rrset.name.labels[0].upper())
    nxt = rrset[0].next
    return owner < digest < nxt if owner < nxt else (digest > owner or digest < nxt)


def validate_nxdomain(zone, response: dns.message.Message, qname: dns.name.Name) -> None:
    """An NXDOMAIN proof checked as a validator would (RFC 5155 8.4): every NSEC3 and the SOA signed by the zone's
    DNSKEYs, the closest encloser matched, the next closer name and the wildcard at the encloser covered."""
    dnskeys = {ORIGIN: zone.find_rrset(ORIGIN, T.DNSKEY)}
    now = time.time()
    nsec3 = [rr for rr in response.authority if rr.rdtype == T.NSEC3]
    for rrset in [*nsec3, *(rr for rr in response.authority if rr.rdtype == T.SOA)]:
        sigs = response.find_rrset(response.authority, rrset.name, rrset.rdclass, T.RRSIG, rrset.rdtype)
        dns.dnssec.validate(rrset, sigs, dnskeys, now=now)  # raises ValidationFailure if not
    by_owner = {base64.b32hexdecode(rr.name.labels[0].upper()): rr for rr in nsec3}
    encloser = next(qname.split(i) for i in range(2, len(qname) + 1)
                    if hash_of(zone, qname.split(i)[1]) in by_owner)[1]
    next_closer = dns.name.Name(qname.labels[len(qname) - len(encloser) - 1:])
    assert any(covers(rr, hash_of(zone, next_closer)) for rr in nsec3), "next closer name not covered"
    assert any(covers(rr, hash_of(zone, dns.name.Name((b"*", *encloser.labels)))) for rr in nsec3), \
        "wildcard at the closest encloser not covered"
    assert not any(hash_of(zone, qname) == h for h in by_owner), "the query name itself is matched"


@pytest.mark.parametrize("below", ["", "x.", "a.b."], ids=["owner", "below", "two-below"])
@pytest.mark.parametrize("qtype", ["A", "NSEC3", "ANY"])
def test_nsec3_owner_name_is_nxdomain_with_valid_proof(nsec3_zone, below, qtype):
    owner = next(name for name, node in nsec3_zone.nodes.items() if node.get_rdataset(1, T.NSEC3) is not None)
    qname = N(below + owner.to_text())
    r, _ = ask(nsec3_zone, qname.to_text(), qtype)
    assert r.rcode() == dns.rcode.NXDOMAIN and r.flags & dns.flags.AA
    assert r.answer == []
    validate_nxdomain(nsec3_zone, r, qname)


def test_nsec3_owner_with_data_below_is_an_empty_non_terminal(nsec3_zone):
    """7.2.8 applies only when nothing exists below the owner; otherwise the name is an empty non-terminal."""
    zone = nsec3_zone.__class__(ORIGIN, relativize=False)
    for name, node in nsec3_zone.nodes.items():
        zone.nodes[name] = node
    owner = next(name for name, node in zone.nodes.items() if node.get_rdataset(1, T.NSEC3) is not None)
    with zone.writer() as txn:
        txn.add(N("x." + owner.to_text()), 300, dns.rdata.from_text("IN", "A", "192.0.2.9"))
    r, _ = ask(zone, owner.to_text(), "A")
    assert r.rcode() == dns.rcode.NOERROR and r.answer == []


# -- RFC 2181 section 9: TC only when required data does not fit -----------------------------------------------------

SIBLINGS = 12  # name servers of many.example. inside example. but outside the cut: their addresses are optional
REFERRAL = "".join(f"many.example. 300 IN NS ns-server-{i:02d}.example.\n"
                   f"ns-server-{i:02d}.example. 300 IN A 192.0.2.{i + 100}\n"
                   f"ns-server-{i:02d}.example. 300 IN AAAA 2001:db8::{i + 100}\n"
                   for i in range(SIBLINGS))
GLUED = 8  # name servers of glued.example. below its cut: their glue is required
IN_DOMAIN = "".join(f"glued.example. 300 IN NS ns-server-{i:02d}.glued.example.\n"
                    f"ns-server-{i:02d}.glued.example. 300 IN A 192.0.2.{i + 1}\n"
                    for i in range(GLUED))


@pytest.fixture(scope="module")
def referrals():
    return load_zone_text(EXAMPLE + REFERRAL + IN_DOMAIN, "example.")


def test_referral_too_big_drops_optional_addresses_not_the_ns_set(referrals):
    r, wire = ask(referrals, "www.many.example.", "A", use_edns=False)
    assert len(wire) <= 512
    assert not r.flags & dns.flags.TC  # all required data (the NS RRset) is there
    (ns,) = r.authority
    assert ns.rdtype == T.NS and len(ns) == SIBLINGS
    assert 0 < len(r.additional) < 2 * SIBLINGS  # as many optional addresses as fit, whole RRsets only
    for rrset in r.additional:
        assert len(rrset) == 1 and rrset.name in {rd.target for rd in ns}
    r, _ = ask(referrals, "www.many.example.", "A", use_edns=True, payload=4096, want_dnssec=False)
    assert len(r.additional) == 2 * SIBLINGS  # with room, nothing is dropped


def test_in_domain_glue_that_does_not_fit_sets_tc(referrals):
    r, wire = ask(referrals, "www.glued.example.", "A", use_edns=False)
    ns_wire = io.BytesIO()
    referrals.find_rrset("glued.example.", T.NS).to_wire(ns_wire)
    assert len(ns_wire.getvalue()) < 512 - 50  # the NS RRset alone would fit: the glue is what does not
    assert r.flags & dns.flags.TC and len(wire) <= 512  # the child is unreachable without its glue (RFC 9471)
    r, _ = ask(referrals, "www.glued.example.", "A", use_edns=True, payload=1232, want_dnssec=False)
    assert not r.flags & dns.flags.TC and len(r.additional) == GLUED


def test_answer_that_does_not_fit_sets_tc_with_the_question(referrals):
    r, wire = ask(referrals, "big.example.", "TXT", use_edns=False)
    assert r.flags & dns.flags.TC and r.answer == [] and len(r.question) == 1 and len(wire) <= 512


# -- RFC 8945 5.2.2: TSIG with a key the server does not know ---------------------------------------------------------


@pytest.mark.parametrize("edns", [False, True])
def test_tsig_unknown_key_gets_badkey_with_question_and_tsig(nsec3_zone, edns):
    keyring = dns.tsigkeyring.from_text({"nobody.example.": base64.b64encode(b"k" * 32).decode()})
    query = dns.message.make_query("www.example.", "A", use_edns=edns)
    query.use_tsig(keyring, keyname="nobody.example.", algorithm=dns.tsig.HMAC_SHA256)
    sent = query.to_wire()
    (wire,) = udp_exchange(nsec3_zone, [sent])
    assert len(wire) > 12
    r = dns.message.from_wire(wire, keyring=False)
    assert r.id == query.id and r.flags & dns.flags.QR
    assert r.rcode() == dns.rcode.NOTAUTH
    assert r.question[0].name == N("www.example.") and r.question[0].rdtype == T.A
    assert r.answer == [] and r.authority == []
    assert (r.edns == 0) == edns
    tsig = r.tsig[0]
    assert r.tsig.name == N("nobody.example.") and tsig.algorithm == dns.tsig.HMAC_SHA256
    assert tsig.error == dns.rcode.BADKEY and tsig.mac == b""  # unsigned (RFC 8945 5.3.2)
    assert tsig.original_id == query.id and tsig.time_signed == query.tsig[0].time_signed
    assert struct.unpack_from("!H", wire, 10)[0] == (2 if edns else 1)  # OPT, then TSIG last (RFC 8945 5.1)
