"""The rollout playbooks on all four resolvers (netns backend): every playbook passes and is READY, every broken twin
breaks where it says it does on at least three resolvers, jp-plan passes end to end, and its wrong-DS variant prints
NOT READY naming the child. One lab for the whole module; the virtual clock stands in for weeks of waiting.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from testbed.report.readiness import BROKEN, NOT_READY, OK, READY, readiness
from testbed.run.runner import LabPool, RunResult, run
from testbed.run.select import known_names
from testbed.scenario import load_scenario
from testbed.scenario.model import Scenario
from tests.conftest import ROOT, requires_netns
from tests.integration.test_resolvers_quickstart import ADAPTERS

pytestmark = [pytest.mark.integration, requires_netns]

ROLLOUT = ROOT / "scenarios" / "rollout"
TWINS = sorted(p for p in ROLLOUT.glob("*-too-early.yaml"))
PLAYBOOKS = sorted(p for p in ROLLOUT.glob("*.yaml") if p not in TWINS and not p.name.startswith("jp-plan"))
OUTAGES = ("bogus", "servfail")


def load(path: Path) -> Scenario:
    return load_scenario(path, **known_names())


def run_one(pool: LabPool, scenario: Scenario) -> RunResult:
    return run([scenario], pool.resolvers, pool.backend, pool=pool)


def unmet(result: RunResult) -> list[str]:
    return [f"{v.resolver} [{v.phase}] {v.check.query_text}: {v.status}: {v.reason}" for v in result.verdicts
            if v.status not in ("pass", "xfail")]


def expected_resolvers(scenario: Scenario, pool: LabPool) -> list[str]:
    return pool.resolvers if scenario.resolvers == "all" else [r for r in pool.resolvers if r in scenario.resolvers]


def test_the_collections_are_complete() -> None:
    assert len(PLAYBOOKS) == 8 and len(TWINS) == 8
    assert {p.name.replace("-too-early", "") for p in TWINS} == {p.name for p in PLAYBOOKS}


@pytest.mark.parametrize("path", PLAYBOOKS, ids=lambda p: p.stem)
def test_playbook_passes_on_every_resolver_and_is_ready(pool: LabPool, path: Path,
                                                        record_property: pytest.RecordProperty) -> None:
    scenario = load(path)
    t0 = time.monotonic()
    result = run_one(pool, scenario)
    record_property("wall_s", round(time.monotonic() - t0, 2))
    assert not unmet(result), "\n".join(unmet(result))
    resolvers = expected_resolvers(scenario, pool)
    assert len(result.verdicts) == len(resolvers) * sum(len(p.checks) for p in scenario.phases)
    grid = readiness(result.verdicts)
    assert grid is not None and grid.verdict == READY, grid.broken() if grid else None
    assert list(grid.grid[scenario.name]) == [p.name for p in scenario.phases]


def intended_phase(scenario: Scenario) -> str:
    """The phase a twin says it breaks in: the first whose checks predict an outage."""
    return next(p.name for p in scenario.phases if any(c.expect.outcome in OUTAGES for c in p.checks))


@pytest.mark.parametrize("path", TWINS, ids=lambda p: p.stem)
def test_broken_twin_breaks_at_its_phase_on_three_resolvers_or_more(pool: LabPool, path: Path) -> None:
    scenario = load(path)
    result = run_one(pool, scenario)
    # the prediction held: every check, the breaking ones included, met its expectation (or documented override)
    assert not unmet(result), "\n".join(unmet(result))
    grid = readiness(result.verdicts)
    assert grid is not None and grid.verdict == NOT_READY
    cells = grid.grid[scenario.name]
    phase = intended_phase(scenario)
    names = list(cells)
    broken = [r for r, cell in cells[phase].items() if cell.status == BROKEN]
    assert len(broken) >= 3, f"{scenario.name}: only {broken} broke in {phase}"
    for earlier in names[:names.index(phase)]:
        assert all(cell.status == OK for cell in cells[earlier].values()), f"{scenario.name} broke early: {earlier}"
    # every twin recovers once the step it rushed has had its time
    assert all(cell.status == OK for cell in cells[names[-1]].values()), f"{scenario.name} did not recover"


def test_jp_plan_passes_end_to_end(pool: LabPool, record_property: pytest.RecordProperty) -> None:
    scenario = load(ROLLOUT / "jp-plan.yaml")
    t0 = time.monotonic()
    result = run_one(pool, scenario)
    wall = time.monotonic() - t0
    assert not unmet(result), "\n".join(unmet(result))
    assert len(result.verdicts) == len(pool.resolvers) * sum(len(p.checks) for p in scenario.phases)
    grid = readiness(result.verdicts)
    assert grid is not None and grid.verdict == READY
    # every stage of the plan showed up as planned: insecure everywhere, then the root, jp. and registrants secure
    outcome = {(v.phase, v.resolver, v.check.query_text): v.observation.outcome for v in result.verdicts}
    for resolver in pool.resolvers:
        assert outcome[("root-signed-no-anchor", resolver, ". SOA")] == "insecure"
        assert outcome[("root-anchor-published", resolver, ". SOA")] == "secure"
        assert outcome[("jp-signed-island", resolver, "jp. SOA")] == "insecure"
        assert outcome[("jp-ds-in-root", resolver, "jp. SOA")] == "secure"
        assert outcome[("registrants-submit-ds", resolver, "www.shop.jp. A")] == "secure"
        # the registry's strict check refused the mistyped DS: insecure, not bogus (jp-plan-wrong-ds shows bogus)
        assert outcome[("registrant-wrong-ds", resolver, "www.travel.jp. A")] == "insecure"
        assert outcome[("registrant-wrong-ds", resolver, "www.shop.jp. A")] == "secure"
        assert outcome[("registrant-corrects-ds", resolver, "www.travel.jp. A")] == "secure"
    decisions = [(e.phase, e.child, e.decision) for e in result.registry]
    assert ("registrant-wrong-ds", "travel.jp.", "rejected") in decisions
    assert ("registrant-corrects-ds", "travel.jp.", "accepted") in decisions
    assert [d for d in decisions if d[2] != "accepted"] == [("registrant-wrong-ds", "travel.jp.", "rejected")]
    record_property("wall_s", round(wall, 2))
    print(f"\njp-plan: {len(scenario.phases)} phases, {len(result.verdicts)} checks in {wall:.1f} s")


def test_wrong_ds_variant_prints_not_ready_naming_the_child(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    proc = subprocess.run([sys.executable, "-m", "testbed.cli.main", "run", str(ROLLOUT / "jp-plan-wrong-ds.yaml"),
                           "--resolver", "all", "--backend", "netns", "--json", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]   # the breakage was predicted
    lines = proc.stdout.splitlines()
    assert "NOT READY" in lines, proc.stdout[-3000:]
    verdict_at = lines.index("NOT READY")
    broken = lines[verdict_at + 1:]
    assert len(broken) == len(ADAPTERS)
    assert all("registrant-wrong-ds" in line and "www.travel.jp. A" in line for line in broken), broken
    document = json.loads(out.read_text())
    assert document["readiness"]["verdict"] == NOT_READY
    cells = document["readiness"]["jp-plan-wrong-ds"]
    assert set(cells["registrant-wrong-ds"].values()) == {BROKEN}
    assert all(set(phase.values()) == {OK} for name, phase in cells.items() if name != "registrant-wrong-ds")
    # acceptance: none published the mistyped DS as submitted, and every resolver found travel.jp. bogus
    travel = {r["resolver"]: r["outcome"] for r in document["results"]
              if r["phase"] == "registrant-wrong-ds" and r["query"] == "www.travel.jp. A"}
    assert travel == {name: "bogus" for name in travel} and len(travel) == len(ADAPTERS)
    events = [e for e in document["registry"]["events"] if e["child"] == "travel.jp."]
    assert [(e["decision"], e["acceptance"]) for e in events] == [("published", "none")]


def test_strict_jp_plan_prints_ready_and_the_refused_ds_with_its_reason(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    proc = subprocess.run([sys.executable, "-m", "testbed.cli.main", "run", str(ROLLOUT / "jp-plan.yaml"),
                           "--resolver", "all", "--backend", "netns", "--json", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert "READY" in lines and "NOT READY" not in lines, proc.stdout[-3000:]
    refused = lines[lines.index("registry refused:") + 1]
    assert "registrant-wrong-ds" in refused and "travel.jp." in refused and "REJECTED" in refused, refused
    assert "digest does not match DNSKEY" in refused, refused
    document = json.loads(out.read_text())
    assert document["readiness"]["verdict"] == READY
    travel = document["registry"]["registrants"]["jp-plan"]["travel.jp."]
    assert [e["decision"] for e in travel["events"]] == ["rejected", "accepted"]
    assert "mistyped" in travel["events"][0]["reason"] and travel["events"][0]["ds_after"] == []
    assert set(travel["seen"]["registrant-wrong-ds"].values()) == {"insecure"}
    assert set(travel["seen"]["registrant-corrects-ds"].values()) == {"secure"}
