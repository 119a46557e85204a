"""Bring-your-own resolvers run end to end: an adapter file and a binary= spec, each on real daemons (netns).

The runner still takes resolver names, so the custom adapter is put into the pool in place of the stock one
under the same name; the CLI wiring will hand adapters to the runner directly.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from testbed.resolvers import ResolverAdapter
from testbed.resolvers.custom import parse_resolver_spec
from testbed.run.runner import LabPool, run
from testbed.scenario import load_paths
from tests.conftest import QUICKSTART
from tests.integration.test_resolvers_quickstart import judge, netns_problem

pytestmark = pytest.mark.integration


def run_custom(adapter: ResolverAdapter, base: str) -> None:
    scenarios = load_paths([QUICKSTART / "secure-a.yaml", QUICKSTART / "bogus-ds.yaml",
                            QUICKSTART / "insecure-child.yaml"])
    with LabPool("netns", [base]) as pool:
        pool.adapters[base] = adapter
        result = run(scenarios, [base], "netns", pool=pool)
        running = next(iter(pool.labs.values())).resolvers[base]
        assert running.adapter is adapter
    problems = judge(result.verdicts)
    assert not problems, "\n".join(problems)
    assert result.resolvers[base][0].isdigit()


def test_adapter_file_with_own_commands_runs_the_quickstart(tmp_path: Path) -> None:
    problem = netns_problem("knot")
    if problem:
        pytest.skip(problem)
    kresd = shutil.which("kresd")
    spec = tmp_path / "kresd-own.yaml"
    # every command spelled out, as for a private build: the config still comes from the knot adapter
    spec.write_text(f"""\
name: knot
base: knot
binary: {kresd}
command: ["{{binary}}", "-n", "-c", "{{folder}}/kresd.conf", "{{folder}}"]
version: ["{{binary}}", "-V"]
""")
    adapter = parse_resolver_spec(str(spec))
    assert adapter.command.__qualname__.startswith("_Customised")
    run_custom(adapter, "knot")


def test_binary_spec_runs_the_quickstart() -> None:
    problem = netns_problem("pdns")
    if problem:
        pytest.skip(problem)
    binary = shutil.which("pdns_recursor")
    run_custom(parse_resolver_spec(f"pdns:binary={binary}"), "pdns")
