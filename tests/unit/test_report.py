"""Reports: the JSON keys DESIGN.md promises, JUnit XML that CI parsers accept, console output on and off a TTY."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from rich.console import Console

from testbed import __version__
from testbed.report import ConsoleReporter, summary_line, write_json, write_junit
from testbed.run.checks import Verdict, evaluate
from testbed.run.observation import Observation
from testbed.scenario.model import Check, Expectation, Override

BIND_OVERRIDE = Override("bind", Expectation("bogus", ede=()), "BIND 9.18 sends no DNSSEC EDE codes", "ISC KB")
BOGUS_CHECK = Check("www.example.jp.", "A", Expectation("bogus", ede=(7,)), (BIND_OVERRIDE,),
                    reference="RFC 4035 section 5.3.1")
SECURE_CHECK = Check("mail.example.jp.", "A", Expectation("secure", answer=("192.0.2.25",)), reference="RFC 4035 5")

BOGUS_7 = Observation("SERVFAIL", False, [(7, "signature expired")], [], "NOERROR", ["192.0.2.80"])
BOGUS_NONE = Observation("SERVFAIL", False, [], [], "NOERROR", ["192.0.2.80"])
SECURE = Observation("NOERROR", True, [], ["192.0.2.25"])
TIMEOUT = Observation(error="no answer from 10.53.0.102 within 5s")


def verdicts() -> list[Verdict]:
    expired = {"scenario": "expired-rrsig", "file": Path("scenarios/quickstart/expired-rrsig.yaml")}
    nsec3 = {"scenario": "nsec3-optout", "file": Path("scenarios/conformance/nsec3/opt-out.yaml"), "phase": "after"}
    return [
        evaluate(BOGUS_CHECK, "unbound", BOGUS_7, duration_ms=12.0, **expired),      # pass
        evaluate(BOGUS_CHECK, "bind", BOGUS_NONE, duration_ms=8.0, **expired),       # xfail
        evaluate(SECURE_CHECK, "unbound", BOGUS_7, duration_ms=5.0, **expired),      # fail
        evaluate(SECURE_CHECK, "bind", TIMEOUT, duration_ms=5000.0, **nsec3),        # error
        evaluate(SECURE_CHECK, "unbound", SECURE, duration_ms=3.0, **nsec3),         # pass
    ]


RESOLVERS = [("unbound", "1.19.2"), ("bind", "9.18.28")]


def test_statuses_of_the_fixture() -> None:
    assert [v.status for v in verdicts()] == ["pass", "xfail", "fail", "error", "pass"]


# ---- JSON ----------------------------------------------------------------------------------------------------------

def test_json_follows_design_md(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    write_json(out, verdicts(), backend="netns", resolvers=RESOLVERS)
    doc = json.loads(out.read_text())
    # "readiness" is there because the fixture has timeline verdicts (a phase); see test_timeline_readiness.py
    assert set(doc) == {"version", "backend", "resolvers", "results", "summary", "readiness"}
    assert doc["readiness"] == {"nsec3-optout": {"after": {"bind": "broken", "unbound": "ok"}}, "verdict": "NOT READY"}
    assert doc["version"] == __version__ and doc["backend"] == "netns"
    assert doc["resolvers"] == [{"name": "unbound", "version": "1.19.2"}, {"name": "bind", "version": "9.18.28"}]
    assert doc["summary"] == {"pass": 2, "fail": 1, "xfail": 1, "error": 1}
    assert len(doc["results"]) == 5
    for result in doc["results"]:
        assert set(result) == {"scenario", "file", "resolver", "phase", "query", "expected", "observed", "outcome",
                               "status", "reason", "duration_ms"}
        assert set(result["expected"]) == {"outcome", "rcode", "ede", "answer"}
        # DESIGN.md's observed object: cd_rcode says what the CD=1 re-query returned (None: not asked)
        assert set(result["observed"]) == {"rcode", "ad", "ede", "answer", "cd_rcode", "cd_answer"}

    first, xfail, fail, error, _ = doc["results"]
    assert first == {
        "scenario": "expired-rrsig", "file": "scenarios/quickstart/expired-rrsig.yaml", "resolver": "unbound",
        "phase": None, "query": "www.example.jp. A",
        "expected": {"outcome": "bogus", "rcode": None, "ede": [7], "answer": None},
        "observed": {"rcode": "SERVFAIL", "ad": False, "ede": [{"code": 7, "text": "signature expired"}],
                     "answer": [], "cd_rcode": "NOERROR", "cd_answer": ["192.0.2.80"]},
        "outcome": "bogus", "status": "pass", "reason": "", "duration_ms": 12.0,
    }
    # the expectation reported is the one used: bind's override
    assert xfail["expected"]["ede"] == [] and xfail["reason"] == "BIND 9.18 sends no DNSSEC EDE codes"
    assert fail["reason"].startswith("expected secure, got bogus")
    assert (error["status"], error["outcome"], error["phase"]) == ("error", "timeout", "after")
    assert error["observed"]["rcode"] is None


def test_json_of_an_empty_run(tmp_path: Path) -> None:
    out = tmp_path / "empty.json"
    write_json(out, [], backend="docker", resolvers=[])
    assert json.loads(out.read_text())["summary"] == {"pass": 0, "fail": 0, "xfail": 0, "error": 0}


# ---- JUnit ---------------------------------------------------------------------------------------------------------

def counts(element: ET.Element) -> tuple[str | None, ...]:
    return tuple(element.get(key) for key in ("tests", "failures", "errors", "skipped"))


def test_junit_suites_cases_and_counts(tmp_path: Path) -> None:
    out = tmp_path / "junit.xml"
    write_junit(out, verdicts(), resolvers=RESOLVERS, backend="netns")
    root = ET.parse(out).getroot()
    assert root.tag == "testsuites"
    assert counts(root) == ("5", "1", "1", "1")

    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == ["quickstart", "nsec3"]   # one per scenario folder, in run order
    quick, nsec3 = suites["quickstart"], suites["nsec3"]
    assert counts(quick) == ("3", "1", "0", "1")
    assert counts(nsec3) == ("2", "0", "1", "0")
    assert float(nsec3.get("time", "0")) == 5.003

    cases = quick.findall("testcase")
    assert [c.get("classname") for c in cases] == ["quickstart"] * 3
    assert cases[0].get("name") == "expired-rrsig [unbound] www.example.jp. A"
    assert cases[0].find("failure") is None and cases[0].find("skipped") is None
    props = {p.get("name"): p.get("value") for p in cases[0].iter("property")}
    assert props == {"resolver": "unbound", "resolver_version": "1.19.2", "reference": "RFC 4035 section 5.3.1",
                     "profile": "defaults"}

    skipped = cases[1].find("skipped")
    assert skipped is not None and skipped.get("message") == "BIND 9.18 sends no DNSSEC EDE codes"
    assert {p.get("name"): p.get("value") for p in cases[1].iter("property")}["reference"] == "ISC KB"
    failure = cases[2].find("failure")
    assert failure is not None and "expected secure, got bogus" in failure.get("message", "")
    assert "observed:" in (failure.text or "")

    error_case = nsec3.findall("testcase")[0]
    assert error_case.get("name") == "nsec3-optout [bind] [after] mail.example.jp. A"
    error = error_case.find("error")
    assert error is not None and "no answer" in error.get("message", "")


def test_junit_carries_log_excerpts_safely(tmp_path: Path) -> None:
    from dataclasses import replace

    failing = replace(verdicts()[2], log_excerpt="error: validation failure \x1b[31m<www.example.jp. A IN>\x00")
    out = tmp_path / "junit.xml"
    write_junit(out, [failing])
    case = ET.parse(out).getroot().find("testsuite/testcase")
    assert case is not None
    assert "validation failure" in (case.findtext("system-out") or "")


# ---- console -------------------------------------------------------------------------------------------------------

def test_console_plain_lines_when_not_a_tty() -> None:
    buffer = io.StringIO()
    reporter = ConsoleReporter(Console(file=buffer, force_terminal=False, width=200))
    with reporter:
        reporter.note("starting lab")
        for verdict in verdicts():
            reporter.add(verdict)
    line = reporter.summary()
    text = buffer.getvalue()
    assert "\x1b[" not in text                      # no colour or cursor codes in logs
    lines = text.splitlines()
    assert lines[0] == "starting lab"
    assert lines[1].startswith("PASS   expired-rrsig  unbound  www.example.jp. A  expected bogus, EDE 7;")
    assert lines[3].startswith("FAIL ") and "(expected secure, got bogus" in lines[3]
    assert "[after] mail.example.jp. A" in lines[4]
    assert line.startswith("2 passed, 1 failed, 1 xfail, 1 error in ") and lines[-1] == line


def test_console_live_table_on_a_terminal() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=160, height=40, color_system="standard")
    reporter = ConsoleReporter(console)
    assert reporter.live_mode
    with reporter:
        for verdict in verdicts():
            reporter.add(verdict)
    reporter.summary(type("RunResult", (), {"verdicts": verdicts()[:2]})())
    text = buffer.getvalue()
    for word in ("scenario", "resolver", "expired-rrsig", "nsec3-optout", "xfail", "error"):
        assert word in text
    assert "1 passed, 0 failed, 1 xfail, 0 errors" in text   # summary of the RunResult it was given
    assert "FAIL   expired-rrsig  unbound  mail.example.jp. A" in text   # reasons listed under the final table


def test_summary_line() -> None:
    assert summary_line([], 1.25) == "0 passed, 0 failed, 0 xfail, 0 errors in 1.2s"
