"""``testbed explain SCENARIO [--query NAME TYPE]``: the chain of trust for each check's name, and where it breaks.

No resolver is needed. The scenario is built as a run would build it and served by the builtin server in this
process on 127.53.0.x (``--backend local``, what ``auto`` picks when the scenario needs nothing else), or in a lab
without resolvers on the netns or docker backend (network faults, other server software).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from testbed.errors import ScenarioError


@click.command("explain")
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--query", "queries", nargs=2, multiple=True, metavar="NAME TYPE",
              help="walk this name and type instead of the scenario's checks (repeatable)")
@click.option("--backend", type=click.Choice(["auto", "local", "netns", "docker"]), default="auto",
              show_default=True, help="local: the builtin server in this process; netns/docker: a lab")
@click.option("--json", "as_json", is_flag=True, help="print the chains as JSON")
def explain(scenario: Path, queries: tuple[tuple[str, str], ...], backend: str, as_json: bool) -> None:
    """Walk the chain of trust for each check's name (or --query), judge every link, name the broken one."""
    from testbed.explain.run import Query, explain_built, scenario_queries
    from testbed.run.select import load

    (loaded,) = load((scenario,))
    if loaded.is_timeline:
        raise ScenarioError("explain walks static scenarios; this one is a timeline", file=loaded.file,
                            fix="run it with `testbed run --evidence all` to see the chain per phase and check")
    wanted = [Query(n, t) for n, t in queries] or scenario_queries(loaded)
    if not wanted:
        raise ScenarioError("the scenario has no checks, so there is nothing to walk", file=loaded.file,
                            fix="add checks, or give --query NAME TYPE")
    where, chains = explain_built(loaded, wanted, backend)
    if as_json:
        click.echo(json.dumps({"scenario": loaded.name, "served": where,
                               "chains": [c.to_json() for c in chains]}, indent=1))
        return
    click.echo(f"{loaded.name}: served {where}")
    for chain in chains:
        click.echo("")
        click.echo(chain.tree())
        click.echo(f"  => {chain.outcome}: {chain.sentence}")
