"""A lab failure in the middle of a run costs only that scenario's checks; the run goes on with a fresh lab."""

from __future__ import annotations

import pytest

from testbed.errors import LabError
from testbed.lab.lab import Lab
from testbed.run.runner import run
from testbed.scenario import load_scenario
from tests.conftest import QUICKSTART, requires_netns

pytestmark = [pytest.mark.integration, requires_netns]


def test_a_scenario_whose_lab_fails_becomes_error_verdicts_and_the_run_goes_on(monkeypatch) -> None:
    scenarios = [load_scenario(QUICKSTART / name) for name in ("secure-a.yaml", "insecure-child.yaml",
                                                               "secure-co-jp.yaml")]
    real_load = Lab.load
    loads = {"n": 0}

    def load_failing_second_time(self, build, **kw):  # noqa: ANN001, ANN202
        loads["n"] += 1
        if loads["n"] == 2:
            raise LabError("server child did not reload (simulated)")
        return real_load(self, build, **kw)

    monkeypatch.setattr(Lab, "load", load_failing_second_time)
    labs: list[Lab] = []
    result = run(scenarios, ["unbound"], "netns", on_lab=labs.append)
    by_scenario = {}
    for verdict in result.verdicts:
        by_scenario.setdefault(verdict.scenario, set()).add(verdict.status)
    assert by_scenario == {"secure-a": {"pass"}, "insecure-child": {"error"}, "secure-co-jp": {"pass"}}
    error = next(v for v in result.verdicts if v.status == "error")
    assert "simulated" in error.reason
    assert len(labs) == 2              # the broken lab was replaced
    assert result.exit_code == 1


def test_a_lab_that_never_comes_up_is_still_an_error_of_the_run(monkeypatch) -> None:
    def never(self, build, **kw):  # noqa: ANN001, ANN202
        raise LabError("no server would start (simulated)")

    monkeypatch.setattr(Lab, "load", never)
    with pytest.raises(LabError, match="simulated"):
        run([load_scenario(QUICKSTART / "secure-a.yaml")], ["unbound"], "netns")


def test_jobs_2_runs_two_labs_and_reports_in_scenario_order() -> None:
    scenarios = [load_scenario(QUICKSTART / name) for name in ("secure-a.yaml", "bogus-ds.yaml",
                                                               "insecure-child.yaml", "secure-co-jp.yaml")]
    labs: list[Lab] = []
    parallel = run(scenarios, ["unbound"], "netns", jobs=2, on_lab=labs.append)
    assert len({lab.lab_id for lab in labs}) == 2
    assert len({str(lab.topology.subnet) for lab in labs}) == 2      # each lab on its own subnet
    assert [v.scenario for v in parallel.verdicts] == [s.name for s in scenarios for _ in s.checks]
    assert all(v.status == "pass" for v in parallel.verdicts), [v.reason for v in parallel.verdicts]
    assert parallel.resolvers["unbound"].startswith("1.")
