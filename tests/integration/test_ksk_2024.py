"""The KSK-2024 root roll rehearsal (netns, the four resolvers): the RFC 5011 roll passes on Unbound, BIND and Knot
Resolver and each ends up trusting only KSK-2024; PowerDNS passes with its operator's anchor update; each broken twin
breaks at its phase, on every resolver it targets, not before, and recovers in its last phase."""

from __future__ import annotations

import time

import pytest

from testbed.cli.main import known_names
from testbed.report.readiness import BROKEN, NOT_READY, OK, READY, readiness
from testbed.run.runner import LabPool, RunResult, run
from testbed.scenario import load_scenario
from testbed.scenario.model import Scenario
from tests.conftest import ROOT, requires_netns

pytestmark = [pytest.mark.integration, requires_netns]

FOLDER = ROOT / "scenarios" / "ksk-2024"
PLAYBOOKS = ("ksk-2024-rfc5011", "ksk-2024-pdns-static")
TWINS = {"ksk-2024-pdns-never-updated-too-early": "ksk-2024-signs-anchor-not-updated",
         "ksk-2024-resolver-was-down-too-early": "resolvers-back-with-ksk-2017",
         "ksk-2024-started-after-revocation-too-early": "started-with-only-ksk-2017"}


def load(name: str) -> Scenario:
    return load_scenario(FOLDER / f"{name}.yaml", **known_names())


def unmet(result: RunResult) -> list[str]:
    return [f"{v.resolver} [{v.phase}] {v.check.query_text}: {v.status}: {v.reason}" for v in result.verdicts
            if v.status not in ("pass", "xfail")]


def test_the_folder_holds_the_playbooks_and_twins() -> None:
    assert {p.stem for p in FOLDER.glob("*.yaml")} == set(PLAYBOOKS) | set(TWINS)


@pytest.mark.parametrize("name", PLAYBOOKS)
def test_playbook_passes_and_is_ready(pool: LabPool, name: str, record_property: pytest.RecordProperty) -> None:
    scenario = load(name)
    t0 = time.monotonic()
    result = run([scenario], pool.resolvers, pool.backend, pool=pool)
    record_property("wall_s", round(time.monotonic() - t0, 2))
    assert not unmet(result), "\n".join(unmet(result))
    grid = readiness(result.verdicts)
    assert grid is not None and grid.verdict == READY, grid.broken() if grid else None
    if name == "ksk-2024-rfc5011":
        final = [e for e in result.registry if e.action == "await-anchor"][-1]
        assert final.phase == "ksk-2017-removed"
        for resolver in ("bind", "knot", "unbound"):
            line = next(d for d in final.details if d.startswith(f"{resolver}:"))
            assert "trusts only ksk-2024" in line, line


@pytest.mark.parametrize("name", sorted(TWINS))
def test_twin_breaks_at_its_step_on_every_resolver_it_targets(pool: LabPool, name: str) -> None:
    scenario = load(name)
    result = run([scenario], pool.resolvers, pool.backend, pool=pool)
    assert not unmet(result), "\n".join(unmet(result))
    grid = readiness(result.verdicts)
    assert grid is not None and grid.verdict == NOT_READY
    cells = grid.grid[scenario.name]
    phases = list(cells)
    targeted = [r for r in pool.resolvers if scenario.resolvers == "all" or r in scenario.resolvers]
    assert {r for r, c in cells[TWINS[name]].items() if c.status == BROKEN} == set(targeted)
    for earlier in phases[:phases.index(TWINS[name])]:
        assert all(c.status == OK for c in cells[earlier].values()), f"{name} broke early: {earlier}"
    assert all(c.status == OK for c in cells[phases[-1]].values()), f"{name} did not recover"
