"""Timelines on the docker backend: the time shim, copied into the bind-mounted lab folder, runs inside the resolver
images (Debian bookworm, like this machine), so a clock jump and an RFC 5011 hold-down behave as on netns."""

from __future__ import annotations

import pytest

from testbed.lab.backends.docker_env import docker_available
from testbed.lab.lab import Lab
from testbed.report.readiness import BROKEN, NOT_READY, readiness
from testbed.run.runner import LabPool, run
from testbed.run.select import known_names
from testbed.scenario import load_scenario
from tests.conftest import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.docker,
              pytest.mark.skipif(not docker_available(), reason="no Docker daemon")]

ROLLOUT = ROOT / "scenarios" / "rollout"
RESOLVERS = ["unbound", "bind", "knot", "pdns"]
# the command lines of the container's processes that have the shim mapped (the listing's own sh and grep too)
LIST_SHIMMED = ("for p in /proc/[0-9]*; do grep -qF {shim} $p/maps 2>/dev/null && tr '\\0' ' ' < $p/cmdline && echo; "
                "done; true")


def test_a_twin_and_the_rfc5011_roll_on_docker() -> None:
    scenarios = [load_scenario(ROLLOUT / name, **known_names())
                 for name in ("zsk-prepublish-too-early.yaml", "root-ksk-rfc5011.yaml")]
    labs: list[Lab] = []
    with LabPool("docker", RESOLVERS, on_lab=labs.append) as pool:
        result = run(scenarios, RESOLVERS, "docker", pool=pool)
        (lab,) = labs
        assert all(lab.on_virtual_clock(name) for name in RESOLVERS)
        for name in RESOLVERS:
            # the daemon inside the container has loaded the lab folder's copy of the shim (seen at the same path)
            rc, shimmed = lab.resolvers[name].host.exec(["sh", "-c", LIST_SHIMMED.format(shim=lab.shim_path())])
            daemon = lab.adapters[name].binary
            assert rc == 0 and any(line.split()[0].endswith(daemon) for line in shimmed.splitlines() if line), \
                (name, shimmed)
    unmet = [f"{v.resolver} [{v.phase}] {v.check.query_text}: {v.reason}" for v in result.verdicts
             if v.status not in ("pass", "xfail")]
    assert not unmet, "\n".join(unmet)
    grid = readiness(result.verdicts)
    assert grid is not None and grid.verdict == NOT_READY
    twin = grid.grid["zsk-prepublish-too-early"]["new-zsk-signs-at-once"]
    assert {cell.status for cell in twin.values()} == {BROKEN} and len(twin) == 4
    roll = grid.grid["root-ksk-rfc5011"]
    assert all(cell.status != BROKEN for cells in roll.values() for cell in cells.values())
