"""The registry playbooks on all four resolvers (netns backend): CDS/CDNSKEY scanning on the virtual clock drives a
KSK rollover and a going-insecure, and refuses the broken twins while every resolver stays as before. Each
playbook passes on every resolver, is READY, and its registry made exactly the decisions it says, in the phase it
says. One lab per topology shape for the module.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from testbed.report.readiness import READY, readiness
from testbed.run.runner import LabPool, RunResult, run
from testbed.run.select import known_names
from testbed.scenario import load_scenario
from tests.conftest import ROOT, requires_netns

pytestmark = [pytest.mark.integration, requires_netns]

REGISTRY = ROOT / "scenarios" / "registry"
# playbook -> the registry's decisions, (phase, decision) in order; the twins refuse and change nothing
DECISIONS: dict[str, list[tuple[str, str]]] = {
    "cds-ksk-rollover": [("cds-picked-up", "accepted"), ("old-ds-expired", "nothing")],
    "cds-delete": [("delete-requested", "deleted")],
    "cds-servers-disagree": [("scan-refused", "rejected")],
    "cds-signed-by-zsk": [("scan-refused", "rejected")],
    "cds-bootstrap-rfc9615": [("bootstrapped", "accepted")],
    "cds-bootstrap-wait": [("operator-publishes-cds", "waiting"), ("accepted-after-delay", "accepted")],
    "cds-bootstrap-unsigned-signal": [("scan-refused", "rejected")],
}
# the phase x resolver outcome of the child's main name, where the playbook is about a change
TURNS = {"cds-delete": ("ds-gone", "www.example.jp. A", "insecure"),
         "cds-bootstrap-rfc9615": ("bootstrapped", "www.shop.jp. A", "secure"),
         "cds-bootstrap-wait": ("accepted-after-delay", "www.shop.jp. A", "secure"),
         "cds-bootstrap-unsigned-signal": ("scan-refused", "www.shop.jp. A", "insecure")}
CHILD = {name: "shop.jp." for name in ("cds-bootstrap-rfc9615", "cds-bootstrap-wait", "cds-bootstrap-unsigned-signal")}


def unmet(result: RunResult) -> list[str]:
    return [f"{v.resolver} [{v.phase}] {v.check.query_text}: {v.status}: {v.reason}" for v in result.verdicts
            if v.status not in ("pass", "xfail")]


def test_every_playbook_has_its_decisions_listed() -> None:
    assert {p.stem for p in REGISTRY.glob("*.yaml")} == set(DECISIONS)


@pytest.mark.parametrize("name", sorted(DECISIONS))
def test_registry_playbook(pool: LabPool, name: str, record_property: pytest.RecordProperty) -> None:
    scenario = load_scenario(REGISTRY / f"{name}.yaml", **known_names())
    t0 = time.monotonic()
    result = run([scenario], pool.resolvers, pool.backend, pool=pool)
    record_property("wall_s", round(time.monotonic() - t0, 2))
    assert not unmet(result), "\n".join(unmet(result))
    assert len(result.verdicts) == len(pool.resolvers) * sum(len(p.checks) for p in scenario.phases)
    grid = readiness(result.verdicts)
    assert grid is not None and grid.verdict == READY, grid.broken() if grid else None
    assert [(e.phase, e.decision) for e in result.registry] == DECISIONS[name], [e.line() for e in result.registry]
    for event in result.registry:
        assert event.reason and event.child == CHILD.get(name, "example.jp.") and event.parent == "jp."
    before = {e.child: e.ds_after for e in result.registry}
    for event in result.registry:
        if event.decision == "rejected" and name not in CHILD:
            assert event.ds_after, "a refused request must leave the DS as it was"
    if name == "cds-bootstrap-wait":
        # five daily scans in a row (96 h > 72 h): two in the first scan action, three more in the second
        waited, accepted = result.registry
        assert (waited.scans, accepted.scans) == (2, 3)
        assert accepted.at - (waited.at - 86400) >= 4 * 86400 > 72 * 3600
    assert before
    if name in TURNS:
        phase, query, outcome = TURNS[name]
        seen = {v.resolver: v.observation.outcome for v in result.verdicts
                if v.phase == phase and v.check.query_text == query}
        assert seen == {r: outcome for r in pool.resolvers}


def test_scan_reasons_name_the_rule(pool: LabPool) -> None:
    scenario = load_scenario(REGISTRY / "cds-signed-by-zsk.yaml", **known_names())
    result = run([scenario], pool.resolvers, pool.backend, pool=pool)
    assert "not signed by a key the current DS names" in result.registry[0].reason
    scenario = load_scenario(REGISTRY / "cds-servers-disagree.yaml", **known_names())
    result = run([scenario], pool.resolvers, pool.backend, pool=pool)
    reason = result.registry[0].reason
    assert "disagree" in reason and "ns1.example.jp." in reason and "ns2.example.jp." in reason and "none" in reason
    scenario = load_scenario(REGISTRY / "cds-bootstrap-unsigned-signal.yaml", **known_names())
    result = run([scenario], pool.resolvers, pool.backend, pool=pool)
    reason = result.registry[0].reason
    assert "not authenticated" in reason and "no DS for dns-operator.jp." in reason


def test_bad_registry_input_exits_2_with_the_file_line_and_a_fix(tmp_path: Path) -> None:
    bad = tmp_path / "scan-root.yaml"
    bad.write_text("name: scan-root\nphases:\n  - name: p\n    actions:\n      - registry-scan: .\n"
                   "    checks:\n      - query: . SOA\n        expect: secure\n")
    proc = subprocess.run([sys.executable, "-m", "testbed.cli.main", "run", str(bad), "--resolver", "unbound",
                           "--backend", "netns"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert f"{bad}:5" in proc.stderr and "the root has no parent" in proc.stderr and "Traceback" not in proc.stderr
    assert "below the root" in proc.stderr
