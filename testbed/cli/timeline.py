"""``testbed actions [--json]``: the timeline actions a scenario phase may use, like ``testbed faults`` for faults."""

from __future__ import annotations

import json

import click


@click.command("actions")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def actions(as_json: bool) -> None:
    """List the timeline actions (phases' steps), with their parameters."""
    from testbed.timeline import registry

    catalog = registry()
    if as_json:
        click.echo(json.dumps([a.to_json() for a in catalog.values()], indent=1))
        return
    for act in catalog.values():
        form = f"{act.id}: {act.scalar.upper()}" if act.scalar else f"{act.id}: {{...}}"
        click.echo(f"{form:34} {act.reference}\n    {act.summary}")
        for name, (kind, text) in act.params.items():
            required = "" if name in act.required else " (optional)"
            click.echo(f"      {name:10} {kind:8} {text}{required}")
