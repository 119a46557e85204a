"""``testbed timeshim build|path``: build the resolvers' time shim ahead of time (scripts/setup.sh runs it).

A lab also builds it on first use; building at install time keeps gcc's second out of the first run and tells
early, in words, when no compiler is there.
"""

from __future__ import annotations

import click


@click.group("timeshim")
def timeshim() -> None:
    """The LD_PRELOAD time shim that runs resolvers on the lab's virtual clock."""


@timeshim.command("build")
@click.option("--force", is_flag=True, help="rebuild even when this source version is built")
def timeshim_build(force: bool) -> None:
    """Compile the shim into the cache folder (once per source version); print its path."""
    from testbed.timeshim import build

    click.echo(build(force=force))


@timeshim.command("path")
def timeshim_path() -> None:
    """Print where the shim for this source version is (or would be) built."""
    from testbed.timeshim import library_path

    path = library_path()
    click.echo(f"{path}{'' if path.is_file() else '  (not built yet: testbed timeshim build)'}")
