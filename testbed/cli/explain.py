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
    from testbed.explain.run import Query, explain_built, explain_timeline_local, scenario_queries
    from testbed.run.select import load

    (loaded,) = load((scenario,))
    if loaded.is_timeline:
        if backend not in ("auto", "local"):
            raise ScenarioError("a timeline is explained in-process only", file=loaded.file,
                                fix="use --backend local (or auto); `testbed run --evidence all` shows the chain "
                                    "of every check in a real lab")
        from testbed.run.phases import action_params

        phases = explain_timeline_local(loaded, [Query(n, t) for n, t in queries] or None, action_params)
        if as_json:
            click.echo(json.dumps({"scenario": loaded.name, "served": "in-process", "phases": [
                {"phase": label, "chains": [c.to_json() for c in chains]} for label, _, chains in phases]},
                indent=1))
            return
        click.echo(f"{loaded.name}: a timeline, each phase served in-process by the builtin server on 127.53.0.x")
        click.echo("(each phase is walked as served then: what resolvers still cache from earlier phases, the usual "
                   "cause of a rollover gone wrong, is beyond this walk; `testbed run` measures it)")
        for label, _, chains in phases:
            click.echo(f"\n=== {label}")
            for chain in chains:
                click.echo(chain.tree())
                click.echo(f"  => {chain.outcome}: {chain.sentence}")
        return
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
