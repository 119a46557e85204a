"""Selection: which scenarios, backend and resolvers a run uses. The CLI and the pytest plugin both stand on this
module (neither imports the other); so do the runner and the timeline."""

from __future__ import annotations

from collections.abc import Iterable

from testbed.resolvers import ResolverAdapter, get_adapter
from testbed.scenario.model import Scenario


def family(adapter: ResolverAdapter) -> str:
    """The software an adapter runs: itself, or for a bring-your-own build the adapter it is based on."""
    return getattr(adapter, "base_name", adapter.name)


def scenario_resolvers(scenario: Scenario, selected: Iterable[ResolverAdapter]) -> list[ResolverAdapter]:
    """The selected resolvers this scenario asks for (``resolvers:`` in the file, by name or by family)."""
    selected = list(selected)
    if scenario.resolvers == "all":
        return selected
    return [a for a in selected if a.name in scenario.resolvers or family(a) in scenario.resolvers]


def as_adapters(resolvers: Iterable[str | ResolverAdapter]) -> list[ResolverAdapter]:
    return [get_adapter(r) if isinstance(r, str) else r for r in resolvers]
