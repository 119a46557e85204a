"""Unbound: validator + iterator, our root hints and a static trust anchor, EDE on.

Facts from shared/reference/resolver-cookbook.md 4.1: ``ede: yes`` is off by default; ``val-log-level: 2`` adds
the EXTRA-TEXT; ``trust-anchor-signaling: no`` stops the RFC 8145 query; a static ``trust-anchor-file`` keeps the
real root key out (a timeline may ask for an RFC 5011 ``auto-trust-anchor-file``, started from our root's DS, never
the real one); the control channel is a unix socket.
"""

from __future__ import annotations

import re

from testbed.resolvers.base import ResolverAdapter, ResolverContext
from testbed.resolvers.profiles import unbound_server

AUTOTRUST_FILE = "root.autokey"
# autotrust file lines: "... DNSKEY 257 3 13 ... ;{id = 12345 (ksk), size = 256b} ;;state=2 [  VALID  ] ..."
_AUTOTRUST_KEY_RE = re.compile(r";\{id = (\d+) \(ksk\).*?;;state=\d+ \[\s*(\w+)\s*\]")
_AUTOTRUST_STATES = {"ADDPEND": "pending", "VALID": "trusted", "MISSING": "missing", "REVOKED": "revoked",
                     "REMOVED": "removed"}


class Unbound(ResolverAdapter):
    name = "unbound"
    display_name = "Unbound"
    binary = "unbound"
    debian_package = "unbound"
    image = "unbound"
    version_argv = ("-V",)
    version_pattern = r"Version (\S+)"
    supports_managed_anchor = True

    def render(self, ctx: ResolverContext) -> dict[str, str]:
        folder = ctx.folder
        if ctx.managed_anchor:
            # RFC 5011: Unbound rewrites this file as it tracks the root's keys. The hold-downs keep their 30-day
            # defaults (the lab clock moves instead); permit-small-holddown lifts the one-hour floor on the probe
            # interval (RFC 5011 2.3), so a short DNSKEY TTL makes Unbound look again within seconds.
            anchor = f'auto-trust-anchor-file: "{folder}/{AUTOTRUST_FILE}"\n    permit-small-holddown: yes'
        else:
            anchor = f'trust-anchor-file: "{folder}/root-anchor.ds"'
        conf = f"""server:
    interface: {ctx.address}
    port: 53
    do-ip4: yes
    do-ip6: no
    access-control: {ctx.subnet} allow
    access-control: 127.0.0.0/8 allow
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "{folder}"
    pidfile: "{folder}/unbound.pid"
    use-syslog: no
    logfile: ""
    log-time-ascii: yes
    verbosity: 1
    val-log-level: 2
    log-servfail: yes
    num-threads: 1
    root-hints: "{folder}/root.hints"
    {anchor}
    trust-anchor-signaling: no
    module-config: "validator iterator"
    ede: yes
{unbound_server(self.profile)}    # lab servers live on private addresses; nothing here is on loopback
    do-not-query-localhost: yes
remote-control:
    control-enable: yes
    control-interface: "{folder}/unbound.ctl"
    control-use-cert: no
"""
        files = {
            "unbound.conf": conf,
            "root.hints": ctx.root_hints_text(),
            "root-anchor.ds": "\n".join(ctx.trust_anchor_ds) + "\n",
        }
        if ctx.managed_anchor:
            # written afresh at every start: the resolver begins from the configured anchor, not an old run's state
            files[AUTOTRUST_FILE] = "\n".join(ctx.trust_anchor_ds) + "\n"
        return files

    def command(self, ctx: ResolverContext) -> list[str]:
        return ["unbound", "-dd", "-c", str(ctx.folder / "unbound.conf")]

    def flush_command(self, ctx: ResolverContext) -> list[str]:
        # reload drops every cache (message, rrset, key, infra) and re-reads the config
        return ["unbound-control", "-c", str(ctx.folder / "unbound.conf"), "reload"]

    def anchor_status_command(self, ctx: ResolverContext) -> list[str] | None:
        # Unbound writes its RFC 5011 state to the autotrust file after every probe
        return ["cat", str(ctx.folder / AUTOTRUST_FILE)] if ctx.managed_anchor else None

    def parse_anchor_status(self, text: str) -> dict[int, str]:
        return {int(tag): _AUTOTRUST_STATES[state] for tag, state in _AUTOTRUST_KEY_RE.findall(text)
                if state in _AUTOTRUST_STATES}
