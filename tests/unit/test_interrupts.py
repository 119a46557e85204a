"""Signals against creation and teardown sections: held, never cutting a teardown short, and honest at the end."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from testbed.lab import interrupts
from tests.conftest import ROOT


def run_snippet(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True,
                          timeout=30, env={**os.environ, "PYTHONPATH": str(ROOT)})


# Signal handlers are the process's: each test of a section runs in a process of its own, so that what earlier tests
# of the session did to the handlers (a run, a lab in a thread) cannot decide its outcome.
def test_a_signal_during_creation_is_raised_once_the_step_is_done() -> None:
    proc = run_snippet("""
        import signal
        from testbed.lab import interrupts
        # a process started from a background job inherits SIGINT ignored, and Python then leaves it so: give it
        # Python's own handler, as an interactive run has
        signal.signal(signal.SIGINT, signal.default_int_handler)
        done = []
        try:
            with interrupts.creating():
                signal.raise_signal(signal.SIGINT)
                done.append("made")
                done.append("recorded")
        except KeyboardInterrupt:
            print("raised after", done, flush=True)
        else:
            print("never raised", flush=True)
        print("handler given back:", signal.getsignal(signal.SIGINT) is signal.default_int_handler)
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["raised after ['made', 'recorded']", "handler given back: True"]


def test_a_signal_during_teardown_never_stops_it() -> None:
    proc = run_snippet("""
        import signal
        from testbed.lab import interrupts
        seen = []
        signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
        steps_done = []
        with interrupts.tearing_down():
            signal.raise_signal(signal.SIGTERM)
            steps_done.append(1)
            signal.raise_signal(signal.SIGTERM)      # a second one: counted, teardown still goes on
            steps_done.append(2)
        print(steps_done, seen == [signal.SIGTERM])  # handed to the caller's own handler once, afterwards
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[1, 2] True"


def test_steps_all_run_and_the_first_interrupt_comes_back() -> None:
    ran = []
    steps = interrupts.Steps()
    with steps:
        ran.append("a")
        raise KeyboardInterrupt
    with steps:
        ran.append("b")
        raise OSError("busy")
    with steps:
        ran.append("c")
    assert ran == ["a", "b", "c"]
    assert [str(e) for e in steps.errors] == ["busy"]
    with pytest.raises(KeyboardInterrupt):
        steps.done()


def test_second_signal_says_still_tearing_down_and_the_third_says_what_is_left() -> None:
    proc = run_snippet("""
        import os, signal
        from testbed.lab import interrupts
        interrupts.install()
        interrupts.lab_opened("abc123", lambda: ["namespace testbed-abc123-sw", "folder /run/x/abc123"])
        try:
            signal.raise_signal(signal.SIGINT)      # the first: a KeyboardInterrupt, as Ctrl-C always was
        except KeyboardInterrupt:
            with interrupts.tearing_down():
                signal.raise_signal(signal.SIGINT)
                print("teardown goes on", flush=True)
                signal.raise_signal(signal.SIGINT)
                print("not reached", flush=True)
    """)
    assert proc.returncode == 130, proc.stderr
    assert "teardown goes on" in proc.stdout and "not reached" not in proc.stdout
    assert interrupts.STILL_TEARING_DOWN in proc.stderr
    assert "lab abc123: namespace testbed-abc123-sw, folder /run/x/abc123" in proc.stderr
    assert "testbed down --all" in proc.stderr


def test_outcome_says_torn_down_only_when_nothing_is_left() -> None:
    proc = run_snippet("""
        from testbed.lab import interrupts
        print(interrupts.outcome())
        interrupts.lab_opened("aaaaaa", lambda: [])
        interrupts.lab_closed("aaaaaa", [])
        print(interrupts.outcome())
        interrupts.lab_opened("bbbbbb", lambda: ["container testbed-bbbbbb-unbound"])
        print(interrupts.outcome())
        interrupts.lab_closed("bbbbbb", ["network testbed-bbbbbb"])
        print(interrupts.outcome())
    """)
    lines = proc.stdout.splitlines()
    assert lines[0] == "no lab was started"
    assert lines[1] == "the lab was torn down"
    assert "NOT everything" in lines[2] and "container testbed-bbbbbb-unbound" in lines[2]
    assert "network testbed-bbbbbb" in lines[3] and "testbed down --all" in lines[3]


def test_ctrl_c_inside_dnspython_parsing_still_reads_as_interrupted() -> None:
    """dnspython wraps any exception in rdata parsing, KeyboardInterrupt included, in a SyntaxError."""
    import dns.exception

    from testbed.cli.main import _caused_by_interrupt
    from testbed.errors import ScenarioError

    try:
        try:
            with dns.exception.ExceptionWrapper(dns.exception.SyntaxError):
                raise KeyboardInterrupt
        except dns.exception.SyntaxError as exc:
            raise ScenarioError(f"zone jp. does not parse: {exc}") from exc
    except ScenarioError as wrapped:
        assert _caused_by_interrupt(wrapped)
    assert not _caused_by_interrupt(ScenarioError("a real syntax error"))
