"""Fixtures the real-lab tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from testbed.run.runner import LabPool
from tests.integration.test_resolvers_quickstart import ADAPTERS, available, netns_problem


@pytest.fixture(scope="module")
def pool() -> Iterator[LabPool]:
    """One netns lab pool with all four resolvers for a test module (a file that needs another defines its own)."""
    resolvers = available()
    if len(resolvers) < len(ADAPTERS):
        pytest.skip("needs all four resolvers: " + "; ".join(filter(None, map(netns_problem, ADAPTERS))))
    with LabPool("netns", resolvers) as pool:
        yield pool
