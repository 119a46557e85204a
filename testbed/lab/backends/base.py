"""The Lab's view of a backend: make an isolated network, start hosts on it, talk to them, tear it all down.

Backends know nothing of DNS. A host is a named machine with one address that runs one long-lived command;
everything else (configs, zone files) is written by the caller into the host's folder before it starts, and the
folder is visible to the host at the same absolute path on every backend.
"""

from __future__ import annotations

import signal
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

LABEL = "dnssec-testbed.lab"          # docker label / name prefix that marks everything a lab owns
OWNER_LABEL = "dnssec-testbed.pid"    # the process that owns a lab: cleanup spares labs whose owner still runs
NAME_PREFIX = "testbed"               # netns names: testbed-<lab id>-<host>


@dataclass(frozen=True)
class HostSpec:
    """One machine of the lab. ``image`` names the image (docker) the command runs in; netns runs it directly."""

    name: str
    address: str
    argv: tuple[str, ...]
    folder: Path
    image: str
    env: dict[str, str] = field(default_factory=dict)
    needs_net_admin: bool = False
    # docker mounts the host's own folder only: read-write, or read-only for a host that only reads it
    writable: bool = True
    # other lab folders the host reads (the time shim, the clock): mounted read-only at the same path
    shared: tuple[Path, ...] = ()


class Host(ABC):
    """A started host. ``exec`` runs a short command beside the main one (control channels, tc, iptables)."""

    spec: HostSpec

    @abstractmethod
    def exec(self, argv: list[str], timeout: float = 10.0) -> tuple[int, str]: ...

    @abstractmethod
    def signal(self, sig: signal.Signals) -> None: ...

    @abstractmethod
    def alive(self) -> bool: ...

    @abstractmethod
    def log_text(self) -> str:
        """Everything the main command printed so far."""

    @abstractmethod
    def stop(self, timeout: float = 5.0) -> None: ...


class Backend(ABC):
    """One isolated network per instance. Use as a context manager: teardown runs on success, error and Ctrl-C."""

    name: str

    def __init__(self, lab_id: str, subnet: str, workdir: Path) -> None:
        self.lab_id = lab_id
        self.subnet = subnet
        self.workdir = workdir

    @abstractmethod
    def create_network(self, probe_address: str) -> None:
        """Make the isolated network and the probe host (our query client) at ``probe_address``."""

    @abstractmethod
    def start_host(self, spec: HostSpec) -> Host: ...

    @abstractmethod
    def in_lab(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` where sockets it opens can reach lab addresses (the probe's vantage point)."""

    def capture_argv(self) -> list[str] | None:
        """The start of a command that runs tcpdump on the lab network's bridge (the caller adds the options), or
        None when this backend cannot capture."""
        return None

    @abstractmethod
    def destroy(self) -> None:
        """Remove every host and the network. Must be safe to call twice and after a partial start, and must run
        to the end whatever one step raises (KeyboardInterrupt included: see ``testbed.lab.interrupts.Steps``)."""

    @abstractmethod
    def leftovers(self) -> list[str]:
        """What of this lab exists on the machine right now, one short line each (empty after ``destroy``).
        Asked of the machine, not of our own records: "torn down" is said only when it is true."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.destroy()
