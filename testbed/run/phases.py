"""Run a timeline: phase by phase, apply the actions to the lab state, serve the rebuilt zones. Every scenario runs
this way (the runner checks every resolver after each phase); a static scenario is one phase without actions.

The lab stays up the whole time. A phase's zones reach the servers by ``Lab.load`` (SIGHUP, then a wait for the new
serial); the resolvers are not restarted and keep their caches, unless the phase says ``flush: true`` or the
configured trust anchor changes (an operator installing an anchor restarts the resolver). The timeline has its own
lab clock, starting at real time; ``advance`` moves it, and the resolvers follow through the time shim.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any, Protocol

from testbed.build.topology import plan
from testbed.build.zones import KeyStore
from testbed.clock import LabClock
from testbed.errors import ScenarioError
from testbed.lab.lab import Lab
from testbed.resolvers import ResolverAdapter
from testbed.run.select import scenario_resolvers
from testbed.scenario.loader import SCALAR_PARAM
from testbed.scenario.model import ActionSpec, Phase, Scenario
from testbed.timeline.actions import Action, ActionEnv, registry
from testbed.timeline.build import PhaseBuilder
from testbed.timeline.state import LabState, initial_state

# Without the virtual clock, advance waits for real, up to this many seconds per step.
REAL_WAIT_MAX_S = 600
REAL_WAIT_ENV = "TESTBED_REAL_WAIT_MAX"


class Resources(Protocol):
    """What a timeline takes from the run (the runner's ``LabPool``): the run's keys and its resolvers."""

    @property
    def keystore(self) -> KeyStore: ...

    @property
    def resolvers(self) -> list[str]: ...

    @property
    def adapters(self) -> Mapping[str, ResolverAdapter]: ...


def scenario_phases(scenario: Scenario) -> tuple[Phase, ...]:
    """A timeline's phases; a static scenario is one unnamed phase without actions, holding its checks."""
    return scenario.phases if scenario.is_timeline else (Phase(name=None, checks=scenario.checks),)


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

    def __init__(self, lab: Lab, scenario: Scenario, pool: Resources) -> None:
        self.lab = lab
        self.scenario = scenario
        topology = plan(scenario, pool.resolvers, lab.topology.subnet)
        # a clock of its own: the timeline moves it, and scenarios after it start again from real time
        self.state: LabState = initial_state(topology, pool.keystore, LabClock())
        self.builder = PhaseBuilder(scenario, topology, pool.keystore)
        self.adapters = scenario_resolvers(scenario, pool.adapters.values())
        self.env = ActionEnv(keystore=pool.keystore, lab=lab, adapters=self.adapters, topology=topology,
                             scenario=scenario.name)
        real_time = [a.name for a in self.adapters if not lab.on_virtual_clock(a.name)]
        if real_time:
            self.env.wait_real = self.wait_real
        self.real_time = real_time
        self.loads = 0
        self.current: Phase | None = None
        self.pending = True          # the state has changes the lab does not serve yet

    def serve(self, phase: Phase) -> None:
        """Build the zones from the state as it stands and load them into the running lab."""
        build = self.builder.build(self.state, self.lab.next_serial())
        first = self.loads == 0
        # the first phase starts from empty caches, and with an RFC 5011 anchor from resolvers that know nothing yet
        restart = (first and self.state.anchor_managed) or self.state.restart_resolvers
        self.lab.load(build, flush=first or phase.flush, restart=restart)
        self.state.restart_resolvers = False
        self.loads += 1
        self.pending = False

    def wait_real(self, seconds: int) -> None:
        """``advance`` when a resolver of the scenario runs on real time: the lab clock cannot jump for it, so time
        passes for real (one clock for the whole lab), after the phase's changes so far are served."""
        limit = int(os.environ.get(REAL_WAIT_ENV, REAL_WAIT_MAX_S))
        if seconds > limit:
            raise ScenarioError(
                f"advance by {seconds} s would take that long in real time: {', '.join(self.real_time)} cannot run "
                f"on the virtual clock here (no time shim, or TESTBED_VIRTUAL_CLOCK=0)",
                fix=f"build the shim (testbed timeshim build), leave {', '.join(self.real_time)} out of this "
                    f"scenario, or use short TTLs and advances of at most {limit} s ({REAL_WAIT_ENV} raises it)")
        if self.pending and self.current is not None:
            self.serve(self.current)
        time.sleep(seconds)     # the documented fallback: a real wait stands in for the clock jump
        self.pending = True     # re-sign at the new (real) time before the checks

    def phase(self, phase: Phase) -> None:
        actions = registry()
        self.current = phase
        self.pending = True         # every phase serves its zones at least once: the clock may have moved
        for spec in phase.actions:
            act = actions.get(spec.action)
            if act is None:
                raise _at(spec, ScenarioError(f"unknown action {spec.action!r}",
                                              fix=f"known actions: {', '.join(actions)}"))
            params = action_params(act, spec)
            needs_lab = act.wants_lab(self.state, params)
            if needs_lab and self.pending:
                self.serve(phase)     # what the lab is asked about must be what the phase has done so far
            self.env.phase, self.env.changed = phase.name or "", False
            try:
                act.apply(self.state, params, self.env)
            except ScenarioError as exc:
                raise _at(spec, exc) from None
            if not needs_lab or self.env.changed:
                self.pending = True
        if self.pending:
            self.serve(phase)

    def registry_events(self) -> list[Any]:
        """The registry's decisions since the last call (``RegistryEvent``), for the run's reports."""
        events, self.state.events = self.state.events, []
        return events
