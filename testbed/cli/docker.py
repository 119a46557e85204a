"""CLI commands for the docker side: ``testbed images build|list`` and ``testbed compose SCENARIO -o DIR``.

Registered in cli/main.py with ``cli.add_command(images)`` and ``cli.add_command(compose)``. Errors are
TestbedErrors, which the CLI's main prints without a traceback (exit 2).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import click


@click.group("images")
def images() -> None:
    """Build and list the lab images (compose/<key>/Dockerfile)."""


@images.command("build")
@click.argument("keys", nargs=-1)
@click.option("--force", is_flag=True, help="rebuild even when the current tag exists")
@click.option("--quiet", "-q", is_flag=True, help="print only the tags, not the build log")
@click.option("--generation", "generations", multiple=True,
              help="resolver generation(s) to build the resolver images for: debian12 (default), debian13, all")
def images_build(keys: tuple[str, ...], force: bool, quiet: bool, generations: tuple[str, ...]) -> None:
    """Build images KEY... (default: every image under compose/); print each tag. KEY@GEN (bind@debian13) builds
    one image of one generation; --generation builds the resolver images of each generation named."""
    import time

    from testbed.lab.images import build_image, image_keys, resolver_image_keys
    from testbed.resolvers.generations import DEFAULT_GENERATION, GENERATIONS, get_generation

    wanted = list(GENERATIONS) if "all" in generations else [get_generation(g).name for g in generations]
    targets = list(keys) or list(image_keys())
    for gen in wanted:
        if gen != DEFAULT_GENERATION:
            targets += [f"{key}@{gen}" for key in (keys or resolver_image_keys())]
    for key in dict.fromkeys(targets):
        on_line = None if quiet else (lambda line, k=key: click.echo(f"  [{k}] {line}", err=True))
        t0 = time.monotonic()
        tag = build_image(key, force=force, on_line=on_line)
        click.echo(f"{tag}  ({time.monotonic() - t0:.0f} s)" if not quiet else tag)


@images.command("list")
def images_list() -> None:
    """Our images on this Docker daemon; 'current' marks the tag the code in this checkout would use."""
    from testbed.lab.images import list_images

    rows = list_images()
    width = max([len("image")] + [len(row["key"]) for row in rows])
    click.echo(f"{'image':{width}} {'current':9} {'MB':>5}  tag")
    for row in rows:
        click.echo(f"{row['key']:{width}} {row['current']:9} {row['size_mb']:>5}  {row['tag']}")


def _lab_subnet(_ctx: click.Context, _param: click.Parameter, value: str | None) -> ipaddress.IPv4Network | None:
    if value is None:
        return None
    try:
        subnet = ipaddress.IPv4Network(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not an IPv4 network ({exc}); give one like 10.53.7.0/24") from None
    if subnet.prefixlen != 24:
        raise click.BadParameter(f"{value} is a /{subnet.prefixlen}; the lab's host addresses need a /24, "
                                 "e.g. 10.53.7.0/24")
    return subnet


@click.command("compose")
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="folder to write into")
@click.option("--resolver", "resolvers", multiple=True, default=("unbound",), show_default=True,
              help="resolver service(s) to include (repeatable)")
@click.option("--subnet", callback=_lab_subnet, default=None,
              help="the lab network, an IPv4 /24 (default: the first 10.53.X.0/24 nothing on this host uses now)")
def compose(scenario: Path, output: Path, resolvers: tuple[str, ...], subnet: ipaddress.IPv4Network | None) -> None:
    """Write a runnable docker compose project for SCENARIO (signed zones, configs, images' build contexts)."""
    from testbed.lab.compose_export import write_compose
    from testbed.resolvers import registry
    from testbed.run.select import load

    known = registry()
    unknown = [r for r in resolvers if r not in known]
    if unknown:
        raise click.BadParameter(f"unknown resolver {unknown[0]!r}; use one of: {', '.join(known)}",
                                 param_hint="--resolver")
    (loaded,) = load((scenario,))
    write_compose(loaded, output, list(resolvers), subnet)
    compose_file = output / "docker-compose.yml"
    click.echo(f"wrote {compose_file}")
    # the how-to is the file's own header: print it so the next step is on screen
    for line in compose_file.read_text().splitlines():
        if not line.startswith("#"):
            break
        click.echo(line[2:] if line.startswith("# ") else line[1:])
