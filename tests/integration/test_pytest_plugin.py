"""The pytest plugin as a CI pipeline uses it: scenario files as test items, the ``testbed`` fixture, a real lab."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import QUICKSTART, ROOT
from tests.integration.test_resolvers_quickstart import netns_problem

MY_TEST = '''
def test_my_zone(testbed):
    result = testbed.run("{scenario}")
    assert result.verdicts and all(v.status in ("pass", "xfail") for v in result.verdicts)
    assert {{v.profile for v in result.verdicts}} == {{"rfc2026"}}
'''
# the checks of a scenario that is wrong about the world: the item must fail and say which check
WRONG = """name: wrong-expectation
summary: claims a signed name is bogus
checks:
  - query: www.example.jp. A
    expect: bogus
"""


def test_scenario_items_and_the_fixture_run_real_labs_under_a_profile(tmp_path: Path) -> None:
    problem = netns_problem("unbound")
    if problem:
        pytest.skip(problem)
    (tmp_path / "test_mine.py").write_text(MY_TEST.format(scenario=QUICKSTART / "secure-a.yaml"))
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "expired-rrsig.yaml").write_text((QUICKSTART / "expired-rrsig.yaml").read_text())
    (scenarios / "wrong-expectation.yaml").write_text(WRONG)
    junit = tmp_path / "out.xml"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
         "--testbed-scenarios", str(scenarios), "--testbed-backend", "netns", "--testbed-resolver", "unbound",
         "--testbed-profile", "rfc2026", f"--junitxml={junit}", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env={"PYTHONPATH": str(ROOT),
                                                                        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out                      # one item failed, as it must
    assert "1 failed, 2 passed" in out, out
    assert "unbound: www.example.jp. A: fail: expected bogus, got secure" in out, out
    cases = {case.get("name"): case for case in ET.parse(junit).iter("testcase")}
    assert set(cases) == {"test_my_zone", "expired-rrsig", "wrong-expectation"}
    for name in ("expired-rrsig", "wrong-expectation"):
        props = {p.get("name"): p.get("value") for p in cases[name].iter("property")}
        assert props == {"profile": "rfc2026"}, name
