"""Response-level switches of the builtin server, the hook for server-behaviour faults.

Each switch is one field here and one branch in ``answer.py`` (or ``server.py`` for transport-level ones), so adding a
fault that changes how the server answers is adding one line in each place.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import dns.rdatatype

from testbed.errors import TestbedError

# What BIND and NSD send and accept by default since DNS flag day 2020: fits in one IPv6 packet without fragments.
DEFAULT_EDNS_PAYLOAD = 1232


@dataclass(frozen=True)
class Behaviour:
    """How the server misbehaves. The default value is a well-behaved server."""

    drop_qtypes: frozenset[str] = frozenset()  # query types left unanswered, mnemonics such as "DNSKEY"
    strip_rrsigs: bool = False  # never include an RRSIG in any section
    tc_always: bool = False  # every UDP answer is an empty TC=1 answer; TCP is normal
    tcp_refuse: bool = False  # TCP connections are closed as soon as they are accepted
    edns_intolerant: bool = False  # queries with OPT get FORMERR without OPT, like pre-EDNS servers
    udp_max: int | None = None  # UDP answers larger than this are dropped silently (lost fragments)
    unresponsive: bool = False  # no answer at all, UDP or TCP
    edns_payload: int = DEFAULT_EDNS_PAYLOAD  # our advertised and largest UDP answer size
    # every answer leaves this many ms late: latency made by the server itself, so it needs no kernel netem
    delay_ms: int = 0
    servfail_qtypes: frozenset[str] = frozenset()  # query types answered SERVFAIL, e.g. a parent failing on DS
    ent_nxdomain: bool = False  # empty non-terminals answered NXDOMAIN, as servers from before RFC 8020 did

    def __post_init__(self) -> None:
        # Normalise here so that both config files and code may pass any iterable of any case.
        object.__setattr__(self, "drop_qtypes", frozenset(t.upper() for t in self.drop_qtypes))
        object.__setattr__(self, "servfail_qtypes", frozenset(t.upper() for t in self.servfail_qtypes))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, file: str | None = None) -> Behaviour:
        """Build from a config mapping, with errors that name the bad key."""
        known = {f.name: f for f in dataclasses.fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                raise TestbedError(f"unknown behaviour switch {key!r}", file=file,
                                   fix=f"use one of: {', '.join(sorted(known))}")
            kwargs[key] = _check_value(key, value, file)
        return cls(**kwargs)


def _check_value(key: str, value: Any, file: str | None) -> Any:
    if key in ("drop_qtypes", "servfail_qtypes"):
        if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
            raise TestbedError(f"behaviour {key} must be a list of type names", file=file,
                               fix=f'write e.g. "{key}": ["DNSKEY"]')
        for name in value:
            try:
                dns.rdatatype.from_text(str(name))
            except dns.rdatatype.UnknownRdatatype:
                raise TestbedError(f"behaviour {key}: unknown type {name!r}", file=file) from None
        return frozenset(str(v) for v in value)
    if key == "delay_ms":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 60000:
            raise TestbedError("behaviour delay_ms must be milliseconds (0..60000)", file=file)
        return value
    if key in ("udp_max", "edns_payload"):
        if value is None and key == "udp_max":
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 12 <= value <= 65535:
            raise TestbedError(f"behaviour {key} must be a size in bytes (12..65535)", file=file)
        return value
    if not isinstance(value, bool):
        raise TestbedError(f"behaviour {key} must be true or false", file=file)
    return value
