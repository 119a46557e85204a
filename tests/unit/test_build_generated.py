"""``delegations: N`` on a zone: a registry-sized zone generated at build time, deterministic, signed on the text
path, and checked by the loader like every other zone setting."""

from __future__ import annotations

from pathlib import Path

import dns.name
import dns.rdatatype
import dns.zone
import pytest

from testbed.build.topology import plan
from testbed.build.zones import KeyStore, prepare, sign_all
from testbed.clock import LabClock
from testbed.errors import TestbedError
from testbed.scenario import load_scenario

SCENARIO = """name: big-jp
summary: jp. with generated delegations
reference: RFC 5155 section 6
zones:
  jp.:
    delegations: {count}
    signing: {{denial: nsec3, nsec3: {{opt_out: true}}}}
checks:
  - query: www.example.jp. A
    expect: secure
"""


def write(tmp_path: Path, count: object) -> Path:
    path = tmp_path / "big.yaml"
    path.write_text(SCENARIO.format(count=count))
    return path


def jp_text(tmp_path: Path, count: int) -> tuple[str, str]:
    scenario = load_scenario(write(tmp_path, count))
    ctx = prepare(plan(scenario, []), LabClock(), KeyStore(), serial=1)
    unsigned = ctx.zones["jp."].text()
    sign_all(ctx)
    return unsigned, ctx.zones["jp."].text()


def test_generated_delegations_are_deterministic_and_signed_with_opt_out(tmp_path):
    unsigned, signed = jp_text(tmp_path, 2000)
    assert unsigned == jp_text(tmp_path, 2000)[0]
    zone = dns.zone.from_text(signed, origin="jp.", relativize=False, check_origin=False)
    origin = dns.name.from_text("jp.")
    cuts = [name for name, node in zone.nodes.items()
            if name != origin and node.get_rdataset(1, dns.rdatatype.NS) is not None]
    assert len(cuts) == 2000 + 3                                    # generated, plus the preset's three children
    with_ds = [name for name in cuts if zone.nodes[name].get_rdataset(1, dns.rdatatype.DS) is not None]
    assert 130 < len(with_ds) < 280                                 # about 10 %, plus the preset's signed children
    nsec3 = [name for name, node in zone.nodes.items() if node.get_rdataset(1, dns.rdatatype.NSEC3) is not None]
    assert len(nsec3) == len(with_ds) + 3       # opt-out: the secure cuts, the apex, ns1.jp. and ns2.jp. only
    assert zone.get_rdataset("example.jp.", dns.rdatatype.NS) is not None  # the preset's own children stay


@pytest.mark.parametrize("count", ["-1", "lots", "5000001"])
def test_bad_delegation_counts_name_the_line(tmp_path, count):
    with pytest.raises(TestbedError) as info:
        load_scenario(write(tmp_path, count))
    assert info.value.line == 6 and "delegations" in str(info.value)
