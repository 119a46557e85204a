"""The DEN and NET faults do what they claim: an independent verifier sees each zone-data fault in its zone and
nowhere else, and the builtin server's answers show each server-behaviour fault on the wire.

Zones come from the conformance scenarios themselves (scenarios/conformance/denial and /transport), built in
process with the same pipeline as a run, so these tests vouch for exactly what the resolvers are given.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import shutil
import struct
import subprocess
from functools import cache
from pathlib import Path

import dns.asyncquery
import dns.dnssec
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone
import pytest

from testbed.auth import AuthConfig, AuthServer, Behaviour, Endpoint, ZoneSet, answer
from testbed.build.topology import plan
from testbed.build.zones import BuildContext, KeyStore
from testbed.clock import LabClock
from testbed.dnssec import nsec3_hash
from testbed.errors import ScenarioError
from testbed.faults import fault_params, registry
from testbed.scenario import load_scenario
from testbed.timeline.build import build_scenario
from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("ldns-verify-zone") is None or shutil.which("dnssec-verify") is None,
                                reason="needs ldnsutils and bind9-utils (ldns-verify-zone, dnssec-verify)")

DENIAL = ROOT / "scenarios" / "conformance" / "denial"
TRANSPORT = ROOT / "scenarios" / "conformance" / "transport"
NETWORK = ROOT / "scenarios" / "conformance" / "network"
N = dns.name.from_text
T = dns.rdatatype
IN = dns.rdataclass.IN
KEYS = KeyStore()          # one set of keys for every build here, as in a run: signing stays fast
CLOCK = LabClock()


@cache
def built(folder: Path, name: str) -> BuildContext:
    scenario = load_scenario(folder / f"{name}.yaml", known_faults=fault_params())
    return build_scenario(scenario, plan(scenario, []), CLOCK, KEYS, 1)


def signed_zones(ctx: BuildContext) -> dict[str, dns.zone.Zone]:
    return {name: build.signed for name, build in ctx.zones.items() if build.signed is not None}


def verify(zone: dns.zone.Zone, tool: str, tmp_path: Path) -> tuple[bool, str]:
    """(passes, what the tool said) for one signed zone."""
    origin = zone.origin.to_text()
    path = tmp_path / f"{origin}zone"
    zone.to_file(str(path), relativize=False, want_origin=True)
    argv = ["ldns-verify-zone", str(path)] if tool == "ldns" else ["dnssec-verify", "-q", "-o", origin, str(path)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    ok = proc.returncode == 0 and (tool != "ldns" or "Zone is verified and complete" in proc.stdout)
    return ok, proc.stdout + proc.stderr


def ask(ctx: BuildContext, server: str, qname: str, qtype: str, *, tcp: bool = False, do: bool = True,
        use_edns: int | bool = 0, payload: int = 1232) -> dns.message.Message | None:
    """What ``server`` of the built scenario sends for one query, behaviour faults included."""
    zones = ZoneSet({zone: ctx.zones[zone].zone() for zone in ctx.topology.servers[server].zones})
    behaviour = Behaviour.from_mapping(ctx.server_behaviour.get(server, {}))
    query = dns.message.make_query(qname, qtype, want_dnssec=do, use_edns=use_edns, payload=payload)
    return answer(query, zones, behaviour, tcp=tcp)


def rrsets(section: list[dns.rrset.RRset], rdtype: dns.rdatatype.RdataType) -> list[dns.rrset.RRset]:
    return [r for r in section if r.rdtype == rdtype]


def owners(section: list[dns.rrset.RRset], rdtype: dns.rdatatype.RdataType) -> set[str]:
    return {r.name.to_text() for r in rrsets(section, rdtype)}


def nsec3_owner(name: str, zone: str, salt: bytes = b"", iterations: int = 0) -> str:
    return f"{nsec3_hash(name, salt, iterations)}.{zone}"


def signatures_verify(zone: dns.zone.Zone, owner: dns.name.Name, rdtype: dns.rdatatype.RdataType) -> bool:
    keys = {zone.origin: zone.get_rdataset(zone.origin, T.DNSKEY)}
    rrset = dns.rrset.RRset(owner, IN, rdtype)
    rrset.update(zone.get_rdataset(owner, rdtype))
    sigs = dns.rrset.RRset(owner, IN, T.RRSIG, rdtype)
    sigs.update(zone.get_rdataset(owner, T.RRSIG, rdtype))
    try:
        dns.dnssec.validate(rrset, sigs, keys)
    except dns.dnssec.ValidationFailure:
        return False
    return True


# ---- zone-data faults: the verifier sees the fault in its zone, every other signed zone verifies -------------------

# scenario -> (verifier, {broken zone: what the verifier says about it})
ZONE_FAULTS: dict[str, tuple[str, dict[str, str]]] = {
    "nxdomain-nsec-missing": ("ldns", {"example.jp.": "there is no NSEC(3) for www.example.jp."}),
    "nodata-nsec-missing": ("ldns", {"example.jp.": "there is no NSEC(3) for www.example.jp."}),
    "nsec-rrsig-missing": ("ldns", {"example.jp.": "the NSEC(3) record of www.example.jp. has no signatures"}),
    "nsec-rrsig-bad": ("ldns", {"example.jp.": "Bogus DNSSEC signature for www.example.jp.\tNSEC"}),
    "nxdomain-no-wildcard-denial": ("ldns", {"example.jp.": "there is no NSEC(3) for example.jp."}),
    "nxdomain-qname-not-covered": ("ldns", {"example.jp.": "there is no NSEC(3) for txt.example.jp."}),
    "wildcard-answer-no-proof": ("ldns", {"example.jp.": "there is no NSEC(3) for *.wild.example.jp."}),
    "wildcard-nodata-no-proof": ("ldns", {"example.jp.": "there is no NSEC(3) for *.wild.example.jp."}),
    "ent-answered-nxdomain": ("ldns", {"example.jp.": "the NSEC record for txt.example.jp. points to the wrong next"}),
    "nodata-bitmap-has-qtype": ("bind", {"example.jp.": "Bad NSEC record for www.example.jp, bit map mismatch"}),
    "nodata-hiding-cname": ("bind", {"example.jp.": "Bad NSEC record for alias.example.jp, bit map mismatch"}),
    "nsec-ancestor-overreach": ("bind", {"jp.": "Bad NSEC record for example.jp, bit map mismatch"}),
    "nsec3-missing": ("ldns", {"example.jp.": "there is no NSEC(3) for www.example.jp."}),
    "nsec3-rrsig-missing": ("ldns", {"example.jp.": "has no signatures"}),
    "nsec3-rrsig-bad": ("ldns", {"example.jp.": "Bogus DNSSEC signature for"}),
    "nsec3-iter-over-limit-bad-sig": ("ldns", {"example.jp.": "Bogus DNSSEC signature for"}),
    "nsec3-owner-hash-wrong": ("ldns", {"example.jp.": "there is no NSEC(3) for *.wild.example.jp."}),
    "nsec3-next-hash-wrong": ("ldns", {"example.jp.": "points to the wrong next hashed owner name"}),
    "nsec3-no-closest-encloser": ("ldns", {"example.jp.": "there is no NSEC(3) for example.jp."}),
    "nsec3-no-next-closer": ("ldns", {"example.jp.": "there is no NSEC(3) for *.wild.example.jp."}),
    "nsec3-no-wildcard-cover": ("ldns", {"example.jp.": "there is no NSEC(3) for txt.example.jp."}),
    "nsec3-no-ds-without-optout": ("ldns", {"jp.": "there is no NSEC(3) for insecure.jp."}),
    "nsec3param-missing": ("bind", {"example.jp.": "No valid NSEC/NSEC3 chain",
                                    "example.co.jp.": "Missing NSEC3 record for example.co.jp"}),
    # the base faults with parameters no catalog case uses: another zone, the other kind of chain, another proof
    "nodata-nsec3-chain-removed": ("ldns", {"example.co.jp.": "there is no NSEC(3) for www.example.co.jp."}),
    # the NSEC3 covering foo.wild.example.jp. is the one matching www.example.jp.
    "wildcard-answer-nsec3-no-next-closer": ("ldns", {"example.jp.": "there is no NSEC(3) for www.example.jp."}),
    "insecure-delegation-nsec-rrsig-bad": ("ldns", {"jp.": "Bogus DNSSEC signature for insecure.jp.\tNSEC"}),
    "insecure-delegation-nsec3-rrsig-missing": ("ldns", {"jp.": "the NSEC(3) record of insecure.jp. has no "
                                                                "signatures"}),
    "nodata-nsec3-bitmap-has-qtype": ("bind", {"example.co.jp.": "Bad NSEC3 record for www.example.co.jp, bit map "
                                                                 "mismatch"}),
}
# Valid zones with a different signing policy, and the no-fault controls: every signed zone verifies.
CLEAN = ["nsec3-iter-0", "nsec3-iter-51-150", "nsec3-iter-over-limit", "nsec3-salt-nonempty", "nsec3-optout-nxdomain",
         "nsec3-optout-unsigned-delegation", "nsec3-optout-ds-query", "nsec3-bad-flags", "secure-ent-nodata-nsec",
         "secure-no-ds-nsec3", "secure-wildcard-nsec3", "nsec3-iter-limits-50-51-150-151", "nsec3-optout-nodata-secure"]
CLEAN_TRANSPORT = ["secure-baseline-transport", "secure-rsa2048-udp", "rsa4096-double-ksk-large-keyset"]
# BIND's tools refuse more than 150 iterations as policy (RFC 5155 10.3 allows up to 2500): that refusal, and
# nothing else, is what dnssec-verify may say about these zones
BIND_REFUSES = {("nsec3-iter-over-limit", "example.jp."): "verifynsec3: NSEC3 iterations out of range",
                ("nsec3-iter-limits-50-51-150-151", "example.co.jp."): "verifynsec3: NSEC3 iterations out of range"}


def test_every_denial_scenario_is_checked_here() -> None:
    assert {p.stem for p in DENIAL.glob("*.yaml")} == set(ZONE_FAULTS) | set(CLEAN)


@pytest.mark.parametrize("name", sorted(ZONE_FAULTS))
def test_a_zone_fault_shows_in_its_zone_only(name: str, tmp_path: Path) -> None:
    tool, broken = ZONE_FAULTS[name]
    for origin, zone in signed_zones(built(DENIAL, name)).items():
        ok, said = verify(zone, tool, tmp_path)
        if origin in broken:
            assert not ok and broken[origin] in said, f"{origin}: {said}"
        else:
            assert ok, f"{origin} should verify in {name}: {said}"
            assert verify(zone, "ldns", tmp_path)[0]


@pytest.mark.parametrize(("folder", "name"), [(DENIAL, n) for n in CLEAN] + [(TRANSPORT, n) for n in CLEAN_TRANSPORT])
def test_valid_policies_and_controls_verify_clean(folder: Path, name: str, tmp_path: Path) -> None:
    for origin, zone in signed_zones(built(folder, name)).items():
        for tool in ("ldns", "bind"):
            ok, said = verify(zone, tool, tmp_path)
            if tool == "bind" and (name, origin) in BIND_REFUSES:
                assert not ok and said.strip() == BIND_REFUSES[name, origin]
                continue
            assert ok, f"{name}: {origin} ({tool}): {said}"


# ---- what the verifiers cannot tell, checked on the records -------------------------------------------------------

def nsec3_rdatas(zone: dns.zone.Zone) -> list[tuple[dns.name.Name, object]]:
    return [(owner, rd) for owner, node in zone.nodes.items() for rds in node.rdatasets if rds.rdtype == T.NSEC3
            for rd in rds]


def test_nsec3_bad_flags_sets_an_unknown_flag_on_validly_signed_records() -> None:
    zone = built(DENIAL, "nsec3-bad-flags").zones["example.jp."].signed
    records = nsec3_rdatas(zone)
    assert records and all(rd.flags == 2 for _, rd in records)
    assert all(signatures_verify(zone, owner, T.NSEC3) for owner, _ in records)   # the flags are the only fault


@pytest.mark.parametrize(("name", "zone", "iterations", "salt_len"),
                         [("nsec3-iter-0", "example.jp.", 0, 0), ("nsec3-iter-51-150", "example.jp.", 100, 0),
                          ("nsec3-iter-over-limit", "example.jp.", 200, 0),
                          ("nsec3-salt-nonempty", "example.jp.", 0, 8),
                          ("nsec3-salt-nonempty", "example.co.jp.", 0, 255),
                          ("nsec3-iter-limits-50-51-150-151", "co.jp.", 50, 0),
                          ("nsec3-iter-limits-50-51-150-151", "jp.", 51, 0),
                          ("nsec3-iter-limits-50-51-150-151", "example.jp.", 150, 0),
                          ("nsec3-iter-limits-50-51-150-151", "example.co.jp.", 151, 0)])
def test_nsec3_parameters_are_the_ones_the_scenario_names(name: str, zone: str, iterations: int, salt_len: int) -> None:
    signed = built(DENIAL, name).zones[zone].signed
    param = signed.get_rdataset(zone, T.NSEC3PARAM)[0]
    assert (param.iterations, len(param.salt)) == (iterations, salt_len)
    assert all((rd.iterations, rd.salt) == (param.iterations, param.salt) for _, rd in nsec3_rdatas(signed))


@pytest.mark.parametrize(("name", "zone"), [("nsec3-optout-nxdomain", "example.jp."),
                                            ("nsec3-optout-unsigned-delegation", "jp."),
                                            ("nsec3-optout-ds-query", "jp."),
                                            ("nsec3-optout-nodata-secure", "example.co.jp.")])
def test_opt_out_flags_every_nsec3_and_leaves_unsigned_delegations_out(name: str, zone: str) -> None:
    signed = built(DENIAL, name).zones[zone].signed
    assert all(rd.flags & 1 for _, rd in nsec3_rdatas(signed))
    if zone == "jp.":
        assert signed.get_node(nsec3_owner("insecure.jp.", "jp.")) is None
        assert signed.get_node(nsec3_owner("example.jp.", "jp.")) is not None     # signed delegations stay


def test_opt_out_flag_cleared_keeps_the_chain_signed_but_without_opt_out() -> None:
    jp = built(DENIAL, "nsec3-no-ds-without-optout").zones["jp."].signed
    records = nsec3_rdatas(jp)
    assert all(rd.flags == 0 for _, rd in records)
    assert all(signatures_verify(jp, owner, T.NSEC3) for owner, _ in records)
    assert jp.get_node(nsec3_owner("insecure.jp.", "jp.")) is None


def test_owner_hash_wrong_moves_the_record_one_hash_up_and_leaves_its_rrsig() -> None:
    zone = built(DENIAL, "nsec3-owner-hash-wrong").zones["example.jp."].signed
    old = N(nsec3_owner("*.wild.example.jp.", "example.jp."))       # the NSEC3 covering phantom.example.jp.
    digest = base64.b32hexdecode(old.labels[0].upper())
    moved = (int.from_bytes(digest, "big") + 1).to_bytes(20, "big")
    new = N(base64.b32hexencode(moved).decode().lower() + ".example.jp.")
    assert zone.get_rdataset(old, T.NSEC3) is None and zone.get_rdataset(old, T.RRSIG, T.NSEC3) is not None
    assert zone.get_rdataset(new, T.NSEC3) is not None and zone.get_rdataset(new, T.RRSIG, T.NSEC3) is None


def test_nsec3param_wrong_salt_names_a_salt_no_nsec3_uses() -> None:
    ctx = built(DENIAL, "nsec3param-missing")
    assert ctx.zones["example.jp."].signed.get_rdataset("example.jp.", T.NSEC3PARAM) is None
    co = ctx.zones["example.co.jp."].signed
    param = co.get_rdataset("example.co.jp.", T.NSEC3PARAM)[0]
    assert all(rd.salt != param.salt for _, rd in nsec3_rdatas(co))
    assert signatures_verify(co, N("example.co.jp."), T.NSEC3PARAM)


# ---- denial faults on the wire: what the server sends the resolver ------------------------------------------------

def test_ent_answered_nxdomain_on_the_wire() -> None:
    r = ask(built(DENIAL, "ent-answered-nxdomain"), "child", "wild.example.jp.", "A")
    assert r.rcode() == dns.rcode.NXDOMAIN
    nsec = {x.name.to_text(): x[0] for x in rrsets(r.authority, T.NSEC)}
    assert nsec["txt.example.jp."].next == N("*.wild.example.jp.")    # the next name lies below the qname


def test_ancestor_nsec_denies_names_below_the_cut_on_the_wire() -> None:
    ctx = built(DENIAL, "nsec-ancestor-overreach")
    r = ask(ctx, "jp-a", "www.example.jp.", "A")
    assert r.rcode() == dns.rcode.NXDOMAIN and not rrsets(r.authority, T.NS)
    (nsec,) = [x for x in rrsets(r.authority, T.NSEC) if x.name == N("example.jp.")]
    bitmap = {t for window, bits in nsec[0].windows for t in _types(window, bits)}
    assert T.NS in bitmap and T.DS in bitmap and T.SOA not in bitmap


def _types(window: int, bits: bytes) -> list[int]:
    return [window * 256 + i * 8 + j for i, byte in enumerate(bits) for j in range(8) if byte & (0x80 >> j)]


@pytest.mark.parametrize(("name", "qname", "qtype", "rdtype"), [
    ("nodata-bitmap-has-qtype", "www.example.jp.", "A", T.A),
    ("nodata-hiding-cname", "alias.example.jp.", "A", T.CNAME),
])
def test_nodata_proof_lists_the_missing_type_on_the_wire(name: str, qname: str, qtype: str, rdtype: int) -> None:
    r = ask(built(DENIAL, name), "child", qname, qtype)
    assert r.rcode() == dns.rcode.NOERROR and not r.answer
    (nsec,) = [x for x in rrsets(r.authority, T.NSEC) if x.name == N(qname)]
    assert rdtype in {t for window, bits in nsec[0].windows for t in _types(window, bits)}


# scenario, query, the proof record the fault removed (absent from the answer), rcode
REMOVED = [
    ("nxdomain-no-wildcard-denial", "nosuchname.example.jp.", "example.jp.", dns.rcode.NXDOMAIN),
    ("nxdomain-qname-not-covered", "unknown.example.jp.", "txt.example.jp.", dns.rcode.NXDOMAIN),
    ("wildcard-answer-no-proof", "foo.wild.example.jp.", "*.wild.example.jp.", dns.rcode.NOERROR),
    ("nsec3-no-closest-encloser", "phantom.example.jp.", nsec3_owner("example.jp.", "example.jp."), dns.rcode.NXDOMAIN),
    ("nsec3-no-next-closer", "phantom.example.jp.", nsec3_owner("*.wild.example.jp.", "example.jp."),
     dns.rcode.NXDOMAIN),
    ("nsec3-no-wildcard-cover", "phantom.example.jp.", nsec3_owner("txt.example.jp.", "example.jp."),
     dns.rcode.NXDOMAIN),
    ("wildcard-answer-nsec3-no-next-closer", "foo.wild.example.jp.", nsec3_owner("www.example.jp.", "example.jp."),
     dns.rcode.NOERROR),
]


@pytest.mark.parametrize(("name", "qname", "removed", "rcode"), REMOVED)
def test_a_removed_proof_record_is_missing_from_the_answer(name: str, qname: str, removed: str, rcode: int) -> None:
    ctx = built(DENIAL, name)
    r = ask(ctx, "child", qname, "A")
    assert r.rcode() == rcode
    sent = owners(r.authority, T.NSEC) | owners(r.authority, T.NSEC3)
    assert sent and removed not in sent
    # and the intact zone of the same shape would have sent it
    intact = ask(built(DENIAL, "secure-wildcard-nsec3" if "nsec3" in name else "secure-ent-nodata-nsec"),
                 "child", qname, "A")
    assert removed in owners(intact.authority, T.NSEC) | owners(intact.authority, T.NSEC3)


def test_denial_chain_removed_leaves_negative_answers_without_proof() -> None:
    for name in ("nxdomain-nsec-missing", "nsec3-missing"):
        r = ask(built(DENIAL, name), "child", "phantom.example.jp.", "A")
        assert r.rcode() == dns.rcode.NXDOMAIN
        assert owners(r.authority, T.SOA) == {"example.jp."}
        assert not rrsets(r.authority, T.NSEC) and not rrsets(r.authority, T.NSEC3)


def test_nsec3_chain_removed_leaves_nodata_without_proof() -> None:
    r = ask(built(DENIAL, "nodata-nsec3-chain-removed"), "child", "www.example.co.jp.", "TXT")
    assert r.rcode() == dns.rcode.NOERROR and not r.answer
    assert owners(r.authority, T.SOA) == {"example.co.jp."} and not rrsets(r.authority, T.NSEC3)


def test_nsec3_nodata_proof_lists_the_removed_type_on_the_wire() -> None:
    ctx = built(DENIAL, "nodata-nsec3-bitmap-has-qtype")
    r = ask(ctx, "child", "www.example.co.jp.", "AAAA")
    assert r.rcode() == dns.rcode.NOERROR and not r.answer
    (nsec3,) = [x for x in rrsets(r.authority, T.NSEC3)
                if x.name == N(nsec3_owner("www.example.co.jp.", "example.co.jp."))]
    assert T.AAAA in {t for window, bits in nsec3[0].windows for t in _types(window, bits)}
    assert ctx.zones["example.co.jp."].signed.get_rdataset("www.example.co.jp.", T.AAAA) is None


def test_rrsigs_over_jp_denial_records_are_broken_and_nothing_else() -> None:
    bad = built(DENIAL, "insecure-delegation-nsec-rrsig-bad").zones["jp."].signed
    assert not signatures_verify(bad, N("insecure.jp."), T.NSEC)
    assert signatures_verify(bad, N("example.jp."), T.DS)          # the signed delegation keeps a valid DS
    bare = built(DENIAL, "insecure-delegation-nsec3-rrsig-missing").zones["jp."].signed
    assert all(bare.get_rdataset(owner, T.RRSIG, T.NSEC3) is None for owner, _ in nsec3_rdatas(bare))
    assert nsec3_rdatas(bare) and signatures_verify(bare, N("example.jp."), T.DS)


# ---- server-behaviour faults on the wire ---------------------------------------------------------------------------

def test_truncating_server_sends_empty_tc_over_udp_and_the_answer_over_tcp() -> None:
    ctx = built(TRANSPORT, "tc-then-tcp-ok")
    udp = ask(ctx, "child", "www.example.jp.", "A")
    assert udp.flags & dns.flags.TC and not udp.answer
    tcp = ask(ctx, "child", "www.example.jp.", "A", tcp=True)
    assert not tcp.flags & dns.flags.TC and rrsets(tcp.answer, T.A) and rrsets(tcp.answer, T.RRSIG)
    assert ask(ctx, "jp-a", "jp.", "SOA").answer     # other servers behave


def test_truncating_server_with_tcp_refused_gives_nothing_over_either() -> None:
    ctx = built(TRANSPORT, "tc-tcp-blocked")
    behaviour = Behaviour.from_mapping(ctx.server_behaviour["child"])
    zones = ZoneSet({z: ctx.zones[z].zone() for z in ctx.topology.servers["child"].zones})
    query = dns.message.make_query("www.example.jp.", "A", want_dnssec=True)

    async def main() -> None:
        async with AuthServer(AuthConfig((Endpoint("127.0.0.1", 0, zones, behaviour),))) as server:
            address, port = server.addresses[0]
            udp = await dns.asyncquery.udp(query, address, port=port, timeout=2)
            assert udp.flags & dns.flags.TC and not udp.answer
            reader, writer = await asyncio.open_connection(address, port)
            wire = query.to_wire()
            writer.write(struct.pack("!H", len(wire)) + wire)
            with contextlib.suppress(ConnectionResetError):     # closed, or reset while our query was unread
                assert await asyncio.wait_for(reader.read(), 2) == b""
            writer.close()

    asyncio.run(main())


def test_edns_intolerant_server_answers_formerr_to_edns_and_plain_dns_without_rrsigs() -> None:
    ctx = built(TRANSPORT, "edns-formerr")
    r = ask(ctx, "child", "www.example.jp.", "A")
    assert r.rcode() == dns.rcode.FORMERR and r.edns < 0 and not r.answer
    plain = ask(ctx, "child", "www.example.jp.", "A", do=False, use_edns=False)
    assert plain.rcode() == dns.rcode.NOERROR and rrsets(plain.answer, T.A) and not rrsets(plain.answer, T.RRSIG)


@pytest.mark.parametrize(("name", "server", "bad"), [("do-ignored-rrsig-stripped", "child", True),
                                                     ("one-ns-bogus-one-good", "jp-a", True),
                                                     ("one-ns-bogus-one-good", "jp-b", False)])
def test_rrsig_stripping_server_ignores_do(name: str, server: str, bad: bool) -> None:
    ctx = built(TRANSPORT, name)
    qname, qtype = ("www.example.jp.", "A") if server == "child" else ("example.jp.", "DS")
    r = ask(ctx, server, qname, qtype)
    assert r.answer and any(x.rdtype != T.RRSIG for x in r.answer)
    assert bool(rrsets(r.answer, T.RRSIG)) is not bad


def test_one_root_server_strips_rrsigs_and_the_other_does_not() -> None:
    ctx = built(TRANSPORT, "root-server-strips-rrsigs")
    for server, bad in (("root-a", True), ("root-b", False)):
        for qname, qtype, section in ((".", "DNSKEY", "answer"), ("www.example.jp.", "A", "authority")):
            r = ask(ctx, server, qname, qtype)
            records = getattr(r, section)
            assert any(x.rdtype != T.RRSIG for x in records)
            assert bool(rrsets(records, T.RRSIG)) is not bad, (server, qname)


def test_tcp_refused_server_still_answers_over_udp_without_truncation() -> None:
    ctx = built(TRANSPORT, "tcp-refused-udp-enough")
    for server in ("jp-a", "jp-b"):
        assert ctx.server_behaviour[server] == {"tcp_refuse": True}
        r = ask(ctx, server, "www.example.jp.", "A")
        assert not r.flags & dns.flags.TC and rrsets(r.authority, T.DS) and len(r.to_wire()) <= 1232
    assert "child" not in ctx.server_behaviour


def test_servfail_on_dnskey_leaves_other_types_alone() -> None:
    ctx = built(TRANSPORT, "auth-servfail-on-dnskey")
    for zone in ("example.jp.", "example.co.jp."):
        keys = ask(ctx, "child", zone, "DNSKEY")
        assert keys.rcode() == dns.rcode.SERVFAIL and not keys.answer
    www = ask(ctx, "child", "www.example.jp.", "A")
    assert www.rcode() == dns.rcode.NOERROR and rrsets(www.answer, T.A) and rrsets(www.answer, T.RRSIG)
    assert ask(ctx, "child", "example.jp.", "SOA").answer


def test_silent_server_answers_nothing_over_udp_or_tcp() -> None:
    ctx = built(TRANSPORT, "all-auth-timeout")
    assert ask(ctx, "child", "www.example.jp.", "A") is None
    assert ask(ctx, "child", "www.example.jp.", "A", tcp=True) is None


def test_servfail_on_ds_leaves_referrals_and_other_types_alone() -> None:
    ctx = built(TRANSPORT, "auth-servfail-on-ds")
    for server in ("jp-a", "jp-b"):
        ds = ask(ctx, server, "example.jp.", "DS")
        assert ds.rcode() == dns.rcode.SERVFAIL and not ds.answer
        referral = ask(ctx, server, "www.example.jp.", "A")
        assert referral.rcode() == dns.rcode.NOERROR and rrsets(referral.authority, T.DS)
        assert ask(ctx, server, "jp.", "SOA").answer


def test_ent_nxdomain_server_denies_the_empty_non_terminal_but_answers_below_it() -> None:
    ctx = built(TRANSPORT, "qname-min-ent-nxdomain")
    assert ask(ctx, "child", "ent.insecure.jp.", "A").rcode() == dns.rcode.NXDOMAIN
    below = ask(ctx, "child", "deep.ent.insecure.jp.", "A")
    assert below.rcode() == dns.rcode.NOERROR and rrsets(below.answer, T.A)
    # the switch is off elsewhere: the same ENT from a well-behaved build is NODATA
    control = ask(built(TRANSPORT, "secure-baseline-transport"), "child", "wild.example.jp.", "A")
    assert control.rcode() == dns.rcode.NOERROR


def test_large_keyset_needs_tcp_and_both_ksks_are_in_the_parent_ds() -> None:
    ctx = built(TRANSPORT, "rsa4096-double-ksk-large-keyset")
    udp = ask(ctx, "child", "example.jp.", "DNSKEY")
    assert udp.flags & dns.flags.TC
    tcp = ask(ctx, "child", "example.jp.", "DNSKEY", tcp=True)
    (keys,) = rrsets(tcp.answer, T.DNSKEY)
    ksks = [k for k in keys if k.flags == 257]
    assert len(ksks) == 2 and all(len(k.key) > 500 for k in ksks)          # RSA-4096: a 512-byte modulus
    assert len(tcp.to_wire()) > 1232
    ds = ctx.zones["jp."].signed.get_rdataset("example.jp.", T.DS)
    assert {d.key_tag for d in ds} == {dns.dnssec.key_id(k) for k in ksks}


def test_udp_size_cap_is_a_network_setting_above_the_dnskey_answer() -> None:
    ctx = built(TRANSPORT, "big-udp-fragment-drop")
    assert ctx.network == {"child": {"udp_max": 512}} and not ctx.server_behaviour
    dnskey = ask(ctx, "child", "example.jp.", "DNSKEY")
    assert not dnskey.flags & dns.flags.TC and len(dnskey.to_wire()) > 512      # it is sent, and lost on the way


def test_packet_loss_is_a_network_setting_of_both_jp_servers() -> None:
    ctx = built(NETWORK, "jp-packet-loss-30")
    assert ctx.network == {"jp-a": {"loss_pct": 30.0}, "jp-b": {"loss_pct": 30.0}} and not ctx.server_behaviour


# DEN-25 is the baseline (no fault: nsec3-iter-0 is its scenario). DEN-30 and DEN-32 are not built: the server
# finds proofs by hashing names with the zone's one NSEC3 chain, so it cannot pick records of an unknown hash
# algorithm or of a second parameter set without inventing them.
NOT_A_FAULT = {"DEN-25", "DEN-30", "DEN-32"}


def test_every_den_and_net_case_is_one_fault_and_one_scenario() -> None:
    faults = registry()
    ids: dict[str, list[str]] = {}
    for fault in faults.values():
        for case in fault.cases:
            ids.setdefault(case, []).append(fault.id)
    wanted = ({f"DEN-{i:02d}" for i in range(1, 34)} - NOT_A_FAULT) | {f"NET-{i:02d}" for i in range(1, 11)}
    assert {c: ids.get(c, []) for c in wanted if len(ids.get(c, [])) != 1} == {}
    assert not NOT_A_FAULT & set(ids)
    used: dict[str, set[str]] = {}     # case -> the scenarios that show it (a fault may act on two zones of one)
    for folder in (DENIAL, TRANSPORT):
        for path in folder.glob("*.yaml"):
            for spec in load_scenario(path, known_faults=fault_params()).faults:
                for case in faults[spec.fault].cases:
                    used.setdefault(case, set()).add(path.stem)
    assert {c: used.get(c, set()) for c in wanted if len(used.get(c, set())) != 1} == {}
    assert all(f.reference.startswith("RFC") for f in faults.values() if f.group in ("denial", "transport"))


def test_a_case_for_one_kind_of_chain_refuses_the_other(tmp_path: Path) -> None:
    scenario = tmp_path / "wrong-kind.yaml"
    scenario.write_text("name: wrong-kind\nfaults:\n  - fault: nsec3-missing\n    zone: example.jp.\n"
                        "checks:\n  - query: www.example.jp. A\n    expect: secure\n")
    loaded = load_scenario(scenario, known_faults=fault_params())
    with pytest.raises(ScenarioError, match="breaks NSEC3 proofs, but zone example.jp. is signed with NSEC"):
        build_scenario(loaded, plan(loaded, []), CLOCK, KEYS, 1)
