"""Docker labs are cut off from this machine: no host address answers a lab container, each container sees only
its own folder (read-only where it only reads), and nothing speaks IPv6 on the lab bridge.

The host side listens on 0.0.0.0 (TCP and UDP, one free port) and records everything that arrives; containers try
the lab's gateway address (this machine's interface on the bridge) and this machine's other addresses. The same
probe aimed at a listener on another lab container must answer, or the probe itself proved nothing.
"""

from __future__ import annotations

import ipaddress
import secrets
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from testbed.lab.backends import docker_firewall
from testbed.lab.backends.base import HostSpec
from testbed.lab.backends.docker import DockerBackend, DockerHost
from testbed.lab.backends.docker_env import docker_available
from tests.integration.conftest import address
from tests.integration.test_no_leak import frames

pytestmark = [pytest.mark.integration, pytest.mark.docker,
              pytest.mark.skipif(not docker_available(), reason="no Docker daemon")]

# Run in a container: connect over TCP and send one UDP datagram to HOST:PORT; print what answered.
PROBE = """
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
try:
    s = socket.create_connection((host, port), timeout=1)
    s.sendall(b"tcp-probe"); print("tcp:" + s.recv(64).decode())
except OSError as exc:
    print(f"tcp-failed:{exc}")
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(1)
try:
    u.sendto(b"udp-probe", (host, port)); print("udp:" + u.recv(64).decode())
except OSError as exc:
    print(f"udp-failed:{exc}")
"""
# A TCP and UDP echo service on PORT, in a container (the control) or on this machine.
ECHO = """
import socket, sys, threading
port = int(sys.argv[1])
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); t.bind(("0.0.0.0", port)); t.listen()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("0.0.0.0", port))
def udp():
    while True:
        data, peer = u.recvfrom(64); u.sendto(b"echo-" + data, peer)
threading.Thread(target=udp, daemon=True).start()
print("listening", flush=True)
while True:
    c, _ = t.accept(); c.sendall(b"echo-" + c.recv(64)); c.close()
"""


class HostListener:
    """TCP and UDP on this machine's 0.0.0.0:port; ``seen`` is every peer that reached it."""

    def __init__(self) -> None:
        self.tcp = socket.socket()
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("0.0.0.0", 0))
        self.port = self.tcp.getsockname()[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("0.0.0.0", self.port))
        self.tcp.listen()
        self.tcp.settimeout(0.2)
        self.udp.settimeout(0.2)
        self.seen: list[str] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._tcp, daemon=True), threading.Thread(target=self._udp,
                                                                                          daemon=True)]
        for t in self.threads:
            t.start()

    def _tcp(self) -> None:
        while not self.stop.is_set():
            try:
                conn, peer = self.tcp.accept()
            except OSError:
                continue
            self.seen.append(f"tcp from {peer[0]}")
            conn.sendall(b"echo-host")
            conn.close()

    def _udp(self) -> None:
        while not self.stop.is_set():
            try:
                data, peer = self.udp.recvfrom(64)
            except OSError:
                continue
            self.seen.append(f"udp from {peer[0]}")
            self.udp.sendto(b"echo-host", peer)

    def close(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(2)
        self.tcp.close()
        self.udp.close()


def python_host(backend: DockerBackend, name: str, host: int, argv: tuple[str, ...], **kw: object) -> DockerHost:
    folder = backend.workdir / "hosts" / name
    folder.mkdir(parents=True, exist_ok=True)
    return backend.start_host(HostSpec(name=name, address=address(backend, host), folder=folder, image="auth",
                                       argv=argv, **kw))  # type: ignore[arg-type]


def this_machines_addresses() -> list[str]:
    out = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True).stdout
    found = [line.split()[3].split("/")[0] for line in out.splitlines()]
    return [a for a in found if not ipaddress.IPv4Address(a).is_loopback]


def probe(host: DockerHost, target: str, port: int) -> str:
    code, out = host.exec(["python3", "-c", PROBE, target, str(port)], timeout=20)
    assert code == 0, out
    return out


def test_no_host_address_answers_a_lab_container(backend: DockerBackend) -> None:
    listener = HostListener()
    try:
        control = python_host(backend, "control", 7, ("python3", "-c", ECHO, str(listener.port)))
        deadline = time.monotonic() + 20
        while "listening" not in control.log_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        # NET_ADMIN: the auth server's privilege (network faults); with it a container can route anywhere it likes
        client = python_host(backend, "client", 8, ("sleep", "600"), needs_net_admin=True)
        # the control: the same probe to a lab host answers, over TCP and UDP
        answered = probe(client, address(backend, 7), listener.port)
        assert "tcp:echo-tcp-probe" in answered and "udp:echo-udp-probe" in answered, answered

        gateway = address(backend, 250)
        tried = {gateway: probe(client, gateway, listener.port)}
        # give the container a default route via the gateway, as a hostile image with NET_ADMIN could
        code, out = client.exec(["ip", "route", "replace", "default", "via", gateway])
        assert code == 0, out
        for other in this_machines_addresses():
            tried[other] = probe(client, other, listener.port)
    finally:
        listener.close()
    for target, out in tried.items():
        assert "tcp:" not in out and "udp:" not in out, f"{target} answered the lab container: {out}"
    assert listener.seen == [], listener.seen


def test_each_container_sees_only_its_own_folder(backend: DockerBackend) -> None:
    secret = backend.workdir / "hosts" / "bind" / "rndc.key"
    secret.parent.mkdir(parents=True)
    secret.write_text("key")
    server = python_host(backend, "root", 1, ("sleep", "600"), writable=False)
    resolver = python_host(backend, "unbound", 2, ("sleep", "600"))
    assert server.exec(["cat", str(secret)])[0] != 0, "another host's folder is visible"
    assert resolver.exec(["cat", str(secret)])[0] != 0, "another host's folder is visible"
    assert server.exec(["ls", str(backend.workdir / "lab.json")])[0] != 0
    code, out = server.exec(["touch", str(server.spec.folder / "x")])
    assert code != 0 and "read-only" in out.lower(), out
    assert resolver.exec(["touch", str(resolver.spec.folder / "x")]) == (0, "")


@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="needs tcpdump")
def test_no_ipv6_on_the_lab_bridge(backend: DockerBackend, tmp_path: Path) -> None:
    pcap = tmp_path / "bridge.pcap"
    dump = subprocess.Popen(["tcpdump", "-i", backend.bridge, "-n", "-U", "-s", "128", "-w", str(pcap)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        time.sleep(0.5)          # tcpdump has no "ready" signal on -w; a missed frame fails the control below
        control = python_host(backend, "control", 7, ("python3", "-c", ECHO, "5300"))
        client = python_host(backend, "client", 8, ("sleep", "600"))
        deadline = time.monotonic() + 20
        while "listening" not in control.log_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        # a few seconds of lab life: link-local addresses, MLD and router solicitations come in the first ones
        until = time.monotonic() + 4
        while time.monotonic() < until:
            assert "udp:echo" in probe(client, address(backend, 7), 5300)
        for name in (backend.bridge, *sorted(p.name for p in (Path("/sys/class/net") / backend.bridge /
                                                                 "brif").iterdir())):
            assert Path(f"/proc/sys/net/ipv6/conf/{name}/disable_ipv6").read_text().strip() == "1", name
        assert client.exec(["cat", "/proc/sys/net/ipv6/conf/all/disable_ipv6"]) == (0, "1\n")
    finally:
        dump.terminate()
        dump.communicate(timeout=10)
    kinds = [f.kind for f in frames(pcap.read_bytes())]
    assert kinds.count("ipv4") > 0, "the capture saw nothing: it could not have seen IPv6 either"
    assert kinds.count("ipv6") == 0, f"{kinds.count('ipv6')} IPv6 frames on the lab bridge"


def test_down_all_removes_the_firewall_rules_a_killed_run_left() -> None:
    import os
    import sys

    from testbed.lab.cleanup import down_all
    from tests.conftest import ROOT

    lab_id = secrets.token_hex(3)
    # a process that adds a lab's rules and dies without removing them, as a SIGKILLed run does
    subprocess.run([sys.executable, "-c", "import sys; from testbed.lab.backends import docker_firewall as f; "
                    f"f.install('{lab_id}', 'tb-{lab_id}')"], check=True, cwd=ROOT,
                   env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert len(docker_firewall.rules(lab_id)) == 4          # two rules, IPv4 and IPv6
    removed = down_all()
    assert sum(f"of lab {lab_id}" in line for line in removed) == 4
    assert docker_firewall.rules(lab_id) == []
