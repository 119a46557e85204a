"""Rollout playbooks with every zone on NSD and on Knot DNS: each phase's zones are reloaded into the running
server (SIGHUP, no lab restart) and the resolvers' verdicts are the builtin server's, phase by phase.

Cost: three small playbooks (ksk-double-ds, zsk-prepublish-too-early, nsec-to-nsec3) three times (builtin, NSD,
Knot DNS) with Unbound only, on netns: about 15 s in all on an idle 2-core machine.
"""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest

from testbed.auth.servers import get_server
from testbed.lab.lab import Lab
from testbed.run.runner import RunResult, run
from testbed.run.select import known_names
from testbed.scenario import load_paths
from tests.conftest import ROOT, requires_netns

pytestmark = [pytest.mark.integration]
PLAYBOOKS = ("ksk-double-ds", "zsk-prepublish-too-early", "nsec-to-nsec3")
needs_unbound = pytest.mark.skipif(shutil.which("unbound") is None, reason="unbound is not installed")


def playbooks(server: str | None) -> list:
    paths = [ROOT / "scenarios" / "rollout" / f"{name}.yaml" for name in PLAYBOOKS]
    return [replace(s, server=server) for s in load_paths(paths, **known_names())]


def cells(result: RunResult) -> dict[tuple[str, str, str], tuple[str, str]]:
    return {(v.scenario, v.phase, v.check.query_text): (v.status, v.observation.outcome) for v in result.verdicts}


@requires_netns
@needs_unbound
@pytest.mark.parametrize("server", ["nsd", "knot"])
def test_rollout_phases_reload_into_a_real_server_with_the_builtin_verdicts(server: str) -> None:
    adapter = get_server(server)
    if shutil.which(adapter.binary) is None:
        pytest.skip(f"{adapter.binary} is not installed (scripts/setup.sh)")
    builtin = run(playbooks(None), ["unbound"], "netns")
    labs: list[Lab] = []
    result = run(playbooks(server), ["unbound"], "netns", on_lab=labs.append)
    # the playbooks themselves mean something: some phase breaks validation on purpose (the too-early one)
    assert {outcome for _, outcome in cells(builtin).values()} >= {"secure", "bogus"}
    assert cells(result) == cells(builtin)
    assert len({v.phase for v in result.verdicts}) >= 6       # several phases, each served by a reload
    for lab in labs:
        assert {s.software for s in lab.topology.servers.values()} == {server}
        assert all(lab.servers[name].spec.argv[0] == adapter.binary for name in lab.topology.servers)
        # after the last reload the lab compared every RRset each server serves with that phase's build
        assert lab.sanitised == {}
        assert lab.loads_done > len(PLAYBOOKS)
