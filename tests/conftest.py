"""Shared test helpers: where the bundled scenarios are, and what this machine can run."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port(address: str = "127.0.0.1") -> int:
    """A port free for both UDP and TCP on ``address``. The kernel's free UDP port may be held for TCP by another
    process (a fresh-clone CI run failed on that once), so another port is tried until both binds succeed."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((address, 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((address, port))
                except OSError:
                    continue
            return int(port)
    raise OSError(f"no port free for both UDP and TCP on {address} after 100 tries")
QUICKSTART = ROOT / "scenarios" / "quickstart"


def netns_possible() -> str | None:
    """None when the netns backend can run here, else why not."""
    if os.geteuid() != 0:
        return "needs root for network namespaces"
    if shutil.which("ip") is None:
        return "needs iproute2"
    if shutil.which("unbound") is None:
        return "needs Unbound (apt-get install unbound)"
    return None


requires_netns = pytest.mark.skipif(netns_possible() is not None, reason=str(netns_possible()))
