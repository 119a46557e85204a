"""The import graph of testbed/: no cycle anywhere, and none of the directions DESIGN.md rules out.

Data flows one way (scenario -> build -> faults -> lab -> probe/checks -> report, the CLI on top); an import
against that flow is how a cycle starts. Every import counts: module level, inside functions, and under
TYPE_CHECKING (a type-only import is still a dependency a reader has to follow).
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

Graph = dict[str, set[str]]

# (importer, imported): modules under the first never import modules under the second
NEVER: tuple[tuple[str, str], ...] = (
    *((low, high) for low in ("testbed.build", "testbed.dnssec", "testbed.scenario")
      for high in ("testbed.lab", "testbed.run", "testbed.cli")),
    ("testbed.report", "testbed.lab"),
    ("testbed.resolvers", "testbed.faults"),
    ("testbed.lab", "testbed.run"),
)
ENTRY_POINT = "testbed.__main__"
ONLY_FROM_ITSELF = ("testbed.cli",)       # nothing outside the package imports it (the pytest plugin included)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(package: Path) -> Graph:
    """Module -> the modules of the same package it imports (``from a import b`` counts as ``a``, and as ``a.b``
    too when that is a module)."""
    modules = {module_name(p, package): p for p in package.rglob("*.py")}
    graph: Graph = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = name.split(".") if is_package else name.split(".")[:-1]
                    anchor = anchor[:len(anchor) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                # ``from a import b`` runs a/__init__.py before it finds b: an edge to a as well as to a.b
                targets = [base, *(f"{base}.{alias.name}" for alias in node.names
                                   if f"{base}.{alias.name}" in modules)]
            for target in targets:
                while target and target not in modules:      # ``import a.b.c`` where c is a name: a.b
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan), each sorted, the list sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def package_graph(graph: Graph) -> Graph:
    """The same graph one level up: ``testbed.lab.wait`` counts as ``testbed.lab``. The root package (which only
    names the version) is left out."""
    def package(module: str) -> str:
        return ".".join(module.split(".")[:2])

    packages: Graph = {}
    for importer, targets in graph.items():
        edges = packages.setdefault(package(importer), set())
        edges.update(package(t) for t in targets if package(t) not in (package(importer), "testbed"))
    return packages


def under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def forbidden(graph: Graph, never: tuple[tuple[str, str], ...] = NEVER,
              only_from_itself: tuple[str, ...] = ONLY_FROM_ITSELF) -> list[str]:
    """Every import that goes a way it must not, as "importer -> imported"."""
    bad = []
    for importer, imported in sorted((a, b) for a, targets in graph.items() for b in targets):
        against_flow = any(under(importer, low) and under(imported, high) for low, high in never)
        # testbed/__main__.py is `python -m testbed`: the console script's twin, the one way in from outside
        into_closed = importer != ENTRY_POINT and any(under(imported, pkg) and not under(importer, pkg)
                                                      for pkg in only_from_itself)
        if against_flow or into_closed:
            bad.append(f"{importer} -> {imported}")
    return bad


def test_testbed_has_no_import_cycle() -> None:
    graph = import_graph(ROOT / "testbed")
    assert len(graph) > 80                      # the whole package was read
    assert cycles(graph) == []


def test_the_packages_import_each_other_one_way_only() -> None:
    # folders that show the flow: no package imports one that imports it back, even through other modules
    assert cycles(package_graph(import_graph(ROOT / "testbed"))) == []


def test_no_import_goes_against_the_flow() -> None:
    assert forbidden(import_graph(ROOT / "testbed")) == []


def test_the_checker_finds_a_cycle_and_a_forbidden_direction() -> None:
    graph: Graph = {"testbed.run.runner": {"testbed.timeline.run"}, "testbed.timeline.run": {"testbed.run.runner"},
                    "testbed.lab.lab": {"testbed.run.probe"}, "testbed.run.probe": set(),
                    "testbed.pytest_plugin": {"testbed.cli.main"}, "testbed.cli.main": {"testbed.cli.docker"},
                    "testbed.cli.docker": {"testbed.cli.main"}}
    assert cycles(graph) == [["testbed.cli.docker", "testbed.cli.main"],
                             ["testbed.run.runner", "testbed.timeline.run"]]
    assert forbidden(graph) == ["testbed.lab.lab -> testbed.run.probe", "testbed.pytest_plugin -> testbed.cli.main"]
    # no module cycle, but run and timeline import each other through different modules
    split: Graph = {"testbed.run.runner": {"testbed.timeline.build"}, "testbed.timeline.build": set(),
                    "testbed.timeline.readiness": {"testbed.run.checks"}, "testbed.run.checks": set()}
    assert cycles(split) == []
    assert cycles(package_graph(split)) == [["testbed.run", "testbed.timeline"]]


def test_the_graph_sees_imports_inside_functions_and_type_checking_blocks(tmp_path: Path) -> None:
    package = tmp_path / "testbed"
    (package / "lab").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "lab" / "__init__.py").write_text("")
    (package / "lab" / "lab.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from testbed.cli import main\n"
        "def f():\n    from . import wait\n    import testbed.lab.wait as w\n")
    (package / "lab" / "wait.py").write_text("def g():\n    from testbed.lab.lab import f\n")
    (package / "cli").mkdir()
    (package / "cli" / "__init__.py").write_text("")
    (package / "cli" / "main.py").write_text("")
    graph = import_graph(package)
    # ``from testbed.cli import main`` and ``from . import wait`` also run those packages' __init__
    assert graph["testbed.lab.lab"] == {"testbed.cli", "testbed.cli.main", "testbed.lab", "testbed.lab.wait"}
    assert cycles(graph) == [["testbed.lab.lab", "testbed.lab.wait"]]
    assert forbidden(graph) == ["testbed.lab.lab -> testbed.cli", "testbed.lab.lab -> testbed.cli.main"]


def test_from_a_package_import_a_module_closes_a_loop_through_the_package(tmp_path: Path) -> None:
    """The loop 11a5571 removed: the package's __init__ imports a module that imports its sibling through the
    package (``from testbed.auth import lookup``), so importing the package first fails half-way."""
    package = tmp_path / "testbed"
    (package / "auth").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "auth" / "__init__.py").write_text("from testbed.auth.answer import answer\n")
    (package / "auth" / "answer.py").write_text("from testbed.auth import lookup\ndef answer(): ...\n")
    (package / "auth" / "lookup.py").write_text("")
    assert cycles(import_graph(package)) == [["testbed.auth", "testbed.auth.answer"]]
