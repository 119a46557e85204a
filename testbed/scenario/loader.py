"""Load: a scenario YAML file becomes a validated, frozen ``Scenario``.

We walk PyYAML's *node* tree (``compose``) instead of the plain objects ``safe_load`` returns, because nodes keep
their line numbers: every error can then say ``file:line``, which key is wrong and how to fix it. Scenario files
are written by people who are not necessarily programmers, so messages are plain sentences, never tracebacks.

This module reads the top level and hands each section to its reader in ``readers/`` (zones, faults, checks and
overrides, phases and actions, resolvers), which owns that section's messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import yaml

from testbed.errors import ScenarioError
from testbed.scenario.bounded_yaml import compose, read_text, yaml_error
from testbed.scenario.model import SERVER_SOFTWARE, ActionSignature, Scenario
from testbed.scenario.readers.base import FaultParams, NodeReader, ReadContext, getter, suggest
from testbed.scenario.readers.checks import IMPLIED_RCODES, ChecksReader
from testbed.scenario.readers.faults import FaultsReader
from testbed.scenario.readers.phases import SCALAR_PARAM, PhasesReader, parse_duration
from testbed.scenario.readers.resolvers import ResolversReader
from testbed.scenario.readers.zones import ZonesReader

__all__ = ["IMPLIED_RCODES", "SCALAR_PARAM", "SCENARIO_SUFFIXES", "FaultParams", "load_paths", "load_scenario",
           "parse_duration", "scenario_files"]

SCENARIO_SUFFIXES = (".yaml", ".yml")

_TOP_KEYS = ("name", "summary", "reference", "topology", "zones", "faults", "resolvers", "checks", "phases", "server")


class ScenarioReader(NodeReader):
    """The top level of one file: its own keys, then each section through that section's reader."""

    def __init__(self, ctx: ReadContext) -> None:
        super().__init__(ctx)
        self.zones = ZonesReader(ctx)
        self.faults = FaultsReader(ctx)
        self.resolvers = ResolversReader(ctx)
        self.checks = ChecksReader(ctx)
        self.phases = PhasesReader(ctx)

    def scenario(self, root: yaml.Node) -> Scenario:
        top = self.mapping(root, "the scenario", _TOP_KEYS, required=("name",))
        get = getter(top)
        if "checks" in top and "phases" in top:
            self.fail(top["phases"][0], "a scenario has either top-level 'checks' or 'phases' (a timeline), not both.",
                      "move the top-level checks into a phase, or drop 'phases'.")
        if "checks" not in top and "phases" not in top:
            self.fail(root, "the scenario has no 'checks' key, which is required (a timeline has 'phases' instead).",
                      "add 'checks:' with at least one '- query: NAME TYPE' and 'expect: ...'.")
        name = self.text(get("name"), "'name'")
        reference = self.text(get("reference"), "'reference'") if "reference" in top else ""
        topology = "jp"
        if "topology" in top:
            topology = self.text(get("topology"), "'topology'")
            known_topologies = self.ctx.known_topologies
            if known_topologies is not None and topology not in known_topologies:
                known = sorted(known_topologies)
                self.fail(get("topology"), f"unknown topology {topology!r}.",
                          f"{suggest(topology, known)}Known topologies: {', '.join(known)}.")
        return Scenario(
            name=name,
            file=self.file,
            summary=self.text(get("summary"), "'summary'", allow_empty=True) if "summary" in top else "",
            reference=reference,
            topology=topology,
            zones=self.zones.zones(get("zones")) if "zones" in top else (),
            faults=self.faults.faults(get("faults")) if "faults" in top else (),
            resolvers=self.resolvers.resolvers(get("resolvers")) if "resolvers" in top else "all",
            checks=self.checks.checks(get("checks"), reference or None) if "checks" in top else (),
            phases=self.phases.phases(get("phases"), reference or None) if "phases" in top else (),
            server=self.choice(get("server"), "'server'", SERVER_SOFTWARE) if "server" in top else None,
        )


def load_scenario(path: Path, *, known_faults: Mapping[str, FaultParams] | None = None,
                  known_resolvers: Iterable[str] | None = None,
                  known_topologies: Iterable[str] | None = None,
                  known_actions: Mapping[str, ActionSignature] | None = None) -> Scenario:
    """Read and validate one scenario file.

    ``known_faults`` maps fault ids to the parameter names each accepts, ``known_resolvers`` lists resolver
    adapter names, ``known_topologies`` preset names and ``known_actions`` the timeline actions' signatures;
    when one is ``None`` that part is not checked.
    Raises ``ScenarioError`` naming the file and line of the first problem.
    """
    path = Path(path)
    text = read_text(path)
    loader, root = compose(path, text)
    if root is None:
        loader.dispose()
        raise ScenarioError("the file is empty.", file=path, line=1,
                            fix="start it with 'name: ...', a 'summary' and a list of 'checks'.")
    try:
        ctx = ReadContext(path, loader, known_faults,
                          None if known_resolvers is None else frozenset(known_resolvers),
                          None if known_topologies is None else frozenset(known_topologies), known_actions)
        return ScenarioReader(ctx).scenario(root)
    except yaml.YAMLError as exc:  # constructing a fault parameter's value can still fail (bad tags, ...)
        raise yaml_error(path, exc, text) from None
    finally:
        loader.dispose()


def scenario_files(paths: Iterable[Path]) -> list[Path]:
    """Scenario files named by ``paths``: files as given, folders searched recursively for *.yaml / *.yml.

    Each folder's files are sorted so runs are repeatable; a file named twice is listed once.
    """
    found: dict[Path, None] = {}
    for path in map(Path, paths):
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.suffix in SCENARIO_SUFFIXES and p.is_file()
                            and not any(part.startswith(".") for part in p.relative_to(path).parts))
            if not inside:
                raise ScenarioError("this folder has no scenario files (*.yaml, *.yml).", file=path,
                                    fix="point at a folder of scenarios or at scenario files.")
            found.update(dict.fromkeys(inside))
        elif path.is_file():
            found[path] = None
        else:
            raise ScenarioError("no such file or folder.", file=path, fix="check the path.")
    return list(found)


def load_paths(paths: list[Path], *, known_faults: Mapping[str, FaultParams] | None = None,
               known_resolvers: Iterable[str] | None = None,
               known_topologies: Iterable[str] | None = None,
               known_actions: Mapping[str, ActionSignature] | None = None) -> list[Scenario]:
    """Load every scenario under ``paths`` (see ``scenario_files``); stops at the first bad file."""
    resolvers = None if known_resolvers is None else frozenset(known_resolvers)
    topologies = None if known_topologies is None else frozenset(known_topologies)
    return [load_scenario(f, known_faults=known_faults, known_resolvers=resolvers, known_topologies=topologies,
                          known_actions=known_actions)
            for f in scenario_files(paths)]
