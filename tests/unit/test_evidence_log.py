"""Reading a resolver's log for one check: the lines after the mark, waiting for the reason line, and saying so
when the log cannot be read. A stand-in lab whose log grows like a resolver's; no network."""

from __future__ import annotations

import threading
import time

from testbed.run.evidence import LOG_EXCERPT_CHARS, REASON_LINES, excerpt, log_mark, read_log


class GrowingLog:
    """A lab whose resolver's log gains its reason line a little after the answer (docker's log stream)."""

    def __init__(self, before: str, later: str, delay: float) -> None:
        self.text = before
        self._later, self._delay = later, delay

    def start(self) -> None:
        def grow() -> None:
            time.sleep(self._delay)
            self.text += self._later
        threading.Thread(target=grow, daemon=True).start()

    def resolver_log(self, name: str) -> str:
        return self.text


class Unreadable:
    def resolver_log(self, name: str) -> str:
        raise OSError("container gone")


def test_only_lines_after_the_mark_and_the_late_reason_line():
    lab = GrowingLog("start of service\n", "info: validation failure <www.example.jp. A IN>: expired\n", 0.3)
    mark = log_mark(lab, "unbound")  # type: ignore[arg-type]
    lab.start()
    text, readable = read_log(lab, "unbound", "unbound", mark, want_reason=True)  # type: ignore[arg-type]
    assert readable and "validation failure" in text and "start of service" not in text


def test_an_unreadable_log_says_so():
    lab = Unreadable()
    assert log_mark(lab, "bind") is None  # type: ignore[arg-type]
    text, readable = read_log(lab, "bind", "bind", None)  # type: ignore[arg-type]
    assert not readable and "could not be read" in text
    text, readable = read_log(lab, "bind", "bind", 0)  # type: ignore[arg-type]
    assert not readable and "container gone" in text


def test_a_silent_resolver_is_named():
    lab = GrowingLog("x\n", "", 0)
    text, readable = read_log(lab, "pdns", "pdns", 2)  # type: ignore[arg-type]
    assert readable and text == "pdns wrote nothing to its log while answering this check"


def test_a_long_trace_keeps_its_reason_lines():
    trace = "".join(f"[3] step {i} of the trace\n" for i in range(2000))
    text = trace[:20000] + 'msg="Validates as Bogus" qname="www.example.jp"\n' + trace[20000:]
    short = excerpt(text, REASON_LINES["pdns"])
    assert len(short) <= LOG_EXCERPT_CHARS and "Validates as Bogus" in short and short.endswith("trace\n")
