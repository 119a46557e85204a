"""Fixtures the real-lab tests share."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from testbed.lab.backends import docker_firewall
from testbed.lab.backends.docker import DockerBackend, lab_resources
from testbed.lab.backends.subnets import lease_subnet
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


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[DockerBackend]:
    """A docker lab with its network up and no hosts yet; afterwards nothing of it may be left: no container,
    network or firewall rule."""
    lease = lease_subnet()
    lab = DockerBackend(secrets.token_hex(3), str(lease.subnet), tmp_path)
    try:
        with lab:
            lab.create_network(str(lease.subnet.network_address + 250))
            yield lab
    finally:
        lease.release()
    assert lab_resources(lab.lab_id) == []
    assert docker_firewall.rules(lab.lab_id) == []


def address(lab: DockerBackend, host: int) -> str:
    """The address of host number ``host`` on the lab's /24."""
    return lab.subnet.rsplit(".", 1)[0] + f".{host}"
