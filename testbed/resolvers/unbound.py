"""Unbound: validator + iterator, our root hints and a static trust anchor, EDE on.

Facts from shared/reference/resolver-cookbook.md 4.1: ``ede: yes`` is off by default; ``val-log-level: 2`` adds
the EXTRA-TEXT; ``trust-anchor-signaling: no`` stops the RFC 8145 query; a static ``trust-anchor-file`` (never
``auto-trust-anchor-file``) keeps the real root key out; the control channel is a unix socket.
"""

from __future__ import annotations

from testbed.resolvers.base import ResolverAdapter, ResolverContext


class Unbound(ResolverAdapter):
    name = "unbound"
    display_name = "Unbound"
    binary = "unbound"
    debian_package = "unbound"
    image = "unbound"
    version_argv = ("-V",)
    version_pattern = r"Version (\S+)"

    def render(self, ctx: ResolverContext) -> dict[str, str]:
        folder = ctx.folder
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
    trust-anchor-file: "{folder}/root-anchor.ds"
    trust-anchor-signaling: no
    module-config: "validator iterator"
    ede: yes
    # lab servers live on private addresses; nothing here is on loopback
    do-not-query-localhost: yes
remote-control:
    control-enable: yes
    control-interface: "{folder}/unbound.ctl"
    control-use-cert: no
"""
        return {
            "unbound.conf": conf,
            "root.hints": ctx.root_hints_text(),
            "root-anchor.ds": "\n".join(ctx.trust_anchor_ds) + "\n",
        }

    def command(self, ctx: ResolverContext) -> list[str]:
        return ["unbound", "-dd", "-c", str(ctx.folder / "unbound.conf")]

    def flush_command(self, ctx: ResolverContext) -> list[str]:
        # reload drops every cache (message, rrset, key, infra) and re-reads the config
        return ["unbound-control", "-c", str(ctx.folder / "unbound.conf"), "reload"]
