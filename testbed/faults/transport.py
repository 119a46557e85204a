"""NET group, server side: how a zone's servers misbehave on the wire (fault-catalog.md 4.9).

Each fault sets switches of the builtin server (testbed/auth/behaviour.py) for the servers of a zone, or for one
server; the zone data stays correct. Faults of the path between resolver and server (a dead link, lost packets,
lost fragments) live in network.py. One more fault here changes keys, to make a DNSKEY RRset too big for UDP.
"""

from __future__ import annotations

from typing import Any

from testbed.build.zones import BuildContext
from testbed.dnssec import Key, generate_key
from testbed.errors import ScenarioError
from testbed.faults.network import TARGET_PARAMS, targets
from testbed.faults.registry import fault, param, variant
from testbed.scenario.model import Expectation

RSA_ALGORITHMS = (5, 7, 8, 10)
_QTYPES = "query types, e.g. [DS] (default [DS])"


def _behave(ctx: BuildContext, params: dict[str, Any], **switches: Any) -> None:
    for server in targets(ctx, params):
        ctx.server_behaviour.setdefault(server, {}).update(switches)


@fault("server-truncates-udp", group="transport", layer="server", reference="RFC 1035 section 4.2.1; RFC 7766 5",
       summary="every UDP answer of the servers is an empty TC=1 answer; TCP works, so resolvers retry over TCP",
       params=TARGET_PARAMS, expect=Expectation("secure"), cases=("NET-01",))
def server_truncates_udp(ctx: BuildContext, params: dict[str, Any]) -> None:
    _behave(ctx, params, tc_always=True)


@fault("server-tcp-refused", group="transport", layer="server", reference="RFC 7766 section 5; RFC 8914 EDE 22/23",
       summary="the servers close every TCP connection at once (with truncate_udp: true every UDP answer is TC=1 "
               "as well, so nothing gets through)",
       params={**TARGET_PARAMS, "truncate_udp": param("also truncate every UDP answer (default false)", "bool")},
       expect=Expectation("servfail", ede=(22, 23)))
def server_tcp_refused(ctx: BuildContext, params: dict[str, Any]) -> None:
    truncate = params.get("truncate_udp", False)
    if not isinstance(truncate, bool):
        raise ScenarioError("server-tcp-refused: truncate_udp must be true or false")
    _behave(ctx, params, tcp_refuse=True, **({"tc_always": True} if truncate else {}))


@fault("server-edns-formerr", group="transport", layer="server", reference="RFC 6891 section 7; RFC 4035 3.2.1",
       summary="the servers answer FORMERR to any query with EDNS, so a resolver can only ask without DO and gets "
               "no RRSIGs",
       params=TARGET_PARAMS, expect=Expectation("bogus", ede=(10,)), cases=("NET-05",))
def server_edns_formerr(ctx: BuildContext, params: dict[str, Any]) -> None:
    _behave(ctx, params, edns_intolerant=True)


@fault("server-strips-rrsigs", group="transport", layer="server", reference="RFC 4035 section 3.1.1",
       summary="the servers ignore DO and send no RRSIG in any section (like a middlebox that strips them)",
       params=TARGET_PARAMS, expect=Expectation("bogus", ede=(10,)))
def server_strips_rrsigs(ctx: BuildContext, params: dict[str, Any]) -> None:
    _behave(ctx, params, strip_rrsigs=True)


@fault("server-silent", group="transport", layer="server", reference="RFC 8914 section 4.23 (EDE 22)",
       summary="the servers are up but never answer, over UDP or TCP: resolvers time out",
       params=TARGET_PARAMS, expect=Expectation("servfail", ede=(22,)), cases=("NET-07",))
def server_silent(ctx: BuildContext, params: dict[str, Any]) -> None:
    _behave(ctx, params, unresponsive=True)


@fault("server-servfail-qtypes", group="transport", layer="server", reference="RFC 4035 section 5; RFC 8914 EDE 22/23",
       summary="the servers answer SERVFAIL to queries of some types (DS by default): the chain of trust cannot be "
               "built although every other answer is fine",
       params={**TARGET_PARAMS, "qtypes": param(_QTYPES, "types")}, expect=Expectation("servfail", ede=(22, 23)))
def server_servfail_qtypes(ctx: BuildContext, params: dict[str, Any]) -> None:
    qtypes = params.get("qtypes", ["DS"])
    if isinstance(qtypes, str) or not isinstance(qtypes, list):
        raise ScenarioError("server-servfail-qtypes: qtypes must be a list", fix="write qtypes: [DS]")
    _behave(ctx, params, servfail_qtypes=[str(t).upper() for t in qtypes])   # a list: the server config is JSON


@fault("server-ent-nxdomain", group="transport", layer="server", reference="RFC 9156 section 3; RFC 8020 section 2",
       summary="the servers answer NXDOMAIN for empty non-terminals (which exist), so a resolver that minimises "
               "query names hears that the names below do not exist either",
       params=TARGET_PARAMS, expect=Expectation("insecure"), cases=("NET-10",))
def server_ent_nxdomain(ctx: BuildContext, params: dict[str, Any]) -> None:
    _behave(ctx, params, ent_nxdomain=True)


# Big RSA keys take a second or more each to make; a process keeps them for every scenario that asks again, as the
# run's KeyStore does for ordinary keys (the trust anchor does not depend on them: they are never root keys here).
_BIG_KEYS: dict[tuple[str, int, str, int, int], Key] = {}


def _big_key(zone: str, algorithm: int, role: str, index: int, bits: int) -> Key:
    slot = (zone, algorithm, role, index, bits)
    if slot not in _BIG_KEYS:
        _BIG_KEYS[slot] = generate_key(zone, algorithm, role, rsa_bits=bits)
    return _BIG_KEYS[slot]


@fault("dnskey-rrset-large", group="transport", layer="keys", reference="RFC 7583 section 3.3; RFC 7766 section 5",
       summary="the zone is in a double-KSK roll with big RSA keys: several KSKs (both in the parent's DS) sign a "
               "DNSKEY RRset far over 1232 bytes, which only TCP can carry",
       params={"zone": "the zone, signed with an RSA algorithm (e.g. signing: {algorithm: 8})",
               "bits": param("RSA key size for the KSKs (default 4096)", "int", low=1024, high=4096),
               "ksks": param("how many KSKs (default 2)", "int", low=1, high=4)},
       required=("zone",), expect=Expectation("secure"), cases=("NET-04",))
def dnskey_rrset_large(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = ctx.zone(str(params["zone"]))
    algorithm = build.plan.signing.algorithm
    if not build.is_signed or algorithm not in RSA_ALGORITHMS:
        raise ScenarioError(f"dnskey-rrset-large needs zone {build.name} signed with an RSA algorithm",
                            fix=f"add zones: {{{build.name}: {{signing: {{algorithm: 8}}}}}}")
    bits, count = int(params.get("bits", 4096)), int(params.get("ksks", 2))
    if not 1024 <= bits <= 4096 or not 1 <= count <= 4:
        raise ScenarioError("dnskey-rrset-large: bits must be 1024..4096 and ksks 1..4")
    zsks = [k for k in build.keys if k.role == "zsk"]
    build.keys = [_big_key(build.name, algorithm, "ksk", i, bits) for i in range(count)] + zsks


# ---- one id per fault-catalog case ---------------------------------------------------------------------------------

variant("tc-tcp-blocked", of="server-tcp-refused", preset={"truncate_udp": True}, cases=("NET-02",),
        summary="the servers truncate every UDP answer and close every TCP connection: nothing they serve arrives")
variant("do-ignored-rrsig-stripped", of="server-strips-rrsigs", preset={}, cases=("NET-06",),
        summary="the servers ignore DO and strip every RRSIG from their answers")
variant("one-ns-bogus-one-good", of="server-strips-rrsigs", preset={}, cases=("NET-08",),
        expect=Expectation("secure"), reference="RFC 4035 section 5.5",
        summary="one server of a zone (name it as the fault's server) sends no RRSIGs while the others are fine: a "
                "resolver that tries another server after a validation failure still validates")
variant("auth-servfail-on-ds", of="server-servfail-qtypes", preset={"qtypes": ["DS"]}, cases=("NET-09",),
        summary="the servers answer SERVFAIL to every DS query (the DS still comes signed in their referrals)")
