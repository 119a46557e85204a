"""Explain a scenario: build it, serve it, walk the name of each check (or the names asked for)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from testbed.build.topology import plan
from testbed.build.zones import BuildContext, KeyStore
from testbed.clock import LabClock
from testbed.explain.model import Chain
from testbed.explain.serve import LOCAL_SUBNET, serving
from testbed.explain.walk import Fetch, walk
from testbed.scenario.model import Scenario


@dataclass(frozen=True)
class Query:
    qname: str
    qtype: str


def scenario_queries(scenario: Scenario) -> list[Query]:
    """Each distinct name and type the scenario's checks ask, in order."""
    checks = list(scenario.checks) + [c for phase in scenario.phases for c in phase.checks]
    seen: dict[Query, None] = {}
    for check in checks:
        seen.setdefault(Query(check.qname, check.qtype), None)
    return list(seen)


def walk_build(ctx: BuildContext, queries: Iterable[Query], fetch: Fetch) -> list[Chain]:
    anchors = ctx.trust_anchor_ds()
    hints = ctx.topology.root_hints
    now = ctx.clock.now()
    return [walk(q.qname, q.qtype, fetch, anchors, hints, now, managed_anchor=ctx.trust_anchor_managed)
            for q in queries]


def build_local(scenario: Scenario, keystore: KeyStore | None = None, clock: LabClock | None = None) -> BuildContext:
    """The scenario built as a lab would build it, planned on loopback addresses."""
    from testbed.timeline.build import build_scenario

    return build_scenario(scenario, plan(scenario, [], LOCAL_SUBNET), clock or LabClock(), keystore or KeyStore(),
                          serial=1)


def explain_local(scenario: Scenario, queries: Iterable[Query] | None = None, *,
                  keystore: KeyStore | None = None) -> tuple[BuildContext, list[Chain]]:
    ctx = build_local(scenario, keystore)
    with serving(ctx) as served:
        return ctx, walk_build(ctx, list(queries) if queries is not None else scenario_queries(scenario),
                               served.fetch)


def check_queries(ctx: BuildContext, queries: Iterable[Query], where: str) -> list[Query]:
    """Bad input before any serving: a type that is no type, a name under no zone of the lab but the root."""
    import dns.exception
    import dns.name
    import dns.rdatatype

    from testbed.errors import ScenarioError

    zones = [dns.name.from_text(z) for z in ctx.zones if z != "."]
    root = ctx.zones["."].zone()
    checked = []
    for q in queries:
        try:
            name = dns.name.from_text(q.qname)
            rdtype = dns.rdatatype.from_text(q.qtype)
        except (dns.exception.DNSException, ValueError) as exc:
            raise ScenarioError(f"--query {q.qname} {q.qtype} is not a name and a type: {exc}", file=where,
                                fix="write it like --query www.example.jp A") from None
        if name != dns.name.root and not any(name.is_subdomain(z) for z in zones) and root.get_node(name) is None:
            raise ScenarioError(f"{name} is outside the lab's zones ({', '.join(ctx.zones)}): only the lab's root "
                                f"would answer, with a denial", file=where,
                                fix="ask for a name in one of the lab's zones, e.g. www.example.jp")
        checked.append(Query(name.to_text(), dns.rdatatype.to_text(rdtype)))
    return checked


def explain_built(scenario: Scenario, queries: list[Query], backend: str,
                  pick_backend: Callable[[str], str] | None = None) -> tuple[str, list[Chain]]:
    """Build and serve ``scenario``, walk ``queries``. Returns where it was served, and the chains.

    ``pick_backend`` turns ``auto`` into a lab backend when the scenario needs a lab (the CLI's selection; this
    package does not import the run stage, which imports it)."""
    from testbed.errors import EnvironmentProblem
    from testbed.explain.serve import can_serve_locally

    keystore, clock = KeyStore(), LabClock()
    ctx = build_local(scenario, keystore, clock)
    queries = check_queries(ctx, queries, str(scenario.file))
    why_not = can_serve_locally(ctx)
    if backend == "local" and why_not:
        raise EnvironmentProblem(f"this scenario cannot be served in-process: {why_not}",
                                 fix="use --backend auto, netns or docker")
    if backend in ("auto", "local") and why_not is None:
        with serving(ctx) as served:
            return "in-process by the builtin server on 127.53.0.x", walk_build(ctx, queries, served.fetch)
    if backend in ("auto", "local"):
        from testbed.lab.backend_choice import pick_backend as default_pick

        backend = (pick_backend or default_pick)("auto")
    return explain_in_lab(scenario, queries, backend, keystore, clock)


def explain_in_lab(scenario: Scenario, queries: list[Query], backend: str, keystore: KeyStore,
                   clock: LabClock) -> tuple[str, list[Chain]]:
    """A lab with servers only (no resolver), on the netns or docker backend."""
    from testbed.explain.fetch import memo, udp_fetcher
    from testbed.lab.backends.subnets import lease_subnet
    from testbed.lab.lab import Lab
    from testbed.timeline.build import build_scenario

    lease = lease_subnet()
    try:
        topology = plan(scenario, [], lease.subnet)
        with Lab(topology, backend, {}, lease=lease) as lab:
            ctx = build_scenario(scenario, topology, clock, keystore, lab.next_serial())
            lab.load(ctx)
            assert lab.backend is not None
            fetch = memo(udp_fetcher(run=lab.backend.in_lab))
            return f"by lab {lab.lab_id} on {backend} ({topology.subnet})", walk_build(ctx, queries, fetch)
    finally:
        lease.release()


def explain_timeline_local(scenario: Scenario, queries: list[Query] | None,
                           action_params: Callable[[Any, Any], dict[str, Any]]
                           ) -> list[tuple[str, BuildContext, list[Chain]]]:
    """A timeline, phase by phase, served in-process: the actions move the state and the clock as a run would
    (``action_params``: the run stage's reading of an action's parameters),
    and each phase's zones are walked at that phase's lab clock. Actions that ask the lab's resolvers (waiting for
    an RFC 5011 anchor) have no resolver to ask here: they are skipped, and the phase says so."""
    from testbed.timeline.actions import ActionEnv, registry
    from testbed.timeline.build import PhaseBuilder
    from testbed.timeline.state import initial_state

    keystore = KeyStore()
    topology = plan(scenario, [], LOCAL_SUBNET)
    state = initial_state(topology, keystore, LabClock())
    builder = PhaseBuilder(scenario, topology, keystore)
    env = ActionEnv(keystore=keystore, topology=topology, scenario=scenario.name)
    actions = registry()
    out = []
    for number, phase in enumerate(scenario.phases, 1):
        skipped = []
        for spec in phase.actions:
            act = actions[spec.action]
            params = action_params(act, spec)
            if act.wants_lab(state, params):
                skipped.append(spec.action)
                continue
            env.phase = phase.name or ""
            act.apply(state, params, env)
        ctx = builder.build(state, number)
        wanted = queries or [Query(c.qname, c.qtype) for c in phase.checks]
        label = phase.name or f"phase {number}"
        if skipped:
            label += f" (skipped, they ask the resolvers: {', '.join(skipped)})"
        with serving(ctx) as served:
            out.append((label, ctx, walk_build(ctx, list(dict.fromkeys(wanted)), served.fetch)))
    return out
