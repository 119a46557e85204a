"""netns backend: every host is a Linux network namespace; processes run directly on this machine.

Layout per lab: a "switch" namespace holding a bridge, and one namespace per host joined to it by a veth pair.
The bridge lives in its own namespace rather than the root one so that (a) the root namespace gets no interface
and no route into the lab, and (b) the host's firewall (Docker sets FORWARD to DROP and loads br_netfilter)
never sees lab traffic. Hosts have no default route: anything outside the lab subnet is unreachable at once.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO

from testbed.errors import EnvironmentProblem, LabError
from testbed.lab import interrupts
from testbed.lab.backends.base import NAME_PREFIX, Backend, Host, HostSpec, T

CLONE_NEWNET = 0x40000000
NETNS_DIR = Path("/var/run/netns")


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise LabError(f"'ip {' '.join(args)}' failed: {proc.stderr.strip()}")
    return proc


def require_netns() -> None:
    """Fail early, in words, when this machine cannot run the netns backend."""
    if shutil.which("ip") is None:
        raise EnvironmentProblem("the 'ip' command is missing", fix="apt-get install -y iproute2")
    if os.geteuid() != 0:
        raise EnvironmentProblem("the netns backend needs root (it creates network namespaces)",
                                 fix="run as root (sudo), or use --backend docker")


def _setns(name: str) -> None:
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    fd = os.open(NETNS_DIR / name, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({name}): {os.strerror(err)}")
    finally:
        os.close(fd)


class NetnsHost(Host):
    def __init__(self, spec: HostSpec, netns: str, proc: subprocess.Popen[bytes], log_path: Path,
                 log_file: IO[bytes]) -> None:
        self.spec = spec
        self.netns = netns
        self.proc = proc
        self.log_path = log_path
        self._log_file = log_file

    def exec(self, argv: list[str], timeout: float = 10.0) -> tuple[int, str]:
        try:
            proc = subprocess.run(["ip", "netns", "exec", self.netns, *argv], capture_output=True, text=True,
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return 124, f"timed out after {timeout}s: {' '.join(argv)}"
        return proc.returncode, proc.stdout + proc.stderr

    def signal(self, sig: signal.Signals) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_text(self) -> str:
        self._log_file.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 5.0) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        self._log_file.close()


class NetnsBackend(Backend):
    name = "netns"

    def __init__(self, lab_id: str, subnet: str, workdir: Path) -> None:
        super().__init__(lab_id, subnet, workdir)
        self.prefixlen = subnet.split("/")[1]
        self.switch = f"{NAME_PREFIX}-{lab_id}-sw"
        self.namespaces: list[str] = []
        self.hosts: dict[str, NetnsHost] = {}
        self.attached: dict[str, str] = {}          # host name -> namespace, kept across restarts
        self._probe_pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def ns_name(self, host: str) -> str:
        return f"{NAME_PREFIX}-{self.lab_id}-{host.replace('@', '-')}"

    def capture_argv(self) -> list[str] | None:
        # every host's veth ends on br0 in the switch namespace: one capture sees all the lab's traffic
        return ["ip", "netns", "exec", self.switch, "tcpdump", "-i", "br0"]

    def create_network(self, probe_address: str | None = None) -> None:
        require_netns()
        self._add_namespace(self.switch)
        _ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        _ip("-n", self.switch, "link", "set", "br0", "up")
        if probe_address:
            self._attach("probe", probe_address)
            probe_ns = self.ns_name("probe")
            self._probe_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="probe",
                                                  initializer=_setns, initargs=(probe_ns,))

    def _add_namespace(self, name: str) -> None:
        with interrupts.creating():         # a namespace made is a namespace destroy() knows of
            _ip("netns", "add", name)
            self.namespaces.append(name)
        _ip("-n", name, "link", "set", "lo", "up")
        # No IPv6 at all: no link-local chatter, and a resolver cannot even try an IPv6 root address.
        subprocess.run(["ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                        "net.ipv6.conf.default.disable_ipv6=1"], capture_output=True, check=False)

    def _attach(self, host: str, address: str) -> str:
        ns = self.ns_name(host)
        self._add_namespace(ns)
        port = f"p{address.rsplit('.', 1)[1]}"
        _ip("-n", self.switch, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
        _ip("-n", self.switch, "link", "set", port, "master", "br0", "up")
        _ip("-n", ns, "addr", "add", f"{address}/{self.prefixlen}", "dev", "eth0")
        _ip("-n", ns, "link", "set", "eth0", "up")
        self.attached[host] = ns
        return ns

    def start_host(self, spec: HostSpec) -> NetnsHost:
        if spec.name in self.hosts and self.hosts[spec.name].alive():
            raise LabError(f"host {spec.name} is already running")
        ns = self.attached.get(spec.name) or self._attach(spec.name, spec.address)
        log_path = self.workdir / "logs" / f"{spec.name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_file = open(log_path, "ab")  # noqa: SIM115 - owned by the host, closed in stop()
        env = {**os.environ, **spec.env}
        with interrupts.creating():         # a process started is a process destroy() stops
            try:
                # start_new_session: Ctrl-C in the terminal reaches only us; we stop the hosts in order.
                proc = subprocess.Popen(["ip", "netns", "exec", ns, *spec.argv], cwd=spec.folder, env=env,
                                        stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                                        start_new_session=True)
            except OSError as exc:
                log_file.close()
                raise LabError(f"cannot start {spec.name}: {exc}") from exc
            host = NetnsHost(spec, ns, proc, log_path, log_file)
            self.hosts[spec.name] = host
        return host

    def in_lab(self, fn: Callable[[], T]) -> T:
        if self._probe_pool is None:
            raise LabError("the lab has no probe host")
        return self._probe_pool.submit(fn).result()

    def destroy(self) -> None:
        with interrupts.tearing_down(), self._lock:
            # every step runs whatever the one before raised, a KeyboardInterrupt included
            steps = interrupts.Steps()
            for host in list(self.hosts.values()):
                with steps:
                    host.stop(timeout=3)
            self.hosts.clear()
            if self._probe_pool is not None:
                with steps:
                    self._probe_pool.shutdown(wait=False, cancel_futures=True)
                self._probe_pool = None
            for ns in reversed(self.namespaces):
                with steps:
                    remove_namespace(ns)
            self.namespaces = [ns for ns in self.namespaces if ns in leftover_namespaces(self.lab_id)]
            steps.done()

    def leftovers(self) -> list[str]:
        found = [f"namespace {ns}" for ns in leftover_namespaces(self.lab_id)]
        found += [f"process {pid} ({args})" for pid, args in processes_under(self.workdir)]
        return found


def remove_namespace(ns: str) -> None:
    """Kill whatever still runs in ``ns`` and delete it (its veths go with it)."""
    pids = _ip("netns", "pids", ns, check=False).stdout.split()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), signal.SIGKILL)
    deadline = time.monotonic() + 2
    while pids and time.monotonic() < deadline and _ip("netns", "pids", ns, check=False).stdout.split():
        time.sleep(0.01)
    _ip("netns", "delete", ns, check=False)


def processes_under(folder: Path) -> list[tuple[int, str]]:
    """Processes whose command line names ``folder`` (every lab daemon is started with a path inside it)."""
    marker = str(folder).rstrip("/") + "/"
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if marker in args:
            found.append((int(entry.name), args[:80]))
    return found


def leftover_namespaces(lab_id: str | None = None) -> list[str]:
    prefix = f"{NAME_PREFIX}-{lab_id}-" if lab_id else f"{NAME_PREFIX}-"
    out = _ip("netns", "list", check=False).stdout if shutil.which("ip") else ""
    return [line.split()[0] for line in out.splitlines() if line.startswith(prefix)]


def down_all() -> list[str]:
    removed = leftover_namespaces()
    for ns in removed:
        remove_namespace(ns)
    return removed
