"""``testbed doctor``: what this machine can run, and how to fix what it cannot.

Each finding is one line: ok / missing, what it is for, and the command that fixes it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    ok: bool
    what: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        mark = "ok     " if self.ok else "MISSING"
        text = f"{mark} {self.what}: {self.detail}"
        return text + (f"  -> {self.fix}" if not self.ok and self.fix else "")


def _netns_works() -> tuple[bool, str]:
    if os.geteuid() != 0:
        return False, "not root"
    if shutil.which("ip") is None:
        return False, "no 'ip' command"
    name = f"testbed-doctor-{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True, check=False)
    if made.returncode != 0:
        return False, made.stderr.strip()
    subprocess.run(["ip", "netns", "delete", name], capture_output=True, check=False)
    return True, "can create network namespaces"


def _docker() -> tuple[bool, str, object]:
    from testbed.lab.backends.docker_env import docker_client

    try:
        client = docker_client(timeout=3)
        version = client.version().get("Version", "?")
        return True, f"daemon {version} answers", client
    except Exception as exc:  # noqa: BLE001 - any failure means "no usable daemon"; say which
        return False, f"no daemon answers ({type(exc).__name__})", None


def findings() -> list[Finding]:
    from testbed.resolvers import registry

    found: list[Finding] = []
    netns_ok, netns_detail = _netns_works()
    found.append(Finding(netns_ok, "netns backend", netns_detail, "run as root with iproute2 installed"))
    docker_ok, docker_detail, client = _docker()
    found.append(Finding(docker_ok, "docker backend", docker_detail,
                         "apt-get install -y docker.io && dockerd & (or scripts/setup.sh --docker)"))
    if docker_ok:
        from testbed.lab.images import image_keys, image_tag

        base = _has_image(client, "debian:bookworm-slim")
        found.append(Finding(base, "base image debian:bookworm-slim", "present" if base else "absent",
                             "docker pull debian:bookworm-slim, or compose/base/build-base.sh offline"))
        for key in image_keys():
            tag = image_tag(key)
            present = _has_image(client, tag)
            found.append(Finding(True, f"image {key}", f"{tag} " + ("built" if present else
                                                                    "not built yet (built on first use)")))
    for name, cls in registry().items():
        adapter = cls()
        local = adapter.available_locally()
        detail = f"netns: {'yes, ' + adapter.local_version() if local else 'no'}; docker: " + \
                 ("yes (image " + cls.image + ")" if docker_ok else "no daemon")
        found.append(Finding(local or docker_ok, f"resolver {name}", detail,
                             f"apt-get install -y {cls.debian_package}"))
    for tool, package, purpose in (("ldns-verify-zone", "ldnsutils", "independent zone verification in tests"),
                                   ("dig", "bind9-dnsutils", "querying a lab by hand"),
                                   ("tcpdump", "tcpdump", "the no-leak test"),
                                   ("chromium", "chromium", "the HTML report screenshot test")):
        where = shutil.which(tool)
        found.append(Finding(where is not None, tool, where or f"absent ({purpose})", f"apt-get install -y {package}"))
    return found


def _has_image(client: object, ref: str) -> bool:
    try:
        client.images.get(ref)  # type: ignore[attr-defined]
        return True
    except Exception:  # noqa: BLE001
        return False


def usable_backend(found: list[Finding]) -> bool:
    return any(f.ok for f in found if f.what in ("netns backend", "docker backend"))
