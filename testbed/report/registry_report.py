"""The registry report of a timeline run: per registrant (child zone), what was submitted or requested by CDS, what
the registry accepted or refused and why, and how each resolver saw the child after each phase.

Built from the run's ``RegistryEvent`` list and its verdicts: a child's view on a resolver in a phase is the outcome
of that phase's checks on names in the child zone (several outcomes are joined, "secure/bogus").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import dns.name

from testbed.registry.events import REJECTED, RegistryEvent
from testbed.run.checks import Verdict


def _children(events: Sequence[RegistryEvent], scenario: str) -> list[str]:
    return list(dict.fromkeys(e.child for e in events if e.scenario == scenario))


def _owner(qname: str, zones: list[str]) -> str | None:
    """The deepest zone of ``zones`` that ``qname`` is in: the zone a check is about."""
    name = dns.name.from_text(qname)
    inside = [z for z in zones if name.is_subdomain(dns.name.from_text(z))]
    return max(inside, key=lambda z: len(dns.name.from_text(z).labels), default=None)


def child_views(verdicts: Iterable[Verdict], events: Sequence[RegistryEvent]) -> dict[str, dict[str, dict[str, dict[
        str, str]]]]:
    """scenario -> child -> phase -> resolver -> outcome, for every child the registry dealt with."""
    views: dict[str, dict[str, dict[str, dict[str, list[str]]]]] = {}
    children = {s: _children(events, s) for s in dict.fromkeys(e.scenario for e in events)}
    zones = {e.scenario: list(e.zones) or children[e.scenario] for e in events}
    for verdict in verdicts:
        if verdict.phase is None or verdict.scenario not in children:
            continue
        child = _owner(verdict.check.qname, zones[verdict.scenario])
        if child not in children[verdict.scenario]:
            continue
        if verdict.check.qtype == "DS" and dns.name.from_text(verdict.check.qname) == dns.name.from_text(child):
            continue        # the child's DS is the parent's data: how the child is seen is its own names
        seen = views.setdefault(verdict.scenario, {}).setdefault(child, {}).setdefault(verdict.phase, {})
        outcomes = seen.setdefault(verdict.resolver, [])
        if verdict.observation.outcome not in outcomes:
            outcomes.append(verdict.observation.outcome)
    return {s: {c: {p: {r: "/".join(o) for r, o in rs.items()} for p, rs in ps.items()} for c, ps in cs.items()}
            for s, cs in views.items()}


def registry_json(verdicts: Iterable[Verdict], events: Sequence[RegistryEvent]) -> dict[str, Any]:
    """The result JSON's ``registry`` object: {"events": [...], "registrants": {scenario: {child: {"events": [...],
    "seen": {phase: {resolver: outcome}}}}}}."""
    views = child_views(verdicts, events)
    registrants: dict[str, dict[str, Any]] = {}
    for event in events:
        entry = registrants.setdefault(event.scenario, {}).setdefault(event.child, {"events": [], "seen": {}})
        entry["events"].append(event.to_json())
        entry["seen"] = views.get(event.scenario, {}).get(event.child, {})
    return {"events": [e.to_json() for e in events], "registrants": registrants}


def refusal_lines(events: Sequence[RegistryEvent]) -> list[str]:
    """One line per refused submission or scan, for under the readiness verdict."""
    return [f"  {e.scenario} / {e.phase}: {e.line()}" for e in events if e.decision == REJECTED]


def report_lines(verdicts: Iterable[Verdict], events: Sequence[RegistryEvent]) -> list[str]:
    """The console form: per scenario and registrant, each decision, then the child as each resolver saw it."""
    if not events:
        return []
    views = child_views(verdicts, events)
    lines = ["registry report"]
    for scenario in dict.fromkeys(e.scenario for e in events):
        for child in _children(events, scenario):
            lines.append(f"  {scenario}: {child}")
            for e in (e for e in events if e.scenario == scenario and e.child == child):
                if e.action == "set-trust-anchor":
                    lines.append(f"    [{e.phase}] {e.reason}")
                    continue
                if e.action == "await-anchor":      # the resolvers' RFC 5011 accounts of the root's keys
                    lines.append(f"    [{e.phase}] trust anchors, waiting for a key to be {e.decision}:")
                    lines += [f"      {line}" for line in e.details]
                    continue
                lines.append(f"    [{e.phase}] {e.action} via registry {e.parent} (acceptance {e.acceptance}, policy "
                             f"{e.policy}): {e.decision}")
                if e.submitted:
                    lines.append(f"      submitted: {'; '.join(e.submitted)}")
                lines.append(f"      why: {e.reason}")
                lines.append(f"      DS at {e.parent} now: {'; '.join(e.ds_after) or 'none (insecure delegation)'}")
            for phase, seen in views.get(scenario, {}).get(child, {}).items():
                lines.append(f"    seen after {phase}: " + ", ".join(f"{r} {o}" for r, o in seen.items()))
    return lines
