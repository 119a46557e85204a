"""PowerDNS Recursor 4: full validation, our root hints, static DS anchors, EDE on, no phoning home.

Facts from shared/reference/resolver-cookbook.md 4.4: the default ``dont-query`` blocks 10/8, 192.0.2/24 and the
other private ranges our lab lives in, so it is emptied; ``dnssec=validate`` (default ``process`` validates only
for clients that ask); ``extended-resolution-errors`` defaults to no in 4.8; ``security-poll-suffix=`` stops the
secpoll TXT lookup under powerdns.com; ``clearTA`` drops the compiled-in root DS before ``addTA`` (which takes DS
only, never DNSKEY). ``--config-dir`` points at the host folder so Debian's /etc/powerdns files are never read.
"""

from __future__ import annotations

import json

from testbed.resolvers.base import ResolverAdapter, ResolverContext
from testbed.resolvers.bind import parse_ds
from testbed.resolvers.knot import lua_string
from testbed.resolvers.profiles import pdns_old_style, pdns_yaml


class PowerDNSRecursor(ResolverAdapter):
    name = "pdns"
    display_name = "PowerDNS Recursor"
    binary = "pdns_recursor"
    debian_package = "pdns-recursor"
    image = "pdns"
    version_argv = ("--version",)
    version_pattern = r"PowerDNS Recursor (\S+)"     # "... PowerDNS Recursor 4.8.8 (C) 2001-2022 ..."
    control_binary = "rec_control"

    def yaml_settings(self) -> bool:
        """PowerDNS Recursor 5 (debian13) reads YAML settings (recursor.yml) and refuses old-style ones unless
        started with --enable-old-settings, which 5.x says will go; 4.8 (debian12, this machine) has no YAML."""
        return self.generation not in (None, "debian12")

    def render(self, ctx: ResolverContext) -> dict[str, str]:
        if self.yaml_settings():
            return self.render_yaml(ctx)
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
# evidence: the trace of every query that fails (and only those), so an override can name the line that tells
# one failure from another ("recursing too deep", "no valid signature")
trace=fail
quiet=yes
threads=1
pdns-distributes-queries=no
statistics-interval=0
{pdns_old_style(self.profile)}"""
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

    def render_yaml(self, ctx: ResolverContext) -> dict[str, str]:
        """The same settings in PowerDNS Recursor 5's YAML (rec-rust-lib/table.py names), anchors included."""
        folder = ctx.folder
        anchors: dict[str, list[str]] = {}
        for record in ctx.trust_anchor_ds:
            ds = parse_ds(record)
            anchors.setdefault(ds.owner, []).append(ds.rdata_text)
        # dnssec.trustanchors replaces the compiled-in root DS (what clearTA did in Lua); an owner with no DS
        # listed has no anchor at all
        ta_lines = "".join(f"    - name: {json.dumps(owner)}\n      dsrecords:\n"
                           + "".join(f"        - {json.dumps(text)}\n" for text in texts)
                           for owner, texts in sorted(anchors.items()))
        conf = f"""# rendered by dnssec-testbed for a lab resolver at {ctx.address} (PowerDNS Recursor 5 YAML settings)
incoming:
  listen: [{json.dumps(ctx.address)}]
  port: 53
  allow_from: [{json.dumps(ctx.subnet)}, "127.0.0.0/8"]
  pdns_distributes_queries: false
outgoing:
  # IPv4 only, from our own address: there is no IPv6 in the lab
  source_address: [{json.dumps(ctx.address)}]
  # the default covers 10/8, 127/8, 192.0.2/24 and every other range a lab may use
  dont_query: []
recursor:
  hint_file: {json.dumps(str(folder / "root.hints"))}
  # no security-status TXT query to the vendor's secpoll zone
  security_poll_suffix: ""
  socket_dir: {json.dumps(str(folder))}
  daemon: false
  threads: 1
  extended_resolution_errors: true
dnssec:
  validation: validate
  log_bogus: true
  trustanchors:
{ta_lines or "    []"}
  # no negative trust anchors (NTAs): every zone the lab serves is validated
  negative_trustanchors: []
{pdns_yaml(self.profile)}logging:
  disable_syslog: true
  timestamp: true
  loglevel: 6
  # evidence: the trace of every query that fails, and only those (see the old-style settings above)
  trace: fail
  quiet: true
  statistics_interval: 0
"""
        return {"recursor.yml": conf, "root.hints": ctx.root_hints_text()}

    def command(self, ctx: ResolverContext) -> list[str]:
        return [self.binary, f"--config-dir={ctx.folder}"]

    def flush_command(self, ctx: ResolverContext) -> list[str]:
        # ".$" = the root and everything below it: record, negative, packet and aggressive-NSEC caches
        return [self.control_binary, f"--socket-dir={ctx.folder}", "wipe-cache", ".$"]
