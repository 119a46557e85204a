"""The ``phases:`` of a timeline: each phase's actions (checked against the action registry) and checks."""

from __future__ import annotations

import re
from typing import Any

import yaml

from testbed.scenario.model import ActionSignature, ActionSpec, Check, Phase
from testbed.scenario.readers.base import INT, NULL, STR, NodeReader, ReadContext, describe, getter, suggest
from testbed.scenario.readers.checks import ChecksReader

_PHASE_KEYS = ("name", "summary", "actions", "checks", "flush")
# Durations for the lab clock: "30d", "2h", "400s", "1d12h", "2w"; a bare number is seconds.
_DURATION_RE = re.compile(r"^(?:\d+[wdhms])+$")
_DURATION_PART_RE = re.compile(r"(\d+)([wdhms])")
_DURATION_UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
# When no action registry is given, a one-value action ("advance: 30d") keeps its value under this key.
SCALAR_PARAM = "value"

CHOICE = "choice:"       # an action parameter kind "choice:a|b|c": one of those words (ActionSignature)


def parse_duration(text: str) -> int:
    """``"30d"`` -> 2592000. Units w, d, h, m, s may be combined (``"1d12h"``); a bare number is seconds.
    Raises ValueError for anything else."""
    text = str(text).strip().lower()
    if text.isdigit():
        return int(text)
    if not _DURATION_RE.match(text):
        raise ValueError(f"{text!r} is not a duration")
    return sum(int(count) * _DURATION_UNITS[unit] for count, unit in _DURATION_PART_RE.findall(text))


class PhasesReader(NodeReader):
    def __init__(self, ctx: ReadContext) -> None:
        super().__init__(ctx)
        self.checks = ChecksReader(ctx)

    def phases(self, node: yaml.Node, reference: str | None) -> tuple[Phase, ...]:
        items = self.sequence(node, "'phases'", "'- name: publish-new-key' with 'actions:' and 'checks:' under it")
        if not items:
            self.fail(node, "'phases' is empty: a timeline needs at least one phase.",
                      "add '- name: ...' with 'actions:' and 'checks:' under it.")
        phases: dict[str | None, Phase] = {}    # loaded phases always have a name
        for index, item in enumerate(items, 1):
            phase = self.phase(item, index, reference)
            name = phase.name or ""  # always set: phase() requires 'name' (only a static scenario's one phase has none)
            if name in phases:
                first = phases[name].where
                self.fail(item, f"two phases are named {name!r} (first on line {first.line if first else '?'}).",
                          "give every phase its own name: reports and the readiness grid show phases by name.")
            phases[name] = phase
        if not any(p.checks for p in phases.values()):
            self.fail(node, "no phase has checks: a timeline must check something.",
                      "add 'checks:' to the phases, at least after the last step.")
        return tuple(phases.values())

    def phase(self, node: yaml.Node, index: int, reference: str | None) -> Phase:
        fields = self.mapping(node, f"phase {index}", _PHASE_KEYS, required=("name",))
        get = getter(fields)
        name = self.text(get("name"), f"'name' of phase {index}")
        what = f"phase {name!r}"
        actions: tuple[ActionSpec, ...] = ()
        if "actions" in fields:
            items = self.sequence(get("actions"), f"'actions' of {what}",
                                  "'- advance: 30d' or '- publish-key: {zone: example.jp., key: zsk-2, role: zsk}'")
            actions = tuple(self.action(item, i, what) for i, item in enumerate(items, 1))
        checks: tuple[Check, ...] = ()
        if "checks" in fields:
            check_nodes = self.sequence(get("checks"), f"'checks' of {what}",
                                        "'- query: www.example.jp. A' with 'expect: secure' under it")
            checks = tuple(self.checks.check(item, i, reference) for i, item in enumerate(check_nodes, 1))
        if not actions and not checks:
            self.fail(node, f"{what} has neither actions nor checks.", "add 'actions:', 'checks:' or both.")
        return Phase(
            name=name,
            actions=actions,
            checks=checks,
            flush=self.boolean(get("flush"), f"'flush' in {what}") if "flush" in fields else False,
            summary=self.text(get("summary"), f"'summary' of {what}", allow_empty=True) if "summary" in fields else "",
            where=self.where(node),
        )

    # ---- actions -----------------------------------------------------------------------------------------------

    def action(self, node: yaml.Node, index: int, phase: str) -> ActionSpec:
        """``- ACTION: {param: value, ...}``, ``- ACTION: VALUE`` (its one main parameter) or a bare ``- ACTION``."""
        example = "e.g. '- advance: 30d' or '- retire-key: {zone: example.jp., key: zsk}'"
        value_node: yaml.Node | None
        if isinstance(node, yaml.ScalarNode) and node.tag == STR:
            name_node, value_node = node, None
        elif isinstance(node, yaml.MappingNode) and len(node.value) == 1:
            name_node, value_node = node.value[0]
        else:
            self.fail(node, f"action {index} of {phase} must be one 'ACTION: PARAMETERS' pair, got {describe(node)}.",
                      f"write one action per list item, {example}.")
        name = self.text(name_node, f"the action name in action {index} of {phase}")
        signature: ActionSignature | None = None
        known_actions = self.ctx.known_actions
        if known_actions is not None:
            if name not in known_actions:
                known = sorted(known_actions)
                self.fail(name_node, f"unknown action {name!r} in {phase}.",
                          f"{suggest(name, known)}Known actions: {', '.join(known)}.")
            signature = known_actions[name]
        what = f"action {name!r} in {phase}"
        params: dict[str, Any] = {}
        if value_node is None or (isinstance(value_node, yaml.ScalarNode) and value_node.tag == NULL):
            pass
        elif isinstance(value_node, yaml.MappingNode):
            for key_node, item in value_node.value:
                key = self.text(key_node, f"a parameter name of {what}")
                if signature is not None and key not in signature.params:
                    allowed = sorted(signature.params)
                    self.fail(key_node, f"{what} has no parameter {key!r}.",
                              f"{suggest(key, allowed)}Its parameters are: {', '.join(allowed) or 'none'}.")
                if key in params:
                    self.fail(key_node, f"parameter {key!r} appears twice in {what}.", "keep only one.")
                params[key] = self.action_value(item, signature.params[key] if signature else "any",
                                                f"'{key}' of {what}")
        else:
            if signature is not None and signature.scalar is None:
                self.fail(value_node, f"{what} takes 'key: value' parameters, not one value.",
                          f"write it as '{name}: {{{', '.join(f'{p}: ...' for p in signature.params)}}}'.")
            key = signature.scalar if signature is not None and signature.scalar else SCALAR_PARAM
            kind = signature.params[key] if signature is not None else "any"
            params[key] = self.action_value(value_node, kind, f"the value of {what}")
        if signature is not None:
            missing = [p for p in signature.required if p not in params]
            if missing:
                self.fail(node, f"{what} needs the parameter(s): {', '.join(missing)}.",
                          f"add {missing[0]}: ... to it.")
        return ActionSpec(action=name, params=params, where=self.where(node))

    def action_value(self, node: yaml.Node, kind: str, what: str) -> Any:
        if kind == "zone":
            return self.zone_name(node, what)
        if kind == "zones":
            return tuple(self.zone_name(item, what) for item in self.one_or_many(node))
        if kind == "duration":
            if isinstance(node, yaml.ScalarNode) and node.tag == INT:
                return self.integer(node, what, 0, 100 * 365 * 86400)
            text = self.text(node, what)
            try:
                return parse_duration(text)
            except ValueError:
                self.fail(node, f"{what} is {text!r}, which is not a duration.",
                          "write a number with a unit: 400s, 90m, 2h, 30d, 2w (or combined: 1d12h).")
        if kind == "int":
            return self.integer(node, what, 0, 2**31 - 1)
        if kind == "bool":
            return self.boolean(node, what)
        if kind == "text":
            return self.loose_text(node, what)
        if kind.startswith(CHOICE):
            return self.choice(node, what, kind[len(CHOICE):].split("|"))
        return self.plain(node, what)
