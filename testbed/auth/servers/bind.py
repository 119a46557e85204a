"""BIND 9 (named) as an authoritative server only: no recursion, no validation, no signing policy, the zones
primary from the lab's files.

``named -g`` stays in the foreground with every log line on stderr. The integrity checks a primary zone gets by
default (``check-names``, ``check-integrity``, ``check-mx``...) are off so named loads what a fault made of the
zone wherever it can; what it still refuses it logs as "not loaded due to errors". SIGHUP rereads changed zones.
"""

from __future__ import annotations

from testbed.auth.servers.base import ServerAdapter, ServerContext


class BindAuth(ServerAdapter):
    name = "bind"
    display_name = "BIND 9 (authoritative)"
    binary = "named"
    debian_package = "bind9"
    image = "bind"              # the resolver image: it carries named too
    version_argv = ("-v",)
    version_pattern = r"BIND (\S+)"
    refused_pattern = r"zone {zone}/IN: (not loaded due to errors|loading from master file .* failed)"

    def render(self, ctx: ServerContext) -> dict[str, str]:
        folder = ctx.folder
        text = f"""options {{
    directory "{folder}";
    pid-file "{folder}/named.pid";
    session-keyfile "{folder}/session.key";
    managed-keys-directory "{folder}";
    listen-on port 53 {{ {ctx.address}; }};
    listen-on-v6 {{ none; }};
    recursion no;
    dnssec-validation no;
    notify no;
    allow-transfer {{ none; }};
    check-names primary ignore;
    check-integrity no;
    check-mx ignore;
    check-mx-cname ignore;
    check-srv-cname ignore;
    check-wildcard no;
    check-sibling no;
    check-dup-records ignore;
    minimal-responses no;
}};
"""
        for zone, file_name in ctx.zones:
            text += (f'zone "{zone}" {{\n    type primary;\n    file "{ctx.zone_path(file_name)}";\n'
                     "    dnssec-policy none;\n};\n")
        return {"named.conf": text}

    def command(self, ctx: ServerContext) -> list[str]:
        return [self.binary, "-g", "-4", "-n", "1", "-c", str(ctx.folder / "named.conf")]
