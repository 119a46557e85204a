"""Bring your own signer: dnssec-signzone, ldns-signzone and kzonesign sign example.jp. with the lab's keys and
policy (NSEC3 with a salt for one of them), their output passes the independent check, and every installed
resolver validates it; a tool that leaves an RRset unsigned is caught before anything is served.

Cost: one netns lab per tool run (three scenarios share it), about 6 s.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import dns.zone
import pytest

from testbed.build.signers import verify_signed
from testbed.faults import fault_params
from testbed.resolvers import registry
from testbed.run.runner import run
from testbed.scenario import load_scenario
from tests.conftest import requires_netns

pytestmark = [pytest.mark.integration, requires_netns]
TOOLS = ("dnssec-signzone", "ldns-signzone", "kzonesign")

SCENARIO = """\
name: signed-by-{tool}
summary: example.jp. signed by {tool} with the lab's keys
zones:
  example.jp.:
    signer: {tool}
    signing: {signing}
checks:
  - query: www.example.jp. A
    expect: secure
    answer: ["192.0.2.80"]
  - query: nosuchname.example.jp. A
    expect: secure
    rcode: NXDOMAIN
"""


@pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS), reason="a signer tool is not installed")
def test_each_real_signer_output_validates_on_every_resolver(tmp_path: Path) -> None:
    scenarios = []
    for tool, signing in zip(TOOLS, ("{denial: nsec}", "{denial: nsec3, nsec3: {salt: ab12}}", "{keys: csk}"),
                             strict=True):
        path = tmp_path / f"{tool}.yaml"
        path.write_text(SCENARIO.format(tool=tool, signing=signing))
        scenarios.append(load_scenario(path, known_faults=fault_params(), known_resolvers=registry()))
    names = [name for name, cls in registry().items() if cls().available_locally()]
    result = run(scenarios, names, "netns")
    bad = [f"{v.scenario} {v.resolver} {v.check.query_text}: {v.status} {v.reason}" for v in result.verdicts
           if v.status not in ("pass", "xfail")]
    assert not bad, "\n".join(bad)
    assert len(result.verdicts) == 2 * len(TOOLS) * len(names)


def test_the_independent_check_finds_an_unsigned_rrset() -> None:
    zone = dns.zone.from_text(
        "$ORIGIN x.\n@ 300 IN SOA ns h 1 2 3 4 5\n@ 300 IN NS ns\n"
        "@ 300 IN DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+"
        "KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==\n"
        "ns 300 IN A 192.0.2.1\n", origin="x.", relativize=False)
    assert verify_signed(zone) == "x./SOA has no RRSIG"
