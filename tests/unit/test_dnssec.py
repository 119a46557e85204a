"""The signer: every RRSIG validates, the right RRsets (and only those) are signed, the NSEC/NSEC3 chains close and
cover exactly the right names, and ldns-verify-zone and BIND's dnssec-verify accept what we write."""

from __future__ import annotations

import base64
import shutil
import subprocess
import time
from pathlib import Path

import dns.dnssec
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone
import pytest

from testbed.dnssec import Key, SignOptions, generate_key, nsec3_hash, sign_rrset, sign_zone
from testbed.dnssec.engine import SigningError

ORIGIN = dns.name.from_text("example.jp.")
NOW = int(time.time())
INCEPTION, EXPIRATION = NOW - 3600, NOW + 7 * 86400

# A small zone with every case the signer must get right. SOA TTL 3600, minimum 300: NSEC(3) TTL is 300.
ZONE_TEXT = """\
$ORIGIN example.jp.
$TTL 3600
@        IN SOA ns1 hostmaster 2024010100 7200 3600 1209600 300
@        IN NS ns1
@        IN NS ns2.example.net.
@        IN MX 10 mail
ns1      IN A 192.0.2.1
mail     IN A 192.0.2.25
www      600 IN A 192.0.2.80
www      600 IN A 192.0.2.81
www      IN AAAA 2001:db8::80
alias    IN CNAME www
MiXeD    IN TXT "mixed case owner"
*.wild   IN TXT "wildcard; with a semicolon"
a.b.ent  IN A 192.0.2.5
secure   IN NS ns.secure
secure   IN DS 12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
ns.secure IN A 192.0.2.53
insecure IN NS ns.insecure
insecure IN NS ns1
ns.insecure IN A 192.0.2.54
deep.glue.insecure IN A 192.0.2.55
child.optout-ent IN NS ns.example.net.
"""

APEX = "example.jp."
SECURE, INSECURE, OPTOUT_CHILD = "secure.example.jp.", "insecure.example.jp.", "child.optout-ent.example.jp."
OCCLUDED = {"ns.secure.example.jp.", "ns.insecure.example.jp.", "deep.glue.insecure.example.jp."}
ORDINARY = {"ns1.example.jp.", "mail.example.jp.", "www.example.jp.", "alias.example.jp.", "mixed.example.jp.",
            "*.wild.example.jp.", "a.b.ent.example.jp."}
ENTS = {"b.ent.example.jp.", "ent.example.jp.", "wild.example.jp.", "optout-ent.example.jp."}
NSEC_OWNERS = {APEX, SECURE, INSECURE, OPTOUT_CHILD} | ORDINARY

ALGORITHMS = [8, 13, 15, 14, 16]
DENIALS = {"nsec": {}, "nsec3": {"denial": "nsec3"},
           "nsec3-optout": {"denial": "nsec3", "nsec3_opt_out": True, "nsec3_iterations": 3,
                            "nsec3_salt": bytes.fromhex("aabbccdd")}}


def n(text: str) -> dns.name.Name:
    return dns.name.from_text(text)


@pytest.fixture(scope="module")
def keyring() -> dict[int, tuple[Key, Key]]:
    return {alg: (generate_key(ORIGIN, alg, "ksk"), generate_key(ORIGIN, alg, "zsk")) for alg in ALGORITHMS}


@pytest.fixture(scope="module")
def unsigned() -> dns.zone.Zone:
    return dns.zone.from_text(ZONE_TEXT, ORIGIN, relativize=True)


def options(denial: str, **extra: object) -> SignOptions:
    return SignOptions(inception=INCEPTION, expiration=EXPIRATION, **{**DENIALS[denial], **extra})


def rrsets(zone: dns.zone.Zone) -> dict[tuple[str, int], dns.rdataset.Rdataset]:
    """(owner text lowercase, type) -> rdataset; RRSIG keyed by (owner, RRSIG, covered)."""
    out = {}
    for name, node in zone.nodes.items():
        owner = name.derelativize(ORIGIN).to_text().lower()
        for rds in node.rdatasets:
            out[(owner, rds.rdtype, rds.covers) if rds.rdtype == dns.rdatatype.RRSIG else (owner, rds.rdtype)] = rds
    return out


def check_signatures(zone: dns.zone.Zone, ksk: Key, zsk: Key) -> int:
    """Every RRSIG validates; exactly the authoritative RRsets are signed, DNSKEY by the KSK, the rest by the ZSK."""
    data = rrsets(zone)
    keys = {ORIGIN: data[(APEX, dns.rdatatype.DNSKEY)]}
    checked = 0
    for key, rdataset in data.items():
        if len(key) == 3:
            continue
        owner, rdtype = key
        sig = data.get((owner, dns.rdatatype.RRSIG, rdtype))
        below_cut = owner in OCCLUDED
        at_cut = owner in (SECURE, INSECURE, OPTOUT_CHILD)
        should_sign = not below_cut and not (at_cut and rdtype == dns.rdatatype.NS)
        assert (sig is not None) == should_sign, (owner, dns.rdatatype.to_text(rdtype))
        if sig is None:
            continue
        signer_tags = {rrsig.key_tag for rrsig in sig}
        expected = ksk if rdtype == dns.rdatatype.DNSKEY else zsk
        assert signer_tags == {expected.key_tag}, (owner, rdtype)
        for rrsig in sig:
            assert rrsig.original_ttl == rdataset.ttl
            assert rrsig.signer == ORIGIN
            assert sig.ttl == rdataset.ttl
        dns.dnssec.validate((n(owner), rdataset), (n(owner), sig), keys, now=NOW)
        checked += 1
    for key in data:
        if len(key) == 3:
            assert (key[0], key[2]) in data, f"RRSIG without its RRset: {key}"
    return checked


def check_nsec_chain(zone: dns.zone.Zone) -> None:
    data = rrsets(zone)
    nsecs = {owner: rds for (owner, *rest), rds in data.items() if rest == [dns.rdatatype.NSEC]}
    assert set(nsecs) == NSEC_OWNERS
    ordered = sorted(n(owner) for owner in nsecs)       # dnspython orders names canonically
    for index, name in enumerate(ordered):
        rdataset = nsecs[name.to_text()]
        assert rdataset.ttl == 300
        (nsec,) = rdataset
        assert nsec.next == ordered[(index + 1) % len(ordered)]
    types = {owner: {dns.rdatatype.to_text(t) for t in nsec_types(rds)} for owner, rds in nsecs.items()}
    assert types[APEX] == {"SOA", "NS", "MX", "DNSKEY", "RRSIG", "NSEC"}
    assert types[SECURE] == {"NS", "DS", "RRSIG", "NSEC"}
    assert types[INSECURE] == {"NS", "RRSIG", "NSEC"}
    assert types["*.wild.example.jp."] == {"TXT", "RRSIG", "NSEC"}
    assert types["www.example.jp."] == {"A", "AAAA", "RRSIG", "NSEC"}
    assert types["alias.example.jp."] == {"CNAME", "RRSIG", "NSEC"}
    assert not any(rdtype == dns.rdatatype.NSEC3 or rdtype == dns.rdatatype.NSEC3PARAM for _, rdtype, *_ in data)


def nsec_types(rdataset: dns.rdataset.Rdataset) -> set[int]:
    (rdata,) = rdataset
    return {window * 256 + index * 8 + bit for window, bitmap in rdata.windows
            for index, octet in enumerate(bitmap) for bit in range(8) if octet & (0x80 >> bit)}


def check_nsec3_chain(zone: dns.zone.Zone, opts: SignOptions) -> None:
    data = rrsets(zone)
    (param,) = data[(APEX, dns.rdatatype.NSEC3PARAM)]
    assert (param.algorithm, param.flags, param.iterations, param.salt) == (1, 0, opts.nsec3_iterations,
                                                                          opts.nsec3_salt)
    covered = {APEX, SECURE} | ORDINARY | ENTS
    if not opts.nsec3_opt_out:
        covered |= {INSECURE, OPTOUT_CHILD}
    else:
        covered -= {"optout-ent.example.jp."}          # an ENT that leads only to an insecure delegation
    # expected owners from dnspython's own NSEC3 hash, not ours
    expected = {dns.dnssec.nsec3_hash(n(name), opts.nsec3_salt, opts.nsec3_iterations, 1).lower(): name
                for name in covered}
    nsec3s = {owner.split(".")[0]: rds for (owner, *rest), rds in data.items() if rest == [dns.rdatatype.NSEC3]}
    assert set(nsec3s) == set(expected)
    assert not any(rest == [dns.rdatatype.NSEC] for (_, *rest) in data)
    ordered = sorted(nsec3s)
    for index, label in enumerate(ordered):
        rdataset = nsec3s[label]
        assert rdataset.ttl == 300
        (rdata,) = rdataset
        assert rdata.flags == (1 if opts.nsec3_opt_out else 0)
        assert (rdata.iterations, rdata.salt) == (opts.nsec3_iterations, opts.nsec3_salt)
        following = ordered[(index + 1) % len(ordered)]
        assert base64.b32hexencode(rdata.next).decode().lower() == following
    types = {expected[label]: {dns.rdatatype.to_text(t) for t in nsec_types(rds)} for label, rds in nsec3s.items()}
    assert types[APEX] == {"SOA", "NS", "MX", "DNSKEY", "NSEC3PARAM", "RRSIG"}
    assert types[SECURE] == {"NS", "DS", "RRSIG"}
    assert types["www.example.jp."] == {"A", "AAAA", "RRSIG"}
    for ent in ENTS & covered:
        assert types[ent] == set()
    if not opts.nsec3_opt_out:
        assert types[INSECURE] == {"NS"}


def write_zone(zone: dns.zone.Zone, path: Path) -> Path:
    zone.to_file(str(path), relativize=False)
    return path


def ldns_verify(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ldns-verify-zone", "-V", "2", str(path)], capture_output=True, text=True, check=False)


def bind_verify(path: Path, origin: str = APEX) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["dnssec-verify", "-o", origin, str(path)], capture_output=True, text=True, check=False)


CASES = [(alg, denial) for alg in (8, 13, 15) for denial in DENIALS] + [(14, "nsec3"), (16, "nsec"), (14, "nsec"),
                                                                        (16, "nsec3-optout")]


@pytest.mark.parametrize(("algorithm", "denial"), CASES)
def test_sign_zone_validates_and_chains(keyring: dict, unsigned: dns.zone.Zone, tmp_path: Path, algorithm: int,
                                        denial: str) -> None:
    ksk, zsk = keyring[algorithm]
    opts = options(denial)
    signed = sign_zone(unsigned, [ksk, zsk], opts)
    assert not signed.relativize
    assert check_signatures(signed, ksk, zsk) > 10
    if opts.denial == "nsec":
        check_nsec_chain(signed)
    else:
        check_nsec3_chain(signed, opts)
    data = rrsets(signed)
    wild_sig = next(iter(data[("*.wild.example.jp.", dns.rdatatype.RRSIG, dns.rdatatype.TXT)]))
    assert wild_sig.labels == 3                    # the '*' label is not counted
    www_sigs = data[("www.example.jp.", dns.rdatatype.RRSIG, dns.rdatatype.A)]
    assert {sig.original_ttl for sig in www_sigs} == {600}
    assert {rd.to_text() for rd in data[(APEX, dns.rdatatype.DNSKEY)]} == {ksk.dnskey.to_text(), zsk.dnskey.to_text()}
    assert data[(APEX, dns.rdatatype.DNSKEY)].ttl == 3600          # default: the SOA TTL
    path = write_zone(signed, tmp_path / "signed.zone")
    if shutil.which("ldns-verify-zone"):
        result = ldns_verify(path)
        assert result.returncode == 0, result.stdout + result.stderr
    if shutil.which("dnssec-verify"):
        result = bind_verify(path)
        assert result.returncode == 0, result.stdout + result.stderr


def test_verifiers_catch_a_broken_zone(keyring: dict, unsigned: dns.zone.Zone, tmp_path: Path) -> None:
    """The tool checks above mean something: a zone with one RRSIG removed fails both verifiers."""
    if not shutil.which("ldns-verify-zone") or not shutil.which("dnssec-verify"):
        pytest.skip("ldns-verify-zone or dnssec-verify not installed")
    signed = sign_zone(unsigned, list(keyring[13]), options("nsec"))
    signed.delete_rdataset(n("www.example.jp."), dns.rdatatype.RRSIG, dns.rdatatype.A)
    path = write_zone(signed, tmp_path / "broken.zone")
    assert ldns_verify(path).returncode != 0
    assert bind_verify(path).returncode != 0


def test_input_zone_is_left_alone_and_absolute_input_works(keyring: dict, unsigned: dns.zone.Zone) -> None:
    before = unsigned.to_text()
    absolute = dns.zone.from_text(ZONE_TEXT, ORIGIN, relativize=False)
    ksk, zsk = keyring[15]
    one = sign_zone(unsigned, [ksk, zsk], options("nsec"))
    two = sign_zone(absolute, [ksk, zsk], options("nsec"))
    assert unsigned.to_text() == before
    assert one.to_text() == two.to_text()          # Ed25519 is deterministic


def test_csk_and_single_role_keys_sign_everything(unsigned: dns.zone.Zone) -> None:
    csk = generate_key(ORIGIN, 13, "csk")
    data = rrsets(sign_zone(unsigned, [csk], options("nsec3")))
    tags = {sig.key_tag for (_, rdtype, *_), rds in data.items() if rdtype == dns.rdatatype.RRSIG for sig in rds}
    assert tags == {csk.key_tag}
    ksk_only = generate_key(ORIGIN, 13, "ksk")
    check_signatures(sign_zone(unsigned, [ksk_only], options("nsec")), ksk_only, ksk_only)
    zsk_only = generate_key(ORIGIN, 13, "zsk")
    check_signatures(sign_zone(unsigned, [zsk_only], options("nsec")), zsk_only, zsk_only)


def test_negative_ttl_is_min_of_soa_ttl_and_minimum(keyring: dict) -> None:
    zone = dns.zone.from_text(ZONE_TEXT.replace("@        IN SOA", "@ 60 IN SOA"), ORIGIN)
    for denial in ("nsec", "nsec3"):
        signed = sign_zone(zone, list(keyring[13]), options(denial, dnskey_ttl=1234))
        data = rrsets(signed)
        assert {rds.ttl for (_, t, *_), rds in data.items() if t in (dns.rdatatype.NSEC, dns.rdatatype.NSEC3)} == {60}
        assert data[(APEX, dns.rdatatype.DNSKEY)].ttl == 1234


def test_faulty_keys_are_published_and_used_as_told(keyring: dict, unsigned: dns.zone.Zone) -> None:
    ksk, zsk = keyring[13]
    revoked = ksk.with_flags(ksk.flags | 0x0080)
    no_zone_bit = zsk.with_flags(zsk.flags & ~0x0100)
    assert revoked.key_tag != ksk.key_tag and revoked.private is ksk.private
    assert (revoked.flags, revoked.dnskey.flags, no_zone_bit.dnskey.flags) == (385, 385, 0)
    data = rrsets(sign_zone(unsigned, [revoked, no_zone_bit], options("nsec")))
    assert {rd.flags for rd in data[(APEX, dns.rdatatype.DNSKEY)]} == {385, 0}
    assert {s.key_tag for s in data[(APEX, dns.rdatatype.RRSIG, dns.rdatatype.DNSKEY)]} == {revoked.key_tag}
    assert {s.key_tag for s in data[(APEX, dns.rdatatype.RRSIG, dns.rdatatype.SOA)]} == {no_zone_bit.key_tag}


def test_cds_and_cdnskey_are_signed_by_the_ksk(keyring: dict) -> None:
    ksk, zsk = keyring[13]
    extra = f"@ IN CDS {dns.dnssec.make_ds(ORIGIN, ksk.dnskey, 2).to_text()}\n@ IN CDNSKEY {ksk.dnskey.to_text()}\n"
    zone = dns.zone.from_text(ZONE_TEXT + extra, ORIGIN)
    data = rrsets(sign_zone(zone, [ksk, zsk], options("nsec")))
    for rdtype in (dns.rdatatype.CDS, dns.rdatatype.CDNSKEY, dns.rdatatype.DNSKEY):
        assert {s.key_tag for s in data[(APEX, dns.rdatatype.RRSIG, rdtype)]} == {ksk.key_tag}
    assert {s.key_tag for s in data[(APEX, dns.rdatatype.RRSIG, dns.rdatatype.NSEC)]} == {zsk.key_tag}


def test_existing_dnssec_records_are_replaced_and_extra_dnskeys_kept(keyring: dict, unsigned: dns.zone.Zone) -> None:
    ksk, zsk = keyring[13]
    once = sign_zone(unsigned, [ksk, zsk], options("nsec"))
    extra = generate_key(ORIGIN, 13, "zsk")
    once.find_rdataset(ORIGIN, dns.rdatatype.DNSKEY).add(extra.dnskey)
    twice = sign_zone(once, [ksk, zsk], options("nsec3"))
    data = rrsets(twice)
    assert not any(t == dns.rdatatype.NSEC for (_, t, *_) in data)
    assert len(data[(APEX, dns.rdatatype.DNSKEY)]) == 3
    assert len(data[("www.example.jp.", dns.rdatatype.RRSIG, dns.rdatatype.A)]) == 1


def test_signing_errors(keyring: dict, unsigned: dns.zone.Zone) -> None:
    no_soa = dns.zone.from_text("$TTL 300\n@ NS ns1\nns1 A 192.0.2.1\n", ORIGIN, check_origin=False)
    with pytest.raises(SigningError, match="SOA"):
        sign_zone(no_soa, list(keyring[13]), options("nsec"))
    with pytest.raises(SigningError, match="denial"):
        sign_zone(unsigned, list(keyring[13]), SignOptions(INCEPTION, EXPIRATION, denial="nsec5"))
    with pytest.raises(SigningError, match="key"):
        sign_zone(unsigned, [], options("nsec"))
    squatter = dns.zone.from_text(ZONE_TEXT + f"{nsec3_hash(ORIGIN, b'', 0)} IN TXT squat\n", ORIGIN)
    with pytest.raises(SigningError, match="NSEC3 owner"):
        sign_zone(squatter, list(keyring[13]), options("nsec3"))


def test_nsec3_hash_rfc5155_vectors() -> None:
    salt = bytes.fromhex("aabbccdd")
    assert nsec3_hash("example.", salt, 12) == "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom"
    assert nsec3_hash(n("a.example."), salt, 12) == "35mthgpgcu1qg68fab165klnsnk3dpvl"
    assert nsec3_hash("*.w.example.", salt, 12) == "r53bq7cc2uvmubfu5ocmm6pers9tk9en"
    assert nsec3_hash("EXAMPLE.", salt, 12) == nsec3_hash("example.", salt, 12)


def test_sign_rrset_validates_and_rejects_expired(keyring: dict) -> None:
    ksk, zsk = keyring[13]
    dnskeys = dns.rrset.from_rdata(ORIGIN, 3600, ksk.dnskey, zsk.dnskey)
    rrset = dns.rrset.from_text("www.example.jp.", 300, "IN", "A", "192.0.2.1", "192.0.2.2")
    good = sign_rrset(rrset, zsk, INCEPTION, EXPIRATION)
    dns.dnssec.validate(rrset, dns.rrset.from_rdata(rrset.name, 300, good), {ORIGIN: dnskeys}, now=NOW)
    expired = sign_rrset(rrset, zsk, NOW - 7200, NOW - 3600)
    with pytest.raises(dns.dnssec.ValidationFailure):
        dns.dnssec.validate(rrset, dns.rrset.from_rdata(rrset.name, 300, expired), {ORIGIN: dnskeys}, now=NOW)
    with pytest.raises(dns.dnssec.ValidationFailure, match="expired"):
        dns.dnssec.validate_rrsig(rrset, expired, {ORIGIN: dnskeys}, now=NOW)
    # the same RRSIG is cryptographically fine: it validates at a time inside its window
    dns.dnssec.validate_rrsig(rrset, expired, {ORIGIN: dnskeys}, now=NOW - 5000)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_sign_rrset_overrides_are_signed_consistently(keyring: dict, algorithm: int) -> None:
    _, zsk = keyring[algorithm]
    dnskeys = dns.rrset.from_rdata(ORIGIN, 3600, zsk.dnskey)
    # labels=3 on a 4-label owner: a wildcard expansion of *.wild.example.jp. that validates as one
    rrset = dns.rrset.from_text("x.wild.example.jp.", 300, "IN", "TXT", '"hi"')
    sig = sign_rrset(rrset, zsk, INCEPTION, EXPIRATION, labels=3, origin_ttl=900)
    assert (sig.labels, sig.original_ttl, sig.algorithm, sig.key_tag) == (3, 900, algorithm, zsk.key_tag)
    dns.dnssec.validate(rrset, dns.rrset.from_rdata(rrset.name, 300, sig), {ORIGIN: dnskeys}, now=NOW)
    # another signer name: the RRSIG says so, and validates only against keys at that name
    other = n("other.jp.")
    sig = sign_rrset(rrset, zsk, INCEPTION, EXPIRATION, signer=other)
    assert sig.signer == other
    dns.dnssec.validate(rrset, dns.rrset.from_rdata(rrset.name, 300, sig),
                        {other: dns.rrset.from_rdata(other, 3600, zsk.dnskey)}, now=NOW)
    with pytest.raises(dns.dnssec.ValidationFailure):
        dns.dnssec.validate(rrset, dns.rrset.from_rdata(rrset.name, 300, sig), {ORIGIN: dnskeys}, now=NOW)
