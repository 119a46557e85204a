"""Ctrl-C, SIGKILL and a resolver that will not start: each leaves no namespace and no process behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from testbed.errors import LabError
from testbed.lab.backends.netns import leftover_namespaces
from testbed.lab.runtime import ENV as RUNTIME_ENV
from testbed.resolvers.unbound import Unbound
from testbed.run.runner import run
from testbed.scenario import load_scenario
from tests.conftest import QUICKSTART, ROOT, requires_netns

pytestmark = [pytest.mark.integration, requires_netns]


# The CLI runs of this module keep their lab folders here, so that a lab is known to be theirs: other labs (other
# test sessions on this machine) come and go meanwhile, and a namespace that merely appeared proves nothing.
RUNTIME = Path(tempfile.mkdtemp(prefix="testbed-teardown-"))        # 0700, ours: what the runtime dir needs
ENV = {**os.environ, RUNTIME_ENV: str(RUNTIME)}


def wait_for_lab(before: set[str], timeout: float = 60) -> str:
    """The id of the lab, one of this module's CLI runs', whose resolver namespace appears after ``before``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ours = {p.name for p in RUNTIME.iterdir()}
        new = [n for n in set(leftover_namespaces()) - before if n.endswith("-unbound") and n.split("-")[1] in ours]
        if new:
            return new[0].split("-")[1]
        time.sleep(0.05)
    raise AssertionError("the lab never came up")


def lab_processes(lab_id: str) -> list[str]:
    """Processes started from this lab's folder (every server and resolver command names its folder)."""
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if f"/{lab_id}/hosts/" in line]


def start_cli_run() -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "testbed.cli.main", "run", str(QUICKSTART), "--resolver", "unbound",
                             "--backend", "netns"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=ENV)


def test_ctrl_c_tears_everything_down() -> None:
    before = set(leftover_namespaces())
    proc = start_cli_run()
    lab_id = wait_for_lab(before)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, out
    assert "interrupted" in out
    assert leftover_namespaces(lab_id) == []
    assert lab_processes(lab_id) == []


def test_sigterm_tears_everything_down() -> None:
    before = set(leftover_namespaces())
    proc = start_cli_run()
    lab_id = wait_for_lab(before)
    proc.terminate()
    proc.communicate(timeout=60)
    assert leftover_namespaces(lab_id) == []
    assert lab_processes(lab_id) == []


def test_down_all_removes_what_a_killed_run_left() -> None:
    before = set(leftover_namespaces())
    proc = start_cli_run()
    lab_id = wait_for_lab(before)
    os.kill(proc.pid, signal.SIGKILL)       # no teardown at all
    proc.communicate(timeout=30)
    assert leftover_namespaces(lab_id) != []
    down = subprocess.run([sys.executable, "-m", "testbed.cli.main", "down", "--all"], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, env=ENV)
    assert down.returncode == 0, down.stderr
    assert f"namespace testbed-{lab_id}-" in down.stdout
    assert leftover_namespaces(lab_id) == []
    assert lab_processes(lab_id) == []


def test_down_all_spares_a_live_lab_that_keeps_its_folder_in_another_runtime_directory() -> None:
    """A run with its own TESTBED_RUNTIME_DIR (a CI job, another terminal) is alive: ``down --all`` from any other
    runtime directory must find its owner and leave it up."""
    other = Path(tempfile.mkdtemp(prefix="testbed-teardown-other-"))
    before = set(leftover_namespaces())
    proc = subprocess.Popen([sys.executable, "-m", "testbed.cli.main", "run", str(QUICKSTART), "--resolver", "unbound",
                             "--backend", "netns"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env={**os.environ, RUNTIME_ENV: str(other)})
    try:
        deadline = time.monotonic() + 60
        lab_id = ""
        while not lab_id and time.monotonic() < deadline:
            mine = {p.name for p in other.iterdir()}
            lab_id = next((n.split("-")[1] for n in set(leftover_namespaces()) - before
                           if n.endswith("-unbound") and n.split("-")[1] in mine), "")
            time.sleep(0.05)
        assert lab_id, "the lab never came up"
        down = subprocess.run([sys.executable, "-m", "testbed.cli.main", "down", "--all"], capture_output=True,
                              text=True, cwd=ROOT, timeout=120, env=ENV)
        assert down.returncode == 0, down.stderr
        assert f"testbed-{lab_id}-" not in down.stdout
        assert leftover_namespaces(lab_id) != []
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    assert leftover_namespaces(lab_id) == []


class BrokenUnbound(Unbound):
    """Unbound with an option it does not know: it exits at start, as a misconfigured vendor build would."""

    def render(self, ctx):  # noqa: ANN001, ANN201
        files = super().render(ctx)
        files["unbound.conf"] = files["unbound.conf"].replace("server:\n", "server:\n    no-such-option: yes\n", 1)
        return files


def test_a_resolver_that_fails_to_start_is_a_clear_error_and_leaves_nothing(monkeypatch) -> None:
    monkeypatch.setattr("testbed.run.select.get_adapter", lambda name: BrokenUnbound())
    scenario = load_scenario(QUICKSTART / "secure-a.yaml")
    labs = []
    with pytest.raises(LabError) as info:
        run([scenario], ["unbound"], "netns", on_lab=labs.append)
    message = str(info.value)
    assert "Unbound" in message and "exited" in message
    assert "no-such-option" in message          # the log tail names the cause
    assert leftover_namespaces(labs[0].lab_id) == []
    assert lab_processes(labs[0].lab_id) == []


def test_missing_tools_are_named_with_the_fix(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}       # no /usr/sbin: no ip, no unbound
    proc = subprocess.run([sys.executable, "-m", "testbed.cli.main", "run", str(QUICKSTART / "secure-a.yaml"),
                           "--backend", "netns"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    assert proc.returncode == 2
    assert "apt-get install" in proc.stderr and "Traceback" not in proc.stderr


def test_ctrl_c_still_writes_the_checks_that_ran(tmp_path: Path) -> None:
    out = tmp_path / "partial.json"
    proc = subprocess.Popen([sys.executable, "-m", "testbed.cli.main", "run", str(QUICKSTART), "--resolver", "unbound",
                             "--backend", "netns", "--json", str(out)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=ENV)
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:          # the first verdict line: a check has run
        if proc.stdout.readline().startswith(("PASS", "FAIL", "XFAIL", "ERROR")):
            break
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    doc = json.loads(out.read_text())
    assert doc["results"] and doc["results"][0]["scenario"] == "bogus-ds"
