"""The Lab: one running network of authoritative servers and resolvers for one topology shape.

A lab starts once and then takes scenario after scenario: ``load`` swaps zone data into the servers (SIGHUP,
then a wait until each serves the new serial), restarts the resolvers only when the trust anchor changed and
flushes their caches otherwise. Teardown runs on success, failure and Ctrl-C.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import dns.name
import dns.rdatatype

from testbed import timeshim
from testbed.auth.servers import BUILTIN_SERVER, ServerAdapter, ServerContext, get_server
from testbed.auth.servers.base import ServerCannotExpress, ServerRefusedZone
from testbed.auth.servers.served import denial_differences, differences, zone_to_compare
from testbed.build.topology import Topology
from testbed.build.zones import BuildContext, zone_file_name
from testbed.daemon import parse_version
from testbed.errors import LabError
from testbed.lab import interrupts
from testbed.lab.backends import make_backend
from testbed.lab.backends.base import Backend, Host, HostSpec, T
from testbed.lab.backends.subnets import SubnetLease
from testbed.lab.runtime import lab_folder, prepare_lab_folder, remove_lab_folder
from testbed.lab.wait import QUIET_S, Waited, limit_s, query_once, tail, wait_for
from testbed.resolvers import ResolverAdapter, ResolverContext
from testbed.resolvers.base import write_rendered

AUTH_IMAGE = "auth"
RELOAD_LOGGED = "testbed.auth: reloaded "     # what the builtin server logs once a SIGHUP reload is in place
RELOAD_FAILED = "testbed.auth: reload failed"
READY_LINE = re.compile(r"^READY$", re.MULTILINE)   # the builtin server's stdout once its zones are in and bound
# TESTBED_VIRTUAL_CLOCK=0 starts resolvers on real time (no time shim); timelines that move the clock then fail early
VIRTUAL_CLOCK_ENV = "TESTBED_VIRTUAL_CLOCK"


@dataclass(frozen=True)
class ServerLoad:
    """Where a builtin server's loading stands, read from its log: a fresh start is loading until it prints READY,
    a SIGHUP reload until it logs that the reload is in place (or failed). Marks are counts taken beforehand."""

    server: str
    reload: bool
    mark: int

    @staticmethod
    def starting(server: str, old: Host | None) -> ServerLoad:
        # a restarted host's log may go on from the process before it: count only READY lines after those
        return ServerLoad(server, reload=False, mark=len(READY_LINE.findall(old.log_text())) if old else 0)

    @staticmethod
    def reloading(server: str, host: Host) -> ServerLoad:
        log = host.log_text()
        return ServerLoad(server, reload=True, mark=log.count(RELOAD_LOGGED) + log.count(RELOAD_FAILED))

    def loading(self, log: str) -> bool:
        """Still loading? Raises when the log says the load failed: then, and only then, a zone did not load."""
        if not self.reload:
            return len(READY_LINE.findall(log)) <= self.mark
        if log.count(RELOAD_LOGGED) + log.count(RELOAD_FAILED) <= self.mark:
            return True
        if log.rfind(RELOAD_FAILED) > log.rfind(RELOAD_LOGGED):      # the latest reload failed
            raise LabError(f"authoritative server {self.server} failed to reload its config and zones (it keeps "
                           f"serving what it had):\n{tail(log)}",
                           fix="see the server log above; it names the zone file and line that did not load")
        return False


@dataclass
class RunningResolver:
    adapter: ResolverAdapter
    ctx: ResolverContext
    host: Host
    version: str
    started_at: float
    ready_seconds: float
    package_version: str = "unknown"      # the exact Debian package version, 1:9.20.30-1~deb13u1

    @property
    def info(self) -> dict[str, str]:
        """What every result names of this resolver: software, generation, daemon and package version."""
        from testbed.resolvers.generations import DEFAULT_GENERATION, host_generation

        generation = self.adapter.generation or (host_generation() if self.host_is_local else DEFAULT_GENERATION)
        return {"software": getattr(self.adapter, "base_name", self.adapter.name), "generation": generation,
                "version": self.version, "package_version": self.package_version}

    host_is_local: bool = False           # netns: the daemon is this machine's package


class Lab:
    """Use as a context manager. ``topology`` fixes the shape; zone data comes with each ``load``."""

    def __init__(self, topology: Topology, backend: str, resolvers: dict[str, ResolverAdapter],
                 lease: SubnetLease | None = None, keep: bool = False, virtual_clock: bool | None = None) -> None:
        self.topology = topology
        self.backend_name = backend
        self.adapters = resolvers
        self.lease = lease
        self.keep = keep
        self.lab_id = secrets.token_hex(3)
        self.workdir = lab_folder(self.lab_id)
        self.backend: Backend | None = None
        self._closed_backend: Backend | None = None
        self.servers: dict[str, Host] = {}
        self.resolvers: dict[str, RunningResolver] = {}
        self._anchor: tuple[tuple[str, ...], bool] | None = None     # (DS texts, RFC 5011-managed)
        # The virtual clock: resolvers run with the time shim and read their offset from clock_file. None: on when
        # the shim can be built here and TESTBED_VIRTUAL_CLOCK is not 0.
        self.virtual_clock = virtual_clock
        self.clock_file = self.workdir / "clock" / "offset"
        self.clock_offset = 0
        self._shim: Path | None = None
        self._faulted_hosts: set[str] = set()          # hosts with network faults to clear at the next load
        self._server_loads: dict[str, ServerLoad] = {}  # what each server is loading since the last start/SIGHUP
        # Resolvers remember how each server behaved (EDNS support, timeouts, throttling) beyond what a cache flush
        # clears (PowerDNS 4.8 has no command for it): after server or network faults they start afresh.
        self._servers_misbehaved = False
        self.generation = 0
        self.loads_done = 0          # loads that completed: a lab that never completed one never came up
        self.timings: dict[str, float] = {}
        # real authoritative servers (testbed/auth/servers/): versions, the zones each was configured with (a
        # change of zones restarts it), where its log stood before the last load, and the zones it sanitised
        self.server_versions: dict[str, str] = {}
        self._server_zones: dict[str, tuple[str, ...]] = {}
        self._log_marks: dict[str, int] = {}
        self.sanitised: dict[str, str] = {}
        self.evidence = "failing"    # which checks carry evidence (run/evidence.py): failing (not passed) or all
        self.evidence_dir: Path | None = None   # --evidence-dir: a bundle per non-passing check (run/bundle.py)

    @property
    def trust_anchor(self) -> tuple[str, ...]:
        """The DS records the resolvers are given as their trust anchor now."""
        return self._anchor[0] if self._anchor is not None else ()

    @property
    def trust_anchor_managed(self) -> bool:
        """Whether the resolvers got that anchor as an RFC 5011 starting point (they track the keys themselves)."""
        return self._anchor[1] if self._anchor is not None else False

    # ---- lifecycle ------------------------------------------------------------------------------------------
    def __enter__(self) -> Lab:
        # made and recorded in one step: a signal now waits until the folder and the backend are known to
        # teardown (and ``down --all`` finds the folder by its lab.json)
        with interrupts.creating():
            self.workdir = prepare_lab_folder(self.lab_id)
            self.clock_file = self.workdir / "clock" / "offset"
            (self.workdir / "lab.json").write_text(json.dumps(
                {"id": self.lab_id, "backend": self.backend_name, "pid": os.getpid(),
                 "subnet": str(self.topology.subnet)}))
            self.backend = make_backend(self.backend_name, self.lab_id, str(self.topology.subnet), self.workdir)
            interrupts.lab_opened(self.lab_id, self.what_exists)
            try:
                t0 = time.monotonic()
                self.backend.create_network(self.topology.probe_address)
                self.timings["network_s"] = time.monotonic() - t0
            except BaseException:
                self.close()
                raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Tear everything down, to the end whatever signal arrives; then check that nothing is left."""
        with interrupts.tearing_down():
            steps = interrupts.Steps()
            backend, self.backend = self.backend, None
            if backend is not None:
                with steps:
                    backend.destroy()
                self._closed_backend = backend
            if self.lease is not None:
                with steps:
                    self.lease.release()
            if not self.keep:
                with steps:
                    remove_lab_folder(self.workdir)
            with steps:
                left = self.what_exists()
                if steps.errors:
                    left.append("errors: " + "; ".join(str(e) for e in steps.errors))
                interrupts.lab_closed(self.lab_id, left)
            steps.done()

    def what_exists(self) -> list[str]:
        """This lab's parts that exist right now (empty once torn down; a kept folder is not counted)."""
        backend = self.backend or self._closed_backend
        found = backend.leftovers() if backend is not None else []
        if not self.keep and self.workdir.exists():
            found.append(f"folder {self.workdir}")
        return found

    def next_serial(self) -> int:
        self.generation += 1
        return self.generation

    # ---- zone data ------------------------------------------------------------------------------------------
    def load(self, build: BuildContext, *, flush: bool = True, restart: bool = False) -> None:
        """Serve ``build``'s zones and point the resolvers at its trust anchor, with empty caches.

        ``flush=False`` (timeline phases) keeps what the resolvers cached, as in the field. The resolvers' clock is
        set to ``build.clock`` first; a move backward always flushes, since cached TTLs cannot run backward.
        ``restart`` starts the resolvers afresh even with the same anchor (a timeline with an RFC 5011 anchor must
        not inherit the key state an earlier timeline left in them).
        """
        assert self.backend is not None
        if build.topology.shape() != self.topology.shape():
            raise LabError("this build needs a lab of another shape (hosts or addresses differ)",
                           fix="take the lab from LabPool.lab_for(scenario)")
        # Labs are reused by shape, and a shape says nothing of zones: the same servers may carry other zones now
        # (jp-plan adds registrants' zones to the child server), so serve them as this build's topology says.
        self.topology = build.topology
        t0 = time.monotonic()
        self._refuse_inexpressible(build)
        self._clear_network()
        for server in self.topology.servers.values():
            self._write_server(server.name, build)
        for server in self.topology.servers.values():
            self._start_or_reload(server.name)
        for server in self.topology.servers.values():
            self._wait_server(server.name, build)
        self.sanitised = self._check_served(build)
        # Misbehaviour after the wait: a server that truncates, refuses or drops everything could not show that it
        # serves this build's zones. Network faults last: an "unreachable" server must still have loaded its zones.
        self._apply_behaviour(build)
        self._apply_network(build)
        self.timings["servers_s"] = time.monotonic() - t0

        anchor = (tuple(build.trust_anchor_ds()), build.trust_anchor_managed)
        t0 = time.monotonic()
        backward = build.clock.offset < self.clock_offset
        self.set_clock(build.clock.offset)
        restarted = anchor != self._anchor or restart or (flush and self._servers_misbehaved)
        if restarted:
            self._restart_resolvers(anchor)
            self._anchor = anchor
        elif flush or backward:
            self.flush()
        # any misbehaviour since the last restart counts: a timeline may cut a server off in one phase and bring it
        # back in the next, and the resolvers still remember it as down (PowerDNS throttles it); so does a real
        # server that changed or dropped answers (Knot DNS sends none where it cannot build a proof)
        misbehaving = any(build.server_behaviour.values()) or any(build.network.values()) or bool(self.sanitised)
        self._servers_misbehaved = misbehaving or (self._servers_misbehaved and not restarted)
        self.timings["resolvers_s"] = time.monotonic() - t0
        self.timings.setdefault("first_load_s", self.timings["servers_s"] + self.timings["resolvers_s"])
        self.loads_done += 1

    def _clear_network(self) -> None:
        """Undo the last scenario's network faults before anything waits on those servers again."""
        from testbed.lab.netfaults import clear_netem

        for name in sorted(self._faulted_hosts):
            clear_netem(self.servers[name])
        self._faulted_hosts = set()

    def _apply_network(self, build: BuildContext) -> None:
        from testbed.lab.netfaults import apply_netem

        for name, settings in build.network.items():
            if name not in self.servers:
                raise LabError(f"a network fault names host {name!r}, which is not a server of this lab",
                               fix=f"use one of: {', '.join(self.servers)}")
            apply_netem(self.servers[name], **settings)
        self._faulted_hosts = set(build.network)

    # ---- real authoritative servers ---------------------------------------------------------------------------
    def server_adapter(self, name: str) -> ServerAdapter | None:
        """The adapter of server host ``name``, or None for the builtin server."""
        software = self.topology.servers[name].software
        return None if software == BUILTIN_SERVER else get_server(software)

    def _server_ctx(self, name: str) -> ServerContext:
        server = self.topology.servers[name]
        return ServerContext(name=name, address=self.topology.server_address(name), folder=self._server_folder(name),
                             zones=tuple((zone, zone_file_name(zone)) for zone in server.zones))

    def _refuse_inexpressible(self, build: BuildContext) -> None:
        """Server-behaviour faults are acts of the builtin server: a real server's host cannot take one."""
        for name, behaviour in build.server_behaviour.items():
            adapter = self.server_adapter(name) if name in self.topology.servers else None
            if behaviour and adapter is not None:
                raise ServerCannotExpress(
                    f"the server cannot express this fault: {adapter.display_name} on {name} has no switch for "
                    f"{', '.join(sorted(behaviour))} (a behaviour of the builtin server only)",
                    fix=f"serve the zones of {name} with the builtin server (server: builtin on the zone, or no "
                        "--auth) for this scenario")

    def _start_or_reload(self, name: str) -> None:
        assert self.backend is not None
        host = self.servers.get(name)
        adapter = self.server_adapter(name)
        zones = self.topology.servers[name].zones
        self._log_marks[name] = len(host.log_text()) if host is not None else 0
        if host is not None and host.alive() and adapter is not None and self._server_zones.get(name) != zones:
            host.stop()             # other zones than it was started with: a real server rereads its config anew
        if host is None or not host.alive():
            self._log_marks[name] = 0
            if adapter is None:
                self._server_loads[name] = ServerLoad.starting(name, host)
            host = self.servers[name] = self.backend.start_host(self._server_spec(name))
            if adapter is not None:
                self.server_versions[name] = f"{adapter.name} {self._server_version(adapter, host)}"
        elif adapter is None:
            self._server_loads[name] = ServerLoad.reloading(name, host)
            host.signal(signal.SIGHUP)
        else:
            adapter.reload(host, self._server_ctx(name))
        self._server_zones[name] = zones

    def _server_version(self, adapter: ServerAdapter, host: Host) -> str:
        if self.backend_name == "netns":
            return adapter.local_version()
        _, out = host.exec([adapter.binary, *adapter.version_argv])
        return adapter.parse_version(out)

    def server_log(self, name: str) -> str:
        return self.servers[name].log_text()

    def _check_served(self, build: BuildContext) -> dict[str, str]:
        """Zones a real server serves otherwise than built -> what it served, in words (see served.py)."""
        assert self.backend is not None
        found: dict[str, str] = {}
        probes = [dns.name.from_text(qname) for qname, _ in build.probes]
        for name, server in self.topology.servers.items():
            adapter = self.server_adapter(name)
            if adapter is None:
                continue
            address = self.topology.server_address(name)
            for zone in server.zones:
                if zone in found:
                    continue
                made = build.zones[zone]
                built, sampled = zone_to_compare(made.text() if made.is_text else None, made.zone, made.origin,
                                                 probes)
                diffs: list[str] = self.backend.in_lab(partial(differences, built, address))
                # a sample has no whole NSEC/NSEC3 chain for the builtin server to deny from
                if made.has_signed and not sampled:
                    diffs += self.backend.in_lab(partial(denial_differences, built, address, build.probes))
                if diffs:
                    found[zone] = f"{adapter.display_name} on {name} served {zone} otherwise than built: " + \
                        "; ".join(diffs)
        return found

    def _server_folder(self, name: str) -> Path:
        return self.workdir / "hosts" / name

    def _write_server(self, name: str, build: BuildContext) -> None:
        server = self.topology.servers[name]
        folder = self._server_folder(name)
        folder.mkdir(parents=True, exist_ok=True)
        for zone in server.zones:
            path = folder / zone_file_name(zone)
            before = path.stat().st_mtime_ns if path.exists() else None
            build.write_zone_for(name, zone, path)    # written once, linked for others
            _newer_than(path, before)
        adapter = self.server_adapter(name)
        if adapter is None:
            self._write_config(name, {})      # well-behaved until the lab has seen it serve (_apply_behaviour)
            return
        for rel, text in adapter.render(self._server_ctx(name)).items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(text)

    def _write_config(self, name: str, behaviour: dict) -> None:
        server = self.topology.servers[name]
        zones = {zone: zone_file_name(zone) for zone in server.zones}
        listen = [{"address": self.topology.server_address(name), "port": 53, "zones": list(server.zones),
                   "behaviour": behaviour}]
        config = self._server_folder(name) / "config.json"
        config.with_suffix(".tmp").write_text(json.dumps({"listen": listen, "zones": zones}, indent=1))
        config.with_suffix(".tmp").replace(config)

    def _apply_behaviour(self, build: BuildContext) -> None:
        """Switch on the server-behaviour faults of ``build``: new config, SIGHUP, wait for the server's log to say
        it reloaded (its answers cannot tell: it may be set to send none)."""
        for name, behaviour in build.server_behaviour.items():
            if not behaviour:
                continue
            host = self.servers[name]
            load = ServerLoad.reloading(name, host)
            self._write_config(name, behaviour)
            host.signal(signal.SIGHUP)

            def failed(waited: Waited, name: str = name, behaviour: dict = behaviour, host: Host = host) -> LabError:
                state = "exited" if waited.exited else f"had not reloaded after {waited.seconds:.0f} s"
                return LabError(f"authoritative server {name} {state} while taking its behaviour {behaviour}:\n"
                                f"{tail(host.log_text())}", fix="see the server log above")

            def reloaded(host: Host = host, load: ServerLoad = load) -> bool | None:
                return None if load.loading(host.log_text()) else True

            wait_for(reloaded, host=host, loading=load.loading, failed=failed)

    def _server_spec(self, name: str) -> HostSpec:
        folder = self._server_folder(name)
        adapter = self.server_adapter(name)
        if adapter is not None:
            return HostSpec(name=name, address=self.topology.server_address(name), folder=folder, image=adapter.image,
                            argv=tuple(adapter.command(self._server_ctx(name))), needs_net_admin=True)
        python = sys.executable if self.backend_name == "netns" else "python3"
        # NET_ADMIN: network faults (tc) act inside a server's own namespace; docker grants it only at creation
        return HostSpec(name=name, address=self.topology.server_address(name), folder=folder, image=AUTH_IMAGE,
                        argv=(python, "-m", "testbed.auth", str(folder / "config.json")), needs_net_admin=True,
                        writable=False)         # the builtin server only reads its folder

    def _wait_server(self, name: str, build: BuildContext) -> None:
        """Wait until the server answers each of its zones' SOA with the serial of this build: as long as it is
        loading (no fixed time: a large zone takes what it takes), then ``QUIET_S`` for the answer to come."""
        assert self.backend is not None
        backend = self.backend
        address = self.topology.server_address(name)
        host = self.servers[name]
        adapter = self.server_adapter(name)
        load = self._server_loads.get(name)
        for zone in self.topology.servers[name].zones:
            want = build.serial_for(name, zone)
            seen: list[str] = []        # what the server answered last, for the message

            def serves(zone: str = zone, want: int | None = want, seen: list[str] = seen) -> bool | None:
                # tries as long as a second: a server may hold its answers back on purpose (delay_ms)
                refused = adapter.refusal(host.log_text()[self._log_marks.get(name, 0):], zone) if adapter else None
                if refused is not None:
                    assert adapter is not None
                    raise ServerRefusedZone(server=adapter.display_name, host=name, zone=zone, said=refused)
                reply = backend.in_lab(lambda: query_once(address, zone, "SOA", try_timeout=1.0))
                if reply is None:
                    seen[:] = ["no answer"]
                    return None
                serials = [rr[0].serial for rr in reply.answer if rr.rdtype == dns.rdatatype.SOA]
                if want is None or want in serials:
                    return True
                seen[:] = [f"serial {serials[0]}" if serials else f"no SOA (rcode {reply.rcode()})"]
                return None

            def failed(waited: Waited, zone: str = zone, want: int | None = want, seen: list[str] = seen) -> LabError:
                who = f"authoritative server {name} ({address})"
                if waited.exited:
                    return LabError(f"{who} exited before it served {zone} serial {want}:\n{tail(host.log_text())}",
                                    fix="see the server log above")
                if waited.loading:
                    return LabError(f"{who} was still loading its zones after {waited.seconds:.0f} s:\n"
                                    f"{tail(host.log_text())}",
                                    fix=f"give large zones more time: TESTBED_WAIT_LIMIT=SECONDS (now {limit_s():.0f})")
                answered = seen[0] if seen else "nothing"
                return LabError(f"{who} has loaded its zones but did not answer {zone} SOA with serial {want} within "
                                f"{QUIET_S:.0f} s (it answered: {answered}):\n{tail(host.log_text())}",
                                fix="see the server log above")

            wait_for(serves, host=host, loading=load.loading if load is not None else None, failed=failed)

    # ---- resolvers ------------------------------------------------------------------------------------------
    def _resolver_ctx(self, name: str, anchor: tuple[tuple[str, ...], bool]) -> ResolverContext:
        # unbound@debian13 -> hosts/unbound-debian13: unbound-control reads '@' in a socket path as IP@port
        folder = self.workdir / "hosts" / name.replace("@", "-")
        return ResolverContext(address=self.topology.resolver_address(name), subnet=str(self.topology.subnet),
                               folder=folder, root_hints=tuple(self.topology.root_hints), trust_anchor_ds=anchor[0],
                               managed_anchor=anchor[1])

    # ---- the virtual clock ----------------------------------------------------------------------------------
    def _virtual_clock_wanted(self) -> bool:
        if self.virtual_clock is None:
            self.virtual_clock = os.environ.get(VIRTUAL_CLOCK_ENV, "1") != "0" and timeshim.available()
        return self.virtual_clock

    def shim_path(self) -> Path:
        """The time shim inside the lab folder: every backend sees that folder at the same path (docker bind-mounts
        it), so one copy serves netns processes and containers alike."""
        if self._shim is None:
            built = timeshim.build()
            local = self.workdir / "timeshim" / built.name
            local.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(built, local)
            self._shim = local
        return self._shim

    def on_virtual_clock(self, name: str) -> bool:
        """Whether resolver ``name`` follows the lab clock (the lab runs the shim and the adapter supports it)."""
        return self._virtual_clock_wanted() and self.adapters[name].virtual_clock

    def set_clock(self, offset: int) -> None:
        """Move every resolver on the virtual clock to real time + ``offset`` seconds, from their next time call."""
        if offset == self.clock_offset and self.clock_file.exists():
            return
        # a lab without resolvers (testbed explain) has no one to tell: the walk reads the lab clock itself
        if offset and self.adapters and not any(self.on_virtual_clock(name) for name in self.adapters):
            raise LabError(f"this lab's resolvers run on real time, so the lab clock cannot move by {offset} s",
                           fix="install gcc so the time shim can be built (testbed timeshim build), and do not set "
                               f"{VIRTUAL_CLOCK_ENV}=0")
        timeshim.write_offset(self.clock_file, offset)
        self.clock_offset = offset

    def _clock_env(self, name: str) -> dict[str, str]:
        if not self.on_virtual_clock(name):
            return {}
        if not self.clock_file.exists():
            timeshim.write_offset(self.clock_file, self.clock_offset)
        return timeshim.environment(self.shim_path(), self.clock_file)

    def _shared(self, name: str) -> tuple[Path, ...]:
        """Lab folders resolver ``name`` reads beside its own: the time shim and the clock, when it runs on them."""
        if not self.on_virtual_clock(name):
            return ()
        return (self.shim_path().parent, self.clock_file.parent)

    def resolver_exec(self, name: str, argv: list[str], timeout: float = 10.0) -> tuple[int, str]:
        """Run a control command on a resolver's host, on the same clock as the resolver (rndc checks it)."""
        running = self.resolvers[name]
        if self.on_virtual_clock(name):
            argv = timeshim.wrap(argv, self.shim_path(), self.clock_file)
        return running.host.exec(argv, timeout=timeout)

    def _restart_resolvers(self, anchor: tuple[tuple[str, ...], bool]) -> None:
        assert self.backend is not None
        for name, adapter in self.adapters.items():
            old = self.resolvers.pop(name, None)
            if old is not None:
                old.host.stop()
            ctx = self._resolver_ctx(name, anchor)
            ctx.folder.mkdir(parents=True, exist_ok=True)
            adapter.prepare(ctx)
            write_rendered(adapter, ctx.folder, adapter.render(ctx))
            t0 = time.monotonic()
            host = self.backend.start_host(HostSpec(name=name, address=ctx.address, folder=ctx.folder,
                                                    image=adapter.image, argv=tuple(adapter.command(ctx)),
                                                    env=self._clock_env(name), shared=self._shared(name)))
            self._wait_resolver(adapter, ctx.address, host)
            ready = time.monotonic() - t0
            self.resolvers[name] = RunningResolver(adapter, ctx, host, self._version(adapter, host), t0, ready,
                                                   package_version=self._package_version(adapter, host),
                                                   host_is_local=self.backend_name == "netns")
        # readiness was probed with a query: start every scenario from an empty cache all the same
        self.flush()

    def _wait_resolver(self, adapter: ResolverAdapter, address: str, host: Host) -> None:
        """Wait until the resolver answers anything: as long as it runs and its log grows, then ``QUIET_S``."""
        assert self.backend is not None
        backend = self.backend

        def failed(waited: Waited) -> LabError:
            if waited.exited:
                reason = "exited"
            elif waited.seconds >= limit_s():
                reason = f"was still starting after {waited.seconds:.0f} s"
            else:
                reason = f"runs but did not answer within {waited.seconds:.0f} s (its log silent for {QUIET_S:.0f} s)"
            return LabError(f"{adapter.display_name} at {address} {reason}:\n{tail(host.log_text())}",
                            fix=f"check the {adapter.display_name} log above; "
                                f"is the '{adapter.debian_package}' package installed?")

        wait_for(lambda: backend.in_lab(lambda: query_once(address)), host=host, failed=failed)

    def _version(self, adapter: ResolverAdapter, host: Host) -> str:
        """The version of the binary that really runs: the host's own (an image may differ from this machine)."""
        if self.backend_name == "netns":
            return adapter.local_version()
        _, out = host.exec([adapter.binary, *adapter.version_argv])
        return parse_version(out, adapter.version_pattern)

    def _package_version(self, adapter: ResolverAdapter, host: Host) -> str:
        if self.backend_name == "netns":
            return adapter.local_package_version()
        rc, out = host.exec(adapter.package_version_command())
        return out.strip() if rc == 0 and out.strip() else "unknown"

    def flush(self) -> None:
        for name in self.resolvers:
            self.flush_resolver(name)

    def flush_resolver(self, name: str) -> None:
        """Empty one resolver's caches (between the checks of a static scenario, so none depends on another)."""
        running = self.resolvers[name]
        rc, out = self.resolver_exec(name, running.adapter.flush_command(running.ctx))
        if rc != 0:
            raise LabError(f"flushing the cache of {name} failed (exit {rc}): {out.strip()}")

    def resolver_log(self, name: str) -> str:
        return self.resolvers[name].host.log_text()

    # ---- the probe's vantage point -------------------------------------------------------------------------
    def in_lab(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` where the sockets it opens reach lab addresses (the probe stage queries resolvers this way)."""
        assert self.backend is not None
        return self.backend.in_lab(fn)


def _newer_than(path: Path, before: int | None) -> None:
    """Give ``path`` an mtime later than ``before`` (its mtime before it was rewritten): real servers reload a zone
    file only when its mtime changed, and two loads within one clock tick would otherwise look unchanged."""
    if before is None:
        return
    if path.stat().st_mtime_ns <= before + 1_000_000_000:
        stamp = before + 1_000_000_000          # a whole second: some servers compare mtimes in seconds
        os.utime(path, ns=(stamp, stamp))
