"""Shared test helpers: where the bundled scenarios are, and what this machine can run."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
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
