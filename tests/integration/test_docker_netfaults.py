"""Per-host network faults on both backends, against a tiny UDP server that answers with as many bytes as asked.

Nothing here leaves the lab: the only peer is the host under test, reached from the probe's vantage point.
"""

from __future__ import annotations

import os
import secrets
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from testbed.errors import EnvironmentProblem
from testbed.lab.backends import make_backend
from testbed.lab.backends.base import Backend, Host, HostSpec
from testbed.lab.backends.docker_env import docker_available
from testbed.lab.backends.subnets import lease_subnet
from testbed.lab.netfaults import apply_netem, clear_netem, netem_supported
from tests.conftest import netns_possible

pytestmark = pytest.mark.integration

# answers a datagram holding a number N with N bytes; forever, until the host is stopped
SIZED_SERVER = (
    "import socket\n"
    "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
    "s.bind(('0.0.0.0', 53))\n"
    "while True:\n"
    "    data, peer = s.recvfrom(512)\n"
    "    s.sendto(b'x' * int(data), peer)\n"
)

BACKENDS = [
    pytest.param("docker", marks=[pytest.mark.docker,
                                  pytest.mark.skipif(not docker_available(), reason="no Docker daemon")]),
    pytest.param("netns", marks=pytest.mark.skipif(netns_possible() is not None, reason=str(netns_possible()))),
]


@pytest.fixture(params=BACKENDS)
def lab_host(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Backend, Host]]:
    lease = lease_subnet()
    subnet = lease.subnet
    lab_id = secrets.token_hex(3)
    backend = make_backend(request.param, lab_id, str(subnet), tmp_path)
    python = "python3" if request.param == "docker" else sys.executable
    folder = tmp_path / "hosts" / "srv"
    folder.mkdir(parents=True)
    try:
        with backend:
            backend.create_network(str(subnet.network_address + 250))
            host = backend.start_host(HostSpec(name="srv", address=str(subnet.network_address + 1),
                                               argv=(python, "-c", SIZED_SERVER), folder=folder, image="auth",
                                               needs_net_admin=True))
            assert ask(backend, host, 10, timeout=10) == 10, "the sized server never answered"
            yield backend, host
    finally:
        lease.release()


def ask(backend: Backend, host: Host, size: int, timeout: float = 1.0) -> int | None:
    """Bytes received for a request of ``size`` bytes, or None if nothing came back within ``timeout``."""

    def once() -> int | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.settimeout(0.3)
                try:
                    sock.connect((host.spec.address, 53))
                    sock.send(str(size).encode())
                    return len(sock.recv(65535))
                except OSError:
                    time.sleep(0.02)
        return None

    return backend.in_lab(once)


def test_udp_max_drops_only_large_answers(lab_host: tuple[Backend, Host]) -> None:
    backend, host = lab_host
    apply_netem(host, udp_max=512)
    assert ask(backend, host, 512) == 512
    assert ask(backend, host, 513) is None
    assert ask(backend, host, 4000) is None
    clear_netem(host)
    assert ask(backend, host, 4000) == 4000


def test_down_and_total_loss_silence_the_host_until_cleared(lab_host: tuple[Backend, Host]) -> None:
    backend, host = lab_host
    apply_netem(host, down=True)
    assert ask(backend, host, 10) is None
    clear_netem(host)
    assert ask(backend, host, 10, timeout=5) == 10
    apply_netem(host, loss_pct=100.0)
    assert ask(backend, host, 10) is None
    apply_netem(host)                        # applying nothing replaces the earlier fault
    assert ask(backend, host, 10) == 10


def test_partial_loss_loses_some(lab_host: tuple[Backend, Host]) -> None:
    backend, host = lab_host
    apply_netem(host, loss_pct=50.0)
    got = [ask(backend, host, 10, timeout=0.3) for _ in range(40)]
    clear_netem(host)
    lost = got.count(None)
    assert 0 < lost < 40, f"lost {lost} of 40 at 50% loss"


def test_delay_delays_or_names_the_missing_kernel_feature(lab_host: tuple[Backend, Host]) -> None:
    backend, host = lab_host
    if not netem_supported(host):
        with pytest.raises(EnvironmentProblem, match="netem"):
            apply_netem(host, delay_ms=200)
        pytest.skip("this kernel has no netem qdisc; delay cannot be tested here")
    apply_netem(host, delay_ms=200)
    t0 = time.monotonic()
    assert ask(backend, host, 10, timeout=3) == 10
    assert time.monotonic() - t0 >= 0.19
    clear_netem(host)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can see the container's routes from outside")
def test_a_fault_needs_net_admin_on_docker(tmp_path: Path) -> None:
    if not docker_available():
        pytest.skip("no Docker daemon")
    lease = lease_subnet()
    try:
        with make_backend("docker", secrets.token_hex(3), str(lease.subnet), tmp_path) as backend:
            backend.create_network(str(lease.subnet.network_address + 250))
            (tmp_path / "h").mkdir()
            host = backend.start_host(HostSpec(name="plain", address=str(lease.subnet.network_address + 1),
                                               argv=("sleep", "600"), folder=tmp_path / "h", image="auth"))
            with pytest.raises(EnvironmentProblem, match="needs_net_admin"):
                apply_netem(host, udp_max=512)
    finally:
        lease.release()
