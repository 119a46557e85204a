"""Knot DNS (knotd): authoritative, DNSSEC signing off, the zone file loaded whole and never written back.

``knotd -c`` runs in the foreground and logs to stderr; the journal is off (``journal-content: none``) so a
reload reads the file and nothing left from an earlier load; semantic checks are off so a broken zone is served as
far as knotd will serve it at all. SIGHUP reloads the configuration and the zone files that changed.
"""

from __future__ import annotations

from testbed.auth.servers.base import ServerAdapter, ServerContext


class Knot(ServerAdapter):
    name = "knot"
    display_name = "Knot DNS"
    binary = "knotd"
    debian_package = "knot"
    image = "knot"
    version_argv = ("-V",)
    version_pattern = r"version (\S+)"
    refused_pattern = r"\[{zone}\.\] (zone file|failed to load|zone event 'load' failed).*(error|failed|invalid)"

    def render(self, ctx: ServerContext) -> dict[str, str]:
        folder = ctx.folder
        lines = ["server:",
                 f'    rundir: "{folder}/run"',
                 f'    pidfile: "{folder}/knot.pid"',
                 f"    listen: {ctx.address}@53",
                 "    udp-workers: 1",
                 "    tcp-workers: 1",
                 "    background-workers: 1",
                 "",
                 "database:",
                 f'    storage: "{folder}/db"',
                 "",
                 "log:",
                 "  - target: stderr",
                 "    any: info",
                 "",
                 "template:",
                 "  - id: default",
                 f'    storage: "{folder}"',
                 "    semantic-checks: off",
                 "    zonefile-sync: -1",
                 "    zonefile-load: whole",
                 "    journal-content: none",
                 "",
                 "zone:"]
        for zone, file_name in ctx.zones:
            lines += [f'  - domain: "{zone}"', f'    file: "{ctx.zone_path(file_name)}"']
        return {"knot.conf": "\n".join(lines) + "\n"}

    def command(self, ctx: ServerContext) -> list[str]:
        (ctx.folder / "run").mkdir(parents=True, exist_ok=True)
        return [self.binary, "-c", str(ctx.folder / "knot.conf")]
