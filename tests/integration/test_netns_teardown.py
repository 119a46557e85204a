"""Ctrl-C, SIGKILL and a resolver that will not start: each leaves no namespace and no process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from testbed.backends.netns import leftover_namespaces
from testbed.errors import LabError
from testbed.resolvers.unbound import Unbound
from testbed.runner import run
from testbed.scenario import load_scenario
from tests.conftest import QUICKSTART, ROOT, requires_netns

pytestmark = [pytest.mark.integration, requires_netns]


def lab_processes() -> list[str]:
    """Processes started from a lab folder (every server and resolver command names its folder)."""
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if "/dnssec-testbed/" in line and "ps -eo" not in line]


def wait_for_lab(timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(n.endswith("-unbound") for n in leftover_namespaces()):
            return
        time.sleep(0.05)
    raise AssertionError("the lab never came up")


@pytest.fixture(autouse=True)
def no_other_lab() -> None:
    assert leftover_namespaces() == [], "a lab from elsewhere is running; these tests count namespaces"


def start_cli_run() -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "testbed.cli", "run", str(QUICKSTART), "--resolver", "unbound",
                             "--backend", "netns"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def test_ctrl_c_tears_everything_down() -> None:
    proc = start_cli_run()
    wait_for_lab()
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, out
    assert "interrupted" in out
    assert leftover_namespaces() == []
    assert lab_processes() == []


def test_sigterm_tears_everything_down() -> None:
    proc = start_cli_run()
    wait_for_lab()
    proc.terminate()
    proc.communicate(timeout=60)
    assert leftover_namespaces() == []
    assert lab_processes() == []


def test_down_all_removes_what_a_killed_run_left() -> None:
    proc = start_cli_run()
    wait_for_lab()
    os.kill(proc.pid, signal.SIGKILL)       # no teardown at all
    proc.communicate(timeout=30)
    assert leftover_namespaces() != []
    down = subprocess.run([sys.executable, "-m", "testbed.cli", "down", "--all"], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert down.returncode == 0, down.stderr
    assert "namespace testbed-" in down.stdout
    assert leftover_namespaces() == []
    assert lab_processes() == []


class BrokenUnbound(Unbound):
    """Unbound with an option it does not know: it exits at start, as a misconfigured vendor build would."""

    def render(self, ctx):  # noqa: ANN001, ANN201
        files = super().render(ctx)
        files["unbound.conf"] = files["unbound.conf"].replace("server:\n", "server:\n    no-such-option: yes\n", 1)
        return files


def test_a_resolver_that_fails_to_start_is_a_clear_error_and_leaves_nothing(monkeypatch) -> None:
    monkeypatch.setattr("testbed.runner.get_adapter", lambda name: BrokenUnbound())
    scenario = load_scenario(QUICKSTART / "secure-a.yaml")
    with pytest.raises(LabError) as info:
        run([scenario], ["unbound"], "netns")
    message = str(info.value)
    assert "Unbound" in message and "exited" in message
    assert "no-such-option" in message          # the log tail names the cause
    assert leftover_namespaces() == []
    assert lab_processes() == []


def test_missing_tools_are_named_with_the_fix(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}       # no /usr/sbin: no ip, no unbound
    proc = subprocess.run([sys.executable, "-m", "testbed.cli", "run", str(QUICKSTART / "secure-a.yaml"),
                           "--backend", "netns"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    assert proc.returncode == 2
    assert "apt-get install" in proc.stderr and "Traceback" not in proc.stderr
