"""Signals while labs exist: creation is never cut between "made" and "registered", teardown always runs to the end.

The first SIGINT, SIGTERM or SIGHUP becomes a KeyboardInterrupt, as Ctrl-C always was, so the run unwinds and
every lab's teardown runs. Two kinds of section change that:

- ``creating()``: a step that makes something (a namespace, a process, a container) and records it where
  teardown will find it. A signal there is held until the step is done, then raised.
- ``tearing_down()``: a lab's teardown. A signal there is never raised: teardown goes on. If it was the first
  signal, the run stops as interrupted once teardown is over.

Every signal after the first is only counted: the second prints "still tearing down, please wait", the third
aborts at once and says exactly what is left and that ``testbed down --all`` removes it.

The CLI installs the handler for the whole run (``install``). A library caller (the pytest plugin) gets it for the
length of each section when the section starts in the main thread; signal handlers can be set from no other thread.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# A run still outside any teardown this long after its KeyboardInterrupt was raised did not get it (the unwinding
# from a raise to the teardown of the labs takes microseconds on one thread)
SWALLOWED_AFTER = 1.0
STILL_TEARING_DOWN = "still tearing down, please wait (once more aborts and leaves the lab behind)"

Leftovers = Callable[[], list[str]]


class _State:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.creating = 0                  # open creation sections, all threads
        self.tearing_down = 0              # open teardown sections, all threads
        self.pending: int | None = None    # a signal held back by a section, to raise when the last one closes
        self.interrupted = False           # the first signal has been turned into a KeyboardInterrupt (or is held)
        self.extra = 0                     # signals after the first
        self.raised_at = 0.0               # when the first signal was raised as a KeyboardInterrupt
        self.installed = False             # the handler is ours for the whole process (the CLI)
        self.before_install: dict[int, Any] = {}
        self.saved: dict[int, Any] = {}    # handlers a section replaced for its length (library callers)
        self.labs: dict[str, Leftovers] = {}        # open labs: id -> what of it exists now
        self.opened: list[str] = []                 # every lab this process opened
        self.left: dict[str, list[str]] = {}        # labs whose teardown did not remove everything


_state = _State()


def _say(text: str) -> None:
    with contextlib.suppress(Exception):
        sys.stderr.write(text + "\n")
        sys.stderr.flush()


def _on_signal(signum: int, frame: FrameType | None) -> None:
    state = _state
    idle = state.creating == 0 and state.tearing_down == 0
    if state.interrupted and idle and state.raised_at and time.monotonic() - state.raised_at > SWALLOWED_AFTER:
        # The KeyboardInterrupt raised for the first signal was swallowed (raised inside a __del__ or a weakref
        # callback, Python only prints it), since the run goes on outside any teardown: start over.
        state.interrupted, state.extra = False, 0
    if not state.interrupted:
        state.interrupted = True
        if idle:
            state.raised_at = time.monotonic()
            raise KeyboardInterrupt
        state.pending = signum
        if state.tearing_down:
            _say("interrupted: tearing the lab down, please wait")
        return
    state.extra += 1
    if state.extra == 1:
        _say(STILL_TEARING_DOWN)
        return
    _say(abort_message())
    os._exit(128 + signum)


def abort_message() -> str:
    """What a third signal leaves behind: every part of every open lab that still exists, and the remedy."""
    lines = []
    for lab_id, leftovers in list(_state.labs.items()):
        try:
            parts = leftovers()
        except Exception as exc:  # noqa: BLE001 - the message must come out whatever a probe of the lab does
            parts = [f"(could not list it: {exc})"]
        if parts:
            lines.append(f"  lab {lab_id}: " + ", ".join(parts))
    if not lines:
        return "aborted; nothing of the lab was left"
    return "aborted while tearing down; left behind:\n" + "\n".join(lines) + \
        "\n`testbed down --all` removes it."


def install() -> None:
    """Make the handler the process's own for SIGINT, SIGTERM and SIGHUP (the CLI, from the main thread), until
    ``uninstall`` (or ``ignore``, when the process is about to exit)."""
    _state.before_install = {sig: signal.signal(sig, _on_signal) for sig in SIGNALS}
    _state.installed = True
    _state.interrupted, _state.extra, _state.pending, _state.raised_at = False, 0, None, 0.0


def uninstall() -> None:
    """Give the signals back to the handlers ``install`` found (a CLI run inside a test session ends)."""
    if _state.installed:
        for sig, handler in _state.before_install.items():
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(sig, handler)
        _state.installed = False
    _state.interrupted, _state.extra, _state.pending, _state.raised_at = False, 0, None, 0.0


def ignore() -> None:
    """Ignore the signals from now on (the process is exiting, with nothing left to tear down)."""
    for sig in SIGNALS:
        with contextlib.suppress(ValueError, OSError):
            signal.signal(sig, signal.SIG_IGN)


def _enter(kind: str) -> bool:
    """Count a section in; returns whether this call put the handler in place (and must take it out)."""
    with _state.lock:
        took_over = (not _state.installed and not _state.saved and _state.creating + _state.tearing_down == 0
                     and threading.current_thread() is threading.main_thread())
        if took_over:
            _state.saved = {sig: signal.signal(sig, _on_signal) for sig in SIGNALS}
            # no other section is open and no run owns the handler: nothing can be pending from before
            _state.interrupted, _state.extra, _state.pending, _state.raised_at = False, 0, None, 0.0
        setattr(_state, kind, getattr(_state, kind) + 1)
        return took_over


def _leave(kind: str, took_over: bool) -> None:
    with _state.lock:
        setattr(_state, kind, getattr(_state, kind) - 1)
        if _state.creating or _state.tearing_down or _state.pending is None:
            pending = None
        else:
            pending, _state.pending = _state.pending, None
        if took_over:
            for sig, handler in _state.saved.items():
                signal.signal(sig, handler)
            _state.saved = {}
    if pending is None:
        return
    if took_over:
        # a library caller: its own handler decides what the signal does, now that the section is over
        signal.raise_signal(pending)
    else:
        raise KeyboardInterrupt


@contextlib.contextmanager
def creating() -> Iterator[None]:
    """Hold signals until what this block makes is recorded where teardown finds it."""
    took_over = _enter("creating")
    try:
        yield
    finally:
        _leave("creating", took_over)


@contextlib.contextmanager
def tearing_down() -> Iterator[None]:
    """Never let a signal stop this block; the first signal stops the run once the block is over."""
    took_over = _enter("tearing_down")
    try:
        yield
    finally:
        _leave("tearing_down", took_over)


class Steps:
    """Teardown steps that all run: an error or a KeyboardInterrupt in one does not skip the next.

    ``with steps:`` around each step; ``steps.done()`` at the end re-raises the first KeyboardInterrupt or
    SystemExit a step met (ordinary errors are kept in ``errors`` for the caller to report).
    """

    def __init__(self) -> None:
        self.errors: list[BaseException] = []
        self._stop: BaseException | None = None

    def __enter__(self) -> Steps:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> bool:
        if exc is None:
            return False
        if isinstance(exc, Exception):
            self.errors.append(exc)
        elif self._stop is None:
            self._stop = exc
        return True

    def done(self) -> None:
        if self._stop is not None:
            stop, self._stop = self._stop, None
            raise stop


# ---- what this process's labs left ------------------------------------------------------------------------------
def lab_opened(lab_id: str, leftovers: Leftovers) -> None:
    with _state.lock:
        _state.labs[lab_id] = leftovers
        _state.opened.append(lab_id)


def lab_closed(lab_id: str, left: list[str]) -> None:
    with _state.lock:
        _state.labs.pop(lab_id, None)
        if left:
            _state.left[lab_id] = left
        else:
            _state.left.pop(lab_id, None)


def outcome() -> str:
    """One honest sentence on the labs of this process, for the end of an interrupted or failed run."""
    with _state.lock:
        still_open = {lab_id: fn for lab_id, fn in _state.labs.items()}
        left = {lab_id: parts for lab_id, parts in _state.left.items()}
        opened = list(_state.opened)
    for lab_id, leftovers in still_open.items():
        try:
            parts = leftovers()
        except Exception as exc:  # noqa: BLE001
            parts = [f"(could not list it: {exc})"]
        left[lab_id] = parts or ["(not torn down)"]
    if not opened:
        return "no lab was started"
    if not left:
        return "the lab was torn down" if len(opened) == 1 else f"all {len(opened)} labs were torn down"
    what = "; ".join(f"lab {lab_id}: {', '.join(parts)}" for lab_id, parts in left.items())
    return f"NOT everything was torn down, left behind: {what}. `testbed down --all` removes it"


def something_left() -> bool:
    with _state.lock:
        return bool(_state.left or _state.labs)
