"""``testbed down --all``: remove whatever labs left on this machine, by name prefix and label.

A lab whose owning process still runs is spared: ``down --all`` cleans up after killed runs without pulling a
running lab (another terminal's, a CI job's) out from under it. ``--force`` removes those too.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from testbed.lab.backends import docker_firewall
from testbed.lab.backends.base import LABEL, OWNER_LABEL
from testbed.lab.backends.docker_env import docker_available, docker_client
from testbed.lab.backends.netns import leftover_namespaces, remove_namespace
from testbed.lab.runtime import all_places, lab_folders


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
    """The pid in the lab's lab.json, wherever that lab kept its folder (0: no folder, so no live owner)."""
    for place in ([folder] if folder else [p / lab_id for p in all_places()]):
        try:
            return int(json.loads((place / "lab.json").read_text()).get("pid", 0))
        except (OSError, ValueError, AttributeError):
            continue
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
        import docker.errors

        client = docker_client()
        # other labs come and go meanwhile: what vanished between listing and removing is simply gone
        for container in client.containers.list(all=True, filters={"label": LABEL}, ignore_removed=True):
            if not _spare(int(container.labels.get(OWNER_LABEL, 0) or 0), force):
                try:
                    container.remove(force=True)
                except docker.errors.NotFound:
                    continue
                except docker.errors.APIError as exc:
                    removed.append(f"could not remove container {container.name}: {exc.explanation or exc}")
                    continue
                removed.append(f"container {container.name}")
        for network in client.networks.list(filters={"label": LABEL}):
            if not _spare(int((network.attrs.get("Labels") or {}).get(OWNER_LABEL, 0) or 0), force):
                try:
                    network.remove()
                except docker.errors.NotFound:
                    continue
                except docker.errors.APIError as exc:
                    removed.append(f"could not remove network {network.name}: {exc.explanation or exc}")
                    continue
                removed.append(f"network {network.name}")
        client.close()
    # the firewall rules of docker labs (their bridge is gone with the network; the rules would stay)
    for lab_id, pid in sorted({(owner, pid) for _, owner, pid, _ in docker_firewall.rules()}):
        if not _spare(pid, force):
            removed += docker_firewall.remove(lab_id)
    for folder in lab_folders():
        if not _spare(_lab_owner(folder.name, folder), force):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(f"folder {folder}")
    if not removed:
        removed.append("nothing to remove")
    return removed
