"""``testbed down --all``: remove whatever labs left on this machine, by name prefix and label.

A lab whose owning process still runs is spared: ``down --all`` cleans up after killed runs without pulling a
running lab (another terminal's, a CI job's) out from under it. ``--force`` removes those too.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from testbed.lab.backends.base import LABEL, OWNER_LABEL
from testbed.lab.backends.docker_env import docker_available, docker_client
from testbed.lab.backends.netns import leftover_namespaces, remove_namespace
from testbed.lab.runtime import lab_folder, lab_folders


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _lab_owner(lab_id: str, folder: Path | None = None) -> int:
    try:
        return int(json.loads(((folder or lab_folder(lab_id)) / "lab.json").read_text()).get("pid", 0))
    except (OSError, ValueError, AttributeError):
        return 0


def _spare(owner: int, force: bool) -> bool:
    return not force and owner != os.getpid() and _pid_alive(owner)


def down_all(force: bool = False) -> list[str]:
    """Every namespace, container, network and lab folder of ours; returns what was removed, one line each."""
    removed: list[str] = []
    for ns in leftover_namespaces():
        lab_id = ns.split("-")[1]
        if not _spare(_lab_owner(lab_id), force):
            remove_namespace(ns)
            removed.append(f"namespace {ns}")
    if docker_available():
        client = docker_client()
        for container in client.containers.list(all=True, filters={"label": LABEL}):
            if not _spare(int(container.labels.get(OWNER_LABEL, 0) or 0), force):
                container.remove(force=True)
                removed.append(f"container {container.name}")
        for network in client.networks.list(filters={"label": LABEL}):
            if not _spare(int((network.attrs.get("Labels") or {}).get(OWNER_LABEL, 0) or 0), force):
                network.remove()
                removed.append(f"network {network.name}")
        client.close()
    for folder in lab_folders():
        if not _spare(_lab_owner(folder.name, folder), force):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(f"folder {folder}")
    if not removed:
        removed.append("nothing to remove")
    return removed
