"""From a query to a response: the pure part of the builtin server (no sockets).

``answer`` is what tests and other code call; ``answer_wire`` is what the server calls, so a response is rendered
once. Both apply the ``Behaviour`` switches; lookup.py does the DNS itself.
"""

from __future__ import annotations

import struct

import dns.exception
import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from testbed.auth.behaviour import Behaviour
from testbed.auth.lookup import lookup
from testbed.auth.zoneset import ZoneSet

__all__ = ["Behaviour", "ZoneSet", "answer", "answer_wire"]

NO_EDNS_UDP_SIZE = 512  # RFC 1035 4.2.1
TCP_SIZE = 65535
_DEFAULT = Behaviour()
_TRANSFERS = (dns.rdatatype.AXFR, dns.rdatatype.IXFR)


def answer(query: dns.message.Message, zones: ZoneSet, behaviour: Behaviour | None = None, *,
           tcp: bool = False) -> dns.message.Message | None:
    """The response to query, or None to drop it. ``tcp`` lifts the UDP size limits and UDP-only switches.

    RRsets in the response are shared with the zone index: copy them before changing them.
    """
    result = _respond(query, zones, behaviour or _DEFAULT, tcp)
    return None if result is None else result[0]


def answer_wire(wire: bytes, zones: ZoneSet, behaviour: Behaviour | None = None, *,
                tcp: bool = False) -> tuple[bytes | None, dns.message.Message | None]:
    """Wire in, wire out (None: send nothing). Also returns the response message for query logging."""
    behaviour = behaviour or _DEFAULT
    if behaviour.unresponsive or len(wire) < 12:
        return None, None
    flags = struct.unpack_from("!H", wire, 2)[0]
    if flags & dns.flags.QR:
        return None, None  # never answer a response: two servers could loop
    try:
        query = dns.message.from_wire(wire)
    except Exception:  # noqa: BLE001 - any parse failure is the client's FORMERR, whatever dnspython raises
        opcode = dns.opcode.from_flags(flags)
        rcode = dns.rcode.FORMERR if opcode == dns.opcode.QUERY else dns.rcode.NOTIMP
        return _header_only(wire, flags, rcode), None
    result = _respond(query, zones, behaviour, tcp)
    if result is None:
        return None, None
    return result[1], result[0]


def _header_only(wire: bytes, flags: int, rcode: int) -> bytes:
    """An error response built from the header alone, for queries dnspython cannot parse."""
    out_flags = dns.flags.QR | (flags & (dns.flags.RD | 0x7800)) | rcode  # 0x7800: the opcode bits
    return wire[:2] + struct.pack("!HHHHH", out_flags, 0, 0, 0, 0)


def _respond(query: dns.message.Message, zones: ZoneSet, behaviour: Behaviour,
             tcp: bool) -> tuple[dns.message.Message, bytes] | None:
    if behaviour.unresponsive or query.flags & dns.flags.QR:
        return None
    response = dns.message.make_response(query, our_payload=behaviour.edns_payload)
    response.flags |= query.flags & dns.flags.CD  # RFC 4035 3.1.6
    if query.edns >= 0 and query.ednsflags & dns.flags.DO:
        response.ednsflags |= dns.flags.DO  # RFC 3225: the DO bit is copied
    if query.opcode() != dns.opcode.QUERY:
        response.set_rcode(dns.rcode.NOTIMP)
        return _render(query, response, behaviour, tcp)
    if query.edns >= 0 and behaviour.edns_intolerant:
        response.use_edns(False)
        response.set_rcode(dns.rcode.FORMERR)
        return _render(query, response, behaviour, tcp)
    if len(query.question) != 1:
        response.set_rcode(dns.rcode.FORMERR)
        return _render(query, response, behaviour, tcp)
    question = query.question[0]
    if dns.rdatatype.to_text(question.rdtype) in behaviour.drop_qtypes:
        return None
    if query.edns > 0:
        response.set_rcode(dns.rcode.BADVERS)  # RFC 6891 6.1.3: we speak EDNS version 0 only
        return _render(query, response, behaviour, tcp)
    if not tcp and behaviour.tc_always:
        response.flags |= dns.flags.TC
        return _render(query, response, behaviour, tcp)
    _fill(response, query, question, zones, behaviour)
    return _render(query, response, behaviour, tcp)


def _fill(response: dns.message.Message, query: dns.message.Message, question: dns.rrset.RRset,
          zones: ZoneSet, behaviour: Behaviour) -> None:
    if question.rdclass != dns.rdataclass.IN or question.rdtype in _TRANSFERS:
        response.set_rcode(dns.rcode.REFUSED)  # we hold IN data only and do not serve transfers
        return
    if dns.rdatatype.is_metatype(question.rdtype) and question.rdtype != dns.rdatatype.ANY:
        response.set_rcode(dns.rcode.FORMERR)  # OPT, TSIG, TKEY... are not things to ask for
        return
    zone = zones.find(question.name, question.rdtype)
    if zone is None:
        response.set_rcode(dns.rcode.REFUSED)
        return
    dnssec = query.edns >= 0 and bool(query.ednsflags & dns.flags.DO)
    found = lookup(zone, question.name, question.rdtype, dnssec)
    response.set_rcode(found.rcode)
    if found.authoritative:
        response.flags |= dns.flags.AA
    response.answer = found.answer
    response.authority = found.authority
    response.additional = found.additional
    if behaviour.strip_rrsigs:
        for section in (response.answer, response.authority, response.additional):
            section[:] = [rrset for rrset in section if rrset.rdtype != dns.rdatatype.RRSIG]


def _size_limit(query: dns.message.Message, behaviour: Behaviour, tcp: bool) -> int:
    if tcp:
        return TCP_SIZE
    if query.edns < 0:
        return NO_EDNS_UDP_SIZE
    # RFC 6891 6.2.5: below 512 counts as 512; above our own maximum we send no more than that.
    return min(max(query.payload, NO_EDNS_UDP_SIZE), max(behaviour.edns_payload, NO_EDNS_UDP_SIZE))


def _render(query: dns.message.Message, response: dns.message.Message, behaviour: Behaviour,
            tcp: bool) -> tuple[dns.message.Message, bytes] | None:
    limit = _size_limit(query, behaviour, tcp)
    try:
        # Zone order on the wire, not dnspython's default shuffle: answers are reproducible.
        wire = response.to_wire(max_size=limit, want_shuffle=False)
    except dns.exception.TooBig:
        # Question only with TC=1, as BIND and NSD do; the resolver retries over TCP.
        response.answer, response.authority, response.additional = [], [], []
        response.flags |= dns.flags.TC
        wire = response.to_wire(max_size=limit, want_shuffle=False)
    if not tcp and behaviour.udp_max is not None and len(wire) > behaviour.udp_max:
        return None  # as if the fragments were lost on the way
    return response, wire
