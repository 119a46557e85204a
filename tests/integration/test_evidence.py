"""Evidence over a conformance run on all four resolvers: every bogus cell's log excerpt holds that resolver's own
reason line, every non-passing cell has a non-empty excerpt, both answers and our chain's sentence.

Cost: 8 scenarios x 4 resolvers on the netns backend, about 20 s; the docker variant runs 3 scenarios (images are built
when missing, as for every docker test).
"""

from __future__ import annotations

import json
import re
import shutil

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
    "bind": re.compile(r"no valid signature|broken trust chain|insecurity proof failed|no valid RRSIG|"
                       r"verify failed"),
    "knot": re.compile(r"validation failure|bogus", re.IGNORECASE),
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
