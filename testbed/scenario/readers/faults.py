"""The ``faults:`` section: which registered fault to inject, and its parameters."""

from __future__ import annotations

from typing import Any

import yaml

from testbed.scenario.model import FaultSpec
from testbed.scenario.readers.base import STR, FaultParams, NodeReader, describe, suggest


class FaultsReader(NodeReader):
    def faults(self, node: yaml.Node) -> tuple[FaultSpec, ...]:
        example = "'- fault: rrsig-expired' with its parameters indented under it"
        return tuple(self.fault(item, i) for i, item in enumerate(self.sequence(node, "'faults'", example), 1))

    def fault(self, node: yaml.Node, index: int) -> FaultSpec:
        params_nodes: list[tuple[str, yaml.Node, yaml.Node]]
        if isinstance(node, yaml.ScalarNode) and node.tag == STR:
            fault_id, fault_node, params_nodes = self.text(node, f"fault {index}"), node, []
        else:
            if not isinstance(node, yaml.MappingNode):
                self.fail(node, f"fault {index} must be a mapping with a 'fault' key, got {describe(node)}.",
                          "write '- fault: FAULT-ID' and its parameters as 'key: value' lines under it.")
            pairs = [(self.param_name(k, index), k, v) for k, v in node.value]
            found = next((v for key, _, v in pairs if key == "fault"), None)
            if found is None:
                self.fail(node, f"fault {index} has no 'fault' key naming which fault to inject.",
                          "add 'fault: FAULT-ID' (see 'testbed faults' for the list).")
            fault_node = found
            fault_id = self.text(fault_node, f"'fault' in fault {index}")
            params_nodes = [(key, k, v) for key, k, v in pairs if key != "fault"]
        allowed: FaultParams | None = None
        known_faults = self.ctx.known_faults
        if known_faults is not None:
            if fault_id not in known_faults:
                known = sorted(known_faults)
                self.fail(fault_node, f"unknown fault {fault_id!r}.",
                          f"{suggest(fault_id, known)}Run 'testbed faults' to list them.")
            allowed = known_faults[fault_id]
        params: dict[str, Any] = {}
        for key, key_node, value_node in params_nodes:
            if allowed is not None and key not in allowed:
                self.fail(key_node, f"fault {fault_id!r} has no parameter {key!r}.",
                          f"{suggest(key, allowed)}Its parameters are: {', '.join(sorted(allowed)) or 'none'}.")
            if key in params:
                self.fail(key_node, f"parameter {key!r} appears twice in fault {fault_id!r}.", "keep only one.")
            # 'zone' is normalised like zone keys so faults can match it against ZoneSpec names.
            params[key] = self.zone_name(value_node, f"'zone' of fault {fault_id!r}") if key == "zone" \
                else self.plain(value_node, f"parameter {key!r} of fault {fault_id!r}")
        return FaultSpec(fault=fault_id, params=params, where=self.where(node))

    def param_name(self, node: yaml.Node, index: int) -> str:
        # Never str() a list or mapping key: through aliases it can stand for millions of values.
        if not isinstance(node, yaml.ScalarNode):
            self.fail(node, f"parameter names in fault {index} must be plain words, got {describe(node)}.",
                      "write each parameter as 'name: value'.")
        return str(node.value)
