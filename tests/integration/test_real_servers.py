"""Real authoritative servers (NSD, Knot DNS, BIND) under the quickstart: the same verdicts as the builtin server,
on both backends; a mixed hierarchy; a server-behaviour fault a real server cannot act out.

Cost: four quickstart runs on netns with the installed resolvers (about 4 s each), one on docker with Unbound.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from testbed.auth.servers import get_server
from testbed.faults import fault_params
from testbed.lab.backends.docker_env import docker_available
from testbed.lab.lab import Lab
from testbed.resolvers import registry
from testbed.run.runner import RunResult, run
from testbed.scenario import load_paths, load_scenario
from tests.conftest import QUICKSTART, ROOT, requires_netns

pytestmark = [pytest.mark.integration]
REAL = ("nsd", "knot", "bind")
needs_servers = pytest.mark.skipif(any(shutil.which(get_server(s).binary) is None for s in REAL),
                                   reason="nsd, knotd or named is not installed (scripts/setup.sh)")


def quickstart(server: str | None = None) -> list:
    scenarios = load_paths([QUICKSTART], known_faults=fault_params(), known_resolvers=registry())
    return [replace(s, server=server) for s in scenarios]


def cells(result: RunResult) -> dict[tuple[str, str, str], tuple[str, str]]:
    return {(v.scenario, v.resolver, v.check.query_text): (v.status, v.observation.outcome) for v in result.verdicts}


def installed_resolvers() -> list[str]:
    return [name for name, cls in registry().items() if cls().available_locally()]


def run_on(server: str | None, backend: str, resolvers: list[str]) -> tuple[RunResult, list[Lab]]:
    labs: list[Lab] = []
    result = run(quickstart(server), resolvers, backend, on_lab=labs.append)
    return result, labs


@requires_netns
@needs_servers
def test_quickstart_gives_the_builtin_verdicts_on_every_real_server() -> None:
    resolvers = installed_resolvers()
    builtin, _ = run_on(None, "netns", resolvers)
    assert builtin.exit_code == 0
    for server in REAL:
        result, labs = run_on(server, "netns", resolvers)
        assert cells(result) == cells(builtin), server
        lab = labs[0]
        # every zone really was on the real server: each host ran its daemon and says which version
        assert {s.software for s in lab.topology.servers.values()} == {server}
        adapter = get_server(server)
        for name in lab.topology.servers:
            assert lab.servers[name].spec.argv[0] == adapter.binary
            assert re.match(rf"{server} \d+\.\d+", result.servers[name]), result.servers[name]
        assert lab.sanitised == {}


MIXED = """\
name: mixed-hierarchy
summary: the root on BIND, jp. on NSD, example.jp. on Knot DNS; insecure.jp. stays on the builtin server
zones:
  .: {server: bind}
  jp.: {server: nsd}
  example.jp.: {server: knot}
faults:
  - fault: rrsig-missing
    zone: example.jp.
    rrset: www.example.jp./A
checks:
  - query: mail.example.jp. A
    expect: secure
  - query: www.example.jp. A
    expect: bogus
  - query: www.insecure.jp. A
    expect: insecure
"""


@requires_netns
@needs_servers
def test_a_mixed_hierarchy_runs_each_zone_on_its_own_software(tmp_path: Path) -> None:
    path = tmp_path / "mixed.yaml"
    path.write_text(MIXED)
    scenario = load_scenario(path, known_faults=fault_params(), known_resolvers=registry())
    labs: list[Lab] = []
    result = run([scenario], ["unbound"], "netns", on_lab=labs.append)
    assert [v.status for v in result.verdicts] == ["pass", "pass", "pass"], [v.reason for v in result.verdicts]
    servers = labs[0].topology.servers
    software = {zone: servers[host].software for host in servers for zone in servers[host].zones}
    assert software == {".": "bind", "jp.": "nsd", "co.jp.": "builtin", "example.jp.": "knot",
                        "insecure.jp.": "builtin", "example.co.jp.": "builtin"}
    # example.jp. left the preset's shared child host for one of its own
    assert servers["child-knot"].zones == ("example.jp.",)


SILENT = """\
name: silent-on-nsd
zones:
  jp.: {server: nsd}
faults:
  - fault: server-silent
    zone: jp.
checks:
  - query: www.example.jp. A
    expect: servfail
"""


@requires_netns
@needs_servers
def test_a_server_behaviour_fault_on_a_real_server_is_not_judged(tmp_path: Path) -> None:
    path = tmp_path / "silent.yaml"
    path.write_text(SILENT)
    scenario = load_scenario(path, known_faults=fault_params(), known_resolvers=registry())
    result = run([scenario, *quickstart()[:1]], ["unbound"], "netns")
    first, *rest = result.verdicts
    assert first.status == "error"
    assert "the server cannot express this fault" in first.reason and "NSD" in first.reason
    # the next scenario of the run is judged as usual
    assert rest and all(v.status in ("pass", "xfail") for v in rest)


@pytest.mark.docker
@pytest.mark.skipif(not docker_available(), reason="no Docker daemon")
def test_quickstart_on_nsd_in_docker_matches_netns_builtin() -> None:
    docker, labs = run_on("nsd", "docker", ["unbound"])
    assert docker.exit_code == 0, [v.reason for v in docker.verdicts if v.status not in ("pass", "xfail")]
    assert all(r.startswith("nsd 4.") for r in docker.servers.values()) and docker.servers
    statuses = {v.status for v in docker.verdicts}
    assert statuses <= {"pass", "xfail"}


@requires_netns
@needs_servers
def test_a_fault_nsd_repairs_is_reported_as_sanitised_not_judged() -> None:
    # NSD sends no RRSIG at all for a zone without a DNSKEY RRset: the resolvers never see the fault as built
    path = ROOT / "scenarios" / "conformance" / "dnskey" / "dnskey-rrset-missing.yaml"
    scenario = replace(load_scenario(path, known_faults=fault_params(), known_resolvers=registry()), server="nsd")
    result = run([scenario], ["unbound"], "netns")
    status = {v.check.qname: v.status for v in result.verdicts}
    # the check in the sanitised zone is not judged; the sibling tree on the same server still is
    assert status == {"www.example.jp.": "error", "www.example.co.jp.": "pass"}
    reason = result.verdicts[0].reason
    assert reason.startswith("the server sanitised the fault: NSD on child served example.jp. otherwise than built")
    assert "served 0 RRSIG(s)" in reason
