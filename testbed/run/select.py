"""Selection: which scenarios, backend and resolvers a run uses. The CLI and the pytest plugin both stand on this
module (neither imports the other); so do the runner and the timeline."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from testbed.errors import EnvironmentProblem
from testbed.lab.backend_choice import pick_backend
from testbed.resolvers import ResolverAdapter, get_adapter
from testbed.scenario.model import Scenario

__all__ = ["as_adapters", "bundled_scenarios", "check_resolver_requests", "family", "known_names", "load",
           "pick_backend", "pick_resolvers", "scenario_resolvers"]
BUNDLED = Path(__file__).resolve().parents[2] / "scenarios"


def bundled_scenarios(kind: str = "quickstart") -> Path:
    """The scenarios shipped with the project (a source checkout, or the copy installed as package data)."""
    for candidate in (BUNDLED / kind, Path(__file__).resolve().parents[1] / "data" / "scenarios" / kind):
        if candidate.is_dir():
            return candidate
    raise EnvironmentProblem(f"the bundled '{kind}' scenarios are not installed",
                             fix="run from a source checkout, or pass scenario paths explicitly")


def known_names() -> dict[str, Any]:
    """What the loader checks names against: faults, resolvers, topologies, timeline actions."""
    from testbed.build.topology import PRESETS
    from testbed.faults import fault_params
    from testbed.resolvers import registry
    from testbed.timeline import signatures

    return {"known_faults": fault_params(), "known_resolvers": list(registry()), "known_topologies": list(PRESETS),
            "known_actions": signatures()}


def load(paths: tuple[Path, ...]) -> list[Scenario]:
    """Scenario files and folders (default: the bundled quickstart), checked against every known name."""
    from testbed.scenario import load_paths

    return load_paths(list(paths) or [bundled_scenarios()], **known_names())


def check_resolver_requests(requested: tuple[str, ...]) -> None:
    """Name and generation of each --resolver value, before any backend is asked for: bad input is told as bad
    input even on a machine whose Docker daemon is down."""
    from testbed.resolvers import registry
    from testbed.resolvers.custom import parse_resolver_spec
    from testbed.resolvers.generations import get_generation

    for item in requested:
        if ":" in item or "/" in item:
            parse_resolver_spec(item)
            continue
        item, at, generation = item.rpartition("@") if "@" in item else (item, "", "")
        for spec in list(registry()) if item == "all" else item.split(","):
            parse_resolver_spec(spec)
            if at:
                get_generation(generation, where=f"--resolver {spec}@{generation}")


def pick_resolvers(requested: tuple[str, ...], backend: str) -> list[ResolverAdapter]:
    """--resolver values -> adapters. Each value is a name, ``all``, a comma list, ``NAME:image=...`` /
    ``NAME:binary=...`` or a path to an adapter YAML file (see docs/resolvers.md). Default: every resolver this
    backend can run."""
    from testbed.resolvers import registry
    from testbed.resolvers.custom import parse_resolver_spec

    adapters = registry()
    if not requested:
        if backend == "netns":
            found = [cls() for cls in adapters.values() if cls().available_locally()]
            if not found:
                raise EnvironmentProblem("no resolver is installed for the netns backend",
                                         fix="apt-get install -y unbound (or bind9, knot-resolver, pdns-recursor)")
            return found
        return [cls() for cls in adapters.values()]
    from testbed.resolvers.generations import resolver_with_generation

    picked: dict[str, ResolverAdapter] = {}
    for item in requested:
        generation = None
        if ":" not in item and "/" not in item and "@" in item:
            item, _, generation = item.rpartition("@")     # all@debian13, unbound,bind@debian13
        specs = list(adapters) if item == "all" else ([item] if ":" in item or "/" in item else item.split(","))
        for spec in specs:
            adapter = parse_resolver_spec(spec)
            if generation is not None:
                adapter = resolver_with_generation(adapter, generation, backend)
            if backend == "netns" and adapter.generation is None and not adapter.available_locally():
                raise EnvironmentProblem(f"{adapter.display_name} ('{adapter.binary}') is not installed",
                                         fix=f"apt-get install -y {adapter.debian_package}, or use --backend docker")
            picked.setdefault(adapter.name, adapter)
    return list(picked.values())


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
