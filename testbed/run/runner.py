"""Run scenarios: group them by lab shape, start one lab per shape, and for each scenario build, load, probe
and judge. The CLI and the pytest plugin both drive this module.

One execution path: every scenario runs as a timeline (``testbed.run.phases``); a static scenario is one phase
without actions. After each phase every resolver is asked every check of the phase."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
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
from testbed.run.bundle import Capture, write_bundle
from testbed.run.checks import Verdict, evaluate, log_matches
from testbed.run.evidence import LOG_EXCERPT_CHARS, gather, log_mark
from testbed.run.observation import Observation
from testbed.run.phases import TimelineRun, scenario_phases
from testbed.run.probe import observe_in
from testbed.run.select import as_adapters, family, scenario_resolvers
from testbed.scenario.model import Check, Override, Scenario
from testbed.timeline.build import build_scenario

__all__ = ["LabPool", "RunResult", "build_scenario", "run", "run_checks", "run_scenario", "scenario_resolvers"]

OnVerdict = Callable[[Verdict], None]
LOG_WAIT_S = 2.0          # how long a check waits for the log line an override names


@dataclass
class RunResult:
    backend: str
    verdicts: list[Verdict] = field(default_factory=list)
    resolvers: dict[str, str] = field(default_factory=dict)      # name -> version
    servers: dict[str, str] = field(default_factory=dict)        # real authoritative server host -> "nsd 4.6.1"
    resolver_info: dict[str, dict[str, str]] = field(default_factory=dict)   # name -> software, generation, ...
    timings: dict[str, float] = field(default_factory=dict)
    registry: list[Any] = field(default_factory=list)            # timelines: RegistryEvent, in the order decided

    @property
    def exit_code(self) -> int:
        return 1 if any(v.status in ("fail", "error") for v in self.verdicts) else 0


class LabPool:
    """Running labs by shape. A run opens one per shape it meets; a long-lived pool (the pytest plugin's) keeps
    them up across runs so a test session pays the cold start once."""

    def __init__(self, backend: str, resolvers: Iterable[str | ResolverAdapter], *, keep: bool = False,
                 on_lab: Callable[[Lab], None] | None = None, evidence: str = "failing",
                 evidence_dir: Path | None = None) -> None:
        self.backend = backend
        self.evidence = evidence          # which checks carry evidence: failing (not passed) or all
        self.evidence_dir = evidence_dir  # a bundle per non-passing check, with a pcap (run/bundle.py)
        self.adapters: dict[str, ResolverAdapter] = {a.name: a for a in as_adapters(resolvers)}
        self.resolvers = list(self.adapters)
        self.keep = keep
        self.on_lab = on_lab
        self.labs: dict[Any, Lab] = {}
        self.keystore = KeyStore()
        self.clock = LabClock()
        self.versions_seen: dict[str, str] = {}    # resolvers of labs already discarded
        self.info_seen: dict[str, dict[str, str]] = {}
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
                    lab.evidence, lab.evidence_dir = self.evidence, self.evidence_dir
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
                self.info_seen.update({name: r.info for name, r in lab.resolvers.items()})
                lab.close()

    def versions(self) -> dict[str, str]:
        live = {name: running.version for lab in self.labs.values() for name, running in lab.resolvers.items()}
        return {**self.versions_seen, **live}

    def resolver_info(self) -> dict[str, dict[str, str]]:
        live = {name: running.info for lab in self.labs.values() for name, running in lab.resolvers.items()}
        return {**self.info_seen, **live}

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
        pool: LabPool | None = None, jobs: int = 1, evidence: str = "failing",
        evidence_dir: Path | None = None) -> RunResult:
    """Run every scenario; labs come from ``pool`` (kept open) or from a pool of this run (closed at the end).

    ``jobs`` > 1 runs that many labs side by side, each on its own subnet with its own share of the scenarios:
    worth it when checks wait on resolver timeouts rather than on the CPU."""
    if jobs > 1 and pool is None and len(scenarios) > 1:
        return _run_parallel(scenarios, list(resolvers), backend, jobs, keep=keep, on_verdict=on_verdict,
                             on_lab=on_lab, evidence=evidence, evidence_dir=evidence_dir)
    result = RunResult(backend=backend)
    t0 = time.monotonic()
    own_pool = pool is None
    pool = pool or LabPool(backend, resolvers, keep=keep, on_lab=on_lab, evidence=evidence,
                           evidence_dir=evidence_dir)
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
                if isinstance(exc, ServerRefusedZone) and not faults_touch(scenario, exc.zone):
                    # no fault made this zone: the server refuses the user's own data (exit 2; the pool's
                    # labs are torn down on the way out, so nothing is left behind)
                    raise exc.as_input_error(scenario.file) from exc
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
        result.resolver_info = pool.resolver_info()
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
                  keep: bool, on_verdict: OnVerdict | None, on_lab: Callable[[Lab], None] | None,
                  evidence: str = "failing", evidence_dir: Path | None = None) -> RunResult:
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
        futures = [workers.submit(run, share, adapters, backend, keep=keep, on_verdict=report, on_lab=on_lab,
                                  evidence=evidence, evidence_dir=evidence_dir) for share in shares]
        try:
            parts = [f.result() for f in futures]
        except BaseException:
            stop.set()                  # Ctrl-C or a worker's error: the other workers stop at their next verdict
            with interrupts.tearing_down():
                workers.shutdown(wait=True)     # and tear their labs down: a signal now must not cut that short
            raise
    position = {(s.name, str(s.file)): i for i, s in enumerate(scenarios)}
    for part in parts:
        result.verdicts.extend(part.verdicts)
        result.registry.extend(part.registry)
        result.resolvers.update(part.resolvers)
        result.servers.update(part.servers)
        result.resolver_info.update(part.resolver_info)
    # the report reads in the order the scenarios were given, whichever lab answered first
    result.verdicts.sort(key=lambda v: position.get((v.scenario, str(v.file)), 0))
    result.timings["wall_s"] = time.monotonic() - t0
    result.timings["cold_start_s"] = max(p.timings.get("cold_start_s", 0.0) for p in parts)
    return result


def faults_touch(scenario: Scenario, zone: str) -> bool:
    """Whether a fault of ``scenario`` is aimed at ``zone`` (zone-data faults name the zone they change)."""
    want = zone.rstrip(".").lower() + "."
    return any(str(f.params.get("zone", "")).rstrip(".").lower() + "." == want for f in scenario.faults)


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
        try:
            timeline.phase(phase)
        finally:
            result.registry.extend(timeline.registry_events())     # the registry's decisions, for the reports
        # a static scenario's checks are independent of each other; a timeline's phases keep caches on purpose
        verdicts += run_checks(lab, scenario, phase.checks, timeline.adapters, result, on_verdict, phase=phase.name,
                               isolate=not scenario.is_timeline)
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


def needs_log(override: Override) -> bool:
    """A servfail without EDE looks like every other failure: its override is judged (and evidenced) by the log."""
    return override.expectation.outcome == "servfail" and not override.expectation.ede


def wait_for_log(lab: Lab, resolver: str, mark: int | None, pattern: str, timeout: float = LOG_WAIT_S) -> str:
    """The resolver's log since ``mark``, once a line matches ``pattern`` or ``timeout`` has passed: a daemon
    writes (and docker relays) its log a little after the answer, so the line may not be there yet."""
    deadline = time.monotonic() + timeout
    while True:
        text = lab.resolver_log(resolver)[mark or 0:]
        if log_matches(pattern, text) or time.monotonic() > deadline:
            return text
        time.sleep(0.05)


def run_checks(lab: Lab, scenario: Scenario, checks: Iterable[Check], adapters: Iterable[ResolverAdapter],
               result: RunResult, on_verdict: OnVerdict | None = None, *, phase: str | None = None,
               isolate: bool = False) -> list[Verdict]:
    """Ask every resolver every check against what the lab serves now; ``phase`` labels a timeline's verdicts.

    ``isolate``: empty the resolver's cache before every check but the first (the load emptied it), so that no
    verdict depends on the checks before it. Timeline phases keep their caches on purpose and do not isolate.
    """
    checks = list(checks)
    verdicts = []
    for adapter in adapters:
        resolver = adapter.name
        info = lab.resolvers[resolver].info
        for index, check in enumerate(checks):
            check = check.for_profile(adapter.profile)    # the expectation under the profile its config was for
            if isolate and index:
                lab.flush_resolver(resolver)
            mark = log_mark(lab, resolver)
            capture = Capture(lab) if lab.evidence_dir is not None else None
            t0 = time.monotonic()
            flags = check.flags
            try:
                observation = observe_in(lab, resolver, check.qname, check.qtype, do=flags.do, ad=flags.ad,
                                         cd=flags.cd)
            finally:
                pcap = capture.stop() if capture is not None else None
            verdict = evaluate(check, resolver, observation, family=family(adapter), version=info["version"])
            if verdict.override is not None and (verdict.override.log is not None or needs_log(verdict.override)):
                # the documented divergence names its log line: judge again on what was logged for this query
                logged = wait_for_log(lab, resolver, mark, verdict.override.log or r"\Z.")
                verdict = replace(evaluate(check, resolver, observation, family=family(adapter),
                                           version=info["version"], log=logged),
                                  log_excerpt=logged[-LOG_EXCERPT_CHARS:])
            verdict = replace(verdict, scenario=scenario.name, file=scenario.file, phase=phase,
                              duration_ms=round((time.monotonic() - t0) * 1000, 1), software=info["software"],
                              generation=info["generation"], resolver_version=info["version"],
                              package_version=info["package_version"], profile=adapter.profile)
            verdict = sanitised_verdict(verdict, lab.sanitised)
            if verdict.status != "pass" or lab.evidence == "all":
                # evidence: what the resolver logged while it answered this check and nothing older, both answers,
                # and our own walk of the chain of trust
                evidence = gather(lab, resolver, family(adapter), mark, observation, check.qname, check.qtype)
                verdict = replace(verdict, evidence=evidence, log_excerpt=verdict.log_excerpt or evidence.log)
                if lab.evidence_dir is not None:
                    write_bundle(lab.evidence_dir, lab, verdict, evidence, pcap, len(result.verdicts))
                    pcap = None
            if pcap is not None:
                pcap.unlink(missing_ok=True)
            verdicts.append(verdict)
            result.verdicts.append(verdict)
            if on_verdict:
                on_verdict(verdict)
    return verdicts
