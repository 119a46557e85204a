"""`testbed up` keeps a lab for manual queries and tears it down on Ctrl-C; `testbed doctor` reports the machine."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

import pytest

from testbed.lab.backends.netns import leftover_namespaces
from tests.conftest import QUICKSTART, ROOT, requires_netns

pytestmark = [pytest.mark.integration, requires_netns]


def start_up() -> tuple[subprocess.Popen[str], str]:
    """`testbed up` on the quickstart's secure-a, read until it says how to stop it (its banner with the hosts)."""
    proc = subprocess.Popen([sys.executable, "-m", "testbed.cli.main", "up", str(QUICKSTART / "secure-a.yaml"),
                             "--resolver", "unbound", "--backend", "netns"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    deadline = time.monotonic() + 120
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if "Ctrl-C" in line or not line:
            break
    return proc, "".join(lines)


def test_up_prints_addresses_answers_dig_and_tears_down_on_ctrl_c() -> None:
    proc, text = start_up()
    try:
        command = re.search(r"try:\s+(.*)", text)
        assert command, text
        dig = subprocess.run(command.group(1).split(), capture_output=True, text=True, timeout=30)
        assert " ad" in dig.stdout.split("flags:")[1].split(";")[0], dig.stdout
        lab_id = re.search(r"lab ([0-9a-f]+) on netns", text).group(1)
        assert leftover_namespaces(lab_id)
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, out
    assert leftover_namespaces(lab_id) == []


def test_up_prints_a_dig_line_per_host_that_works() -> None:
    proc, text = start_up()
    try:
        hosts = re.findall(r"^  (?:server|resolver) +(\S+)", text, re.MULTILINE)
        commands = re.findall(r"^    dig: +(.*)$", text, re.MULTILINE)
        assert hosts and len(commands) == len(hosts), text
        for command in commands:
            dig = subprocess.run(command.split(), capture_output=True, text=True, timeout=30)
            assert "status: NOERROR" in dig.stdout, (command, dig.stdout, dig.stderr)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)


def test_doctor_reports_backends_and_resolvers() -> None:
    proc = subprocess.run([sys.executable, "-m", "testbed.cli.main", "doctor"], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "ok      netns backend" in proc.stdout
    assert re.search(r"resolver unbound: netns: yes, 1\.", proc.stdout)
