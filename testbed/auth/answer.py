"""From a query to a response: the pure part of the builtin server (no sockets).

``answer`` (dnspython messages, for tests and other code) and ``answer_wire`` (bytes, for the server) share one path:
parse, decide, render. ``answer`` returns the rendered bytes parsed again, so callers see exactly what goes on the
wire, truncation included. The Behaviour switches are applied here; lookup.py does the DNS itself.
"""

from __future__ import annotations

import struct

import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from testbed.auth.behaviour import Behaviour
from testbed.auth.lookup import Sections, lookup
from testbed.auth.wire import Query, header_only, name_wire, parse_query, query_from_message, render
from testbed.auth.zoneset import ZoneSet

__all__ = ["Behaviour", "ZoneSet", "answer", "answer_wire"]

NO_EDNS_UDP_SIZE = 512  # RFC 1035 4.2.1
TCP_SIZE = 65535
_DEFAULT = Behaviour()
# Plain ints: enum arithmetic on the hot path costs more than the lookup's dictionary work.
_TRANSFERS = frozenset({int(dns.rdatatype.AXFR), int(dns.rdatatype.IXFR)})
_NOT_QUESTIONS = frozenset(int(t) for t in dns.rdatatype.RdataType if dns.rdatatype.is_metatype(t)) - {
    int(dns.rdatatype.ANY)} - _TRANSFERS  # OPT, TSIG, TKEY... (zone transfers are REFUSED instead)
_COPIED_FLAGS = int(dns.flags.RD | dns.flags.CD)  # RFC 1035 4.1.1; RFC 4035 3.1.6
_QR, _TC, _AA = int(dns.flags.QR), int(dns.flags.TC), int(dns.flags.AA)
_IN = int(dns.rdataclass.IN)
_RRSIG = int(dns.rdatatype.RRSIG)


def answer(query: dns.message.Message, zones: ZoneSet, behaviour: Behaviour | None = None, *,
           tcp: bool = False) -> dns.message.Message | None:
    """The response to query as the client would receive it, or None when it is dropped.

    ``tcp`` lifts the UDP size limits and the UDP-only switches.
    """
    wire = _respond(query_from_message(query), zones, behaviour or _DEFAULT, tcp)
    return None if wire is None else dns.message.from_wire(wire)


def answer_wire(wire: bytes, zones: ZoneSet, behaviour: Behaviour | None = None, *, tcp: bool = False) -> bytes | None:
    """Wire in, wire out; None means send nothing."""
    behaviour = behaviour or _DEFAULT
    if behaviour.unresponsive or len(wire) < 12 or wire[2] & 0x80:
        return None  # too short to answer at all, or a response: never answer those (two servers could loop)
    try:
        query = parse_query(wire)
    except dns.message.UnknownTSIGKey:
        return tsig_badkey(wire, behaviour, tcp)  # we know no keys at all
    except Exception:  # noqa: BLE001 - whatever dnspython raises, a query we cannot read is the client's error
        opcode = dns.opcode.from_flags(struct.unpack_from("!H", wire, 2)[0])
        return header_only(wire, dns.rcode.FORMERR if opcode == dns.opcode.QUERY else dns.rcode.NOTIMP)
    return _respond(query, zones, behaviour, tcp)


def tsig_badkey(wire: bytes, behaviour: Behaviour, tcp: bool) -> bytes | None:
    """RFC 8945 5.2.2 and 5.3.2: a query signed with a key we do not know gets NOTAUTH with the question and an
    unsigned TSIG record (the request's key name, algorithm, time and fudge; no MAC; error BADKEY)."""
    try:
        message = dns.message.from_wire(wire, keyring=False)  # read it, do not check it: there is no key to check
    except Exception:  # noqa: BLE001 - as unreadable as any other malformed query
        return header_only(wire, dns.rcode.FORMERR)
    if message.tsig is None:
        return header_only(wire, dns.rcode.FORMERR)
    query = query_from_message(message)
    body, _ = render(query, query.flags & _COPIED_FLAGS, dns.rcode.NOTAUTH, ((), (), ()),
                     opt_payload=behaviour.edns_payload if query.edns >= 0 else None,
                     limit=_size_limit(query, behaviour, tcp))
    request = message.tsig[0]
    rdata = (name_wire(request.algorithm) + struct.pack("!HIH", request.time_signed >> 32,
                                                        request.time_signed & 0xFFFFFFFF, request.fudge)
             + struct.pack("!HHHH", 0, message.id, dns.rcode.BADKEY, 0))  # MAC size, original id, error, other
    record = (name_wire(message.tsig.name) + struct.pack("!HHIH", dns.rdatatype.TSIG, dns.rdataclass.ANY, 0,
                                                         len(rdata)) + rdata)
    arcount = struct.unpack_from("!H", body, 10)[0] + 1  # the TSIG record goes last (RFC 8945 5.1)
    return body[:10] + struct.pack("!H", arcount) + body[12:] + record


def _respond(query: Query, zones: ZoneSet, behaviour: Behaviour, tcp: bool) -> bytes | None:
    if behaviour.unresponsive or query.flags & _QR:
        return None
    edns = query.edns >= 0
    if query.opcode != dns.opcode.QUERY:
        return _reply(query, behaviour, tcp, dns.rcode.NOTIMP, edns=edns)
    if edns and behaviour.edns_intolerant:
        return _reply(query, behaviour, tcp, dns.rcode.FORMERR, edns=False)
    if query.qname is None:
        return _reply(query, behaviour, tcp, dns.rcode.FORMERR, edns=edns)
    if behaviour.drop_qtypes or behaviour.servfail_qtypes:
        qtype_text = dns.rdatatype.to_text(dns.rdatatype.RdataType(query.qtype))
        if qtype_text in behaviour.drop_qtypes:
            return None
        if qtype_text in behaviour.servfail_qtypes:
            return _reply(query, behaviour, tcp, dns.rcode.SERVFAIL, edns=edns)
    if query.edns > 0:
        return _reply(query, behaviour, tcp, dns.rcode.BADVERS, edns=True)  # RFC 6891 6.1.3: we speak version 0
    if not tcp and behaviour.tc_always:
        return _reply(query, behaviour, tcp, dns.rcode.NOERROR, edns=edns, flags=_TC)
    if query.qclass != _IN or query.qtype in _TRANSFERS:
        return _reply(query, behaviour, tcp, dns.rcode.REFUSED, edns=edns)  # IN data only, no zone transfers
    if query.qtype in _NOT_QUESTIONS:
        return _reply(query, behaviour, tcp, dns.rcode.FORMERR, edns=edns)
    zone = zones.find(query.qkey, query.qtype)
    if zone is None:
        return _reply(query, behaviour, tcp, dns.rcode.REFUSED, edns=edns)
    found = lookup(zone, query.qname, query.qtype, query.dnssec_ok, query.qkey)
    if (behaviour.ent_nxdomain and query.qkey in zone.ents and found.rcode == dns.rcode.NOERROR
            and not found.answer and not found.referral):
        found.rcode = dns.rcode.NXDOMAIN  # the NODATA sections stay: a broken server changes only the rcode
    if behaviour.strip_rrsigs:
        for section in (found.answer, found.authority, found.additional):
            section[:] = [entry for entry in section if entry[2].rdtype != _RRSIG]
    return _reply(query, behaviour, tcp, found.rcode, edns=edns, flags=_AA if found.authoritative else 0,
                  found=found)


def _reply(query: Query, behaviour: Behaviour, tcp: bool, rcode: int, *, edns: bool, flags: int = 0,
           found: Sections | None = None) -> bytes | None:
    sections = (found.answer, found.authority, found.additional) if found is not None else ((), (), ())
    wire, _ = render(query, (query.flags & _COPIED_FLAGS) | flags, int(rcode), sections,
                     opt_payload=behaviour.edns_payload if edns else None, limit=_size_limit(query, behaviour, tcp),
                     required_additional=found.required_additional if found is not None else 0)
    if not tcp and behaviour.udp_max is not None and len(wire) > behaviour.udp_max:
        return None  # as if the fragments were lost on the way
    return wire


def _size_limit(query: Query, behaviour: Behaviour, tcp: bool) -> int:
    if tcp:
        return TCP_SIZE
    if query.edns < 0:
        return NO_EDNS_UDP_SIZE
    # RFC 6891 6.2.5: below 512 counts as 512; above our own maximum we send no more than that.
    return min(max(query.payload, NO_EDNS_UDP_SIZE), max(behaviour.edns_payload, NO_EDNS_UDP_SIZE))
