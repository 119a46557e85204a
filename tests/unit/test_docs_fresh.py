"""The generated pages under docs/ match what they describe: faults.md the registry, conformance.md the suite.

When one of these fails, regenerate: `testbed docs faults`, and for the matrix a full run
(`testbed run scenarios/conformance --resolver all --backend netns --json /tmp/conf.json`) then
`testbed docs conformance /tmp/conf.json`; commit the pages.
"""

from __future__ import annotations

import difflib
import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

from testbed.cli.docs_gen import conformance_markdown, faults_markdown, suite_files, suite_path
from testbed.faults import registry
from testbed.report.json_report import run_document
from testbed.run.checks import evaluate
from testbed.run.observation import Observation
from testbed.scenario.model import Check, Expectation, Override
from tests.conftest import ROOT

DOCS = ROOT / "docs"
SUITE = ROOT / "scenarios" / "conformance"
MATRIX_LINK = re.compile(r"\]\(\.\./scenarios/conformance/([^)]+)\)")


def scenario_name(relative: str) -> str:
    """The name a suite file gives itself (read plainly, so a file being written right now cannot break this)."""
    try:
        data = yaml.safe_load((SUITE / relative).read_text(encoding="utf-8"))
        return str(data.get("name", relative)) if isinstance(data, dict) else relative
    except (OSError, yaml.YAMLError):
        return relative


def test_faults_md_is_the_registry() -> None:
    committed = (DOCS / "faults.md").read_text(encoding="utf-8")
    fresh = faults_markdown(registry())
    if committed != fresh:
        diff = difflib.unified_diff(committed.splitlines(), fresh.splitlines(), "docs/faults.md", "registry",
                                    lineterm="", n=0)
        shown = "\n".join(list(diff)[:40])
        raise AssertionError(f"docs/faults.md is stale: run `testbed docs faults` and commit it.\n{shown}")


def test_conformance_md_has_a_row_for_every_suite_scenario() -> None:
    listed = set(MATRIX_LINK.findall((DOCS / "conformance.md").read_text(encoding="utf-8")))
    on_disk = suite_files(SUITE)
    assert on_disk, "no scenario files under scenarios/conformance"
    missing = [f"{f} ({scenario_name(f)})" for f in on_disk if f not in listed]
    assert not missing, ("docs/conformance.md has no row for: " + ", ".join(missing) +
                         ". Rerun the suite and `testbed docs conformance RESULT.json`.")
    gone = sorted(listed - set(on_disk))
    assert not gone, "docs/conformance.md lists scenario files that no longer exist: " + ", ".join(gone)


def test_cli_writes_the_same_faults_page(tmp_path: Path) -> None:
    out = tmp_path / "faults.md"
    proc = subprocess.run([sys.executable, "-m", "testbed.cli.main", "docs", "faults", "-o", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert out.read_text(encoding="utf-8") == faults_markdown(registry())


def test_faults_page_lists_every_fault_once_with_its_metadata() -> None:
    faults = registry()
    page = faults_markdown(faults)
    assert f"**{len(faults)} faults**" in page
    for fault in faults.values():
        rows = [line for line in page.splitlines() if line.startswith(f"| `{fault.id}` |")]
        assert len(rows) == 1, fault.id
        assert f"| {fault.layer} |" in rows[0]
        for case in fault.cases:
            assert case in rows[0]
    for group in {f.group for f in faults.values()}:
        assert f"\n## {group}\n" in page


# ---- the conformance page from a result JSON ------------------------------------------------------------------------

def test_conformance_page_from_a_result_json(tmp_path: Path) -> None:
    bogus = Observation("SERVFAIL", False, [], [], "NOERROR", ["192.0.2.80"])
    secure = Observation("NOERROR", True, [], ["192.0.2.25"])
    override = Override("bind", Expectation("bogus", ede=()), "BIND 9.18 sends no DNSSEC EDE | codes")
    expired = Check("www.example.jp.", "A", Expectation("bogus", ede=(7,)), (override,))
    mail = Check("mail.example.jp.", "A", Expectation("secure"))
    sig = Path("/work/x/scenarios/conformance/signatures/rrsig-expired.yaml")
    den = Path("scenarios/conformance/denial/nsec-missing.yaml")
    verdicts = [
        evaluate(expired, "bind", bogus, scenario="rrsig-expired", file=sig),      # xfail
        evaluate(mail, "bind", secure, scenario="rrsig-expired", file=sig),        # pass
        evaluate(expired, "unbound", bogus, scenario="rrsig-expired", file=sig),   # fail: no EDE 7
        evaluate(mail, "unbound", secure, scenario="nsec-missing", file=den),      # pass; bind did not run it
    ]
    document = json.loads(json.dumps(run_document(verdicts, "netns", [("bind", "9.18.49"), ("unbound", "1.17.1")])))
    page = conformance_markdown(document, "2025-01-02 03:04 UTC")

    assert "Measured on 2025-01-02 03:04 UTC with backend **netns**" in page
    assert "| bind | 9.18.49 | 1 | 1 | 0 | 0 |" in page and "| unbound | 1.17.1 | 1 | 0 | 1 | 0 |" in page
    assert "| [rrsig-expired](../scenarios/conformance/signatures/rrsig-expired.yaml) | ✓1 ≈1 | ✗ |" in page
    assert "| [nsec-missing](../scenarios/conformance/denial/nsec-missing.yaml) | – | ✓ |" in page
    assert page.index("## denial") < page.index("## signatures")
    assert "### bind: 1" in page and "- BIND 9.18 sends no DNSSEC EDE | codes (1 check: rrsig-expired)" in page
    assert "### unbound: 0" in page
    assert "**fail** rrsig-expired [unbound] www.example.jp. A: expected EDE one of [7]" in page
    assert set(MATRIX_LINK.findall(page)) == {"signatures/rrsig-expired.yaml", "denial/nsec-missing.yaml"}


def test_suite_path_names_files_inside_the_suite_only() -> None:
    assert suite_path("scenarios/conformance/nsec3/opt-out.yaml") == "nsec3/opt-out.yaml"
    assert suite_path("/abs/conformance/x/conformance/a/b.yaml") == "a/b.yaml"
    assert suite_path("scenarios/quickstart/secure-a.yaml") is None
    assert suite_path(None) is None
