"""What every real authoritative server adapter provides: a config rendered from the built zone files, a
foreground command, a reload, a way to read a refused zone from its log, and a version.

As with resolvers, the config is the same on every backend: paths are absolute and the host folder is visible at
the same path inside a container. The zone files are the lab's (``zone_file_name``), written before the start.
"""

from __future__ import annotations

import re
import signal
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol

from testbed.daemon import PackagedDaemon
from testbed.errors import LabError


class Signalable(Protocol):
    """What a reload needs of a lab host (testbed.lab.backends.base.Host has it; auth does not import the lab)."""

    def signal(self, sig: signal.Signals) -> None: ...


@dataclass(frozen=True)
class ServerContext:
    """One authoritative host: where it listens, its folder, and its zones (name -> file name in ``folder``)."""

    name: str
    address: str
    folder: Path
    zones: tuple[tuple[str, str], ...]

    def zone_path(self, file_name: str) -> Path:
        return self.folder / file_name


class ServerAdapter(PackagedDaemon, ABC):
    """One file per server software under testbed/auth/servers/."""

    name: ClassVar[str]                   # what `server:` and `--auth` say: nsd, knot, bind
    # a regular expression, formatted with the zone name without its trailing dot (``{zone}``, escaped), whose
    # match in the log says the server refused to load that zone; group 0 is quoted to the user
    refused_pattern: ClassVar[str] = ""

    @abstractmethod
    def render(self, ctx: ServerContext) -> dict[str, str]:
        """Config files to write, by path relative to ``ctx.folder``."""

    @abstractmethod
    def command(self, ctx: ServerContext) -> list[str]:
        """The foreground daemon command, logging to stdout/stderr."""

    def reload(self, host: Signalable, ctx: ServerContext) -> None:
        """Make a running server read its changed zone files (the lab bumps each file's mtime). SIGHUP by default:
        NSD, knotd and named all reread changed zone files on it."""
        host.signal(signal.SIGHUP)

    def refusal(self, log: str, zone: str) -> str | None:
        """The server's own words if ``log`` (what it wrote since the last load) says it refused ``zone``."""
        if not self.refused_pattern:
            return None
        label = re.escape(zone.rstrip(".") or ".")
        lines = log.splitlines()
        for at, line in enumerate(lines):
            if re.search(self.refused_pattern.format(zone=label), line):
                # the server's reason is usually on the lines about the zone just before its verdict
                about = [text.strip() for text in lines[max(0, at - 8):at + 1] if zone.rstrip(".") in text]
                return " / ".join(about[-4:])
        return None


class ServerCannotExpress(LabError):
    """A fault only the builtin server can act out (a server behaviour) aimed at a real server's host."""


class ServerRefusedZone(LabError):
    """A real server would not load a zone as the build made it (its own log line is quoted).

    Raised as what it is when a fault of the scenario made the zone (the server sanitised the fault: the
    scenario's finding, reported as error verdicts); ``as_input_error`` when nothing but the user's own data did.
    """

    def __init__(self, *, server: str, host: str, zone: str, said: str) -> None:
        super().__init__(f"the server sanitised the fault: {server} on {host} refused {zone} as built, saying: {said}",
                         fix="this fault cannot be served by this server; run it on the builtin server")
        self.server, self.host, self.zone, self.said = server, host, zone, said

    def as_input_error(self, scenario_file: str | Path | None) -> LabError:
        """No fault touched the zone: the zone itself (a file, records, keys the user gave) is what the server
        refuses, so it is bad input (exit 2), quoted in the server's own words."""
        return LabError(f"{self.server} on {self.host} refused to load zone {self.zone}, saying: \"{self.said}\"",
                        file=scenario_file,
                        fix=f"correct the zone data the server names (the scenario's records or zone file for "
                            f"{self.zone}), or serve the zone on another server (server: builtin)")
