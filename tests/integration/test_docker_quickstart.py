"""The quickstart on the docker backend: the same verdicts as netns, and nothing left behind, also after Ctrl-C.

With ``-s`` it prints the cold start of each backend and the per-check times of the same run.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest

from testbed.errors import LabError
from testbed.faults import fault_params
from testbed.lab.backends.docker import lab_resources
from testbed.lab.backends.docker_env import docker_available
from testbed.lab.lab import Lab
from testbed.resolvers import registry
from testbed.resolvers.unbound import Unbound
from testbed.run.checks import Verdict
from testbed.run.runner import RunResult, run
from testbed.scenario import load_paths, load_scenario
from tests.conftest import QUICKSTART, netns_possible

pytestmark = [pytest.mark.integration, pytest.mark.docker,
              pytest.mark.skipif(not docker_available(), reason="no Docker daemon")]


def quickstart() -> list:
    return load_paths([QUICKSTART], known_faults=fault_params(), known_resolvers=registry())


def key(v: Verdict) -> tuple[str, str, str, str, str]:
    return (v.scenario, v.resolver, v.check.query_text, v.status, v.observation.outcome)


class Labs:
    """Remembers every lab a run starts, so a test can ask about exactly its own containers."""

    def __init__(self) -> None:
        self.labs: list[Lab] = []

    def __call__(self, lab: Lab) -> None:
        self.labs.append(lab)

    def leftovers(self) -> list[str]:
        found = []
        for lab in self.labs:
            found += lab_resources(lab.lab_id)
            if lab.workdir.exists():
                found.append(f"folder {lab.workdir}")
        return found


def report(name: str, result: RunResult) -> str:
    checks = [v.duration_ms for v in result.verdicts]
    return (f"{name}: cold start {result.timings.get('cold_start_s', 0):.2f} s, {len(checks)} checks, "
            f"median {statistics.median(checks):.1f} ms, max {max(checks):.1f} ms")


def test_quickstart_on_docker_matches_netns_and_leaves_nothing() -> None:
    scenarios = quickstart()
    labs = Labs()
    docker = run(scenarios, ["unbound"], "docker", on_lab=labs)
    assert labs.labs, "no lab was started"
    assert labs.leftovers() == []
    assert len(docker.verdicts) == sum(len(s.checks) for s in scenarios)
    assert not [v for v in docker.verdicts if v.status == "error"], [v.reason for v in docker.verdicts]
    print("\n" + report("docker", docker))
    if netns_possible() is None:
        netns = run(scenarios, ["unbound"], "netns")
        print(report("netns", netns))
        assert sorted(map(key, docker.verdicts)) == sorted(map(key, netns.verdicts))
    else:
        failed = [f"{v.scenario} {v.check.query_text}: {v.reason}" for v in docker.verdicts if v.status != "pass"]
        assert not failed, "\n".join(failed)


def test_ctrl_c_in_the_middle_leaves_nothing() -> None:
    labs = Labs()

    def interrupt(verdict: Verdict) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(quickstart(), ["unbound"], "docker", on_lab=labs, on_verdict=interrupt)
    assert labs.labs
    assert labs.leftovers() == []


class BrokenUnbound(Unbound):
    """Unbound with an option it does not know: it exits at start."""

    def render(self, ctx):  # noqa: ANN001, ANN201
        files = super().render(ctx)
        files["unbound.conf"] = files["unbound.conf"].replace("server:\n", "server:\n    no-such-option: yes\n", 1)
        return files


def test_a_resolver_that_fails_to_start_names_the_cause_and_leaves_nothing(monkeypatch: pytest.MonkeyPatch,
                                                                         tmp_path: Path) -> None:
    monkeypatch.setattr("testbed.run.select.get_adapter", lambda name: BrokenUnbound())
    labs = Labs()
    with pytest.raises(LabError) as info:
        run([load_scenario(QUICKSTART / "secure-a.yaml")], ["unbound"], "docker", on_lab=labs)
    assert "no-such-option" in str(info.value)          # the container's log tail names the cause
    assert labs.leftovers() == []
