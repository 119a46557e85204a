"""The readiness verdict of a rollout rehearsal: for each timeline, a phase x resolver grid of ``ok`` / ``broken``,
and READY only when every cell of every timeline is ok.

A cell is broken when a check there failed or errored (the rehearsal did not go as the plan says), or when the
resolver could not resolve a checked name, answering bogus or SERVFAIL, even if the scenario predicted it: a broken
twin that breaks exactly as predicted passes as a test, and is still NOT READY as a plan. A check marked
``readiness: ok`` is the exception: its validation failure is the right answer (a registrant's own wrong DS, caught
by the validators), not an outage of the rollout.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from testbed.run.checks import Verdict

READY, NOT_READY = "READY", "NOT READY"
OK, BROKEN = "ok", "broken"
OUTAGE_OUTCOMES = ("bogus", "servfail", "timeout", "error")


@dataclass
class Cell:
    """One phase on one resolver: ok, or broken with the checks (query texts) that show it."""

    failing: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return BROKEN if self.failing else OK


@dataclass
class Readiness:
    """scenario -> phase -> resolver -> Cell, in the order the run met them."""

    grid: dict[str, dict[str, dict[str, Cell]]] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return READY if all(cell.status == OK for cell in self.cells()) else NOT_READY

    def cells(self) -> Iterable[Cell]:
        for phases in self.grid.values():
            for resolvers in phases.values():
                yield from resolvers.values()

    def resolvers(self, scenario: str) -> list[str]:
        seen: dict[str, None] = {}
        for resolvers in self.grid[scenario].values():
            seen.update(dict.fromkeys(resolvers))
        return list(seen)

    def broken(self) -> list[tuple[str, str, str, list[str]]]:
        """(scenario, phase, resolver, failing checks) for every broken cell."""
        return [(scenario, phase, resolver, cell.failing)
                for scenario, phases in self.grid.items() for phase, resolvers in phases.items()
                for resolver, cell in resolvers.items() if cell.failing]

    def to_json(self) -> dict[str, Any]:
        """The result JSON's top-level ``readiness`` object: {scenario: {phase: {resolver: "ok"|"broken"}},
        "verdict": "READY"|"NOT READY"}."""
        document: dict[str, Any] = {
            scenario: {phase: {resolver: cell.status for resolver, cell in resolvers.items()}
                       for phase, resolvers in phases.items()}
            for scenario, phases in self.grid.items()}
        document["verdict"] = self.verdict
        return document


def is_outage(verdict: Verdict) -> bool:
    """Whether this verdict makes its phase x resolver cell broken (see the module docstring)."""
    if verdict.status in ("fail", "error"):
        return True
    return verdict.observation.outcome in OUTAGE_OUTCOMES and verdict.check.readiness != "ok"


def readiness(verdicts: Iterable[Verdict]) -> Readiness | None:
    """The grid of every timeline verdict (those with a phase); None when the run had no timeline."""
    result = Readiness()
    for verdict in verdicts:
        if verdict.phase is None:
            continue
        cell = result.grid.setdefault(verdict.scenario, {}).setdefault(verdict.phase, {}).setdefault(
            verdict.resolver, Cell())
        if is_outage(verdict) and verdict.check.query_text not in cell.failing:
            cell.failing.append(verdict.check.query_text)
    return result if result.grid else None
