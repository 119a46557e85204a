"""The readiness verdict: which phase x resolver cells are broken, READY / NOT READY, and how the console and the
result JSON carry it. Verdicts are made by hand; no network."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from testbed.report import ConsoleReporter, write_json
from testbed.report.console import readiness_lines
from testbed.report.readiness import NOT_READY, READY, readiness
from testbed.run.checks import Verdict, evaluate
from testbed.run.observation import Observation
from testbed.scenario.model import Check, Expectation, Override

SECURE = Observation("NOERROR", True, [], ["192.0.2.80"])
INSECURE = Observation("NOERROR", False, [], ["192.0.2.80"])
BOGUS = Observation("SERVFAIL", False, [(9, "")], [], "NOERROR", ["192.0.2.80"])
SERVFAIL = Observation("SERVFAIL", False, [], [], "SERVFAIL", [])
TIMEOUT = Observation(error="no answer from 10.53.0.101 within 5s")

WWW_SECURE = Check("www.example.jp.", "A", Expectation("secure"))
WWW_BOGUS = Check("www.example.jp.", "A", Expectation("bogus"),
                  (Override("pdns", Expectation("servfail"), "PowerDNS gives up at its recursion limit"),))
TYPO_BOGUS = Check("www.travel.jp.", "A", Expectation("bogus"), readiness="ok")


def at(check: Check, resolver: str, obs: Observation, phase: str | None, scenario: str = "roll") -> Verdict:
    return evaluate(check, resolver, obs, scenario=scenario, file=Path("roll.yaml"), phase=phase)


def test_all_ok_is_ready() -> None:
    grid = readiness([at(WWW_SECURE, r, SECURE, p) for p in ("a", "b") for r in ("unbound", "bind")])
    assert grid is not None and grid.verdict == READY and grid.broken() == []
    assert grid.to_json() == {"roll": {"a": {"unbound": "ok", "bind": "ok"}, "b": {"unbound": "ok", "bind": "ok"}},
                              "verdict": "READY"}
    # insecure is a downgrade, not an outage: a check that expects it and gets it is ok
    downgrade = readiness([at(Check("x.jp.", "A", Expectation("insecure")), "knot", INSECURE, "a")])
    assert downgrade is not None and downgrade.verdict == READY


def test_a_predicted_outage_passes_as_a_check_and_still_breaks_its_cell() -> None:
    verdicts = [at(WWW_SECURE, "unbound", SECURE, "before"), at(WWW_BOGUS, "unbound", BOGUS, "too-early"),
                at(WWW_BOGUS, "pdns", SERVFAIL, "too-early"), at(WWW_SECURE, "pdns", SECURE, "before")]
    assert [v.status for v in verdicts] == ["pass", "pass", "xfail", "pass"]
    grid = readiness(verdicts)
    assert grid is not None and grid.verdict == NOT_READY
    assert grid.to_json()["roll"] == {"before": {"unbound": "ok", "pdns": "ok"},
                                      "too-early": {"unbound": "broken", "pdns": "broken"}}
    assert grid.broken() == [("roll", "too-early", "unbound", ["www.example.jp. A"]),
                             ("roll", "too-early", "pdns", ["www.example.jp. A"])]


def test_failed_and_errored_checks_break_their_cell_whatever_they_observed() -> None:
    wrong = at(Check("www.example.jp.", "A", Expectation("secure", answer=("192.0.2.99",))), "bind", SECURE, "p")
    assert wrong.status == "fail"
    grid = readiness([wrong, at(WWW_SECURE, "knot", TIMEOUT, "p")])
    assert grid is not None and grid.to_json()["roll"]["p"] == {"bind": "broken", "knot": "broken"}


def test_readiness_ok_accepts_a_contained_failure_but_not_a_failed_check() -> None:
    grid = readiness([at(TYPO_BOGUS, "unbound", BOGUS, "wrong-ds"), at(WWW_SECURE, "unbound", SECURE, "wrong-ds")])
    assert grid is not None and grid.verdict == READY
    # 'readiness: ok' excuses the predicted bogus answer, never an answer the check did not predict
    grid = readiness([at(TYPO_BOGUS, "unbound", SECURE, "wrong-ds")])
    assert grid is not None and grid.verdict == NOT_READY


def test_no_timeline_no_readiness(tmp_path: Path) -> None:
    plain = [at(WWW_SECURE, "unbound", SECURE, None)]
    assert readiness(plain) is None
    out = tmp_path / "r.json"
    write_json(out, plain, backend="netns", resolvers=[("unbound", "1.17.1")])
    assert "readiness" not in json.loads(out.read_text())
    reporter = ConsoleReporter(Console(file=io.StringIO(), width=100), live=False)
    assert reporter.readiness(plain) is None


def test_json_and_console_carry_the_grid_and_the_names() -> None:
    verdicts = [at(WWW_SECURE, "unbound", SECURE, "before", "jp-plan-wrong-ds"),
                at(Check("www.travel.jp.", "A", Expectation("bogus")), "unbound", BOGUS, "registrant-wrong-ds",
                   "jp-plan-wrong-ds"),
                at(WWW_SECURE, "unbound", SECURE, "before", "jp-plan"),
                at(TYPO_BOGUS, "unbound", BOGUS, "registrant-wrong-ds", "jp-plan")]
    grid = readiness(verdicts)
    assert grid is not None
    assert grid.to_json() == {
        "jp-plan-wrong-ds": {"before": {"unbound": "ok"}, "registrant-wrong-ds": {"unbound": "broken"}},
        "jp-plan": {"before": {"unbound": "ok"}, "registrant-wrong-ds": {"unbound": "ok"}},
        "verdict": "NOT READY"}
    assert readiness_lines(grid) == [
        "NOT READY", "  jp-plan-wrong-ds / registrant-wrong-ds: unbound broken (www.travel.jp. A)"]
    buffer = io.StringIO()
    reporter = ConsoleReporter(Console(file=buffer, width=100), live=False)
    assert reporter.readiness(verdicts) == NOT_READY
    text = buffer.getvalue()
    assert "readiness: jp-plan-wrong-ds" in text and "readiness: jp-plan" in text
    assert "broken" in text and "NOT READY" in text and "www.travel.jp. A" in text
