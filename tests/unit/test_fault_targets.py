"""``testbed validate`` knows the planned topology: a fault aimed at a zone, server, name or RRset the scenario
does not have fails at the fault's line, before any build (build/targets.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from testbed.build.targets import check_fault_targets
from testbed.cli.main import known_names
from testbed.errors import ScenarioError
from testbed.faults import fault_params
from testbed.scenario import load_paths, load_scenario

ROOT = Path(__file__).resolve().parents[2]
CHECK = "checks:\n  - query: www.example.jp. A\n    expect: bogus\n"


def _check(tmp_path: Path, fault: str, zones: str = "") -> None:
    path = tmp_path / "s.yaml"
    path.write_text(f"name: targets\n{zones}faults:\n  - fault: {fault}\n{CHECK}")
    check_fault_targets(load_scenario(path, **known_names()), fault_params())


@pytest.mark.parametrize(("fault", "zones"), [
    ("rrsig-expired\n    zone: example.jp.\n    rrset: www.example.jp./A", ""),
    ("rrsig-expired\n    zone: example.jp.\n    rrset: '@/DNSKEY'", ""),
    ("rrsig-expired\n    zone: jp.\n    rrset: example.jp./DS", ""),                  # DS of a signed child
    ("rrsig-expired\n    zone: example.jp.\n    rrset: example.jp./NSEC", ""),        # made by signing
    ("rrsig-expired\n    zone: example.jp.\n    rrset: example.jp./NSEC3PARAM",
     "zones:\n  example.jp.:\n    signing: {denial: nsec3}\n"),
    ("rrsig-expired\n    zone: new.example.jp.\n    rrset: www.new.example.jp./TXT",
     "zones:\n  new.example.jp.:\n    records: ['www 300 TXT hello']\n"),           # a zone the scenario adds
    ("server-latency\n    server: jp-a", ""),
])
def test_targets_the_scenario_has_pass(tmp_path: Path, fault: str, zones: str) -> None:
    _check(tmp_path, fault, zones)


@pytest.mark.parametrize(("fault", "zones", "words"), [
    ("rrsig-expired\n    zone: absent.jp.\n    rrset: www.absent.jp./A", "", ["zone 'absent.jp.'", "example.jp."]),
    ("rrsig-expired\n    zone: example.jp.\n    rrset: www.example.jp./TXT", "", ["www.example.jp./TXT", "A, AAAA"]),
    ("rrsig-expired\n    zone: example.jp.\n    rrset: nowhere.example.jp./A", "", ["no records at nowhere"]),
    ("rrsig-expired\n    zone: example.jp.\n    rrset: www.other.jp./A", "", ["not in zone 'example.jp.'"]),
    ("rrsig-expired\n    zone: jp.\n    rrset: insecure.jp./DS", "", ["insecure.jp./DS"]),  # unsigned child: no DS
    ("rrsig-expired\n    zone: example.jp.\n    rrset: example.jp./NSEC3PARAM", "", ["NSEC3PARAM"]),  # NSEC zone
    ("server-latency\n    server: nosuch", "", ["server 'nosuch'", "jp-a"]),
    ("denial-record-removed\n    zone: example.jp.\n    name: www.elsewhere.", "", ["not in zone"]),
])
def test_targets_the_scenario_lacks_fail_at_the_fault(tmp_path: Path, fault: str, zones: str,
                                                      words: list[str]) -> None:
    with pytest.raises(ScenarioError) as caught:
        _check(tmp_path, fault, zones)
    message = str(caught.value)
    assert caught.value.line == 3 + zones.count("\n") and caught.value.fix
    for word in words:
        assert word in message, message


def test_every_bundled_scenario_passes_the_target_check() -> None:
    signatures = fault_params()
    for scenario in load_paths([ROOT / "scenarios"], **known_names()):
        check_fault_targets(scenario, signatures)


def test_validate_build_catches_what_only_the_build_knows(tmp_path: Path) -> None:
    """An RRSIG fault on an unsigned zone: the RRset is there, but only signing shows there is nothing to break."""
    from testbed.cli.main import cli

    path = tmp_path / "unsigned.yaml"
    path.write_text("name: t\nzones:\n  example.jp.:\n    signing: false\nfaults:\n  - fault: rrsig-expired\n"
                    "    zone: example.jp.\n    rrset: www.example.jp./A\n" + CHECK)
    cli.main(args=["validate", str(path)], prog_name="testbed", standalone_mode=False)
    with pytest.raises(ScenarioError) as caught:
        cli.main(args=["validate", "--build", str(path)], prog_name="testbed", standalone_mode=False)
    assert caught.value.file == str(path) and caught.value.line == 6
    assert "not signed" in str(caught.value)
