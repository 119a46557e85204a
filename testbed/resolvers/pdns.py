"""PowerDNS Recursor 4: full validation, our root hints, static DS anchors, EDE on, no phoning home.

Facts from shared/reference/resolver-cookbook.md 4.4: the default ``dont-query`` blocks 10/8, 192.0.2/24 and the
other private ranges our lab lives in, so it is emptied; ``dnssec=validate`` (default ``process`` validates only
for clients that ask); ``extended-resolution-errors`` defaults to no in 4.8; ``security-poll-suffix=`` stops the
secpoll TXT lookup under powerdns.com; ``clearTA`` drops the compiled-in root DS before ``addTA`` (which takes DS
only, never DNSKEY). ``--config-dir`` points at the host folder so Debian's /etc/powerdns files are never read.
"""

from __future__ import annotations

from testbed.resolvers.base import ResolverAdapter, ResolverContext
from testbed.resolvers.bind import parse_ds
from testbed.resolvers.knot import lua_string


class PowerDNSRecursor(ResolverAdapter):
    name = "pdns"
    display_name = "PowerDNS Recursor"
    binary = "pdns_recursor"
    debian_package = "pdns-recursor"
    image = "pdns"
    version_argv = ("--version",)
    version_pattern = r"PowerDNS Recursor (\S+)"     # "... PowerDNS Recursor 4.8.8 (C) 2001-2022 ..."
    control_binary = "rec_control"

    def render(self, ctx: ResolverContext) -> dict[str, str]:
        folder = ctx.folder
        conf = f"""# rendered by dnssec-testbed for a lab resolver at {ctx.address}
local-address={ctx.address}
local-port=53
allow-from={ctx.subnet}, 127.0.0.0/8
# IPv4 only, from our own address: there is no IPv6 in the lab
query-local-address={ctx.address}
# the default covers 10/8, 127/8, 192.0.2/24 and every other range a lab may use
dont-query=
hint-file={folder}/root.hints
lua-config-file={folder}/recursor.lua
dnssec=validate
dnssec-log-bogus=yes
# evidence: the resolution trace of every query that ends in SERVFAIL (a bogus answer logs one line, a servfail none)
trace=fail
extended-resolution-errors=yes
# no security-status TXT query to the vendor's secpoll zone
security-poll-suffix=
socket-dir={folder}
daemon=no
disable-syslog=yes
log-timestamp=yes
loglevel=6
quiet=yes
threads=1
pdns-distributes-queries=no
statistics-interval=0
"""
        lines = ["-- rendered by dnssec-testbed: static anchors only (pdns has no RFC 5011), nothing read from files"]
        owners = sorted({parse_ds(r).owner for r in ctx.trust_anchor_ds} | {"."})
        # clearTA first: pdns carries the real root DS compiled in, and addTA would add ours beside it
        lines += [f"clearTA({lua_string(owner)})" for owner in owners]
        for record in ctx.trust_anchor_ds:
            ds = parse_ds(record)
            lines.append(f"addTA({lua_string(ds.owner)}, {lua_string(ds.rdata_text)})")
        return {
            "recursor.conf": conf,
            "recursor.lua": "\n".join(lines) + "\n",
            "root.hints": ctx.root_hints_text(),
        }

    def command(self, ctx: ResolverContext) -> list[str]:
        return [self.binary, f"--config-dir={ctx.folder}"]

    def flush_command(self, ctx: ResolverContext) -> list[str]:
        # ".$" = the root and everything below it: record, negative, packet and aggressive-NSEC caches
        return [self.control_binary, f"--socket-dir={ctx.folder}", "wipe-cache", ".$"]
