"""The docker backend on its own: isolation, one network per container, labels, teardown after a partial start.

Traffic stays on this machine: the only "outside" address tried is 192.0.2.1 (TEST-NET-1), and the test checks
that the attempt fails inside the container without a route to send it on.
"""

from __future__ import annotations

import secrets
import signal
import time
from pathlib import Path

import pytest

from testbed.errors import LabError
from testbed.lab.backends.base import LABEL, HostSpec
from testbed.lab.backends.docker import DockerBackend, lab_resources
from testbed.lab.backends.docker_env import docker_available
from testbed.lab.backends.subnets import lease_subnet
from tests.integration.conftest import address

pytestmark = [pytest.mark.integration, pytest.mark.docker,
              pytest.mark.skipif(not docker_available(), reason="no Docker daemon")]


def sleeper(backend: DockerBackend, name: str, host: int, image: str = "unbound") -> HostSpec:
    folder = backend.workdir / "hosts" / name
    folder.mkdir(parents=True, exist_ok=True)
    return HostSpec(name=name, address=address(backend, host), argv=("sleep", "600"), folder=folder, image=image)


def test_a_resolver_container_has_no_way_out(backend: DockerBackend) -> None:
    host = backend.start_host(sleeper(backend, "unbound", 101))
    code, routes = host.exec(["ip", "-4", "route"])
    assert code == 0
    assert "default" not in routes, routes
    assert routes.split()[0] == backend.subnet
    t0 = time.monotonic()
    code, out = host.exec(["bash", "-c", "exec 3<>/dev/tcp/192.0.2.1/53"], timeout=10)
    assert code != 0
    assert "unreachable" in out.lower(), out
    assert time.monotonic() - t0 < 3, "the connect should fail at once, not time out"
    # the container sits on the lab network and nothing else
    host.container.reload()
    assert list(host.container.attrs["NetworkSettings"]["Networks"]) == [backend.network_name]
    assert host.container.labels[LABEL] == backend.lab_id
    assert host.container.attrs["HostConfig"]["CapAdd"] in (None, [])
    assert backend.network.attrs["Internal"] is True


def test_the_lab_folder_is_at_the_same_path_and_exec_signal_logs_work(backend: DockerBackend) -> None:
    folder = backend.workdir / "hosts" / "child"
    folder.mkdir(parents=True)
    (folder / "hello.txt").write_text("hello from the lab folder\n")
    script = "import signal, sys, time\nsignal.signal(signal.SIGHUP, lambda *a: print('HUP', flush=True))\n" \
             "print('started', flush=True)\nwhile True: time.sleep(1)\n"
    host = backend.start_host(HostSpec(name="child", address=address(backend, 6), folder=folder, image="auth",
                                       argv=("python3", "-c", script), env={"TESTBED_X": "42"}))
    assert host.exec(["cat", str(folder / "hello.txt")]) == (0, "hello from the lab folder\n")
    assert host.exec(["sh", "-c", "echo $TESTBED_X; pwd"]) == (0, f"42\n{folder}\n")
    assert host.exec(["sleep", "30"], timeout=0.5)[0] == 124
    deadline = time.monotonic() + 10
    while "started" not in host.log_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    host.signal(signal.SIGHUP)
    while "HUP" not in host.log_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "HUP" in host.log_text()
    host.stop()
    assert not host.alive()
    assert "HUP" in host.log_text(), "the log outlives the container"
    # the same name starts again (a resolver restart)
    again = backend.start_host(HostSpec(name="child", address=address(backend, 6), folder=folder, image="auth",
                                        argv=("sleep", "600")))
    again.container.reload()
    assert again.alive(), f"{again.container.status}: {again.log_text()}"


def test_destroy_after_a_failed_start_is_complete_and_safe_twice(tmp_path: Path) -> None:
    lease = lease_subnet()
    try:
        lab = DockerBackend(secrets.token_hex(3), str(lease.subnet), tmp_path)
        lab.create_network(str(lease.subnet.network_address + 250))
        lab.start_host(sleeper(lab, "root-a", 1, image="auth"))
        with pytest.raises(LabError):         # the address is taken: the second container cannot start
            lab.start_host(sleeper(lab, "root-b", 1, image="auth"))
        assert len(lab_resources(lab.lab_id)) == 3          # two containers (one created, never started), network
        lab.destroy()
        assert lab_resources(lab.lab_id) == []
        lab.destroy()
    finally:
        lease.release()
