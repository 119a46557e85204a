"""Keys: generation, DS, flags, and BIND-format key files that BIND's and ldns's own tools accept."""

from __future__ import annotations

import shutil
import stat
import subprocess
import time
from pathlib import Path

import dns.dnssec
import dns.name
import dns.rdatatype
import dns.zone
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from testbed.dnssec import Key, generate_key, key_to_files, make_ds
from testbed.dnssec.keys import key_from_private

ORIGIN = dns.name.from_text("example.jp.")
ZONE = """\
$TTL 3600
example.jp. IN SOA ns1.example.jp. hostmaster.example.jp. 1 7200 3600 1209600 300
example.jp. IN NS ns1.example.jp.
ns1.example.jp. IN A 192.0.2.1
www.example.jp. IN A 192.0.2.80
"""
PRIVATE_TYPES = {5: rsa.RSAPrivateKey, 7: rsa.RSAPrivateKey, 8: rsa.RSAPrivateKey, 10: rsa.RSAPrivateKey,
                 13: ec.EllipticCurvePrivateKey, 14: ec.EllipticCurvePrivateKey, 15: ed25519.Ed25519PrivateKey,
                 16: ed448.Ed448PrivateKey}


@pytest.fixture(scope="module")
def rsa_pair() -> tuple[Key, Key]:
    return generate_key("example.jp", 8, "ksk"), generate_key("example.jp", 8, "zsk")


@pytest.mark.parametrize("algorithm", [5, 7, 10, 13, 14, 15, 16])
def test_generate_key_shapes(algorithm: int) -> None:
    key = generate_key("example.jp", algorithm, "ksk", rsa_bits=1024)
    assert isinstance(key.private, PRIVATE_TYPES[algorithm])
    assert (key.zone, key.algorithm, key.flags, key.role) == (ORIGIN, algorithm, 257, "ksk")
    assert (key.dnskey.flags, key.dnskey.protocol, key.dnskey.algorithm) == (257, 3, algorithm)
    assert key.key_tag == dns.dnssec.key_id(key.dnskey)
    assert generate_key(ORIGIN, algorithm, "zsk", rsa_bits=1024).flags == 256


def test_generate_key_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="algorithm"):
        generate_key(ORIGIN, 3, "ksk")
    with pytest.raises(ValueError, match="role"):
        generate_key(ORIGIN, 13, "ksk2")


def test_with_flags_and_equality() -> None:
    key = generate_key(ORIGIN, 13, "ksk")
    revoked = key.with_flags(key.flags | 0x80)
    assert (revoked.flags, revoked.dnskey.flags, revoked.role) == (385, 385, "ksk")
    assert revoked.dnskey.key == key.dnskey.key and revoked.private is key.private
    assert revoked.key_tag != key.key_tag
    assert revoked.with_flags(257) == key and hash(revoked.with_flags(257)) == hash(key)
    assert "private" not in repr(key)
    same = key_from_private(ORIGIN, 13, "ksk", key.private)
    assert same == key


@pytest.mark.parametrize("digest", [1, 2, 4])
def test_make_ds_matches_dnspython(digest: int) -> None:
    key = generate_key(ORIGIN, 13, "ksk")
    ds = make_ds(key, digest)
    assert (ds.key_tag, ds.algorithm, ds.digest_type) == (key.key_tag, 13, digest)
    assert len(ds.digest) == {1: 20, 2: 32, 4: 48}[digest]
    assert ds == dns.dnssec.make_ds(ORIGIN, key.dnskey, digest, policy=dns.dnssec.allow_all_policy)


def test_key_files_layout(tmp_path: Path, rsa_pair: tuple[Key, Key]) -> None:
    ksk, _ = rsa_pair
    key_path, private_path = key_to_files(ksk, tmp_path / "keys")
    assert key_path.name == f"Kexample.jp.+008+{ksk.key_tag:05d}.key"
    assert private_path.name == f"Kexample.jp.+008+{ksk.key_tag:05d}.private"
    assert stat.S_IMODE(private_path.stat().st_mode) == 0o600
    lines = private_path.read_text().splitlines()
    assert lines[:2] == ["Private-key-format: v1.3", "Algorithm: 8 (RSASHA256)"]
    assert [line.split(":")[0] for line in lines[2:10]] == ["Modulus", "PublicExponent", "PrivateExponent", "Prime1",
                                                          "Prime2", "Exponent1", "Exponent2", "Coefficient"]
    assert "example.jp. IN DNSKEY 257 3 8 " in key_path.read_text()


needs_dsfromkey = pytest.mark.skipif(not shutil.which("dnssec-dsfromkey"), reason="bind9-utils not installed")
needs_signzone = pytest.mark.skipif(not shutil.which("dnssec-signzone"), reason="bind9-utils not installed")
needs_ldns = pytest.mark.skipif(not shutil.which("ldns-signzone"), reason="ldnsutils not installed")


@needs_dsfromkey
@pytest.mark.parametrize("algorithm", [8, 13, 14, 15, 16])
def test_dsfromkey_agrees_with_make_ds(tmp_path: Path, algorithm: int) -> None:
    key = generate_key(ORIGIN, algorithm, "ksk")
    key_path, _ = key_to_files(key, tmp_path)
    for digest, flag in ((2, "-2"), (4, "-a"), (1, "-1")):
        command = ["dnssec-dsfromkey", flag, *(["SHA-384"] if flag == "-a" else []), str(key_path)]
        result = subprocess.run(command, capture_output=True, text=True, check=True)
        assert result.stdout.split(None, 3)[3].strip().upper() == make_ds(key, digest).to_text().upper()


def validate_signed_file(path: Path, keys: list[Key]) -> int:
    """Every RRSIG in a zone signed by another tool validates against our DNSKEYs."""
    zone = dns.zone.from_file(str(path), ORIGIN, relativize=False)
    now = time.time() + 60          # ldns-signzone's signatures start "now", at signing time
    dnskeys = zone.find_rdataset(ORIGIN, dns.rdatatype.DNSKEY)
    assert {rd.to_text() for rd in dnskeys} >= {key.dnskey.to_text() for key in keys}
    count = 0
    for name, node in zone.nodes.items():
        for rdataset in node.rdatasets:
            if rdataset.rdtype == dns.rdatatype.RRSIG:
                covered = node.find_rdataset(rdataset.rdclass, rdataset.covers)
                dns.dnssec.validate((name, covered), (name, rdataset), {ORIGIN: dnskeys}, now=now)
                count += 1
    return count


@needs_signzone
@pytest.mark.parametrize("algorithm", [8, 13, 15])
def test_dnssec_signzone_signs_with_our_key_files(tmp_path: Path, algorithm: int, rsa_pair: tuple[Key, Key]) -> None:
    keys = list(rsa_pair) if algorithm == 8 else [generate_key(ORIGIN, algorithm, r) for r in ("ksk", "zsk")]
    for key in keys:
        key_to_files(key, tmp_path / "keys")
    (tmp_path / "zone").write_text(ZONE)
    out = tmp_path / "signed"
    result = subprocess.run(["dnssec-signzone", "-S", "-K", str(tmp_path / "keys"), "-d", str(tmp_path), "-o",
                             "example.jp.", "-f", str(out), str(tmp_path / "zone")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr       # includes BIND's own post-sign verification
    assert validate_signed_file(out, keys) >= 6


@needs_ldns
@pytest.mark.parametrize("algorithm", [8, 13, 16])
def test_ldns_signzone_signs_with_our_key_files(tmp_path: Path, algorithm: int, rsa_pair: tuple[Key, Key]) -> None:
    keys = list(rsa_pair) if algorithm == 8 else [generate_key(ORIGIN, algorithm, r) for r in ("ksk", "zsk")]
    stems = [str(key_to_files(key, tmp_path / "keys")[0].with_suffix("")) for key in keys]
    (tmp_path / "zone").write_text(ZONE)
    out = tmp_path / "signed"
    result = subprocess.run(["ldns-signzone", "-f", str(out), str(tmp_path / "zone"), *stems],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert validate_signed_file(out, keys) >= 6


@pytest.mark.skipif(not shutil.which("keymgr"), reason="knot not installed")
def test_keymgr_import_bind_sees_the_keys_published_and_active(tmp_path: Path) -> None:
    """Knot takes a time at the epoch for "unset" (then: no keys for signing), so the files carry real times."""
    for role in ("ksk", "zsk"):
        key = generate_key(ORIGIN, 13, role)
        stem = key_to_files(key, tmp_path / "keys")[0].with_suffix("")
        subprocess.run(["keymgr", "-D", str(tmp_path / "kasp"), ORIGIN.to_text(), "import-bind", str(stem)],
                       check=True, capture_output=True)
    listing = subprocess.run(["keymgr", "-D", str(tmp_path / "kasp"), ORIGIN.to_text(), "list", "-e"],
                             check=True, capture_output=True, text=True).stdout.splitlines()
    assert len(listing) == 2
    for line in listing:
        fields = dict(item.split("=", 1) for item in line.split()[1:] if "=" in item)
        assert int(fields["publish"]) > 0 and int(fields["active"]) > 0, line
