"""Explain a scenario: build it, serve it, walk the name of each check (or the names asked for)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

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
    return [walk(q.qname, q.qtype, fetch, anchors, hints, now) for q in queries]


def build_local(scenario: Scenario, keystore: KeyStore | None = None, clock: LabClock | None = None) -> BuildContext:
    """The scenario built as a lab would build it, planned on loopback addresses."""
    from testbed.run.runner import build_scenario

    return build_scenario(scenario, plan(scenario, [], LOCAL_SUBNET), clock or LabClock(), keystore or KeyStore(),
                          serial=1)


def explain_local(scenario: Scenario, queries: Iterable[Query] | None = None, *,
                  keystore: KeyStore | None = None) -> tuple[BuildContext, list[Chain]]:
    ctx = build_local(scenario, keystore)
    with serving(ctx) as served:
        return ctx, walk_build(ctx, list(queries) if queries is not None else scenario_queries(scenario),
                               served.fetch)
