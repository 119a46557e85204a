"""Per-lab subnets: each running lab holds an flock on its own 10.53.X.0/24 so parallel labs never collide.

The lock lives as long as the process that holds it, so a killed run frees its subnet by itself.
"""

from __future__ import annotations

import fcntl
import ipaddress
import os
import subprocess

from testbed.errors import EnvironmentProblem
from testbed.lab.runtime import open_lock

BASE = "10.53"


class SubnetLease:
    """A /24 this process owns until ``release`` (or exit)."""

    def __init__(self, subnet: ipaddress.IPv4Network, fd: int) -> None:
        self.subnet = subnet
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _routed_networks() -> list[ipaddress.IPv4Network]:
    """Networks the host already routes (docker bridges, LANs): a lab must not shadow them."""
    try:
        out = subprocess.run(["ip", "-4", "route", "show", "table", "all"], capture_output=True, text=True,
                             check=False).stdout
    except FileNotFoundError:
        return []
    nets = []
    for line in out.splitlines():
        first = line.split()[0] if line.split() else ""
        if first in ("default", "broadcast", "local") or "/" not in first:
            continue
        try:
            nets.append(ipaddress.IPv4Network(first, strict=False))
        except ValueError:
            continue
    return nets


def free_subnet() -> ipaddress.IPv4Network:
    """A lab subnet nothing on this host uses now (no route to it, no running lab's lease), without keeping it:
    for a compose project, which docker-compose brings up later, under its own name."""
    lease = lease_subnet()
    lease.release()
    return lease.subnet


def lease_subnet() -> SubnetLease:
    taken = _routed_networks()
    for third in range(256):
        subnet = ipaddress.IPv4Network(f"{BASE}.{third}.0/24")
        if any(subnet.overlaps(n) for n in taken):
            continue
        fd = open_lock(f"{BASE}.{third}.lock")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return SubnetLease(subnet, fd)
    raise EnvironmentProblem(f"all 256 lab subnets {BASE}.0.0/16 are in use",
                             fix="stop other labs or run 'testbed down --all'")
