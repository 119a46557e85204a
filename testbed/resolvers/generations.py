"""Resolver generations: a resolver is software x generation (``unbound@debian13``).

A generation is a Debian release whose packages a resolver comes from. On the docker backend each generation is an
image built from the same ``compose/<key>/Dockerfile`` with the release as the ``DEBIAN_RELEASE`` build argument
(the base image ``debian:<release>-slim`` comes from ``compose/base/build-base.sh <release>``). On the netns backend
the daemons are this machine's own packages: one generation, named by the host's release.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from testbed.errors import ScenarioError
from testbed.resolvers.base import ResolverAdapter


@dataclass(frozen=True)
class Generation:
    name: str              # debian12
    release: str           # bookworm: the Debian codename, the Dockerfile's DEBIAN_RELEASE

    @property
    def base_image(self) -> str:
        return f"debian:{self.release}-slim"


GENERATIONS: dict[str, Generation] = {g.name: g for g in (Generation("debian12", "bookworm"),
                                                          Generation("debian13", "trixie"))}
DEFAULT_GENERATION = "debian12"     # what a bare resolver name (``unbound``) means on the docker backend
OS_RELEASE = Path("/etc/os-release")


def get_generation(name: str, *, where: str = "") -> Generation:
    """``debian13`` -> its Generation; anything unknown is a usage error with the list of known ones."""
    try:
        return GENERATIONS[name]
    except KeyError:
        raise ScenarioError(f"unknown resolver generation {name!r}{f' in {where}' if where else ''}",
                            fix=f"use one of: {', '.join(GENERATIONS)} (e.g. --resolver unbound@debian13 or "
                                "--resolver all@debian13)") from None


def host_generation(os_release: Path = OS_RELEASE) -> str:
    """This machine's generation, from /etc/os-release: ``debian12`` on bookworm. Not a Debian: ``host``."""
    try:
        text = os_release.read_text()
    except OSError:
        return "host"
    fields = dict(re.findall(r'^(\w+)="?([^"\n]*)"?$', text, re.MULTILINE))
    if fields.get("ID") == "debian" and fields.get("VERSION_ID", "").isdigit():
        return f"debian{fields['VERSION_ID']}"
    codename = fields.get("VERSION_CODENAME", "")
    for gen in GENERATIONS.values():
        if gen.release == codename:
            return gen.name
    return "host"


def release_for_image(generation: str) -> str:
    return GENERATIONS[generation].release


def split_spec(text: str) -> tuple[str, str | None]:
    """``unbound@debian13`` -> ("unbound", "debian13"); ``unbound`` -> ("unbound", None)."""
    base, sep, gen = text.rpartition("@")
    if not sep:
        return text, None
    return base, gen


def resolver_with_generation(adapter: ResolverAdapter, generation: str, backend: str) -> ResolverAdapter:
    """``--resolver NAME@GEN``: the registered adapter of NAME, from GEN's packages on this backend."""
    get_generation(generation, where=f"--resolver {adapter.name}@{generation}")
    if getattr(adapter, "spec", None) is not None:
        raise ScenarioError(f"--resolver {adapter.name}@{generation}: a bring-your-own resolver has no generation",
                            fix="give the image or binary of the build you mean instead (NAME:image=...)")
    if backend == "netns":
        here = host_generation()
        if generation != here:
            raise ScenarioError(f"--resolver {adapter.name}@{generation}: the netns backend runs this machine's "
                                f"packages, which are {here}",
                                fix=f"use --backend docker for {generation}, or --resolver {adapter.name}@{here}")
        if not adapter.available_locally():
            raise ScenarioError(f"{adapter.display_name} ('{adapter.binary}') is not installed",
                                fix=f"apt-get install -y {adapter.debian_package}, or use --backend docker")
    return type(adapter).for_generation(generation)
