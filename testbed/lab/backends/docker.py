"""docker backend: every host is a container with a static address on the lab's own internal bridge network.

The network is ``internal`` (Docker adds no NAT and no default route inside the containers, and drops
forwarding between the bridge and anything else), IPv4 only, and its gateway address is the lab's probe address:
the gateway is this machine's own interface on the bridge, so queries made from this process leave from the
probe address exactly as they do from the probe namespace of the netns backend, and ``in_lab`` is a plain call.

Each container joins that one network and no other (created with ``network_mode`` set to it, never attached to
the default bridge), runs under docker-init so signals reach the command and zombies are reaped, has the lab
folder bind-mounted at the same absolute path, and a resolv.conf that points nowhere: a libc lookup inside a
container must not reach Docker's embedded DNS, which can forward to the machine's real resolvers.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

import testbed.lab.backends.docker_firewall as docker_firewall  # not via the package, which imports this
from testbed.errors import EnvironmentProblem, LabError
from testbed.lab import interrupts
from testbed.lab.backends.base import LABEL, NAME_PREFIX, OWNER_LABEL, Backend, Host, HostSpec, T

HOST_LABEL = "dnssec-testbed.host"
MEM_LIMIT = "256m"                 # a resolver with an empty cache on a 10-zone lab uses well under 64 MB
PIDS_LIMIT = 256
API_TIMEOUT = 60                   # seconds per Docker API call; image builds have their own, longer one
# No nameserver that answers: see the module docstring.
RESOLV_CONF = ("# dnssec-testbed: lab hosts never use the system resolver\n"
               "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")


def _client():  # noqa: ANN202 - docker.DockerClient, imported lazily
    from testbed.lab.backends.docker_env import reachable_client

    return reachable_client(API_TIMEOUT)


class DockerHost(Host):
    def __init__(self, spec: HostSpec, backend: DockerBackend, container: Any, log_path: Path) -> None:
        self.spec = spec
        self.backend = backend
        self.container = container
        self.log_path = log_path          # logs of this host's earlier containers (kept across restarts)
        self.removed = False

    @property
    def pid(self) -> int:
        """The main command's PID on this machine (0 once stopped): its /proc/PID/ns/net is the host's netns."""
        self.container.reload()
        return int(self.container.attrs.get("State", {}).get("Pid") or 0)

    def exec(self, argv: list[str], timeout: float = 10.0) -> tuple[int, str]:
        api = self.backend.client.api
        try:
            exec_id = api.exec_create(self.container.id, list(argv), stdout=True, stderr=True)["Id"]
        except Exception as exc:  # noqa: BLE001 - a dead container or a missing binary is an exit code here
            return 126, f"cannot run {' '.join(argv)} in {self.spec.name}: {exc}"
        future = self.backend.exec_pool.submit(api.exec_start, exec_id)
        try:
            output = future.result(timeout=timeout)
        except FutureTimeout:
            # the exec has no timeout of its own: kill its process from outside (exec PIDs are host PIDs)
            with contextlib.suppress(Exception):
                pid = int(api.exec_inspect(exec_id).get("Pid") or 0)
                if pid > 0:
                    os.kill(pid, signal.SIGKILL)
            return 124, f"timed out after {timeout}s: {' '.join(argv)}"
        except Exception as exc:  # noqa: BLE001
            return 126, f"cannot run {' '.join(argv)} in {self.spec.name}: {exc}"
        code = api.exec_inspect(exec_id).get("ExitCode")
        text = output.decode(errors="replace") if isinstance(output, bytes) else str(output)
        # 127/126 come from the runtime when the binary is missing; keep them as they are for the caller
        return (int(code) if code is not None else 1), text

    def signal(self, sig: signal.Signals) -> None:
        if self.alive():
            with contextlib.suppress(Exception):
                self.container.kill(signal=int(sig))

    def alive(self) -> bool:
        if self.removed:
            return False
        try:
            self.container.reload()
        except Exception:  # noqa: BLE001 - gone is not alive
            return False
        return self.container.status == "running"

    def _container_logs(self) -> str:
        if self.removed:
            return ""
        try:
            return self.container.logs(stdout=True, stderr=True).decode(errors="replace")
        except Exception:  # noqa: BLE001
            return ""

    def log_text(self) -> str:
        earlier = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return earlier + self._container_logs()

    def save_logs(self) -> None:
        """Append the container's log to the host's log file before the container goes away."""
        text = self._container_logs()
        if text and self.log_path.parent.exists():
            with open(self.log_path, "a") as fh:
                fh.write(text)

    def remove(self, timeout: float | None = None) -> None:
        if self.removed:
            return
        if timeout is not None:
            with contextlib.suppress(Exception):
                self.container.stop(timeout=max(1, int(timeout)))
        with contextlib.suppress(Exception):
            self.save_logs()
        with contextlib.suppress(Exception):
            self.container.remove(force=True)
        self.removed = True

    def stop(self, timeout: float = 5.0) -> None:
        self.remove(timeout=timeout)


class DockerBackend(Backend):
    name = "docker"

    def __init__(self, lab_id: str, subnet: str, workdir: Path) -> None:
        super().__init__(lab_id, subnet, workdir)
        self._client: Any = None
        self.network_name = f"{NAME_PREFIX}-{lab_id}"
        self.network: Any = None
        self.hosts: dict[str, DockerHost] = {}
        self.images: dict[str, str] = {}          # image key -> tag, resolved once per lab
        self.exec_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix=f"docker-exec-{lab_id}")
        self._lock = threading.Lock()
        self._destroyed = False
        self._firewalled = False

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = _client()
        return self._client

    @property
    def bridge(self) -> str:
        """The lab network's interface on this machine: short and recognisable, tb-<lab id>."""
        return f"tb-{self.lab_id}"[:15]

    def capture_argv(self) -> list[str] | None:
        return ["tcpdump", "-i", self.bridge]

    def container_name(self, host: str) -> str:
        # host names may carry a generation (unbound@debian13); '@' is not allowed in a container name
        return f"{NAME_PREFIX}-{self.lab_id}-{host.replace('@', '-')}"

    @property
    def labels(self) -> dict[str, str]:
        return {LABEL: self.lab_id, OWNER_LABEL: str(os.getpid())}

    # ---- network --------------------------------------------------------------------------------------------
    def create_network(self, probe_address: str) -> None:
        import docker.errors
        from docker.types import IPAMConfig, IPAMPool

        ipam = IPAMConfig(pool_configs=[IPAMPool(subnet=self.subnet, gateway=probe_address)])
        try:
            with interrupts.creating():     # made and recorded together (destroy() also finds it by label)
                self.network = self.client.networks.create(
                    self.network_name, driver="bridge", internal=True, ipam=ipam, labels=self.labels,
                    enable_ipv6=False,
                    # a short, recognisable interface name on this machine: tb-<lab id>
                    options={"com.docker.network.bridge.name": self.bridge,
                             "com.docker.network.bridge.enable_ip_masquerade": "false"})
        except docker.errors.APIError as exc:
            raise LabError(f"cannot create the lab network {self.network_name} ({self.subnet}): "
                           f"{exc.explanation or exc}",
                           fix="if the subnet overlaps another Docker network, remove that one, or run "
                               "'testbed down --all'") from exc
        # before any container joins: no IPv6 on the bridge (no link-local chatter, no address to reach us by),
        # and no connection from the lab to this machine
        _disable_ipv6(self.bridge)
        with interrupts.creating():
            self._firewalled = True
            docker_firewall.install(self.lab_id, self.bridge)
        (self.workdir / "docker-resolv.conf").write_text(RESOLV_CONF)

    # ---- hosts ----------------------------------------------------------------------------------------------
    def image_for(self, key: str) -> str:
        """A compose/<key> recipe (built on first need), or a ready-made image reference a vendor brings
        (anything with a '/' or ':', e.g. myorg/unbound:dev), used as it is and never pulled."""
        if key not in self.images:
            if "/" in key or ":" in key:
                import docker.errors

                try:
                    self.client.images.get(key)
                except docker.errors.ImageNotFound:
                    raise EnvironmentProblem(f"image {key!r} is not on this machine",
                                             fix=f"build or load it first (docker build -t {key} ..., "
                                                 "or docker load)") from None
                self.images[key] = key
            else:
                from testbed.lab.images import ensure_image

                self.images[key] = ensure_image(key, client=self.client)
        return self.images[key]

    def start_host(self, spec: HostSpec) -> DockerHost:
        import docker.errors

        if self.network is None:
            raise LabError("start_host before create_network")
        old = self.hosts.get(spec.name)
        if old is not None:
            if old.alive():
                raise LabError(f"host {spec.name} is already running")
            old.remove()                       # a dead host's container still holds the name; keep its log
        image = self.image_for(spec.image)
        log_path = self.workdir / "logs" / f"{spec.name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        api = self.client.api
        host_config = api.create_host_config(
            network_mode=self.network_name,
            binds=self._binds(spec),
            mem_limit=MEM_LIMIT, pids_limit=PIDS_LIMIT, init=True,
            cap_add=["NET_ADMIN"] if spec.needs_net_admin else None,
            # as on the netns backend: no IPv6 at all, so nothing tries an address the lab does not have
            sysctls={"net.ipv6.conf.all.disable_ipv6": "1", "net.ipv6.conf.default.disable_ipv6": "1"},
            auto_remove=False)
        networking = api.create_networking_config(
            {self.network_name: api.create_endpoint_config(ipv4_address=spec.address)})
        labels = {**self.labels, HOST_LABEL: spec.name}
        name = self.container_name(spec.name)
        with interrupts.creating():         # a container created is a container destroy() removes
            try:
                created = api.create_container(image, command=list(spec.argv), name=name, labels=labels,
                                               environment=dict(spec.env), working_dir=str(spec.folder),
                                               host_config=host_config, networking_config=networking,
                                               hostname=spec.name.replace('@', '-'), detach=True)
            except docker.errors.APIError as exc:
                raise LabError(f"cannot create container {name} ({image}): {exc.explanation or exc}") from exc
            container = self.client.containers.get(created["Id"])
            host = DockerHost(spec, self, container, log_path)
            self.hosts[spec.name] = host           # registered before start: destroy() finds it either way
        try:
            container.start()
        except docker.errors.APIError as exc:
            raise LabError(f"cannot start {spec.name} ({image}) at {spec.address}: {exc.explanation or exc}",
                           fix="see the message above; a missing command means the image lacks it") from exc
        self._drop_default_route(host)
        for port in _bridge_ports(self.bridge):     # this machine's end of the container's veth pair
            _disable_ipv6(port)
        return host

    def _binds(self, spec: HostSpec) -> dict[str, dict[str, str]]:
        """The host's own folder and what it reads of the lab, nothing else: a vendor's image must not read
        another host's keys or rewrite its zones."""
        binds = {str(spec.folder): {"bind": str(spec.folder), "mode": "rw" if spec.writable else "ro"},
                 str(self.workdir / "docker-resolv.conf"): {"bind": "/etc/resolv.conf", "mode": "ro"}}
        for folder in spec.shared:
            binds[str(folder)] = {"bind": str(folder), "mode": "ro"}
        return binds

    def _drop_default_route(self, host: DockerHost) -> None:
        """Leave the container a route to the lab subnet only, as on the netns backend.

        Docker 20.10 gives a container on an internal network a default route via the gateway all the same.
        Packets on it reach this machine only, where Docker's isolation rules drop anything not for the lab
        subnet; removing the route makes such a send fail at once inside the container instead. Done from
        outside (nsenter, needs root) so a host needs no NET_ADMIN of its own; with NET_ADMIN, from inside.
        The command started a few ms earlier, but no lab daemon sends anything before it is queried.
        """
        flush = ["ip", "-4", "route", "flush", "exact", "0.0.0.0/0"]
        if os.geteuid() == 0 and shutil.which("nsenter") and shutil.which("ip"):
            pid = host.pid
            if pid > 0:
                proc = subprocess.run(["nsenter", f"--target={pid}", "--net", *flush], capture_output=True,
                                      text=True, timeout=10, check=False)
                if proc.returncode == 0:
                    return
        if host.spec.needs_net_admin:
            host.exec(flush)

    def in_lab(self, fn: Callable[[], T]) -> T:
        # The bridge's gateway address is ours (the probe address), so lab addresses are directly reachable.
        if self.network is None:
            raise LabError("the lab has no network")
        return fn()

    # ---- teardown -------------------------------------------------------------------------------------------
    def destroy(self) -> None:
        with interrupts.tearing_down(), self._lock:
            # every step runs whatever the one before raised, a KeyboardInterrupt included
            steps = interrupts.Steps()
            hosts = list(self.hosts.values())
            self.hosts.clear()
            # no graceful stop: nothing in a lab keeps state worth a SIGTERM wait, and Ctrl-C wants speed;
            # removals in parallel, because each is a round trip through the daemon's network teardown
            if hosts:
                with steps, ThreadPoolExecutor(max_workers=min(8, len(hosts))) as pool:
                    list(pool.map(_quietly_remove, hosts))
            if self._client is not None or self.network is not None:
                with steps:
                    self._remove_leftovers()
            self.network = None
            if self._firewalled:
                with steps:
                    docker_firewall.remove(self.lab_id)
                self._firewalled = False
            with steps:
                self.exec_pool.shutdown(wait=False, cancel_futures=True)
            if self._client is not None:
                with steps:
                    self._client.close()
                self._client = None
            self._destroyed = True
            steps.done()

    def leftovers(self) -> list[str]:
        return lab_resources(self.lab_id) + docker_firewall.describe(self.lab_id)

    def _remove_leftovers(self) -> None:
        """Whatever carries this lab's label, including a container created but never registered."""
        client = self.client
        with contextlib.suppress(Exception):
            for container in client.containers.list(all=True, filters={"label": f"{LABEL}={self.lab_id}"},
                                                    ignore_removed=True):
                with contextlib.suppress(Exception):
                    container.remove(force=True)
        for attempt in range(5):
            try:
                networks = client.networks.list(filters={"label": f"{LABEL}={self.lab_id}"})
                for network in networks:
                    network.remove()
                return
            except Exception:  # noqa: BLE001 - an endpoint still detaching: retry briefly, then give up
                if attempt == 4:
                    return
                time.sleep(0.2)


def _disable_ipv6(interface: str) -> None:
    """IPv6 off on one of this machine's interfaces (the lab bridge or a port of it); absent IPv6: nothing to do."""
    path = Path("/proc/sys/net/ipv6/conf") / interface / "disable_ipv6"
    with contextlib.suppress(OSError):
        path.write_text("1")


def _bridge_ports(bridge: str) -> list[str]:
    base = Path("/sys/class/net") / bridge / "brif"
    with contextlib.suppress(OSError):
        return sorted(p.name for p in base.iterdir())
    return []


def _quietly_remove(host: DockerHost) -> None:
    with interrupts.Steps():
        host.remove()


def lab_resources(lab_id: str | None = None) -> list[str]:
    """Containers and networks carrying our label (of one lab, or all): what a test asserts is gone."""
    from testbed.lab.backends.docker_env import docker_available, docker_client

    if not docker_available():
        return []
    client = docker_client(timeout=API_TIMEOUT)
    try:
        flt = {"label": f"{LABEL}={lab_id}" if lab_id else LABEL}
        found = [f"container {c.name}" for c in client.containers.list(all=True, filters=flt, ignore_removed=True)]
        found += [f"network {n.name}" for n in client.networks.list(filters=flt)]
        return found
    finally:
        client.close()
