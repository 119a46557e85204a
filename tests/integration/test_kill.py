"""Kill test: quickstart runs signalled at random points leave nothing behind, and say so truthfully.

Seeded (TESTBED_KILL_SEED, printed on failure), bounded (12 netns runs, one SIGKILL, one triple SIGINT, and four
docker runs). Other labs run on this machine at the same time, so each run gets a runtime directory of its own
(TESTBED_RUNTIME_DIR) and everything is matched by the lab ids that appeared there: a poller records every lab
folder while the run lives (a folder is made before a lab's first namespace or container and removed after its
last), and leftovers are looked for by those ids only: namespaces, processes started from the folder, the folder;
on docker also containers, networks and firewall rules.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from testbed.lab.backends import docker_firewall
from testbed.lab.backends.docker_env import docker_available
from testbed.lab.backends.netns import leftover_namespaces, processes_under
from testbed.lab.runtime import ENV as RUNTIME_ENV
from tests.conftest import QUICKSTART, ROOT, requires_netns

pytestmark = [pytest.mark.integration, requires_netns]

SEED = int(os.environ.get("TESTBED_KILL_SEED", "20261204"))
VERDICT = ("PASS", "FAIL", "XFAIL", "ERROR")
QUICKSTART_VERDICTS = 18            # the quickstart's checks for one resolver: the last verdict is the 18th


@dataclass
class Run:
    """One ``testbed run`` of the quickstart (unbound only) with a runtime directory of its own."""

    runtime: Path
    backend: str = "netns"
    proc: subprocess.Popen[str] = field(init=False)
    labs: set[str] = field(default_factory=set)
    lines: list[str] = field(default_factory=list)
    verdicts: int = 0

    def __post_init__(self) -> None:
        self.runtime.mkdir(mode=0o700)
        self._stop = threading.Event()
        self._verdict = threading.Condition()
        self.proc = subprocess.Popen([sys.executable, "-m", "testbed.cli.main", "run", str(QUICKSTART),
                                      "--resolver", "unbound", "--backend", self.backend],
                                     cwd=ROOT, env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
        self._threads = [threading.Thread(target=self._poll_labs, daemon=True),
                         threading.Thread(target=self._read, daemon=True)]
        for thread in self._threads:
            thread.start()

    def env(self) -> dict[str, str]:
        return {**os.environ, RUNTIME_ENV: str(self.runtime), "PYTHONPATH": str(ROOT)}

    def _poll_labs(self) -> None:
        while not self._stop.is_set():
            self.labs.update(n for n in os.listdir(self.runtime) if not n.startswith("."))
            time.sleep(0.005)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            if line.startswith(VERDICT):
                with self._verdict:
                    self.verdicts += 1
                    self._verdict.notify_all()
        with self._verdict:
            self._verdict.notify_all()

    def wait_for_verdict(self, count: int, timeout: float = 180) -> bool:
        with self._verdict:
            return self._verdict.wait_for(lambda: self.verdicts >= count or self.proc.poll() is not None,
                                          timeout) and self.verdicts >= count

    def wait_for_lab(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not self.labs and time.monotonic() < deadline and self.proc.poll() is None:
            time.sleep(0.01)

    def signal(self, *signals: signal.Signals, gap: float = 0.0) -> None:
        for i, sig in enumerate(signals):
            if i:
                time.sleep(gap)
            if self.proc.poll() is None:
                self.proc.send_signal(sig)

    def finish(self, timeout: float = 120) -> str:
        self.proc.wait(timeout)
        for thread in self._threads[1:]:
            thread.join(10)
        self._stop.set()
        self._threads[0].join(5)
        self.labs.update(n for n in os.listdir(self.runtime) if not n.startswith("."))
        return "".join(self.lines)

    def leftovers(self) -> list[str]:
        found = []
        for lab_id in sorted(self.labs):
            folder = self.runtime / lab_id
            found += [f"namespace {ns}" for ns in leftover_namespaces(lab_id)]
            found += [f"process {pid} {args}" for pid, args in processes_under(folder)]
            if folder.exists():
                found.append(f"folder {folder}")
            if self.backend == "docker":
                from testbed.lab.backends.docker import lab_resources

                found += lab_resources(lab_id) + docker_firewall.describe(lab_id)
        return found

    def down_all(self) -> str:
        proc = subprocess.run([sys.executable, "-m", "testbed.cli.main", "down", "--all"], cwd=ROOT,
                              env=self.env(), capture_output=True, text=True, timeout=180)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout


def check_honest(run: Run, out: str) -> None:
    """Exit 130 after a signal; "torn down" only when nothing is left, and what is left named when not."""
    left = run.leftovers()
    assert left == [], f"left behind {left}:\n{out}"
    if not run.labs:
        return          # signalled before a lab existed (maybe before Python ran our code): nothing to check
    assert run.proc.returncode in (0, 1, 130), out      # 0/1: the signal came after the run had ended
    assert "Traceback" not in out, out
    if run.proc.returncode == 130:
        assert "interrupted;" in out, out
    if "torn down" in out.split("interrupted;")[-1]:
        assert left == [], f"said torn down, but left {left}:\n{out}"


PLANS = [  # (signals, when): when is a verdict count (0: a random moment from the start) or "last"
    ((signal.SIGINT,), 0), ((signal.SIGTERM,), 0), ((signal.SIGINT, signal.SIGINT), 0),
    ((signal.SIGINT,), "verdict"), ((signal.SIGTERM,), "verdict"), ((signal.SIGINT, signal.SIGINT), "verdict"),
    ((signal.SIGINT,), "last"), ((signal.SIGTERM,), "last"), ((signal.SIGINT, signal.SIGINT), "last"),
    ((signal.SIGHUP,), 0), ((signal.SIGINT, signal.SIGINT), 0), ((signal.SIGTERM, signal.SIGINT), "verdict"),
]


@pytest.mark.parametrize("index", range(len(PLANS)))
def test_a_signal_at_a_random_point_leaves_nothing(index: int, tmp_path: Path) -> None:
    rng = random.Random(SEED * 100 + index)
    signals, when = PLANS[index]
    run = Run(tmp_path / "rt")
    try:
        if when == 0:
            time.sleep(rng.uniform(0.2, 5.0))           # anywhere from loading to the last checks
        elif when == "verdict":
            run.wait_for_verdict(rng.randint(1, QUICKSTART_VERDICTS - 1))
        else:
            run.wait_for_verdict(QUICKSTART_VERDICTS)   # the last verdict: teardown starts now
        run.signal(*signals, gap=rng.uniform(0.0, 0.3))
        out = run.finish()
    finally:
        if run.proc.poll() is None:
            run.proc.kill()
    print(f"seed {SEED} plan {index}: {[s.name for s in signals]} at {when}, labs {sorted(run.labs)}, "
          f"exit {run.proc.returncode}")
    check_honest(run, out)


def test_a_third_signal_aborts_and_says_what_is_left(tmp_path: Path) -> None:
    run = Run(tmp_path / "rt")
    assert run.wait_for_verdict(QUICKSTART_VERDICTS)
    run.signal(signal.SIGINT, signal.SIGINT, signal.SIGINT, gap=0.02)
    out = run.finish()
    assert run.proc.returncode in (130, 1, 0), out
    left = run.leftovers()
    if left:
        assert "left behind" in out and "testbed down --all" in out, out
        for lab_id in run.labs:
            if any(lab_id in part for part in left):
                assert f"lab {lab_id}:" in out, out
    run.down_all()
    assert run.leftovers() == []


def test_sigkill_then_down_all_leaves_nothing(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    run = Run(tmp_path / "rt")
    run.wait_for_lab()
    time.sleep(rng.uniform(0.0, 3.0))
    run.signal(signal.SIGKILL)
    run.finish()
    assert run.labs, "the run never made a lab"
    down = run.down_all()
    assert run.leftovers() == [], down


@pytest.mark.docker
@pytest.mark.skipif(not docker_available(), reason="no Docker daemon")
@pytest.mark.parametrize("signals", [(signal.SIGINT,), (signal.SIGINT, signal.SIGINT)], ids=["last-verdict",
                                                                                              "double"])
@pytest.mark.parametrize("attempt", range(2))
def test_docker_signal_at_the_last_verdict_leaves_nothing(signals: tuple[signal.Signals, ...], attempt: int,
                                                          tmp_path: Path) -> None:
    rng = random.Random(SEED + attempt)
    run = Run(tmp_path / "rt", backend="docker")
    try:
        assert run.wait_for_verdict(QUICKSTART_VERDICTS), "".join(run.lines)
        run.signal(*signals, gap=rng.uniform(0.0, 0.5))   # the second one lands in the containers' removal
        out = run.finish()
    finally:
        if run.proc.poll() is None:
            run.proc.kill()
    check_honest(run, out)
