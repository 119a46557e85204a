"""``--backend auto``: docker only where its images are there or can be built here, else netns, said in one line.

A Docker daemon that runs is not enough: a new machine has no lab image and no base image, and building
``dnssec-testbed/auth`` then fails on ``FROM debian:bookworm-slim`` with a registry error. So auto asks what the
daemon has: every lab image of the default set at its current tag, or at least the base image they build from
(``compose/base/build-base.sh`` makes one offline). Without either, netns runs (when this machine allows it) and a
line says why and how to get docker. ``decide`` is the rule alone, testable without a daemon.

``TESTBED_AUTO_IMAGES`` (comma-separated image names) replaces the images auto looks for: a test points it at a
name no daemon has, to see the choice a machine without images makes, without deleting anyone's images.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from testbed.errors import EnvironmentProblem

BASE_IMAGE = "debian:bookworm-slim"
IMAGES_ENV = "TESTBED_AUTO_IMAGES"


@dataclass(frozen=True)
class Facts:
    docker_up: bool
    lab_images: bool          # every image of the default run is on the daemon, at its current tag
    base_image: bool          # the base image the lab images build from is on the daemon
    netns_ok: bool


@dataclass(frozen=True)
class Choice:
    backend: str | None       # None: nothing can run here
    note: str | None = None   # one line for the user, when the choice is not the obvious one


def decide(facts: Facts) -> Choice:
    if facts.docker_up and (facts.lab_images or facts.base_image):
        return Choice("docker")
    if facts.netns_ok:
        if not facts.docker_up:
            return Choice("netns")
        return Choice("netns", f"backend: netns (Docker runs, but neither the lab images nor {BASE_IMAGE} are "
                               "there to build them from; compose/base/build-base.sh makes the base image)")
    if facts.docker_up:
        return Choice("docker")   # the only chance: building may still work where a registry is reachable
    return Choice(None)


def _images_to_look_for() -> tuple[list[str], list[str]]:
    """(lab image tags, base images) auto looks for; the override puts its names in both."""
    override = os.environ.get(IMAGES_ENV)
    if override is not None:
        names = [n.strip() for n in override.split(",") if n.strip()]
        return names, names
    from testbed.lab.images import image_tag
    from testbed.lab.lab import AUTH_IMAGE
    from testbed.resolvers import registry

    try:
        tags = [image_tag(AUTH_IMAGE)] + sorted({image_tag(cls.image) for cls in registry().values()})
    except Exception:  # noqa: BLE001 - no compose/ folder (an installed wheel): the images cannot be built here
        tags = []
    return tags, [BASE_IMAGE]


def gather(netns_ok: bool) -> Facts:
    from testbed.lab.backends.docker_env import docker_client

    try:
        client = docker_client(timeout=3)
        client.ping()
    except Exception:  # noqa: BLE001 - any failure means "no usable daemon"
        return Facts(False, False, False, netns_ok)
    try:
        tags, bases = _images_to_look_for()

        def present(name: str) -> bool:
            try:
                client.images.get(name)
                return True
            except Exception:  # noqa: BLE001 - ImageNotFound, or a daemon that will not say
                return False

        return Facts(True, bool(tags) and all(present(t) for t in tags), any(present(b) for b in bases), netns_ok)
    finally:
        client.close()


def pick_backend(requested: str, say: Callable[[str], None] | None = None) -> str:
    """``auto``: docker when a daemon answers and its images are there or can be built, else netns when this
    machine allows it (``say`` gets the one line that tells why), else say what to install."""
    from testbed.lab.backends.docker_env import docker_available
    from testbed.lab.backends.netns import require_netns

    if requested == "netns":
        require_netns()
        return requested
    if requested == "docker":
        if not docker_available():
            raise EnvironmentProblem("no Docker daemon answers",
                                     fix="install and start Docker (apt-get install docker.io; dockerd), "
                                         "or use --backend netns")
        return requested
    try:
        require_netns()
        netns_ok = True
    except EnvironmentProblem:
        netns_ok = False
    choice = decide(gather(netns_ok))
    if choice.backend is None:
        raise EnvironmentProblem("no backend can run here: the docker backend needs a running Docker daemon, the "
                                 "netns backend root and 'ip'",
                                 fix="install and start Docker (apt-get install docker.io), or run as root with "
                                     "iproute2 installed")
    if choice.note and say:
        say(choice.note)
    return choice.backend
