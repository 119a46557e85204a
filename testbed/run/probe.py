"""Ask a resolver one question the way a validating stub would, and record what it said.

DO=1 with AD clear (fault-catalog.md section 0: dig's default AD=1 changes PowerDNS's behaviour), RD=1, EDNS
buffer 1232; a truncated answer is asked again over TCP. A SERVFAIL is asked again with CD=1: data then means
the resolver rejected it (bogus), none means it could not get any (servfail).
"""

from __future__ import annotations

import socket
import time
from typing import TYPE_CHECKING

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

from testbed.run.observation import Observation

if TYPE_CHECKING:
    from testbed.lab.lab import Lab

TIMEOUT = 40.0          # Unbound 1.17 takes about 25 s to give up on an unreachable server and SERVFAIL
RETRY_EVERY = 2.0       # like a stub: ask again if nothing came back, the resolver joins it to its work in progress


def ask(address: str, qname: str, qtype: str, *, cd: bool = False, timeout: float = TIMEOUT, do: bool = True,
        ad: bool = False) -> dns.message.Message:
    # EDNS stays on with DO=0 too, so an answer to a DO=0 query can still carry Extended DNS Errors
    query = dns.message.make_query(qname, qtype, want_dnssec=do, use_edns=0, payload=1232)
    query.flags |= dns.flags.RD
    query.flags &= ~dns.flags.AD
    if ad:
        query.flags |= dns.flags.AD
    if cd:
        query.flags |= dns.flags.CD
    deadline = time.monotonic() + timeout
    # One socket for every retry: a resolver that does not join a repeated query to the one in progress (Knot
    # Resolver) answers each to the port it came from, so the answer to the first may arrive during the third.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)     # dnspython waits on a given socket itself and wants it non-blocking
        while True:
            left = deadline - time.monotonic()
            try:
                response = dns.query.udp(query, address, timeout=min(RETRY_EVERY, max(left, 0.01)),
                                         ignore_unexpected=True, sock=sock)
                break
            except dns.exception.Timeout:
                if time.monotonic() >= deadline:
                    raise
    if response.flags & dns.flags.TC:
        response = dns.query.tcp(query, address, timeout=max(deadline - time.monotonic(), 1.0))
    return response


def observe(address: str, qname: str, qtype: str, timeout: float = TIMEOUT, *, do: bool = True, ad: bool = False,
            cd: bool = False) -> Observation:
    """One check's query (DO=1, AD=0, CD=0 unless told otherwise), and on SERVFAIL the same with CD=1."""
    try:
        response = ask(address, qname, qtype, timeout=timeout, do=do, ad=ad, cd=cd)
    except (dns.exception.Timeout, OSError, dns.exception.DNSException) as exc:
        _reraise_interrupt(exc)
        return Observation.from_messages(None, None, qname, qtype, error=_describe(exc, address))
    cd_response = None
    # a query that already had CD=1 has nothing to learn from asking again with CD=1
    if response.rcode() == dns.rcode.SERVFAIL and not cd:
        try:
            cd_response = ask(address, qname, qtype, cd=True, timeout=timeout, do=do, ad=ad)
        except (dns.exception.Timeout, OSError, dns.exception.DNSException) as exc:
            _reraise_interrupt(exc)
            cd_response = None
    return Observation.from_messages(response, cd_response, qname, qtype)


def _reraise_interrupt(exc: BaseException) -> None:
    """dnspython wraps any exception met while parsing a reply, KeyboardInterrupt included, in a FormError: a
    Ctrl-C that lands there must stop the run as Ctrl-C, not become a failed check with a traceback in it."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            raise KeyboardInterrupt from exc
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__


def _describe(exc: Exception, address: str) -> str:
    if isinstance(exc, dns.exception.Timeout):
        return f"no answer from {address} within {TIMEOUT:.0f}s"
    if isinstance(exc, ConnectionRefusedError):
        return f"{address} refused the connection (nothing listening on port 53)"
    return f"{type(exc).__name__}: {exc}"


def observe_in(lab: Lab, resolver: str, qname: str, qtype: str, *, do: bool = True, ad: bool = False,
               cd: bool = False) -> Observation:
    """One check's observation of ``resolver``, asked from the lab's probe vantage point."""
    address = lab.topology.resolver_address(resolver)
    return lab.in_lab(lambda: observe(address, qname, qtype, do=do, ad=ad, cd=cd))
