"""Multi-signer (RFC 8901 model 2) on the four resolvers (netns): adding a second operator validates whichever
operator's server answers; the twin whose DNSKEY RRset lacks the other operator's ZSK is bogus exactly when a
resolver holds keys from one operator and gets data from the other (pinned by cutting one server off); removing an
operator with a KSK of its own (the DS set names two KSKs) in the safe order stays secure, and removing its keys and
DS while its server still serves is bogus via that server."""

from __future__ import annotations

import pytest

from testbed.cli.main import known_names
from testbed.report.readiness import BROKEN, NOT_READY, OK, READY, readiness
from testbed.run.runner import LabPool, run
from testbed.scenario import Scenario, load_scenario
from tests.conftest import ROOT, requires_netns

pytestmark = [pytest.mark.integration, requires_netns]
FOLDER = ROOT / "scenarios" / "multi-signer"


def twin_cells(pool: LabPool, scenario: Scenario) -> dict:
    """A broken twin's phase x resolver readiness cells, once every check met its expectation (or documented
    xfail) and the grid says NOT READY."""
    result = run([scenario], pool.resolvers, pool.backend, pool=pool)
    unmet = [f"{v.resolver} [{v.phase}] {v.status} {v.observation.outcome}: {v.reason}" for v in result.verdicts
             if v.status not in ("pass", "xfail")]
    assert not unmet, unmet
    grid = readiness(result.verdicts)
    assert grid is not None and grid.verdict == NOT_READY
    return grid.grid[scenario.name]


def test_adding_an_operator_validates_through_either(pool: LabPool) -> None:
    scenario = load_scenario(FOLDER / "multi-signer-add-operator.yaml", **known_names())
    result = run([scenario], pool.resolvers, pool.backend, pool=pool)
    assert all(v.status == "pass" for v in result.verdicts), [v.reason for v in result.verdicts if v.reason]
    grid = readiness(result.verdicts)
    assert grid is not None and grid.verdict == READY


def test_missing_zsk_breaks_only_when_keys_and_data_come_from_different_operators(pool: LabPool) -> None:
    scenario = load_scenario(FOLDER / "multi-signer-missing-zsk-too-early.yaml", **known_names())
    cells = twin_cells(pool, scenario)
    assert all(c.status == OK for c in cells["b-signs-without-zsk-a"].values())     # B's keys and B's data: fine
    assert {r for r, c in cells["data-from-a-keys-from-b"].items() if c.status == BROKEN} == set(pool.resolvers)
    assert all(c.status == OK for c in cells["key-exchange-fixed"].values())


def test_removing_an_operator_in_the_safe_order_stays_secure(pool: LabPool) -> None:
    """Two operators with a KSK each (the DS set names both), then B leaves: keys, DS, NS, in that order."""
    scenario = load_scenario(FOLDER / "multi-signer-remove-operator.yaml", **known_names())
    result = run([scenario], pool.resolvers, pool.backend, pool=pool)
    assert all(v.status == "pass" for v in result.verdicts), [v.reason for v in result.verdicts if v.reason]
    assert {v.phase for v in result.verdicts} == {p.name for p in scenario.phases}
    grid = readiness(result.verdicts)
    assert grid is not None and grid.verdict == READY


def test_removing_an_operator_from_the_keys_while_it_still_serves_breaks_via_that_operator(pool: LabPool) -> None:
    scenario = load_scenario(FOLDER / "multi-signer-remove-operator-too-early.yaml", **known_names())
    cells = twin_cells(pool, scenario)
    assert all(c.status == OK for c in cells["b-keys-withdrawn-b-still-serving"].values())   # via A: fine
    assert {r for r, c in cells["data-from-b-keys-from-a"].items() if c.status == BROKEN} == set(pool.resolvers)
    assert all(c.status == OK for c in cells["b-removed-properly"].values())
