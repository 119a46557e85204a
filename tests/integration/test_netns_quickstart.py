"""The quickstart on real Unbound in a netns lab: verdicts, the JSON contract, and that nothing is left behind."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from testbed.faults import fault_params
from testbed.lab.backends.netns import leftover_namespaces
from testbed.resolvers import registry
from testbed.run.runner import run
from testbed.scenario import load_paths
from tests.conftest import QUICKSTART, ROOT, requires_netns

pytestmark = [pytest.mark.integration, requires_netns]


def test_every_quickstart_check_passes_on_unbound() -> None:
    scenarios = load_paths([QUICKSTART], known_faults=fault_params(), known_resolvers=registry())
    labs = []
    result = run(scenarios, ["unbound"], "netns", on_lab=labs.append)
    failed = [f"{v.scenario} {v.check.query_text}: {v.status} {v.reason}" for v in result.verdicts
              if v.status != "pass"]
    assert not failed, "\n".join(failed)
    # every check of every scenario ran: nothing skipped silently
    assert len(result.verdicts) == sum(len(s.checks) for s in scenarios)
    outcomes = {v.observation.outcome for v in result.verdicts}
    assert outcomes == {"secure", "insecure", "bogus"}
    assert result.resolvers["unbound"].startswith("1.")
    assert len(labs) == 1                           # every quickstart scenario shares one lab
    assert leftover_namespaces(labs[0].lab_id) == []


def test_cli_run_writes_the_design_json_and_exits_0(tmp_path) -> None:
    out = tmp_path / "out.json"
    proc = subprocess.run([sys.executable, "-m", "testbed.cli.main", "run", str(QUICKSTART / "bogus-ds.yaml"),
                           str(QUICKSTART / "insecure-child.yaml"), "--resolver", "unbound", "--backend", "netns",
                           "--json", str(out)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(out.read_text())
    assert set(doc) == {"version", "backend", "resolvers", "results", "summary"}
    assert doc["backend"] == "netns"
    assert doc["resolvers"][0]["name"] == "unbound" and doc["resolvers"][0]["version"].startswith("1.")
    first = doc["results"][0]
    assert set(first) >= {"scenario", "file", "resolver", "phase", "query", "expected", "observed", "outcome",
                          "status", "reason", "duration_ms"}
    assert set(first["observed"]) >= {"rcode", "ad", "ede", "answer", "cd_answer"}
    bogus = next(r for r in doc["results"] if r["scenario"] == "bogus-ds" and r["query"].startswith("www.example.jp"))
    assert bogus["outcome"] == "bogus" and bogus["observed"]["rcode"] == "SERVFAIL"
    assert 9 in [e["code"] for e in bogus["observed"]["ede"]]
    assert bogus["observed"]["cd_answer"] == ["192.0.2.80"]
    assert doc["summary"] == {"pass": len(doc["results"]), "fail": 0, "xfail": 0, "error": 0}


def test_a_failed_expectation_exits_1(tmp_path) -> None:
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("name: wrong\nchecks:\n  - query: www.insecure.jp. A\n    expect: secure\n")
    proc = subprocess.run([sys.executable, "-m", "testbed.cli.main", "run", str(wrong), "--resolver", "unbound",
                           "--backend", "netns"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "expected secure" in proc.stdout + proc.stderr
