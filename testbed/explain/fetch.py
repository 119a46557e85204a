"""How the walk asks a server: DO=1, RD=0, EDNS buffer 1232 like a validating resolver; TC=1 or a lost UDP answer
is asked again over TCP, as resolvers fall back to it. A memo keeps one answer per (name, type, server)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype

from testbed.explain.walk import Fetch, FetchError

TIMEOUT = 2.0


def query_for(name: dns.name.Name, rdtype: dns.rdatatype.RdataType, edns: bool = True) -> dns.message.Message:
    if edns:
        query = dns.message.make_query(name, rdtype, want_dnssec=True, use_edns=0, payload=1232)
    else:
        query = dns.message.make_query(name, rdtype, use_edns=False)
    query.flags &= ~dns.flags.RD
    return query


def udp_fetcher(ports: Mapping[str, int] | None = None, *, timeout: float = TIMEOUT,
                run: Callable[[Callable[[], dns.message.Message]], dns.message.Message] | None = None) -> Fetch:
    """A fetch over the network. ``ports`` maps a server address to its port (53 when absent: in-process test
    servers listen on free ports); ``run`` runs the query where lab addresses are reachable (``Backend.in_lab``)."""

    def ask(name: dns.name.Name, rdtype: dns.rdatatype.RdataType, address: str) -> dns.message.Message:
        port = (ports or {}).get(address, 53)
        query = query_for(name, rdtype)

        def exchange() -> dns.message.Message:
            try:
                response = dns.query.udp(query, address, port=port, timeout=timeout, ignore_unexpected=True)
            except dns.exception.Timeout:
                response = None
            except OSError as exc:
                raise FetchError(f"UDP failed: {exc.strerror or exc}") from None
            except dns.exception.DNSException as exc:
                raise FetchError(f"unreadable answer: {exc}") from None
            if response is not None and not response.flags & dns.flags.TC:
                return response
            why = "truncated (TC=1) over UDP" if response is not None else f"no answer over UDP within {timeout:g} s"
            try:
                return dns.query.tcp(query, address, port=port, timeout=timeout)
            except (dns.exception.Timeout, TimeoutError):
                raise FetchError(f"{why}, and none over TCP either") from None
            except (OSError, EOFError, ConnectionError) as exc:
                text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
                raise FetchError(f"{why}, and TCP failed ({text})") from None
            except dns.exception.DNSException as exc:
                raise FetchError(f"{why}, and the TCP answer was unreadable: {exc}") from None

        def with_fallback() -> dns.message.Message:
            nonlocal query
            response = exchange()
            if response.rcode() == dns.rcode.FORMERR and query.edns >= 0:
                # like a resolver facing a pre-EDNS server: ask again without EDNS, and so without DO
                query = query_for(name, rdtype, edns=False)
                response = exchange()
                response.explain_note = ("answers FORMERR to queries with EDNS; asked again without EDNS, it sends "  # type: ignore[attr-defined]
                                         "no RRSIGs")
            return response

        return run(with_fallback) if run is not None else with_fallback()

    return ask


def memo(fetch: Fetch) -> Fetch:
    """One question per (name, type, server) for a whole explain run: checks share their upper chain."""
    seen: dict[tuple[dns.name.Name, int, str], dns.message.Message | FetchError] = {}

    def ask(name: dns.name.Name, rdtype: dns.rdatatype.RdataType, address: str) -> dns.message.Message:
        key = (name, int(rdtype), address)
        if key not in seen:
            try:
                seen[key] = fetch(name, rdtype, address)
            except FetchError as exc:
                seen[key] = exc
        value = seen[key]
        if isinstance(value, FetchError):
            raise value
        return value

    return ask

