"""What every resolver adapter provides: config files, a command, a cache flush, a version.

An adapter renders the same config for every backend: paths are absolute and the host folder is visible at
the same path inside a container, so the only backend-specific part is which image the command runs in.
"""

from __future__ import annotations

import subprocess
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from testbed.daemon import PackagedDaemon

# RFC 5011 section 4 key states, as every adapter reports them: AddPend, Valid, Missing, Revoked, Removed
ANCHOR_STATES = ("pending", "trusted", "missing", "revoked", "removed")


@dataclass(frozen=True)
class ResolverContext:
    """Everything a resolver config needs to know about the lab it runs in."""

    address: str
    subnet: str
    folder: Path                          # the host's own folder (configs, sockets, cache)
    root_hints: tuple[tuple[str, str], ...]   # (name server name, IPv4 address)
    trust_anchor_ds: tuple[str, ...]      # DS records in presentation form: ". IN DS 12345 13 2 ABCD..."
    trust_anchor_dnskey: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)
    # RFC 5011: the anchor is only where the resolver starts; it tracks the zone's key rolls itself and keeps the
    # state in its folder. Adapters whose resolver has no RFC 5011 say so with supports_managed_anchor = False.
    managed_anchor: bool = False

    def root_hints_text(self) -> str:
        lines = [f".\t3600000\tIN\tNS\t{name}" for name, _ in self.root_hints]
        lines += [f"{name}\t3600000\tIN\tA\t{addr}" for name, addr in self.root_hints]
        return "\n".join(lines) + "\n"


class ResolverAdapter(PackagedDaemon, ABC):
    """One file per resolver under testbed/resolvers/, found by the registry in __init__.py."""

    name: ClassVar[str]
    # runs on the lab's virtual clock (the time shim, testbed/timeshim); False: real time only
    virtual_clock: ClassVar[bool] = True
    # RFC 5011 automated trust-anchor maintenance (ResolverContext.managed_anchor)
    supports_managed_anchor: ClassVar[bool] = False
    # The generation (testbed/resolvers/generations.py) asked for with NAME@GEN; None: the backend's default
    # (docker: debian12's image; netns: this machine's packages). for_generation() makes the subclass.
    generation: ClassVar[str | None] = None
    base_name: ClassVar[str]              # the software: overrides are documented per software, not per build
    # class attributes that differ in a generation, e.g. {"debian13": {"supports_managed_anchor": False}}
    generation_differences: ClassVar[dict[str, dict[str, object]]] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__ and "base_name" not in cls.__dict__:
            cls.base_name = cls.name

    @classmethod
    def for_generation(cls, generation: str) -> ResolverAdapter:
        """This software from ``generation``'s packages: named ``NAME@GEN``, run in the image of that release."""
        sub = type(f"{cls.__name__}_{generation}", (cls,), {
            "__module__": cls.__module__, "name": f"{cls.name}@{generation}", "base_name": cls.base_name,
            "generation": generation, "image": f"{cls.image.partition('@')[0]}@{generation}",
            **cls.generation_differences.get(generation, {})})
        return sub()
    # the standards profile the config is rendered for (testbed/resolvers/profiles.py); set per run
    profile: str = "defaults"
    # rendered files that hold a secret (a control-channel key): written 0600, see write_rendered
    secret_files: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def render(self, ctx: ResolverContext) -> dict[str, str]:
        """Config files to write, by path relative to ``ctx.folder``."""

    @abstractmethod
    def command(self, ctx: ResolverContext) -> list[str]:
        """The foreground daemon command, logging to stdout/stderr."""

    @abstractmethod
    def flush_command(self, ctx: ResolverContext) -> list[str]:
        """A command, run on the resolver's host, that empties every cache."""

    def prepare(self, ctx: ResolverContext) -> None:  # noqa: B027 - optional hook, most adapters need none
        """Called before each start, e.g. to remove an on-disk cache. Nothing by default."""

    def anchor_status_command(self, ctx: ResolverContext) -> list[str] | None:
        """With a managed anchor: a command, run on the resolver's host, whose output ``parse_anchor_status`` reads."""
        return None

    def anchor_refresh_command(self, ctx: ResolverContext) -> list[str] | None:
        """With a managed anchor: a command that makes the resolver fetch the anchored DNSKEY RRset now, for
        resolvers that would otherwise wait an hour (RFC 5011 section 2.3's minimum); None when it polls often."""
        return None

    def parse_anchor_status(self, text: str) -> dict[int, str]:
        """Root key tag -> RFC 5011 state, one of ``ANCHOR_STATES``, from ``anchor_status_command``'s output."""
        raise NotImplementedError(f"{self.name} has no RFC 5011 state to read")

    def package_version_command(self) -> list[str]:
        """The exact Debian package version (``1:9.20.30-1~deb13u1``), as a command run on the resolver's host."""
        return ["dpkg-query", "-W", "-f=${Version}", self.debian_package]

    def local_package_version(self) -> str:
        try:
            proc = subprocess.run(self.package_version_command(), capture_output=True, text=True, timeout=10,
                                  check=False)
        except (OSError, subprocess.TimeoutExpired):
            return "unknown"
        return proc.stdout.strip() if proc.returncode == 0 and proc.stdout.strip() else "unknown"



def write_rendered(adapter: ResolverAdapter, folder: Path, files: dict[str, str]) -> None:
    """Write ``adapter.render`` output into ``folder``; its secret files as new 0600 files."""
    from testbed.private_files import write_private

    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if rel in adapter.secret_files:
            write_private(path, text)
        else:
            path.write_text(text)
