"""Knot Resolver 5 (kresd): our root hints, a static DS trust anchor, the special-use ``test.`` allowed.

Facts from shared/reference/resolver-cookbook.md 4.3: kresd's sandbox pre-loads the real root key before our
config runs, so ``trust_anchors.remove('.')`` comes first and ``trust_anchors.add()`` (unmanaged) second; the
``hints`` module is not loaded by default and without our ``hints.root`` kresd falls back to the real roots;
``test.`` is refused by the built-in policy although our root servers are named ``*.root-servers.test.``;
``ta_signal_query`` (RFC 8145) and ``detect_time_skew`` (an extra root probe) are unloaded; the LMDB cache lives on
disk and survives restarts, so ``prepare`` removes it. EDE comes from the ``extended_error`` module, on by default.
"""

from __future__ import annotations

import re
import shutil

from testbed.resolvers.base import ResolverAdapter, ResolverContext
from testbed.resolvers.bind import parse_ds

CACHE_DIR = "cache"
CONTROL_SOCKET = "kresd.ctl"
MANAGED_KEYFILE = "root.keys"
# RFC 5011 (managed anchor): how often kresd fetches the root DNSKEY RRset, in seconds. Its default follows RFC 5011
# 2.3 (an hour at least, on a real-time timer); the hold-down itself is compared with the (virtual) wall clock.
MANAGED_REFRESH_S = 1
# One Lua line for the control socket: "tag=State" for each root key kresd tracks
ANCHOR_STATUS_LUA = ("local C = require('ffi').C; local out = {} "
                     "for _, ta in ipairs(trust_anchors.keysets['\\0'] or {}) do "
                     "out[#out + 1] = C.kr_dnssec_key_tag(ta.type, ta.rdata, #ta.rdata) .. '=' .. ta.state end "
                     "return 'keys: ' .. table.concat(out, ' ')")
_KRESD_STATES = {"AddPend": "pending", "Valid": "trusted", "Missing": "missing", "Revoked": "revoked",
                 "Removed": "removed"}

# The flush client: kresd 5 has no supported control tool (kresc is marked "highly experimental"), only a unix
# socket speaking "one Lua line in, result + '> ' prompt out". The same argv must work on the netns host and inside
# a container, where neither this package nor Python need exist; perl-base is Essential in Debian (so present in
# debian:bookworm-slim and vendor images built on it) and ships IO::Socket::UNIX. argv: SOCKET LUA [EXPECT]: the
# reply is printed, and with EXPECT (a regex) the exit code says whether it matched, because kresd reports a Lua
# error as an ordinary reply (a traceback or a message) and there is no status to look at.
KRESCTL_PERL = r"""
use strict; use IO::Socket::UNIX;
$SIG{ALRM} = sub { die "no answer from kresd within 5 s\n" }; alarm 5;
my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "cannot connect to $ARGV[0]: $!\n";
sub to_prompt { my $buf = ""; until ($buf =~ /> \z/) {
    my $n = sysread($s, my $chunk, 65536); die "kresd closed the control socket\n" unless $n; $buf .= $chunk; }
  return substr($buf, 0, -2); }
to_prompt();
syswrite($s, "$ARGV[1]\n");
my $reply = to_prompt(); print $reply;
exit(defined $ARGV[2] && $reply !~ /$ARGV[2]/ ? 1 : 0);
"""
# cache.clear() answers "{ ['count'] = N, }" when it worked
FLUSH_LUA = "cache.clear()"
FLUSH_EXPECT = r"\['count'\] = \d+"


def lua_string(text: str) -> str:
    """A Lua string literal; our values are addresses, paths and DS text, but quote them properly anyway."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


class KnotResolver(ResolverAdapter):
    name = "knot"
    display_name = "Knot Resolver"
    binary = "kresd"
    debian_package = "knot-resolver"
    image = "knot-resolver"
    version_argv = ("-V",)
    version_pattern = r"version (\S+)"       # "Knot Resolver, version 5.6.0"
    control_client = "perl"
    supports_managed_anchor = True

    def render(self, ctx: ResolverContext) -> dict[str, str]:
        folder = ctx.folder
        # hints.root wants {name = address or {addresses}}; a name may serve more than one root address
        by_name: dict[str, list[str]] = {}
        for ns_name, address in ctx.root_hints:
            by_name.setdefault(ns_name, []).append(address)
        hints = ", ".join(f"[{lua_string(n)}] = {{ {', '.join(map(lua_string, a))} }}" for n, a in by_name.items())
        # normalised through the DS parser: one form for every resolver, and a bad anchor fails here, not in Lua
        anchors = "\n".join(f"trust_anchors.add({lua_string(f'{ds.owner} IN DS {ds.rdata_text}')})"
                             for ds in map(parse_ds, ctx.trust_anchor_ds))
        files: dict[str, str] = {}
        if ctx.managed_anchor and ctx.trust_anchor_ds:
            # RFC 5011: add_file() tracks the root's keys from these DS records and keeps the state in the file
            # (written afresh at every start). The file exists, so kresd never tries its HTTPS bootstrap.
            files[MANAGED_KEYFILE] = "\n".join(f"{ds.owner} 3600 IN DS {ds.rdata_text}"
                                                for ds in map(parse_ds, ctx.trust_anchor_ds)) + "\n"
            anchors = (f"trust_anchors.add_file({lua_string(str(folder / MANAGED_KEYFILE))})\n"
                       f"ta_update.refresh_time = {MANAGED_REFRESH_S} * sec")
        conf = f"""-- rendered by dnssec-testbed for a lab resolver at {ctx.address}
log_target('stderr')
log_level('info')
-- IPv4 only, upstream and listening: the lab has no IPv6
net.ipv6 = false
net.listen({lua_string(ctx.address)}, 53, {{ kind = 'dns' }})
-- a fixed control socket path (the default is control/<pid> in the run directory)
net.listen({lua_string(str(folder / CONTROL_SOCKET))}, nil, {{ kind = 'control' }})
-- hints is not loaded by default; with empty root hints postconfig.lua would load the real root servers
modules.load('hints > iterate')
hints.root({{ {hints} }})
-- kresd's sandbox pre-loads the distribution's real root key before this file runs: drop it, add ours (unmanaged)
trust_anchors.remove('.')
{anchors}
-- evidence: the full request trace of every query answered SERVFAIL (and only those), so an override can name the
-- log line that tells one failure from another; printed when the request finishes, in the 'reqdbg' group
log_groups({{ 'reqdbg' }})
policy.add(policy.all(policy.DEBUG_IF(function(req)
    return req.answer ~= nil and req.answer:rcode() == kres.rcode.SERVFAIL end)))
-- the built-in policy answers special-use names (test., invalid., ...) itself; our root servers live in test.
policy.add(policy.suffix(policy.PASS, {{ todname('test.') }}))
-- no RFC 8145 key-tag signalling and no time-skew probe: neither belongs in the measured traffic
modules.unload('ta_signal_query')
modules.unload('detect_time_skew')
-- on disk and persistent across restarts: prepare() removes it before every start
cache.open(10 * MB, {lua_string('lmdb://' + str(folder / CACHE_DIR))})
-- RFC 8914 EDE: the extended_error module is loaded by default in 5.6
-- evidence: one "[dnssec] validation failure" line per bogus answer (info logs none), read by the runner
modules.load('bogus_log')
-- ... and the validator's own debug lines (why a proof or signature did not hold), without debug everywhere else
log_groups({{'valdtr'}})
"""
        return {"kresd.conf": conf, **files}

    def prepare(self, ctx: ResolverContext) -> None:
        # a cache left by the previous start would answer from the previous zone data and keys
        shutil.rmtree(ctx.folder / CACHE_DIR, ignore_errors=True)
        (ctx.folder / CONTROL_SOCKET).unlink(missing_ok=True)

    def command(self, ctx: ResolverContext) -> list[str]:
        # -n: no REPL on stdin; the last argument is the run directory (kresd chdirs there before reading -c,
        # which is why every path in the config is absolute)
        return [self.binary, "-n", "-c", str(ctx.folder / "kresd.conf"), str(ctx.folder)]

    def flush_command(self, ctx: ResolverContext) -> list[str]:
        return [self.control_client, "-e", KRESCTL_PERL, str(ctx.folder / CONTROL_SOCKET), FLUSH_LUA, FLUSH_EXPECT]

    def anchor_status_command(self, ctx: ResolverContext) -> list[str] | None:
        if not ctx.managed_anchor:
            return None
        return [self.control_client, "-e", KRESCTL_PERL, str(ctx.folder / CONTROL_SOCKET), ANCHOR_STATUS_LUA,
                "keys:"]

    def parse_anchor_status(self, text: str) -> dict[int, str]:
        states: dict[int, str] = {}
        for tag, state in re.findall(r"(\d+)=(\w+)", text.partition("keys:")[2]):
            if state in _KRESD_STATES:
                states[int(tag)] = _KRESD_STATES[state]
        return states
