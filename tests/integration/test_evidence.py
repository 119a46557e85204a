"""Evidence over a conformance run on all four resolvers: every bogus cell's log excerpt holds that resolver's own
reason line, every non-passing cell has a non-empty excerpt, both answers and our chain's sentence.

Cost: 8 scenarios x 4 resolvers on the netns backend, about 20 s; the docker variant runs 3 scenarios (images are built
when missing, as for every docker test).
"""

from __future__ import annotations

import json
import re
import shutil

import dns.name
import dns.rdatatype
import pytest

from testbed.faults import fault_params
from testbed.lab.backends.docker_env import docker_available
from testbed.report.json_report import write_json
from testbed.run.runner import run
from testbed.scenario import load_scenario
from tests.conftest import ROOT, requires_netns

CONFORMANCE = ROOT / "scenarios" / "conformance"
pytestmark = pytest.mark.integration

RESOLVERS = ["unbound", "bind", "knot", "pdns"]
SCENARIOS = ["signatures/rrsig-expired-a", "signatures/rrsig-bad-signature-bytes", "ds/ds-digest-mismatch",
             "dnskey/dnskey-rrsig-missing", "denial/nxdomain-nsec-missing", "denial/nsec3-rrsig-bad",
             "delegation/forged-insecure-no-proof", "trust-anchor/root-ta-mismatch"]
# each resolver's own words for "this answer is bogus" (testbed/run/evidence.py REASON_LINES, asserted here apart)
BOGUS_LINE = {
    "unbound": re.compile(r"validation failure"),
    "bind": re.compile(r"no valid signature|broken trust chain|insecurity proof failed|no valid (RRSIG|NSEC)|"
                       r"verify failed|hung fetch"),
    "knot": re.compile(r"validation failure|bogus|no valid RRSIGs|>< ", re.IGNORECASE),
    "pdns": re.compile(r"Bogus"),
}


def run_json(tmp_path, backend: str, names: list[str]) -> dict:
    missing = [r for r in RESOLVERS if backend == "netns" and shutil.which({"unbound": "unbound", "bind": "named",
                                                                             "knot": "kresd",
                                                                             "pdns": "pdns_recursor"}[r]) is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)}")
    scenarios = [load_scenario(CONFORMANCE / f"{n}.yaml", known_faults=fault_params()) for n in names]
    result = run(scenarios, RESOLVERS, backend, evidence="all")
    path = tmp_path / "run.json"
    write_json(path, result.verdicts, backend=backend, resolvers=sorted(result.resolvers.items()))
    return json.loads(path.read_text())


def assert_evidence(document: dict) -> dict[str, list[int]]:
    coverage: dict[str, list[int]] = {r: [0, 0] for r in RESOLVERS}      # resolver -> [bogus cells, with reason]
    for cell in document["results"]:
        evidence = cell["evidence"]
        assert evidence["wire"].startswith(";; the answer (DO=1)")
        assert evidence["why"] and evidence["chain"]["qname"] == cell["query"].split()[0]
        if cell["status"] != "pass":
            assert evidence["log"].strip(), cell
        if cell["outcome"] == "bogus":
            assert cell["observed"]["cd_rcode"] in ("NOERROR", "NXDOMAIN")
            assert "the same query with CD=1" in evidence["wire"]
            assert evidence["chain"]["outcome"] == "bogus", evidence["why"]
            coverage[cell["resolver"]][0] += 1
            assert evidence["log_read"], evidence["log"]
            assert BOGUS_LINE[cell["resolver"]].search(evidence["log"]), (cell["resolver"], cell["query"],
                                                                         evidence["log"])
            coverage[cell["resolver"]][1] += 1
    return coverage


@requires_netns
def test_every_bogus_cell_carries_its_resolvers_reason_netns(tmp_path):
    coverage = assert_evidence(run_json(tmp_path, "netns", SCENARIOS))
    print("bogus cells with the reason line, per resolver:", coverage)
    assert all(bogus >= 5 for bogus, _ in coverage.values()), coverage


@pytest.mark.docker
@pytest.mark.skipif(not docker_available(), reason="no Docker daemon")
def test_every_bogus_cell_carries_its_resolvers_reason_docker(tmp_path):
    coverage = assert_evidence(run_json(tmp_path, "docker", SCENARIOS[:3]))
    print("bogus cells with the reason line, per resolver:", coverage)
    assert all(bogus >= 2 for bogus, _ in coverage.values()), coverage


def pcap_questions(data: bytes) -> list[tuple[str, str, str]]:
    """(source address, question name, type) of each DNS packet in a pcap file (Ethernet, IPv4, UDP or TCP)."""
    import struct

    import dns.message

    magic = struct.unpack("<I", data[:4])[0]
    assert magic in (0xA1B2C3D4, 0xA1B23C4D), "not a little-endian pcap file"
    assert struct.unpack("<I", data[20:24])[0] == 1, "not an Ethernet capture"
    pos, found = 24, []
    while pos + 16 <= len(data):
        _, _, caplen, _ = struct.unpack("<IIII", data[pos:pos + 16])
        frame = data[pos + 16:pos + 16 + caplen]
        pos += 16 + caplen
        if frame[12:14] != b"\x08\x00":
            continue
        ip = frame[14:]
        header, proto = (ip[0] & 0x0F) * 4, ip[9]
        source = ".".join(str(b) for b in ip[12:16])
        if proto == 17:
            payload = ip[header + 8:]
        elif proto == 6:
            offset = (ip[header + 12] >> 4) * 4
            payload = ip[header + offset + 2:]          # one DNS message per segment, after its length
            if not payload:
                continue
        else:
            continue
        try:
            message = dns.message.from_wire(payload)
        except Exception:  # noqa: BLE001 - a TCP segment carrying a continuation, not a message start
            continue
        for question in message.question:
            found.append((source, question.name.to_text(), dns.rdatatype.to_text(question.rdtype)))
    return found


@requires_netns
def test_bundle_holds_the_querys_pcap_and_no_private_key(tmp_path):
    scenario = load_scenario(ROOT / "scenarios" / "quickstart" / "expired-rrsig.yaml", known_faults=fault_params())
    bundles = tmp_path / "bundles"
    result = run([scenario], ["unbound"], "netns", evidence="all", evidence_dir=bundles)
    assert all(v.evidence is not None for v in result.verdicts)
    (folder,) = [p for p in bundles.rglob("*-www.example.jp-A") if p.is_dir()]
    assert (folder / "why.txt").read_text().startswith("pass: \nwhy: RRSIG over www.example.jp/A by key ")
    assert "RRSIG" in (folder / "zones" / "child-example.jp.zone").read_text()
    assert " DNSKEY " in (folder / "keys.txt").read_text() and " DS " in (folder / "keys.txt").read_text()
    assert "validation failure" in (folder / "log.txt").read_text()
    questions = pcap_questions((folder / "query.pcap").read_bytes())
    # the stub's query first, then the resolver's own, each about www.example.jp, a zone above it, or the name
    # servers on the way (the root servers' names live under test.)
    first_source, first_name, first_type = questions[0]
    assert (first_name, first_type) == ("www.example.jp.", "A")
    www = dns.name.from_text("www.example.jp.")
    related = (dns.name.from_text("example.jp."), dns.name.from_text("test."))
    assert all(www.is_subdomain(dns.name.from_text(name)) or any(dns.name.from_text(name).is_subdomain(r)
                                                                 for r in related) for _, name, _ in questions)
    assert any(source != first_source for source, _, _ in questions), "no query of the resolver's own"
    assert not any("mail.example.jp" in name for _, name, _ in questions), "another check's packets"
    # no private key anywhere in the bundle
    for path in bundles.rglob("*"):
        assert not re.search(r"\.(private|key|pem)$", path.name), path
        if path.is_file() and path.suffix != ".pcap":
            text = path.read_text(errors="replace")
            assert not re.search(r"PRIVATE KEY|Private-key-format|PrivateKey:|secret \"", text), path
