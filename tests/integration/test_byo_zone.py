"""Bring your own zone and keys: a zone file signed outside the test-bed by dnssec-signzone, with its BIND key files
made by dnssec-keygen at run time (so the signatures are fresh), validates secure on every installed resolver; the
same file with one RRSIG removed by hand is bogus; a forged signature is refused before any lab starts; the same
keys given as a folder sign the zone through our signer.

Cost: three small netns runs (one lab each, about 5 s).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import dns.dnssec
import pytest

from testbed.build.topology import plan
from testbed.build.zones import KeyStore
from testbed.clock import LabClock
from testbed.errors import ScenarioError
from testbed.faults import fault_params
from testbed.resolvers import registry
from testbed.run.runner import build_scenario, run
from testbed.scenario import load_scenario
from tests.conftest import requires_netns

pytestmark = [pytest.mark.integration, requires_netns,
              pytest.mark.skipif(shutil.which("dnssec-signzone") is None, reason="bind9-utils is not installed")]

ZONE = """\
$ORIGIN example.jp.
$TTL 300
@ IN SOA ns1 hostmaster 2026120401 3600 900 604800 300
@ IN NS ns1
ns1 IN A 192.0.2.53
www IN A 192.0.2.80
mail IN A 192.0.2.25
"""

SCENARIO = """\
name: {name}
summary: example.jp. from a zone file{how}
zones:
  example.jp.: {{{zone}}}
checks:
  - query: www.example.jp. A
    expect: {www}
  - query: mail.example.jp. A
    expect: secure
    answer: ["192.0.2.25"]
"""


def sign_outside(folder: Path) -> tuple[Path, Path]:
    """dnssec-keygen a KSK and a ZSK, dnssec-signzone the zone with them: (signed file, key folder)."""
    keys = folder / "keys"
    keys.mkdir()
    (folder / "example.jp.zone").write_text(ZONE)
    for extra in (["-f", "KSK"], []):
        subprocess.run(["dnssec-keygen", "-q", "-a", "ECDSAP256SHA256", *extra, "-K", str(keys), "example.jp."],
                       check=True, capture_output=True, cwd=folder)
    subprocess.run(["dnssec-signzone", "-q", "-K", str(keys), "-S", "-O", "full", "-o", "example.jp.",
                    "-f", "example.jp.zone.signed", "example.jp.zone"], check=True, capture_output=True, cwd=folder)
    return folder / "example.jp.zone.signed", keys


def scenario(folder: Path, name: str, zone: str, www: str, how: str = ""):
    path = folder / f"{name}.yaml"
    path.write_text(SCENARIO.format(name=name, zone=zone, www=www, how=how))
    return load_scenario(path, known_faults=fault_params(), known_resolvers=registry())


def resolvers() -> list[str]:
    return [name for name, cls in registry().items() if cls().available_locally()]


def test_a_zone_signed_by_dnssec_signzone_is_secure_and_bogus_without_one_rrsig(tmp_path: Path) -> None:
    signed, _ = sign_outside(tmp_path)
    text = signed.read_text()
    broken = tmp_path / "broken.signed"
    # by hand: drop the line of the RRSIG over www.example.jp./A, nothing else
    lines = [line for line in text.splitlines(keepends=True)
             if not re.match(r"^www\.example\.jp\.\s+\d+\s+IN\s+RRSIG\s+A\s", line)]
    assert len(lines) == len(text.splitlines()) - 1
    broken.write_text("".join(lines))
    good = scenario(tmp_path, "signed-outside", "file: example.jp.zone.signed", "secure", " signed by dnssec-signzone")
    bad = scenario(tmp_path, "one-rrsig-removed", "file: broken.signed", "bogus", " with one RRSIG removed")
    names = resolvers()
    result = run([good, bad], names, "netns")
    got = {(v.scenario, v.resolver, v.check.qname): (v.status, v.observation.outcome) for v in result.verdicts}
    assert len(got) == 4 * len(names)
    for resolver in names:
        assert got[("signed-outside", resolver, "www.example.jp.")] == ("pass", "secure")
        assert got[("signed-outside", resolver, "mail.example.jp.")] == ("pass", "secure")
        assert got[("one-rrsig-removed", resolver, "www.example.jp.")][1] == "bogus"
        assert got[("one-rrsig-removed", resolver, "mail.example.jp.")] == ("pass", "secure")


def test_a_forged_signature_is_refused_naming_the_rrset(tmp_path: Path) -> None:
    signed, _ = sign_outside(tmp_path)
    forged = tmp_path / "forged.signed"
    out = []
    for line in signed.read_text().splitlines(keepends=True):
        if re.match(r"^mail\.example\.jp\.\s+\d+\s+IN\s+RRSIG\s+A\s", line):
            fields = line.rstrip("\n").split()
            fields[-1] = ("B" if fields[-1][0] != "B" else "C") + fields[-1][1:]   # one base64 digit changed
            line = " ".join(fields) + "\n"
        out.append(line)
    forged.write_text("".join(out))
    bad = scenario(tmp_path, "forged", "file: forged.signed", "secure")
    with pytest.raises(ScenarioError, match=r"mail\.example\.jp\./A"):
        run([bad], ["unbound"], "netns")


def test_bind_key_files_sign_the_zone_with_our_signer(tmp_path: Path) -> None:
    _, keys = sign_outside(tmp_path)
    tags = sorted(int(p.name.split("+")[2].split(".")[0]) for p in keys.glob("*.private"))
    own = scenario(tmp_path, "own-keys", "file: example.jp.zone, keys: keys", "secure", ", signed with its own keys")
    # the zone the lab serves carries exactly the user's keys, and its RRSIGs are made by them
    ctx = build_scenario(own, plan(own, ["unbound"]), LabClock(), KeyStore(), 1)
    signed = ctx.zones["example.jp."].zone()
    dnskeys = signed.get_rdataset("example.jp.", "DNSKEY")
    assert dnskeys is not None and sorted(dns.dnssec.key_id(k) for k in dnskeys) == tags
    signers = {sig.key_tag for node in signed.nodes.values() for rds in node.rdatasets if rds.rdtype == 46
               for sig in rds}
    assert signers == set(tags)
    result = run([own], resolvers(), "netns")
    assert {v.status for v in result.verdicts} == {"pass"}, [v.reason for v in result.verdicts]
