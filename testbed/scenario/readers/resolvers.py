"""The ``resolvers:`` section, and resolver names wherever they appear (override keys)."""

from __future__ import annotations

from typing import Literal

import yaml

from testbed.scenario.readers.base import STR, NodeReader, suggest


class ResolversReader(NodeReader):
    def resolvers(self, node: yaml.Node) -> tuple[str, ...] | Literal["all"]:
        if isinstance(node, yaml.ScalarNode) and node.tag == STR and node.value == "all":
            return "all"
        if isinstance(node, yaml.SequenceNode) and not node.value:
            self.fail(node, "'resolvers' is an empty list.", "write 'resolvers: all' or list at least one resolver.")
        names = [self.resolver_name(item, "'resolvers'") for item in self.one_or_many(node)]
        return tuple(dict.fromkeys(names))

    def resolver_name(self, node: yaml.Node, what: str) -> str:
        name = self.text(node, what)
        known_resolvers = self.ctx.known_resolvers
        if known_resolvers is not None and name not in known_resolvers:
            known = sorted(known_resolvers)
            self.fail(node, f"unknown resolver {name!r} in {what}.",
                      f"{suggest(name, known)}Known resolvers: {', '.join(known) or 'none'}.")
        return name
