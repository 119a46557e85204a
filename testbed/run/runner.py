"""Run scenarios: group them by lab shape, start one lab per shape, and for each scenario build, load, probe
and judge. The CLI and the pytest plugin both drive this module.

One execution path: every scenario runs as a timeline (``testbed.timeline.run``); a static scenario is one phase
without actions. After each phase every resolver is asked every check of the phase."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import dns.name

from testbed.auth.servers.base import ServerCannotExpress, ServerRefusedZone
from testbed.build.topology import DEFAULT_SUBNET, plan
from testbed.build.zones import KeyStore
from testbed.clock import LabClock
from testbed.errors import LabError
from testbed.lab import interrupts
from testbed.lab.backends.subnets import lease_subnet
from testbed.lab.lab import Lab
from testbed.resolvers import ResolverAdapter
from testbed.run.checks import Verdict, evaluate
from testbed.run.observation import Observation
from testbed.run.select import as_adapters, family, scenario_resolvers
from testbed.scenario.model import Check, Scenario
from testbed.timeline.build import build_scenario
from testbed.timeline.run import TimelineRun, scenario_phases

__all__ = ["LabPool", "RunResult", "build_scenario", "run", "run_checks", "run_scenario", "scenario_resolvers"]

OnVerdict = Callable[[Verdict], None]
LOG_EXCERPT_CHARS = 6000


@dataclass
class RunResult:
    backend: str
    verdicts: list[Verdict] = field(default_factory=list)
    resolvers: dict[str, str] = field(default_factory=dict)      # name -> version
    servers: dict[str, str] = field(default_factory=dict)        # real authoritative server host -> "nsd 4.6.1"
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return 1 if any(v.status in ("fail", "error") for v in self.verdicts) else 0


class LabPool:
    """Running labs by shape. A run opens one per shape it meets; a long-lived pool (the pytest plugin's) keeps
    them up across runs so a test session pays the cold start once."""

    def __init__(self, backend: str, resolvers: Iterable[str | ResolverAdapter], *, keep: bool = False,
                 on_lab: Callable[[Lab], None] | None = None) -> None:
        self.backend = backend
        self.adapters: dict[str, ResolverAdapter] = {a.name: a for a in as_adapters(resolvers)}
        self.resolvers = list(self.adapters)
        self.keep = keep
        self.on_lab = on_lab
        self.labs: dict[Any, Lab] = {}
        self.keystore = KeyStore()
        self.clock = LabClock()
        self.versions_seen: dict[str, str] = {}    # resolvers of labs already discarded
        self.network_s: list[float] = []          # per lab: creating its network, before any host

    def lab_for(self, scenario: Scenario) -> Lab:
        shape = plan(scenario, self.resolvers, DEFAULT_SUBNET).shape()
        if shape not in self.labs:
            t0 = time.monotonic()
            # a signal waits until the lab is in self.labs, where close() finds it
            with interrupts.creating():
                lease = lease_subnet()
                try:
                    lab = Lab(plan(scenario, self.resolvers, lease.subnet), self.backend, self.adapters,
                              lease=lease, keep=self.keep)
                except BaseException:
                    lease.release()
                    raise
                lab.__enter__()
                self.labs[shape] = lab
            self.network_s.append(time.monotonic() - t0)
            if self.on_lab:
                self.on_lab(lab)
        return self.labs[shape]

    def discard(self, scenario: Scenario) -> None:
        """Tear down the lab ``scenario`` would use; the next scenario of that shape starts a new one."""
        shape = plan(scenario, self.resolvers, DEFAULT_SUBNET).shape()
        with interrupts.tearing_down():
            lab = self.labs.pop(shape, None)
            if lab is not None:
                self.versions_seen.update({name: r.version for name, r in lab.resolvers.items()})
                lab.close()

    def versions(self) -> dict[str, str]:
        live = {name: running.version for lab in self.labs.values() for name, running in lab.resolvers.items()}
        return {**self.versions_seen, **live}

    def close(self) -> None:
        """Every lab of the pool, each torn down to the end whatever the one before raised."""
        with interrupts.tearing_down():
            steps = interrupts.Steps()
            while self.labs:
                _, lab = self.labs.popitem()
                with steps:
                    lab.close()
            steps.done()

    def __enter__(self) -> LabPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run(scenarios: list[Scenario], resolvers: Iterable[str | ResolverAdapter], backend: str, *, keep: bool = False,
        on_verdict: OnVerdict | None = None, on_lab: Callable[[Lab], None] | None = None,
        pool: LabPool | None = None, jobs: int = 1) -> RunResult:
    """Run every scenario; labs come from ``pool`` (kept open) or from a pool of this run (closed at the end).

    ``jobs`` > 1 runs that many labs side by side, each on its own subnet with its own share of the scenarios:
    worth it when checks wait on resolver timeouts rather than on the CPU."""
    if jobs > 1 and pool is None and len(scenarios) > 1:
        return _run_parallel(scenarios, list(resolvers), backend, jobs, keep=keep, on_verdict=on_verdict,
                             on_lab=on_lab)
    result = RunResult(backend=backend)
    t0 = time.monotonic()
    own_pool = pool is None
    pool = pool or LabPool(backend, resolvers, keep=keep, on_lab=on_lab)
    try:
        for scenario in scenarios:
            done = len(result.verdicts)
            lab: Lab | None = None
            try:
                lab = pool.lab_for(scenario)
                t_scenario = time.monotonic()
                run_scenario(lab, scenario, pool, result, on_verdict)
                result.timings.setdefault("first_scenario_s", time.monotonic() - t_scenario)
            except (ServerCannotExpress, ServerRefusedZone) as exc:
                # a real server that cannot serve this scenario's fault: the scenario's finding, not the lab's
                record_lab_error(scenario, exc, pool, result, result.verdicts[done:], on_verdict)
                if isinstance(exc, ServerRefusedZone):
                    pool.discard(scenario)
            except LabError as exc:
                if lab is None or not lab.loads_done:
                    raise       # the lab never came up at all: the machine's problem, not one scenario's
                # One scenario's lab trouble (a server that would not reload, a resolver that died) must not cost
                # the results of a whole suite: its unanswered checks become errors, and the next scenario gets a
                # fresh lab rather than one in an unknown state.
                record_lab_error(scenario, exc, pool, result, result.verdicts[done:], on_verdict)
                pool.discard(scenario)
        result.resolvers = pool.versions()
        result.servers = {name: v for lab in pool.labs.values() for name, v in lab.server_versions.items()}
        labs = list(pool.labs.values())
        if labs and pool.network_s:
            # cold start: an empty machine to a lab that answers (network, servers, resolvers ready)
            result.timings["cold_start_s"] = pool.network_s[0] + labs[0].timings.get("first_load_s", 0.0)
    finally:
        if own_pool:
            pool.close()
    result.timings["wall_s"] = time.monotonic() - t0
    return result


def _run_parallel(scenarios: list[Scenario], resolvers: list[str | ResolverAdapter], backend: str, jobs: int, *,
                  keep: bool, on_verdict: OnVerdict | None, on_lab: Callable[[Lab], None] | None) -> RunResult:
    adapters = as_adapters(resolvers)
    lock = threading.Lock()
    stop = threading.Event()

    def report(verdict: Verdict) -> None:
        if stop.is_set():
            raise KeyboardInterrupt     # unwinds this worker's scenario; its pool's labs are torn down
        if on_verdict:
            with lock:
                on_verdict(verdict)

    shares = [scenarios[i::jobs] for i in range(min(jobs, len(scenarios)))]
    result = RunResult(backend=backend)
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(shares), thread_name_prefix="lab") as workers:
        futures = [workers.submit(run, share, adapters, backend, keep=keep, on_verdict=report, on_lab=on_lab)
                   for share in shares]
        try:
            parts = [f.result() for f in futures]
        except BaseException:
            stop.set()                  # Ctrl-C or a worker's error: the other workers stop at their next verdict
            raise
    position = {(s.name, str(s.file)): i for i, s in enumerate(scenarios)}
    for part in parts:
        result.verdicts.extend(part.verdicts)
        result.resolvers.update(part.resolvers)
        result.servers.update(part.servers)
    # the report reads in the order the scenarios were given, whichever lab answered first
    result.verdicts.sort(key=lambda v: position.get((v.scenario, str(v.file)), 0))
    result.timings["wall_s"] = time.monotonic() - t0
    result.timings["cold_start_s"] = max(p.timings.get("cold_start_s", 0.0) for p in parts)
    return result


def record_lab_error(scenario: Scenario, exc: LabError, pool: LabPool, result: RunResult, answered: list[Verdict],
                     on_verdict: OnVerdict | None = None) -> None:
    """An error verdict, carrying the lab's message, for every check of ``scenario`` not answered yet."""
    seen = {(v.resolver, v.phase, v.check) for v in answered}
    for adapter in scenario_resolvers(scenario, pool.adapters.values()):
        for phase in scenario_phases(scenario):
            for check in phase.checks:
                if (adapter.name, phase.name, check) in seen:
                    continue
                why = exc.message if isinstance(exc, (ServerCannotExpress, ServerRefusedZone)) else f"lab error: {exc}"
                verdict = replace(evaluate(check, adapter.name, Observation(error=why),
                                           family=family(adapter)),
                                  scenario=scenario.name, file=scenario.file, phase=phase.name)
                result.verdicts.append(verdict)
                if on_verdict:
                    on_verdict(verdict)


def run_scenario(lab: Lab, scenario: Scenario, pool: LabPool, result: RunResult,
                 on_verdict: OnVerdict | None = None) -> list[Verdict]:
    """Phase by phase: serve what the phase's actions made of the zones, then ask every resolver its checks."""
    timeline = TimelineRun(lab, scenario, pool)
    verdicts: list[Verdict] = []
    for phase in scenario_phases(scenario):
        timeline.phase(phase)
        verdicts += run_checks(lab, scenario, phase.checks, timeline.adapters, result, on_verdict, phase=phase.name)
    return verdicts


def sanitised_verdict(verdict: Verdict, sanitised: dict[str, str]) -> Verdict:
    """A check under a zone a real server did not serve as built judges the server's repair, not the fault: it
    becomes an error that says what the server served, and what the resolver made of it, never a resolver verdict."""
    qname = dns.name.from_text(verdict.check.qname)
    zones = [z for z in sanitised if qname.is_subdomain(dns.name.from_text(z))]
    if not zones:
        return verdict
    zone = max(zones, key=len)
    return replace(verdict, status="error",
                   reason=f"the server sanitised the fault: {sanitised[zone]} (the resolver answered "
                          f"{verdict.observation.outcome}; not judged)")


def run_checks(lab: Lab, scenario: Scenario, checks: Iterable[Check], adapters: Iterable[ResolverAdapter],
               result: RunResult, on_verdict: OnVerdict | None = None, *, phase: str | None = None) -> list[Verdict]:
    """Ask every resolver every check against what the lab serves now; ``phase`` labels a timeline's verdicts."""
    checks = list(checks)
    verdicts = []
    for adapter in adapters:
        resolver = adapter.name
        for check in checks:
            log_mark = len(lab.resolver_log(resolver))
            t0 = time.monotonic()
            flags = check.flags
            observation = lab.observe(resolver, check.qname, check.qtype, do=flags.do, ad=flags.ad, cd=flags.cd)
            verdict = evaluate(check, resolver, observation, family=family(adapter))
            verdict = replace(verdict, scenario=scenario.name, file=scenario.file, phase=phase,
                              duration_ms=round((time.monotonic() - t0) * 1000, 1))
            verdict = sanitised_verdict(verdict, lab.sanitised)
            if verdict.status in ("fail", "error"):
                # evidence: what the resolver logged while it answered this check, and nothing older
                verdict = replace(verdict, log_excerpt=lab.resolver_log(resolver)[log_mark:][-LOG_EXCERPT_CHARS:])
            verdicts.append(verdict)
            result.verdicts.append(verdict)
            if on_verdict:
                on_verdict(verdict)
    return verdicts
