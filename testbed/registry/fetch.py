"""What a parental agent asks the child's name servers, over DNS in the lab: one RRset and its signatures from
each server, as a registry's checker would (TCP when the policy says so, DO=1, no recursion).

The child's servers are the ones its delegation names (the topology's NS names and addresses): the registry asks
them directly, not a resolver, so what it sees is what each server serves, also when they disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from testbed.errors import ScenarioError

if TYPE_CHECKING:
    from testbed.build.topology import Topology

QUERY_TIMEOUT = 3.0
T = TypeVar("T")
InLab = Callable[[Callable[[], T]], T]


@dataclass(frozen=True)
class ServerAnswer:
    """One server's answer for one RRset: the records and their RRSIGs (None when absent), or why there is none."""

    ns: str
    address: str
    rrset: dns.rrset.RRset | None = None
    rrsigs: dns.rrset.RRset | None = None
    error: str | None = None
    rcode: str = "NOERROR"
    authoritative: bool = True

    @property
    def where(self) -> str:
        return f"{self.ns} ({self.address})"

    def records(self) -> frozenset[str]:
        return frozenset(r.to_text() for r in self.rrset) if self.rrset is not None else frozenset()


def name_servers(topology: Topology, zone: str) -> list[tuple[str, str]]:
    """(NS name, address) for every server the delegation of ``zone`` names."""
    plan = topology.zones.get(zone)
    if plan is None:
        raise ScenarioError(f"no zone {zone!r} in this topology", fix=f"use one of: {', '.join(topology.zones)}")
    return [(ns, topology.server_address(server)) for ns, server in zip(plan.ns_names, plan.servers, strict=True)]


def query_server(address: str, qname: str, qtype: str, *, tcp: bool) -> dns.message.Message:
    query = dns.message.make_query(qname, qtype, want_dnssec=True, use_edns=0, payload=1232)
    query.flags &= ~dns.flags.RD
    if tcp:
        return dns.query.tcp(query, address, timeout=QUERY_TIMEOUT)
    response = dns.query.udp(query, address, timeout=QUERY_TIMEOUT, ignore_unexpected=True)
    if response.flags & dns.flags.TC:
        response = dns.query.tcp(query, address, timeout=QUERY_TIMEOUT)
    return response


def fetch(in_lab: InLab, ns: str, address: str, qname: str, qtype: str, *, tcp: bool) -> ServerAnswer:
    """Ask one server for ``qname``/``qtype``; any failure becomes the answer's ``error``, in a registrar's words."""
    name = dns.name.from_text(qname)
    rdtype = dns.rdatatype.from_text(qtype)
    transport = "TCP" if tcp else "UDP"
    try:
        response = in_lab(lambda: query_server(address, qname, qtype, tcp=tcp))
    except dns.exception.Timeout:
        return ServerAnswer(ns, address, error=f"no answer over {transport} within {QUERY_TIMEOUT:.0f} s")
    except (OSError, dns.exception.DNSException) as exc:
        return ServerAnswer(ns, address, error=f"query over {transport} failed: {type(exc).__name__}: {exc}")
    rcode = dns.rcode.to_text(response.rcode())
    authoritative = bool(response.flags & dns.flags.AA)
    if rcode != "NOERROR":
        return ServerAnswer(ns, address, error=f"answered {rcode}", rcode=rcode, authoritative=authoritative)
    if not authoritative:
        return ServerAnswer(ns, address, error="answered without authority (lame delegation)", rcode=rcode,
                            authoritative=False)
    rrset = response.get_rrset(response.answer, name, dns.rdataclass.IN, rdtype)
    rrsigs = response.get_rrset(response.answer, name, dns.rdataclass.IN, dns.rdatatype.RRSIG, rdtype)
    return ServerAnswer(ns, address, rrset=rrset, rrsigs=rrsigs, rcode=rcode)


def fetch_all(in_lab: InLab, servers: list[tuple[str, str]], qname: str, qtype: str, *,
              tcp: bool) -> list[ServerAnswer]:
    return [fetch(in_lab, ns, address, qname, qtype, tcp=tcp) for ns, address in servers]
