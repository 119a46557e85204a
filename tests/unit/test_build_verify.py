"""Every zone `testbed build` signs passes an independent verifier (ldns-verify-zone), and a signature fault is
visible to it in exactly the zone it was put in."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from testbed.scenario import load_scenario
from tests.conftest import QUICKSTART, ROOT

pytestmark = pytest.mark.skipif(shutil.which("ldns-verify-zone") is None, reason="needs ldnsutils")

NO_FAULT = sorted(p.name for p in QUICKSTART.glob("*.yaml") if not load_scenario(p).faults)
SIGNATURE_FAULTS = {"expired-rrsig.yaml": "example.jp.zone", "not-yet-valid-rrsig.yaml": "example.jp.zone",
                    "missing-rrsig.yaml": "example.jp.zone"}
UNSIGNED = {"insecure.jp.zone"}


def build(scenario: str, out: Path) -> list[Path]:
    proc = subprocess.run([sys.executable, "-m", "testbed.cli.main", "build", str(QUICKSTART / scenario),
                           "-o", str(out)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    zones = sorted((out / "zones").glob("*.zone"))
    assert len(zones) == 6
    return zones


def verify(zone: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ldns-verify-zone", str(zone)], capture_output=True, text=True, timeout=60)


def test_there_are_no_fault_scenarios_to_check() -> None:
    assert len(NO_FAULT) >= 5


@pytest.mark.parametrize("scenario", NO_FAULT)
def test_every_signed_zone_of_a_no_fault_scenario_verifies(scenario: str, tmp_path: Path) -> None:
    for zone in build(scenario, tmp_path):
        text = zone.read_text()
        if zone.name in UNSIGNED:
            assert " RRSIG " not in text and " DNSKEY " not in text       # an unsigned zone stays unsigned
            continue
        proc = verify(zone)
        assert proc.returncode == 0 and "Zone is verified and complete" in proc.stdout, \
            f"{zone.name}: {proc.stdout}{proc.stderr}"


@pytest.mark.parametrize("scenario", sorted(SIGNATURE_FAULTS))
def test_a_signature_fault_breaks_only_its_zone(scenario: str, tmp_path: Path) -> None:
    for zone in build(scenario, tmp_path):
        if zone.name in UNSIGNED:
            continue
        proc = verify(zone)
        if zone.name == SIGNATURE_FAULTS[scenario]:
            assert proc.returncode != 0, f"{zone.name} should fail verification for {scenario}"
        else:
            assert proc.returncode == 0, f"{zone.name}: {proc.stdout}{proc.stderr}"


def test_build_writes_keys_ds_trust_anchor_and_resolver_config(tmp_path: Path) -> None:
    build("secure-a.yaml", tmp_path)
    anchor = (tmp_path / "trust-anchor.ds").read_text()
    assert anchor.startswith(". IN DS ") and " 13 2 " in anchor
    assert sorted(p.name for p in (tmp_path / "ds").iterdir()) == ["dsset-co.jp.", "dsset-example.co.jp.",
                                                                    "dsset-example.jp.", "dsset-jp.", "dsset-root."]
    assert len(list((tmp_path / "keys").glob("K*.private"))) == 10      # KSK + ZSK for 5 signed zones
    unbound_conf = (tmp_path / "resolvers" / "unbound" / "unbound.conf").read_text()
    assert "trust-anchor-file" in unbound_conf and "auto-trust-anchor-file" not in unbound_conf
    # the anchor given to the resolver is the root KSK's DS the build wrote
    assert (tmp_path / "resolvers" / "unbound" / "root-anchor.ds").read_text().strip() == anchor.strip()
