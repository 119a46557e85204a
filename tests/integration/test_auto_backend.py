"""The README's first command on a machine where dockerd runs but no image exists: auto runs on netns, exit 0.

The shared images of this machine stay where they are: TESTBED_AUTO_IMAGES points the image check at a name no
daemon has, which is what a fresh machine's daemon answers for every image.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from testbed.lab.backend_choice import IMAGES_ENV
from testbed.lab.backends.docker_env import docker_available
from tests.conftest import ROOT, requires_netns

pytestmark = [pytest.mark.integration, requires_netns,
              pytest.mark.skipif(not docker_available(), reason="needs a running Docker daemon")]


def test_auto_without_images_runs_the_quickstart_on_netns(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    env = {**os.environ, IMAGES_ENV: "dnssec-testbed/no-such-image:absent", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "testbed.cli.main", "run", "--resolver", "unbound", "--json",
                           str(out)], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    notes = [line for line in proc.stderr.splitlines() if line.startswith("backend: netns")]
    assert len(notes) == 1, proc.stderr
    assert json.loads(out.read_text())["backend"] == "netns"


def test_auto_with_images_present_stays_on_docker(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same check pointed at an image this daemon has: auto keeps docker (so the test above can fail)."""
    from testbed.lab.backend_choice import BASE_IMAGE, decide, gather

    monkeypatch.setenv(IMAGES_ENV, BASE_IMAGE)
    facts = gather(netns_ok=True)
    if not facts.base_image:
        pytest.skip(f"{BASE_IMAGE} is not on this daemon")
    assert facts.docker_up and facts.lab_images
    assert decide(facts).backend == "docker"
