"""``testbed down --all``: remove whatever labs left on this machine, by name prefix and label."""

from __future__ import annotations

import json
import os
import shutil

from testbed.backends.base import LABEL
from testbed.backends.docker_env import docker_available, docker_client
from testbed.backends.netns import down_all as netns_down_all
from testbed.lab import LABS_DIR


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def down_all() -> list[str]:
    """Every namespace, container, network and lab folder of ours; returns what was removed, one line each."""
    removed = [f"namespace {ns}" for ns in netns_down_all()]
    if docker_available():
        client = docker_client()
        for container in client.containers.list(all=True, filters={"label": LABEL}):
            container.remove(force=True)
            removed.append(f"container {container.name}")
        for network in client.networks.list(filters={"label": LABEL}):
            network.remove()
            removed.append(f"network {network.name}")
        client.close()
    if LABS_DIR.is_dir():
        for folder in LABS_DIR.iterdir():
            try:
                owner = json.loads((folder / "lab.json").read_text()).get("pid", 0)
            except (OSError, ValueError):
                owner = 0
            if not owner or not _pid_alive(int(owner)) or owner == os.getpid():
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(f"folder {folder}")
    if not removed:
        removed.append("nothing to remove")
    return removed
