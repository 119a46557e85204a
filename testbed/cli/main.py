"""The ``testbed`` command. Thin: parse, call the stages, set the exit code (0 met, 1 failed, 2 bad input)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import NoReturn

import click

from testbed import __version__
from testbed.errors import EnvironmentProblem, ScenarioError, TestbedError
from testbed.run.select import (
    bundled_scenarios,
    check_resolver_requests,
    known_names,
    load,
    pick_backend,
    pick_resolvers,
)

EXIT_FAILED, EXIT_USAGE = 1, 2
# the selection helpers live in a stage module the pytest plugin shares; importable from here as before
__all__ = ["bundled_scenarios", "cli", "known_names", "load", "main", "pick_backend", "pick_resolvers"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="testbed")
def cli() -> None:
    """dnssec-testbed: signed DNS hierarchies, real validating resolvers, injected faults."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--resolver", "resolvers", multiple=True, help="resolver to test (repeatable, or 'all')")
@click.option("--backend", type=click.Choice(["auto", "netns", "docker"]), default="auto", show_default=True)
@click.option("--jobs", type=int, default=1, show_default=True, help="labs to run in parallel")
@click.option("--json", "json_out", type=click.Path(path_type=Path), help="write the result JSON here")
@click.option("--junit", "junit_out", type=click.Path(path_type=Path), help="write JUnit XML here")
@click.option("--html", "html_out", type=click.Path(path_type=Path), help="write the HTML matrix here")
@click.option("--keep", is_flag=True, help="keep the lab's folder (zones, configs, logs) after the run")
@click.option("--auth", type=click.Choice(["builtin", "nsd", "knot", "bind"]), default=None,
              help="authoritative server software for every zone without a 'server:' of its own")
@click.option("--evidence", type=click.Choice(["failing", "all"]), default="failing", show_default=True,
              help="which checks carry evidence (log lines, both answers, the chain of trust, why)")
@click.option("--shard", help="run shard K of N (K/N): a deterministic, cost-balanced 1/N of the scenarios")
@click.option("--evidence-dir", type=click.Path(file_okay=False, path_type=Path),
              help="write a folder per non-passing check: zones, keys, config, log, answers, chain, pcap")
@click.option("--profile", type=click.Choice(["defaults", "rfc2026"]), default="defaults", show_default=True,
              help="resolver configuration: vendor defaults, or the current RFCs (SHA-1 off, RFC 9276 limit)")
def run(paths: tuple[Path, ...], resolvers: tuple[str, ...], backend: str, jobs: int, json_out: Path | None,
        junit_out: Path | None, html_out: Path | None, keep: bool, evidence: str, shard: str | None,
        evidence_dir: Path | None, auth: str | None, profile: str = "defaults") -> None:
    """Run scenario files or folders (default: the bundled quickstart)."""
    from testbed.report.console import ConsoleReporter
    from testbed.run.runner import run as run_scenarios

    scenarios = load(paths)
    if shard is not None:
        from testbed.run.shard import parse_shard, select_shard

        scenarios = select_shard(scenarios, *parse_shard(shard))
    if jobs < 1:
        raise click.UsageError("--jobs takes a number of labs, 1 or more")
    check_resolver_requests(resolvers)
    backend = pick_backend(backend, say=lambda line: click.echo(line, err=True))
    if auth is not None:
        scenarios = with_auth(scenarios, auth, backend)
    names = pick_resolvers(resolvers, backend)
    for adapter in names:
        adapter.profile = profile      # testbed/resolvers/profiles.py: what each adapter renders for it
    if profile != "defaults":
        click.echo(f"profile: {profile} (resolver configuration for the current RFCs, where a knob exists)", err=True)
    reporter = ConsoleReporter()
    try:
        with reporter:
            result = run_scenarios(scenarios, names, backend, keep=keep, on_verdict=reporter.add, jobs=jobs,
                                   evidence=evidence, evidence_dir=evidence_dir,
                                   on_lab=_say_kept if keep else None)
    except (TestbedError, KeyboardInterrupt):
        # whatever stopped the run, the checks that did run are worth a report: write it, then fail as usual
        if reporter.verdicts:
            write_reports(reporter.verdicts, backend, {}, json_out, junit_out, html_out, profile=profile)
        raise
    reporter.summary(result)
    reporter.readiness(result)     # timelines: the phase x resolver grid and READY / NOT READY
    write_reports(result.verdicts, backend, result.resolvers, json_out, junit_out, html_out, registry=result.registry,
                  info=result.resolver_info, servers=result.servers, profile=profile)
    sys.exit(result.exit_code)


def with_auth(scenarios: list, auth: str, backend: str) -> list:
    """``--auth``: every scenario's default server software becomes ``auth`` (a zone's own ``server:`` stays)."""
    from dataclasses import replace

    from testbed.auth.servers import BUILTIN_SERVER, get_server

    if auth != BUILTIN_SERVER and backend == "netns":
        adapter = get_server(auth)
        if not adapter.available_locally():
            raise EnvironmentProblem(f"{adapter.display_name} ({adapter.binary}) is not installed for the netns "
                                     "backend", fix=f"apt-get install -y {adapter.debian_package}, or use "
                                                    "--backend docker")
    return [replace(s, server=auth) for s in scenarios]


def _say_kept(lab: object) -> None:
    click.echo(f"lab {getattr(lab, 'lab_id', '?')}: its folder is kept at {getattr(lab, 'workdir', '?')}", err=True)


def write_reports(verdicts: list, backend: str, resolvers: dict[str, str], json_out: Path | None,
                  junit_out: Path | None, html_out: Path | None, registry: list | None = None,
                  info: dict[str, dict[str, str]] | None = None, servers: dict[str, str] | None = None,
                  profile: str = "defaults") -> None:
    versions = sorted(resolvers.items()) or sorted({(v.resolver, "unknown") for v in verdicts})
    if json_out:
        from testbed.report.json_report import write_json

        write_json(json_out, verdicts, backend=backend, resolvers=versions, registry=registry or [], info=info,
                   servers=servers, profile=profile)
    if junit_out:
        from testbed.report.junit import write_junit

        write_junit(junit_out, verdicts, backend=backend, resolvers=versions)
    if html_out:
        from testbed.report.html import write_html

        write_html(html_out, verdicts, backend=backend, resolvers=versions)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--build", "dry_build", is_flag=True,
              help="also sign the zones and apply the faults, as a run would, without a lab (slower: makes keys)")
def validate(paths: tuple[Path, ...], dry_build: bool) -> None:
    """Check scenario files without running anything: their YAML, faults and targets, and the zone files and keys
    they bring (parsed, name servers and keys matched with the scenario). --build also signs, verifies a signed
    file's signatures and applies the faults."""
    from testbed.build.brought import check_brought
    from testbed.build.targets import check_fault_targets
    from testbed.faults import fault_params

    scenarios = load(paths)
    signatures = fault_params()
    keys = None
    for scenario in scenarios:
        check_fault_targets(scenario, signatures)  # what build would find: a fault aimed at a zone it lacks
        brought = check_brought(scenario)           # its own zone files and keys, read as a run reads them
        if dry_build:
            from testbed.build.topology import plan
            from testbed.build.zones import KeyStore
            from testbed.clock import LabClock
            from testbed.timeline.build import build_scenario

            keys = keys or KeyStore()
            build_scenario(scenario, plan(scenario, []), LabClock(), keys, 1)
        if scenario.is_timeline:
            checks = sum(len(phase.checks) for phase in scenario.phases)
            click.echo(f"ok  {scenario.file}  ({scenario.name}: {len(scenario.phases)} phases, {checks} checks)")
        else:
            click.echo(f"ok  {scenario.file}  ({scenario.name}: {len(scenario.checks)} checks)")
        for line in brought:
            click.echo(f"    {line}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def faults(as_json: bool) -> None:
    """List the fault catalog."""
    from testbed.faults import registry

    catalog = registry()
    if as_json:
        click.echo(json.dumps([f.to_json() for f in catalog.values()], indent=1))
        return
    for f in catalog.values():
        expect = f"{f.expect.outcome} EDE {list(f.expect.ede or [])}" if f.expect else "-"
        click.echo(f"{f.id:32} {f.group:12} {f.layer:8} {expect:18} {f.reference}\n    {f.summary}")


@cli.command()
@click.option("--no-docker", is_flag=True, help="list this machine's packages only, without asking the images")
def resolvers(no_docker: bool) -> None:
    """List resolver adapters, their generations, and the exact package version of each (netns and docker)."""
    from testbed.lab.images import package_versions
    from testbed.resolvers import registry
    from testbed.resolvers.generations import DEFAULT_GENERATION, GENERATIONS, host_generation

    here = host_generation()
    images: dict[str, str] = {}
    if not no_docker:
        queries = {(cls.image if gen == DEFAULT_GENERATION else f"{cls.image}@{gen}"): cls().package_version_command()
                   for cls in registry().values() for gen in GENERATIONS}
        try:
            images = package_versions(queries)
        except TestbedError as exc:
            click.echo(f"(docker: {exc.message})", err=True)
    click.echo(f"{'resolver':16} {'software':18} {'generation':10} {'backend':7} package version")
    for name, cls in registry().items():
        adapter = cls()
        local = adapter.local_package_version() if adapter.available_locally() else \
            f"not installed (apt-get install {cls.debian_package})"
        click.echo(f"{name:16} {cls.display_name:18} {here:10} {'netns':7} {cls.debian_package} {local}")
        for gen in GENERATIONS:
            key = cls.image if gen == DEFAULT_GENERATION else f"{cls.image}@{gen}"
            if key in images:
                click.echo(f"{name + '@' + gen:16} {cls.display_name:18} {gen:10} {'docker':7} "
                           f"{cls.debian_package} {images[key]}")


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "json_out", type=click.Path(path_type=Path), help="write the merged result JSON here")
@click.option("--junit", "junit_out", type=click.Path(path_type=Path), help="write JUnit XML here")
@click.option("--html", "html_out", type=click.Path(path_type=Path), help="write the HTML matrix here")
def merge(files: tuple[Path, ...], json_out: Path | None, junit_out: Path | None, html_out: Path | None) -> None:
    """One report from the result JSON of shards or runs (testbed run --json); exit 1 if any check failed."""
    from testbed.report.merge import load_document, merge_documents, verdicts_from_document

    doc = merge_documents([load_document(f) for f in files])
    if json_out:
        Path(json_out).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if junit_out or html_out:
        from testbed.report.merge import resolver_versions

        verdicts = verdicts_from_document(doc)
        write_reports(verdicts, doc["backend"], dict(resolver_versions(doc)), None, junit_out, html_out)
    summary = doc["summary"]
    click.echo(f"{len(doc['results'])} results from {len(files)} files: " +
               ", ".join(f"{n} {s}" for s, n in summary.items()))
    sys.exit(1 if summary.get("fail") or summary.get("error") else 0)


@cli.command()
@click.argument("before", type=click.Path(path_type=Path))
@click.argument("after", type=click.Path(path_type=Path), required=False)
def diff(before: Path, after: Path | None) -> None:
    """The cells whose outcome, rcode, AD bit or EDE set changed from BEFORE to AFTER (result JSON files), by
    scenario. Generations are matched by software: unbound in one run is unbound@debian13 in the other. With one
    file of a run over two generations, the older generation's cells against the newer's.
    Exit 0: nothing changed; 1: something did."""
    from testbed.report.merge import diff_documents, format_diff, load_document, split_generations

    a = load_document(before)
    if after is None:
        (older, a), (newer, b) = split_generations(a, before)
        click.echo(f"generation: {older} -> {newer}")
    else:
        b = load_document(after)
    profiles = (a.get("profile") or "defaults", b.get("profile") or "defaults")
    if profiles[0] != profiles[1]:
        click.echo(f"profile: {profiles[0]} -> {profiles[1]}")
    changes = diff_documents(a, b)
    for line in format_diff(changes):
        click.echo(line)
    sys.exit(1 if changes else 0)


@cli.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="folder to write into")
@click.option("--resolver", "resolvers", multiple=True, default=("unbound",), show_default=True)
def build(scenario: Path, output: Path, resolvers: tuple[str, ...]) -> None:
    """Write a scenario's signed zones, keys, DS sets, trust anchor and resolver configs; start nothing."""
    from testbed.build.output import write_build
    from testbed.build.topology import DEFAULT_SUBNET, plan
    from testbed.build.zones import KeyStore
    from testbed.clock import LabClock
    from testbed.timeline.build import build_scenario

    (loaded,) = load((scenario,))
    topology = plan(loaded, list(resolvers), DEFAULT_SUBNET)
    built = build_scenario(loaded, topology, LabClock(), KeyStore(), serial=1)
    for line in write_build(built, output, list(resolvers)):
        click.echo(line)


@cli.command()
@click.argument("zonefile", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--origin", required=True, help="the zone's name, e.g. jp.")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="signed zone file (default: ZONEFILE.signed)")
@click.option("--algorithm", type=int, default=13, show_default=True, help="DNSSEC algorithm number")
@click.option("--csk", is_flag=True, help="one combined signing key instead of a KSK and a ZSK")
@click.option("--nsec3", is_flag=True, help="NSEC3 instead of NSEC")
@click.option("--iterations", type=int, default=0, show_default=True, help="NSEC3 extra iterations")
@click.option("--salt", default="", help="NSEC3 salt, hex")
@click.option("--opt-out", is_flag=True, help="NSEC3 opt-out: no NSEC3 for insecure delegations")
@click.option("--validity-days", type=int, default=30, show_default=True)
@click.option("--keys", "keys_dir", type=click.Path(path_type=Path), help="write the new keys here (BIND format)")
@click.option("--jobs", type=int, default=None, help="signing processes (default: every CPU)")
def sign(zonefile: Path, origin: str, output: Path | None, algorithm: int, csk: bool, nsec3: bool, iterations: int,
         salt: str, opt_out: bool, validity_days: int, keys_dir: Path | None, jobs: int | None) -> None:
    """The signer on its own: sign ZONEFILE with fresh keys (registries, benchmarks)."""
    import time as _time

    from testbed.dnssec import SignOptions, generate_key, key_to_files, make_ds, sign_zone_file

    origin = origin if origin.endswith(".") else origin + "."
    roles = ["csk"] if csk else ["ksk", "zsk"]
    keys = [generate_key(origin, algorithm, role) for role in roles]
    now = int(_time.time())
    try:
        options = SignOptions(inception=now - 3600, expiration=now + validity_days * 86400,
                              denial="nsec3" if nsec3 else "nsec", nsec3_iterations=iterations,
                              nsec3_salt=bytes.fromhex(salt), nsec3_opt_out=opt_out)
    except ValueError as exc:
        raise ScenarioError(f"bad signing option: {exc}", fix="--salt takes hex digits, e.g. --salt ab12") from exc
    output = output or zonefile.with_name(zonefile.name + ".signed")
    stats = sign_zone_file(zonefile, origin, keys, options, output, workers=jobs)
    if keys_dir:
        for key in keys:
            key_to_files(key, keys_dir)
    for key in keys:
        if key.role in ("ksk", "csk"):
            click.echo(f"{origin} IN DS {make_ds(key, 2).to_text()}")
    click.echo(f"signed {zonefile} -> {output}: {stats.records} records, {stats.signatures} signatures, "
               f"{stats.seconds:.2f} s ({stats.signatures / max(stats.seconds, 1e-9):,.0f} signatures/s, "
               f"{stats.workers} process(es))", err=True)


@cli.command()
@click.option("--all", "everything", is_flag=True, help="remove every lab a killed or finished run left")
@click.option("--force", is_flag=True, help="also remove labs whose owning process still runs")
def down(everything: bool, force: bool) -> None:
    """Tear down labs left behind (namespaces, containers, networks, folders)."""
    from testbed.lab.cleanup import down_all

    if not everything:
        raise click.UsageError("say --all to remove every lab on this machine")
    for line in down_all(force=force):
        click.echo(line)


@cli.group()
def docs() -> None:
    """Regenerate the generated pages under docs/."""


@docs.command("faults")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="where to write (default: docs/faults.md)")
def docs_faults(output: Path | None) -> None:
    """Write docs/faults.md from the fault registry."""
    from testbed.cli.docs_gen import write_faults_doc

    click.echo(f"wrote {write_faults_doc(output)}")


@docs.command("conformance")
@click.argument("result", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), help="where to write (default: docs/conformance.md)")
def docs_conformance(result: Path, output: Path | None) -> None:
    """Write docs/conformance.md from the result JSON of a full conformance run."""
    from testbed.cli.docs_gen import write_conformance_doc

    path, missing = write_conformance_doc(result, output)
    click.echo(f"wrote {path}")
    for file in missing:  # the page would have no row for these: the run was partial or older than the suite
        click.echo(f"warning: scenarios/conformance/{file} is not in {result}", err=True)


@cli.command()
def doctor() -> None:
    """What this machine can run, and how to fix what it can't."""
    from testbed.cli.doctor import findings, usable_backend

    found = findings()
    for finding in found:
        click.echo(finding.line())
    if not usable_backend(found):
        raise EnvironmentProblem("no backend can run here", fix="see the MISSING lines above")


@cli.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--resolver", "resolvers", multiple=True, help="resolver to start (repeatable, or 'all')")
@click.option("--backend", type=click.Choice(["auto", "netns", "docker"]), default="auto", show_default=True)
def up(scenario: Path, resolvers: tuple[str, ...], backend: str) -> None:
    """Start a scenario's lab and keep it running for manual queries until Ctrl-C (then tear it down)."""
    import time as _time

    from testbed.build.topology import plan
    from testbed.run.runner import LabPool
    from testbed.timeline.build import build_scenario

    (loaded,) = load((scenario,))
    check_resolver_requests(resolvers)
    backend = pick_backend(backend, say=lambda line: click.echo(line, err=True))
    with LabPool(backend, pick_resolvers(resolvers, backend)) as pool:
        lab = pool.lab_for(loaded)
        topology = plan(loaded, pool.resolvers, lab.topology.subnet)
        lab.load(build_scenario(loaded, topology, pool.clock, pool.keystore, lab.next_serial()))
        prefix = "" if backend == "docker" else f"ip netns exec testbed-{lab.lab_id}-probe "
        click.echo(f"lab {lab.lab_id} on {backend}, subnet {topology.subnet}, folder {lab.workdir}")
        # under each host a dig line that works as printed: from the probe's namespace (netns), or from this
        # machine, which sits on the docker bridge (docker)
        for server in topology.servers.values():
            address = topology.server_address(server.name)
            click.echo(f"  server   {server.name:10} {address:15} {' '.join(server.zones)}")
            click.echo(f"    dig:   {prefix}dig +dnssec +norecurse @{address} {server.zones[0]} SOA")
        for name in pool.resolvers:
            click.echo(f"  resolver {name:10} {topology.resolver_address(name)}")
            click.echo(f"    dig:   {prefix}dig +dnssec @{topology.resolver_address(name)} www.example.jp A")
        first = pool.resolvers[0] if pool.resolvers else None
        if first:
            click.echo(f"try:  {prefix}dig +dnssec @{topology.resolver_address(first)} www.example.jp A")
        click.echo("Ctrl-C tears the lab down.")
        while True:
            _time.sleep(3600)


def _register_docker_commands() -> None:
    from testbed.cli.docker import compose, images
    from testbed.cli.explain import explain
    from testbed.cli.timeline import actions
    from testbed.cli.timeshim import timeshim

    cli.add_command(images)
    cli.add_command(compose)
    cli.add_command(timeshim)
    cli.add_command(actions)
    cli.add_command(explain)


_register_docker_commands()


def _interrupted() -> NoReturn:
    # said only when true: the labs of this run were checked on the machine after their teardown
    from testbed.lab import interrupts

    click.echo(f"interrupted; {interrupts.outcome()}", err=True)
    sys.exit(130)


def _caused_by_interrupt(exc: BaseException) -> bool:
    """dnspython turns every exception in rdata parsing into a SyntaxError, KeyboardInterrupt included: Ctrl-C
    during a build must not read as "zone does not parse"."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def main(argv: list[str] | None = None) -> None:
    from testbed.lab import interrupts

    # SIGINT, SIGTERM and SIGHUP: the first unwinds like Ctrl-C so every lab's teardown runs (also when a shell
    # started us with SIGINT ignored); later ones never cut a teardown short (see testbed.lab.interrupts)
    interrupts.install()
    try:
        _main(argv)
    except SystemExit as exc:
        if argv is None and exc.code == 130:
            # interrupted, every lab torn down and the outcome said: a worker thread still busy (a lab's long
            # check of a big zone) must not keep the process alive after that
            interrupts.ignore()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(130)
        raise
    finally:
        if argv is None:
            # the process's own command line: it exits now, every lab torn down; a signal during interpreter
            # exit must not turn exit 130 into death by signal
            interrupts.ignore()
        else:
            interrupts.uninstall()      # called with arguments (a test, a script): hand the signals back


def _main(argv: list[str] | None) -> None:
    from testbed.lab import interrupts

    try:
        cli.main(args=argv, prog_name="testbed", standalone_mode=False)
    except TestbedError as exc:
        if _caused_by_interrupt(exc):
            _interrupted()
        click.echo(f"error: {exc}", err=True)
        if interrupts.something_left():
            click.echo(f"note: {interrupts.outcome()}", err=True)
        sys.exit(EXIT_USAGE)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except (click.exceptions.Abort, KeyboardInterrupt):
        _interrupted()


if __name__ == "__main__":
    main()
