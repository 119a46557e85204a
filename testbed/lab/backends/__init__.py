"""Lab backends: ``netns`` (namespaces, processes run directly) and ``docker`` (one container per host)."""

from __future__ import annotations

from pathlib import Path

from testbed.errors import EnvironmentProblem
from testbed.lab.backends.base import Backend

BACKENDS = ("netns", "docker")


def make_backend(name: str, lab_id: str, subnet: str, workdir: Path) -> Backend:
    if name == "netns":
        from testbed.lab.backends.netns import NetnsBackend

        return NetnsBackend(lab_id, subnet, workdir)
    if name == "docker":
        from testbed.lab.backends.docker import DockerBackend

        return DockerBackend(lab_id, subnet, workdir)
    raise EnvironmentProblem(f"unknown backend {name!r}", fix=f"use one of: auto, {', '.join(BACKENDS)}")
