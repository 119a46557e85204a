"""BIND 9 (named): a validating recursor with our root hints and a static DS trust anchor.

Facts from shared/reference/resolver-cookbook.md 4.2: ``dnssec-validation yes`` trusts only the anchors in
``trust-anchors`` (``auto`` would use the built-in real root key); ``static-ds`` is a fixed anchor (``initial-ds``
would be RFC 5011-managed and write state); ``zone "." { type hint; }`` replaces the compiled-in hints; ``-g`` keeps
named in the foreground with every log line on stderr. BIND 9.18 sends no EDE for validation failures, so there
is no switch to turn on. rndc speaks TCP only, so the control channel listens on the resolver's own address and
the flush runs inside the resolver's host (its own namespace or container).
"""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.DS

from testbed.resolvers.base import ResolverAdapter, ResolverContext
from testbed.resolvers.profiles import bind_options

RNDC_PORT = 953
RNDC_KEY_NAME = "testbed-rndc"
# `rndc managed-keys status`: "keyid: 12345" then indented lines, one of them the key's RFC 5011 state
_MKEY_RE = re.compile(r"^[ \t]*keyid: (\d+)\n((?:\t.*\n?)*)", re.MULTILINE)


@dataclass(frozen=True)
class TrustAnchorDS:
    """One DS trust anchor split into the fields every resolver's config syntax wants."""

    owner: str
    key_tag: int
    algorithm: int
    digest_type: int
    digest_hex: str

    @property
    def rdata_text(self) -> str:
        return f"{self.key_tag} {self.algorithm} {self.digest_type} {self.digest_hex}"


def parse_ds(record: str) -> TrustAnchorDS:
    """``". IN DS 12345 13 2 ABCD..."`` (TTL optional, digest may be split by spaces) -> its fields.

    Parsed through dnspython rather than split by hand so a malformed anchor fails here, in Python, with a clear
    message, and not later as a resolver that refuses to start.
    """
    tokens = record.split()
    upper = [t.upper() for t in tokens]
    if "DS" not in upper or not tokens:
        raise ValueError(f"not a DS record in presentation form: {record!r}")
    at = upper.index("DS")
    rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DS, " ".join(tokens[at + 1:]))
    assert isinstance(rdata, dns.rdtypes.ANY.DS.DS)
    owner = tokens[0] if tokens[0].endswith(".") else tokens[0] + "."
    return TrustAnchorDS(owner, rdata.key_tag, rdata.algorithm, rdata.digest_type, rdata.digest.hex().upper())


def rndc_key_clause(secret: str) -> str:
    return f'key "{RNDC_KEY_NAME}" {{\n    algorithm hmac-sha256;\n    secret "{secret}";\n}};\n'


class Bind(ResolverAdapter):
    name = "bind"
    display_name = "BIND 9"
    binary = "named"
    debian_package = "bind9"
    image = "bind"
    version_argv = ("-v",)
    version_pattern = r"BIND (\S+)"          # "BIND 9.18.49-1~deb12u3-Debian (Extended Support Version) <id:>"
    rndc_binary = "rndc"
    supports_managed_anchor = True
    # BIND 9.20.30 (debian13): with the same initial-ds trust anchor and `dnssec-validation yes`, `rndc secroots`
    # lists it as "initializing managed" but no managed-keys zone is made (`rndc managed-keys status`: "no views
    # with managed keys", no managed-keys.bind.jnl), so its RFC 5011 state cannot be read and the timelines judge its
    # answers without waiting for a key state. `dnssec-validation auto` does make the zone, but 9.20 then also
    # loads its compiled-in real root keys (20326, 38696) despite the empty bindkeys-file, and a lab resolver must
    # never hold the real root's key (measured in a --network none container, 2026-12-06).
    generation_differences = {"debian13": {"supports_managed_anchor": False}}
    secret_files = ("rndc.key",)

    def render(self, ctx: ResolverContext) -> dict[str, str]:
        folder = ctx.folder
        # A fresh 256-bit HMAC key per start: nothing but this lab's rndc can drive this named. Generated here
        # rather than with rndc-confgen so rendering needs no BIND tool and works for the docker backend too.
        secret = base64.b64encode(secrets.token_bytes(32)).decode()
        # initial-ds: RFC 5011-managed from this DS on (state in managed-keys.bind); static-ds: fixed
        kind = "initial-ds" if ctx.managed_anchor else "static-ds"
        anchors = "\n".join(
            f'    {ds.owner} {kind} {ds.key_tag} {ds.algorithm} {ds.digest_type} "{ds.digest_hex}";'
            for ds in map(parse_ds, ctx.trust_anchor_ds))
        conf = f"""// rendered by dnssec-testbed for a lab resolver at {ctx.address}
include "{folder}/rndc.key";
controls {{
    inet {ctx.address} port {RNDC_PORT} allow {{ {ctx.subnet}; 127.0.0.1; }} keys {{ "{RNDC_KEY_NAME}"; }};
}};
options {{
    directory "{folder}";
    pid-file "{folder}/named.pid";
    // every file named writes stays in this host's folder (the packaged defaults may not exist, or be shared)
    session-keyfile "{folder}/session.key";
    managed-keys-directory "{folder}";
    // an empty file instead of the packaged one: named never even loads the real root key
    bindkeys-file "{folder}/bind.keys";
    dump-file "{folder}/cache_dump.db";
    statistics-file "{folder}/named.stats";
    listen-on port 53 {{ {ctx.address}; }};
    listen-on-v6 {{ none; }};
    recursion yes;
    allow-query {{ {ctx.subnet}; 127.0.0.0/8; }};
    allow-recursion {{ {ctx.subnet}; 127.0.0.0/8; }};
    // "yes": only the trust-anchors below; "auto" would add the real root key from bind.keys
    dnssec-validation yes;
    notify no;
    // no built-in RFC 6303/7534 empty zones: every name is resolved from our own hierarchy
    empty-zones-enable no;
    // without a cap named sizes its (lazy) cache to 90% of RAM
    max-cache-size 64m;
{bind_options(self.profile)}}};
// Everything on stderr, as -g would (which ignores this statement): the default categories at info, and the
// query-errors category at debug 1, so a SERVFAIL says why in one line ("query failed (timed out) for ..."), the
// evidence an override names; named runs with -d 1 only for that channel.
logging {{
    channel testbed_stderr {{ stderr; severity info; print-time yes; }};
    channel testbed_query_errors {{ stderr; severity debug 1; print-time yes; }};
    category default {{ testbed_stderr; }};
    category query-errors {{ testbed_query_errors; }};
}};
// static-ds: a fixed anchor, no RFC 5011 state and no managed-keys file
trust-anchors {{
{anchors}
}};
// replaces the compiled-in root hints
zone "." {{ type hint; file "{folder}/root.hints"; }};
"""
        rndc_conf = f"""include "{folder}/rndc.key";
options {{
    default-server {ctx.address};
    default-port {RNDC_PORT};
    default-key "{RNDC_KEY_NAME}";
}};
"""
        return {
            "named.conf": conf,
            "bind.keys": "# intentionally empty: the only trust anchor is the static-ds in named.conf\n",
            "rndc.key": rndc_key_clause(secret),
            # our own rndc.conf, passed with -c: with only -k, an /etc/bind/rndc.conf on the machine would win
            "rndc.conf": rndc_conf,
            "root.hints": ctx.root_hints_text(),
        }

    def command(self, ctx: ResolverContext) -> list[str]:
        # -f: foreground, logging as named.conf says (stderr); -d 1: debug level 1, which only the query-errors
        # channel prints; -4: IPv4 transport only; -n 1: one worker, like the others
        return [self.binary, "-f", "-d", "1", "-4", "-n", "1", "-c", str(ctx.folder / "named.conf")]

    def flush_command(self, ctx: ResolverContext) -> list[str]:
        # rndc flush empties every view's cache (records, negative answers, bad-cache and ADB)
        return [self.rndc_binary, "-c", str(ctx.folder / "rndc.conf"), "flush"]

    def prepare(self, ctx: ResolverContext) -> None:
        # RFC 5011 state from an earlier start would outweigh the configured initial-ds anchor
        for path in Path(ctx.folder).glob("managed-keys.bind*"):
            path.unlink(missing_ok=True)

    def anchor_status_command(self, ctx: ResolverContext) -> list[str] | None:
        return [self.rndc_binary, "-c", str(ctx.folder / "rndc.conf"), "managed-keys", "status"] \
            if ctx.managed_anchor else None

    def anchor_refresh_command(self, ctx: ResolverContext) -> list[str] | None:
        # named refreshes managed keys at most hourly (RFC 5011 2.3) on its own; ask for it now
        return [self.rndc_binary, "-c", str(ctx.folder / "rndc.conf"), "managed-keys", "refresh"] \
            if ctx.managed_anchor else None

    def parse_anchor_status(self, text: str) -> dict[int, str]:
        states: dict[int, str] = {}
        for tag, details in _MKEY_RE.findall(text):
            lowered = details.lower()
            flags = re.search(r"flags:(.*)", lowered)
            if flags and "revoke" in flags.group(1):
                states[int(tag)] = "revoked"
            elif "trust pending:" in lowered:
                states[int(tag)] = "pending"
            elif "trusted since:" in lowered:
                # a trusted key BIND no longer sees is scheduled for removal: RFC 5011's Missing
                states[int(tag)] = "missing" if "removal pending:" in lowered else "trusted"
            elif "no trust" in lowered:
                states[int(tag)] = "removed"
        return states
