"""The zone-file fast path: our reader, the text writer and the worker pool give the same signed zone as
``sign_zone`` on dnspython's reading of the same file, and the verifiers accept it."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.zone
import pytest

from testbed.dnssec import Key, SignOptions, generate_key, sign_zone, sign_zone_file
from testbed.dnssec import pool as pool_module
from testbed.dnssec import zonefile as zonefile_module
from testbed.dnssec.pool import sign_jobs
from testbed.dnssec.zonefile import _fast_converters
from testbed.errors import TestbedError

ORIGIN = "example.jp."
NOW = int(time.time())
INCEPTION, EXPIRATION = NOW - 3600, NOW + 7 * 86400

# Master-file syntax the reader must handle: comments, parentheses, inherited owners, class before TTL, units,
# quoted strings with ';' and '(', an escaped dot in a label, $ORIGIN changes, lower-case class and type.
ZONE = """\
; a comment line
$ORIGIN example.jp.
$TTL 1h
@   IN  SOA ns1 hostmaster (
        2024010100 ; serial
        7200 3600 1209600
        300 )
    IN NS ns1          ; owner inherited from the line above
    IN NS ns2.example.net.
@ 3600 IN MX 10 mail
ns1 A 192.0.2.1
mail IN 600 A 192.0.2.25
www 600 A 192.0.2.80
www 600 IN A 192.0.2.81
WWW AAAA 2001:db8::80
alias CNAME WWW
txt TXT "a ; not a comment" "and (parens)"
a\\.dot TXT "escaped dot in a label"
*.wild TXT wild
a.b.ent A 192.0.2.5
secure NS ns.secure
secure DS 12345 13 2 01234567 89ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
$ORIGIN secure.example.jp.
ns A 192.0.2.53
$ORIGIN example.jp.
insecure NS ns.insecure
insecure NS ns1.example.jp.
ns.insecure A 192.0.2.54
deep.under.insecure A 192.0.2.55
sub.example.jp. 300 in a 192.0.2.99
"""

DENIALS = {"nsec": {}, "nsec3": {"denial": "nsec3"},
           "nsec3-optout": {"denial": "nsec3", "nsec3_opt_out": True, "nsec3_salt": b"\x01\x02", "nsec3_iterations": 2}}


@pytest.fixture(scope="module")
def keys() -> list[Key]:
    return [generate_key(ORIGIN, 15, "ksk"), generate_key(ORIGIN, 15, "zsk")]   # Ed25519: deterministic


def records(zone: dns.zone.Zone) -> set[tuple[str, int, str, str]]:
    origin = zone.origin
    assert origin is not None
    out = set()
    for name, node in zone.nodes.items():
        owner = name.derelativize(origin).to_text().lower()
        for rdataset in node.rdatasets:
            for rdata in rdataset:
                out.add((owner, rdataset.ttl, dns.rdatatype.to_text(rdataset.rdtype),
                         rdata.to_text(origin=origin, relativize=False)))
    return out


def verify(path: Path, origin: str = ORIGIN) -> None:
    if shutil.which("ldns-verify-zone"):
        result = subprocess.run(["ldns-verify-zone", str(path)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
    if shutil.which("dnssec-verify"):
        result = subprocess.run(["dnssec-verify", "-o", origin, str(path)], capture_output=True, text=True,
                                check=False)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("denial", list(DENIALS))
def test_file_path_equals_zone_path(tmp_path: Path, keys: list[Key], denial: str) -> None:
    source = tmp_path / "example.jp.zone"
    source.write_text(ZONE)
    options = SignOptions(INCEPTION, EXPIRATION, **DENIALS[denial])
    out = tmp_path / "signed.zone"
    stats = sign_zone_file(source, ORIGIN, keys, options, out, workers=1)
    from_file = dns.zone.from_file(str(out), ORIGIN, relativize=False)
    from_objects = sign_zone(dns.zone.from_file(str(source), ORIGIN), keys, options)
    assert records(from_file) == records(from_objects)
    written = records(from_file)
    assert stats.records == len(written)
    assert stats.signatures == sum(1 for record in written if record[2] == "RRSIG")
    assert stats.workers == 1 and stats.seconds > 0
    assert ("a\\.dot.example.jp.", 3600, "TXT", '"escaped dot in a label"') in written
    verify(out)


def test_include_and_generate(tmp_path: Path, keys: list[Key]) -> None:
    (tmp_path / "hosts.inc").write_text("h1 A 192.0.2.11\nh2 A 192.0.2.12\n")
    head = ZONE.split("secure NS")[0]
    source = tmp_path / "inc.zone"
    source.write_text(head + "$INCLUDE hosts.inc sub.example.jp.\nafter A 192.0.2.13\n")
    options = SignOptions(INCEPTION, EXPIRATION)
    out = tmp_path / "inc.signed"
    sign_zone_file(source, ORIGIN, keys, options, out, workers=1)
    written = records(dns.zone.from_file(str(out), ORIGIN, relativize=False))
    assert {("h1.sub.example.jp.", 3600, "A", "192.0.2.11"), ("after.example.jp.", 3600, "A", "192.0.2.13")} <= written
    verify(out)
    # $GENERATE is left to dnspython's reader; the result is the same as signing dnspython's zone
    generated = tmp_path / "gen.zone"
    generated.write_text(head + "$GENERATE 1-3 host$ A 192.0.2.$\n")
    sign_zone_file(generated, ORIGIN, keys, options, out, workers=1)
    expected = sign_zone(dns.zone.from_file(str(generated), ORIGIN), keys, options)
    assert records(dns.zone.from_file(str(out), ORIGIN, relativize=False)) == records(expected)
    verify(out)


@pytest.mark.parametrize(("text", "message"), [
    ("other.jp. 300 A 192.0.2.1\n", "outside the zone"),
    ("www 300 A 192.0.2.1\nwww 300 BOGUS x\n", "unknown record type"),
    ("www 300 IN A (192.0.2.1\n", "unbalanced"),
    ("www 300 CH A 192.0.2.1\n", "class CH"),
    ("$FOO bar\n", "directive"),
])
def test_reader_errors_name_file_and_line(tmp_path: Path, keys: list[Key], text: str, message: str) -> None:
    source = tmp_path / "bad.zone"
    source.write_text("@ 300 IN SOA ns1 h 1 2 3 4 5\n@ 300 NS ns1\n" + text)
    with pytest.raises(TestbedError, match=message) as info:
        sign_zone_file(source, ORIGIN, keys, SignOptions(INCEPTION, EXPIRATION), tmp_path / "out", workers=1)
    assert str(info.value).startswith(f"{source}:") or "record data" in str(info.value)


def test_missing_ttl_and_last_ttl_rule(tmp_path: Path, keys: list[Key]) -> None:
    source = tmp_path / "nottl.zone"
    source.write_text("www A 192.0.2.1\n")
    with pytest.raises(TestbedError, match="no TTL"):
        sign_zone_file(source, ORIGIN, keys, SignOptions(INCEPTION, EXPIRATION), tmp_path / "out", workers=1)
    # without $TTL, a record without TTL takes the last one written (RFC 1035 5.1), as BIND and dnspython do
    source.write_text("@ 300 IN SOA ns1 h 1 2 3 4 5\n@ NS ns1\nwww 60 A 192.0.2.1\nmail A 192.0.2.2\n")
    sign_zone_file(source, ORIGIN, keys, SignOptions(INCEPTION, EXPIRATION), tmp_path / "out", workers=1)
    written = records(dns.zone.from_file(str(tmp_path / "out"), ORIGIN, relativize=False))
    assert {("example.jp.", 300, "NS", "ns1.example.jp."), ("mail.example.jp.", 60, "A", "192.0.2.2")} <= written


def test_bad_signed_rdata_is_reported(tmp_path: Path, keys: list[Key]) -> None:
    source = tmp_path / "bad.zone"
    source.write_text("@ 300 IN SOA ns1 h 1 2 3 4 5\n@ 300 NS ns1\nwww 300 A 192.0.2.300\n")
    with pytest.raises(TestbedError, match="bad A record data '192.0.2.300'"):
        sign_zone_file(source, ORIGIN, keys, SignOptions(INCEPTION, EXPIRATION), tmp_path / "out", workers=1)


@pytest.mark.parametrize(("rdtype", "text"), [
    ("A", "192.0.2.1"), ("AAAA", "2001:db8::1"), ("AAAA", "::ffff:192.0.2.1"),
    ("DS", "12345 13 2 0123456789abcdef0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"),
    ("DS", "1 8 1 01234567 89ABCDEF 0123456789ABCDEF01234567"), ("CDS", "0 0 0 00"),
    ("NS", "ns1"), ("NS", "NS1.Example.NET."), ("NS", "@"), ("CNAME", "*.wild"), ("MX", "10 Mail"),
    ("PTR", "host.example.jp."), ("DNAME", "target.example.net."),
])
def test_fast_converters_match_dnspython(rdtype: str, text: str) -> None:
    origin = dns.name.from_text(ORIGIN)
    converter = _fast_converters(ORIGIN)[dns.rdatatype.from_text(rdtype)]
    expected = dns.rdata.from_text(dns.rdataclass.IN, rdtype, text, origin).to_digestable(origin)
    assert converter(text) == expected


def test_pool_matches_serial_and_survives_a_dead_worker(monkeypatch: pytest.MonkeyPatch, keys: list[Key]) -> None:
    monkeypatch.setattr(pool_module, "MIN_PARALLEL_JOBS", 10)
    monkeypatch.setattr(pool_module, "CHUNK_SIZE", 7)
    specs = [(key.algorithm, key.private) for key in keys]
    jobs = [(index % 2, f"message {index}".encode()) for index in range(300)]
    serial, used = sign_jobs(jobs, specs, workers=1)
    assert used == 1
    assert sign_jobs(jobs, specs, workers=3) == (serial, 3)
    with pool_module.Helpers(specs, 1) as helpers:
        assert sign_jobs(jobs, specs, helpers=helpers) == (serial, 2)
    monkeypatch.setattr(pool_module, "_WORKER_CODE", "import sys; sys.exit(3)")
    assert sign_jobs(jobs, specs, workers=2)[0] == serial


@pytest.mark.parametrize("early", [False, True])
def test_big_zone_with_workers_verifies(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, early: bool) -> None:
    monkeypatch.setattr(pool_module, "MIN_PARALLEL_JOBS", 100)
    monkeypatch.setattr(pool_module, "CHUNK_SIZE", 100)
    if early:
        monkeypatch.setattr(zonefile_module, "EARLY_HELPERS_BYTES", 1000)
    lines = ["$TTL 86400", "@ IN SOA a.dns.jp. h.jp. 1 3600 900 1814400 900", "@ NS a.dns.jp.", "dns NS a.dns.jp.",
             "a.dns A 192.0.2.1"]
    for index in range(1500):
        lines.append(f"d{index} NS ns1.d{index % 10}.jp.")
        if index % 10 == 0:
            lines.append(f"ns1.d{index} A 192.0.2.{index % 250}")
        if index % 7 == 0:
            lines.append(f"d{index} DS {index} 13 2 {index:064x}")
    source = tmp_path / "jp.zone"
    source.write_text("\n".join(lines) + "\n")
    keys = [generate_key("jp.", 13, "ksk"), generate_key("jp.", 13, "zsk")]
    for denial in ("nsec", "nsec3"):
        options = SignOptions(INCEPTION, EXPIRATION, denial=denial, nsec3_opt_out=True)
        out = tmp_path / f"jp.{denial}.signed"
        stats = sign_zone_file(source, "jp.", keys, options, out, workers=2)
        assert stats.workers == 2
        secure = 1500 // 7 + 1
        # NSEC: one per delegation, dns. and the apex, one per DS, SOA/NS/DNSKEY. NSEC3 opt-out: apex and secure
        # delegations only, DS, SOA/NS/DNSKEY/NSEC3PARAM.
        assert stats.signatures == ((1502 + secure + 3) if denial == "nsec" else (secure + 1 + secure + 4))
        verify(out, "jp.")
