"""The compose export runs: `docker-compose up`, dig from the probe service gets a validated (AD) answer, and
`down -v` leaves no container or network of the project behind."""

from __future__ import annotations

import secrets
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from testbed.lab.backends.docker_env import docker_available
from testbed.lab.compose_export import write_compose
from testbed.scenario import load_scenario
from tests.conftest import QUICKSTART


def compose_command() -> list[str] | None:
    """Debian's docker-compose 1.29, else the `docker compose` v2 plugin, else None."""
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True,
                                                 check=False).returncode == 0:
        return ["docker", "compose"]
    return None


pytestmark = [
    pytest.mark.integration, pytest.mark.docker,
    pytest.mark.skipif(not docker_available(), reason="no Docker daemon"),
    pytest.mark.skipif(compose_command() is None, reason="no docker-compose (apt-get install docker-compose)"),
]


def project_leftovers(project: str) -> list[str]:
    flt = f"label=com.docker.compose.project={project}"
    containers = subprocess.run(["docker", "ps", "-aq", "--filter", flt], capture_output=True, text=True).stdout
    networks = subprocess.run(["docker", "network", "ls", "-q", "--filter", flt], capture_output=True,
                              text=True).stdout
    return containers.split() + networks.split()


def test_compose_project_answers_with_ad_and_goes_away(tmp_path: Path) -> None:
    out = tmp_path / "project"
    files = write_compose(load_scenario(QUICKSTART / "secure-a.yaml"), out, ["unbound"])
    assert str(out / "docker-compose.yml") in files
    project = f"testbed-compose-{secrets.token_hex(3)}"
    # the subnet was chosen free on this host at export: the resolver's address says which
    resolver = yaml.safe_load((out / "docker-compose.yml").read_text())["services"]["unbound"]["networks"]["lab"][
        "ipv4_address"]
    compose = [*compose_command(), "-p", project]          # type: ignore[misc] - skipped when None

    def run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*compose, *args], cwd=out, capture_output=True, text=True, timeout=timeout,
                              check=False)

    try:
        up = run("up", "-d")
        assert up.returncode == 0, up.stdout + up.stderr
        # the resolver may need a moment after its container starts: ask until it answers (bounded)
        dig = None
        for _ in range(30):
            dig = run("exec", "-T", "probe", "dig", "+dnssec", "+tries=1", "+time=2", f"@{resolver}",
                      "www.example.jp.", "A", timeout=60)
            if "status: NOERROR" in dig.stdout:
                break
        assert dig is not None and "status: NOERROR" in dig.stdout, dig.stdout + dig.stderr
        flags = next(line for line in dig.stdout.splitlines() if line.startswith(";; flags:"))
        assert "ad" in flags.split("flags:")[1].split(";")[0].split(), flags
        assert "192.0.2.80" in dig.stdout
        # the lab network is internal: no way out from inside (a TEST-NET address, never a real one)
        out_probe = run("exec", "-T", "probe", "dig", "+tries=1", "+time=2", "@192.0.2.1", "example.com", timeout=60)
        assert "status:" not in out_probe.stdout
    finally:
        down = run("down", "-v", "--remove-orphans")
    assert down.returncode == 0, down.stdout + down.stderr
    assert project_leftovers(project) == []
