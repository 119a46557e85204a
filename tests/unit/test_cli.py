"""The command line on bad input: one paragraph naming file and line, exit 2, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import QUICKSTART, ROOT


def run_testbed(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "testbed.cli.main", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


def test_misspelt_key_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "typo.yaml"
    bad.write_text("name: typo\nsummary: x\nchekcs:\n  - query: www.example.jp. A\n    expect: secure\n")
    for command in ("validate", "run"):
        proc = run_testbed(command, str(bad))
        assert proc.returncode == 2, proc.stderr
        assert f"{bad}:3" in proc.stderr and "chekcs" in proc.stderr and "checks" in proc.stderr
        assert "Traceback" not in proc.stderr


def test_unknown_fault_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "fault.yaml"
    bad.write_text("name: f\nfaults:\n  - fault: rrsig-expird\n    zone: example.jp.\n"
                   "checks:\n  - query: www.example.jp. A\n    expect: bogus\n")
    proc = run_testbed("validate", str(bad))
    assert proc.returncode == 2
    assert f"{bad}:3" in proc.stderr and "rrsig-expird" in proc.stderr and "rrsig-expired" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_fault_missing_a_required_parameter_is_caught_before_any_lab(tmp_path: Path) -> None:
    bad = tmp_path / "param.yaml"
    bad.write_text("name: p\nfaults:\n  - fault: rrsig-expired\n    zone: example.jp.\n"
                   "checks:\n  - query: www.example.jp. A\n    expect: bogus\n")
    proc = run_testbed("build", str(bad), "-o", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert "rrset" in proc.stderr and f"{bad}:3" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_validate_accepts_the_quickstart() -> None:
    proc = run_testbed("validate", str(QUICKSTART))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("ok  ") == len(list(QUICKSTART.glob("*.yaml")))


def test_unknown_resolver_is_a_usage_error() -> None:
    proc = run_testbed("run", str(QUICKSTART / "secure-a.yaml"), "--resolver", "nosuchresolver", "--backend", "netns")
    assert proc.returncode == 2
    assert "nosuchresolver" in proc.stderr and "Traceback" not in proc.stderr


def test_faults_json_lists_every_fault_with_group_reference_and_expectation() -> None:
    proc = run_testbed("faults", "--json")
    assert proc.returncode == 0, proc.stderr
    catalog = json.loads(proc.stdout)
    ids = {f["id"] for f in catalog}
    assert {"rrsig-expired", "rrsig-not-yet-valid", "rrsig-missing", "ds-digest-mismatch"} <= ids
    for f in catalog:
        assert f["group"] and f["reference"].startswith("RFC") and f["expect"]["outcome"]
