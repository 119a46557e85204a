"""Run a timeline: phase by phase, apply the actions to the lab state, serve the rebuilt zones, check every resolver.

The lab stays up the whole time. A phase's zones reach the servers by ``Lab.load`` (SIGHUP, then a wait for the new
serial); the resolvers are not restarted and keep their caches, unless the phase says ``flush: true`` or the
configured trust anchor changes (an operator installing an anchor restarts the resolver). The timeline has its own
lab clock, starting at real time; ``advance`` moves it, and the resolvers follow through the time shim.
"""

from __future__ import annotations

from typing import Any

from testbed.checks import Verdict
from testbed.clock import LabClock
from testbed.errors import ScenarioError
from testbed.lab import Lab
from testbed.runner import LabPool, OnVerdict, RunResult, run_checks, scenario_resolvers
from testbed.scenario.loader import SCALAR_PARAM
from testbed.scenario.model import ActionSpec, Phase, Scenario
from testbed.timeline.actions import Action, ActionEnv, registry
from testbed.timeline.build import PhaseBuilder
from testbed.timeline.state import LabState, initial_state
from testbed.topology import plan


def action_params(act: Action, spec: ActionSpec) -> dict[str, Any]:
    """The spec's parameters by name: a one-value form loaded without the registry keeps its value under
    ``SCALAR_PARAM``; here it goes to the action's main parameter. Required parameters are checked again, for
    scenarios built in code."""
    params = dict(spec.params)
    if SCALAR_PARAM in params and SCALAR_PARAM not in act.params:
        if act.scalar is None:
            raise _at(spec, ScenarioError(f"action {act.id} takes 'key: value' parameters, not one value",
                                          fix=f"write {act.id}: {{{', '.join(f'{p}: ...' for p in act.params)}}}"))
        params[act.scalar] = params.pop(SCALAR_PARAM)
    unknown = [p for p in params if p not in act.params]
    if unknown:
        raise _at(spec, ScenarioError(f"action {act.id} has no parameter {unknown[0]!r}",
                                      fix=f"its parameters are: {', '.join(act.params) or 'none'}"))
    missing = [p for p in act.required if p not in params]
    if missing:
        raise _at(spec, ScenarioError(f"action {act.id} needs the parameter(s): {', '.join(missing)}",
                                      fix=f"add {missing[0]}: ..."))
    return params


def _at(spec: ActionSpec, exc: ScenarioError) -> ScenarioError:
    """Point an error without a place at the action's line in the scenario file."""
    if exc.file is None and spec.where is not None:
        exc.file, exc.line = str(spec.where.file), spec.where.line
    return exc


class TimelineRun:
    """One timeline on one lab: the state, the builder, and whether the lab serves the state yet."""

    def __init__(self, lab: Lab, scenario: Scenario, pool: LabPool) -> None:
        self.lab = lab
        self.scenario = scenario
        topology = plan(scenario, pool.resolvers, lab.topology.subnet)
        # a clock of its own: the timeline moves it, and scenarios after it start again from real time
        self.state: LabState = initial_state(topology, pool.keystore, LabClock())
        self.builder = PhaseBuilder(scenario, topology, pool.keystore)
        self.adapters = scenario_resolvers(scenario, pool.adapters.values())
        self.env = ActionEnv(keystore=pool.keystore, lab=lab, adapters=self.adapters)
        self.loads = 0

    def serve(self, phase: Phase) -> None:
        """Build the zones from the state as it stands and load them into the running lab."""
        build = self.builder.build(self.state, self.lab.next_serial())
        first = self.loads == 0
        # the first phase starts from empty caches, and with an RFC 5011 anchor from resolvers that know nothing yet
        self.lab.load(build, flush=first or phase.flush, restart=first and self.state.anchor_managed)
        self.loads += 1

    def phase(self, phase: Phase) -> None:
        actions = registry()
        changed = True              # every phase serves its zones at least once: the clock may have moved
        for spec in phase.actions:
            act = actions.get(spec.action)
            if act is None:
                raise _at(spec, ScenarioError(f"unknown action {spec.action!r}",
                                              fix=f"known actions: {', '.join(actions)}"))
            params = action_params(act, spec)
            if act.needs_lab and changed:
                self.serve(phase)     # what the lab is asked about must be what the phase has done so far
                changed = False
            try:
                act.apply(self.state, params, self.env)
            except ScenarioError as exc:
                raise _at(spec, exc) from None
            changed = changed or not act.needs_lab
        if changed:
            self.serve(phase)


def run_timeline(lab: Lab, scenario: Scenario, pool: LabPool, result: RunResult,
                 on_verdict: OnVerdict | None = None) -> list[Verdict]:
    run = TimelineRun(lab, scenario, pool)
    verdicts: list[Verdict] = []
    for phase in scenario.phases:
        run.phase(phase)
        verdicts += run_checks(lab, scenario, phase.checks, run.adapters, result, on_verdict, phase=phase.name)
    return verdicts
