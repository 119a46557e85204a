"""NSD (NLnet Labs): authoritative only, serves its zone files as read, signs nothing.

``nsd -d`` stays in the foreground and logs to stderr; no database (``database: ""``) so a reload reads the zone
files themselves; no privilege drop and no chroot, since the lab folder belongs to root. SIGHUP rereads the zone
files whose mtime changed (nsd(8)); a zone file with errors is logged and not served.
"""

from __future__ import annotations

from testbed.auth.servers.base import ServerAdapter, ServerContext


class Nsd(ServerAdapter):
    name = "nsd"
    display_name = "NSD"
    binary = "nsd"
    debian_package = "nsd"
    image = "nsd"
    version_argv = ("-v",)
    version_pattern = r"NSD version (\S+)"
    refused_pattern = r"(zone {zone}\.? .*(error|could not)|{zone}\.?.*(read with \d+ errors|failed))"

    def render(self, ctx: ServerContext) -> dict[str, str]:
        folder = ctx.folder
        lines = ["server:",
                 f"    ip-address: {ctx.address}",
                 "    port: 53",
                 "    do-ip6: no",
                 '    username: ""',
                 '    chroot: ""',
                 f'    zonesdir: "{folder}"',
                 f'    pidfile: "{folder}/nsd.pid"',
                 '    database: ""',
                 f'    zonelistfile: "{folder}/zone.list"',
                 f'    xfrdfile: "{folder}/xfrd.state"',
                 f'    xfrdir: "{folder}"',
                 "    server-count: 1",
                 "    verbosity: 2",
                 "    hide-version: no",
                 "    refuse-any: no",
                 "",
                 "remote-control:",
                 "    control-enable: no",
                 ""]
        for zone, file_name in ctx.zones:
            lines += ["zone:", f'    name: "{zone}"', f'    zonefile: "{ctx.zone_path(file_name)}"', ""]
        return {"nsd.conf": "\n".join(lines)}

    def command(self, ctx: ServerContext) -> list[str]:
        return [self.binary, "-d", "-c", str(ctx.folder / "nsd.conf")]
