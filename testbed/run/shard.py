"""``--shard K/N``: a deterministic 1/N of the scenarios, so a CI system's parallel runners can split a suite.

Deterministic and stable across machines: the split depends only on the scenarios themselves (name, file name,
checks, phases, faults), never on paths, hashes of absolute paths, the clock or the order the files were listed in.
Balanced by expected cost: the scenarios are dealt, most expensive first, to whichever shard has the least cost so
far (ties go to the lower shard), so one shard does not get every slow timeout scenario.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from testbed.errors import ScenarioError
from testbed.scenario.model import Scenario

# Faults whose checks wait for resolver timeouts: a check against them costs tens of seconds, not tens of ms.
SLOW_FAULT_WORDS = ("timeout", "unreachable", "drop", "blocked", "delay", "loss")
SLOW_FAULT_COST = 20.0
CHECK_COST = 1.0
PHASE_COST = 3.0              # a timeline phase: a reload, often a clock move and a wait for the resolvers


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/3"`` -> (2, 3). Raises ScenarioError (exit 2) with the fix for anything else."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise ScenarioError(f"--shard {text!r} is not K/N with 1 <= K <= N",
                            fix="write e.g. --shard 1/2 on one runner and --shard 2/2 on the other")
    return int(match.group(1)), int(match.group(2))


def expected_cost(scenario: Scenario) -> float:
    checks = len(scenario.checks) + sum(len(phase.checks) for phase in scenario.phases)
    slow = sum(1 for fault in scenario.faults if any(word in fault.fault for word in SLOW_FAULT_WORDS))
    return CHECK_COST * checks + PHASE_COST * len(scenario.phases) + SLOW_FAULT_COST * slow


def stable_key(scenario: Scenario) -> tuple[str, str]:
    return scenario.name, scenario.file.name


def assign(scenarios: Sequence[Scenario], count: int) -> list[int]:
    """The shard (0-based) of each scenario, in the order given."""
    order = sorted(range(len(scenarios)), key=lambda i: (-expected_cost(scenarios[i]), stable_key(scenarios[i])))
    load = [0.0] * count
    shard_of = [0] * len(scenarios)
    for i in order:
        target = min(range(count), key=lambda s: (load[s], s))
        shard_of[i] = target
        load[target] += expected_cost(scenarios[i])
    return shard_of


def select_shard(scenarios: Sequence[Scenario], index: int, count: int) -> list[Scenario]:
    """Shard ``index`` of ``count`` (1-based, as typed), keeping the given order within it."""
    shard_of = assign(scenarios, count)
    return [s for s, shard in zip(scenarios, shard_of, strict=True) if shard == index - 1]
