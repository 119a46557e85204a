"""Query parsing and response rendering for the builtin server, on bytes.

dnspython's Message round trip costs several times the lookup itself, so the hot path reads the one question and the
OPT record directly and writes responses from RR bytes cached per RRset. Anything unusual in a query (several
questions, records in answer/authority, TSIG, compression) goes through dnspython's full parser instead.

Names inside rdata are never compressed (always allowed, RFC 3597 section 4); owner names are.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rdatatype
import dns.rrset

# A name's identity without letter case: its labels lowercased, root label b"" last. Ancestors are suffixes
# (key[i:]); canonical order (RFC 4034 6.1) is the order of the reversed tuples. Cheaper than dns.name.Name.
Key = tuple[bytes, ...]

_HEADER = struct.Struct("!HHHHHH")
_RR = struct.Struct("!HHIH")
_OPT = int(dns.rdatatype.OPT)
_OPCODE_BITS = 0x7800
_QR, _TC, _DO = int(dns.flags.QR), int(dns.flags.TC), int(dns.flags.DO)


def key_of(name: dns.name.Name) -> Key:
    return tuple([label.lower() for label in name.labels])


def canonical_wire(key: Key) -> bytes:
    """RFC 4034 6.2 canonical wire form (lowercase, uncompressed)."""
    return b"".join([bytes((len(label),)) + label for label in key])


@dataclass(frozen=True)
class Query:
    """What answering needs from a query. ``question`` is the question section as sent (the client's letter case)."""

    id: int
    flags: int
    qname: dns.name.Name | None  # None when the query has not exactly one question
    qkey: Key
    qtype: int
    qclass: int
    question: bytes
    edns: int = -1  # EDNS version, -1 without OPT
    payload: int = 0
    ednsflags: int = 0

    @property
    def opcode(self) -> int:
        return (self.flags & _OPCODE_BITS) >> 11

    @property
    def dnssec_ok(self) -> bool:
        return self.edns >= 0 and bool(self.ednsflags & _DO)


def _read_name(wire: bytes, offset: int) -> tuple[list[bytes], int] | None:
    """Uncompressed labels from offset, or None for anything else (compression, bad lengths): dnspython decides."""
    labels = []
    total = 0
    while True:
        length = wire[offset]
        if length == 0:
            labels.append(b"")
            return (labels, offset + 1) if total < 255 else None
        if length > 63:
            return None
        labels.append(wire[offset + 1:offset + 1 + length])
        offset += length + 1
        total += length + 1


def parse_query(wire: bytes) -> Query:
    """Parse a query; raises dns.exception.DNSException (or ValueError/IndexError/struct.error) when malformed."""
    ident, flags, qdcount, ancount, nscount, arcount = _HEADER.unpack_from(wire)
    if qdcount == 1 and ancount == 0 and nscount == 0 and arcount <= 1:
        read = _read_name(wire, 12)
        if read is not None and len(wire) >= read[1] + 4:
            labels, end = read
            qname = dns.name.Name(labels)
            qtype, qclass = struct.unpack_from("!HH", wire, end)
            end += 4
            question = wire[12:end]
            key = tuple([label.lower() for label in labels])
            if arcount == 0 and end == len(wire):
                return Query(ident, flags, qname, key, qtype, qclass, question)
            if arcount == 1 and len(wire) >= end + 11 and wire[end] == 0:
                rtype, payload, ttl, rdlen = _RR.unpack_from(wire, end + 1)
                if rtype == _OPT and end + 11 + rdlen == len(wire):
                    # Options (cookies, padding, ...) are ignored: nothing we answer depends on them.
                    return Query(ident, flags, qname, key, qtype, qclass, question, (ttl >> 16) & 0xFF, payload,
                                 ttl & 0xFFFF)
    return query_from_message(dns.message.from_wire(wire))


def name_wire(name: dns.name.Name) -> bytes:
    """A name's uncompressed wire form (``to_wire`` returns it when given no file to write to)."""
    wire = name.to_wire()
    assert wire is not None
    return wire


def query_from_message(message: dns.message.Message) -> Query:
    if len(message.question) == 1:
        q = message.question[0]
        question = name_wire(q.name) + struct.pack("!HH", q.rdtype, q.rdclass)
        return Query(message.id, message.flags, q.name, key_of(q.name), q.rdtype, q.rdclass, question,
                     message.edns, message.payload, message.ednsflags)
    return Query(message.id, message.flags, None, (), 0, 0, b"", message.edns, message.payload, message.ednsflags)


class ServedRRset(dns.rrset.RRset):
    """An RRset of a served zone that keeps its owner's key and its records' wire form (all after the owner)."""

    __slots__ = ["_records", "_key"]
    _records: tuple[bytes, ...]         # both made on first use
    _key: Key

    @property
    def key(self) -> Key:
        try:
            return self._key
        except AttributeError:
            self._key = key_of(self.name)
            return self._key

    def set_records(self, ttl: int, wires: Sequence[bytes]) -> None:
        """Set the wire form from the rdatas' wire forms (as stored), instead of rendering each rdata again."""
        self._records = tuple([_RR.pack(self.rdtype, self.rdclass, ttl, len(w)) + w for w in wires])

    def records(self) -> tuple[bytes, ...]:
        try:
            return self._records
        except AttributeError:
            records = []
            for rd in self:
                rdata = rd.to_wire()
                records.append(_RR.pack(self.rdtype, self.rdclass, self.ttl, len(rdata)) + rdata)
            self._records = tuple(records)
            return self._records


# Owner as sent (a wildcard answer's owner is the query name, with the query's letter case), its key, the RRset.
Entry = tuple[dns.name.Name, Key, ServedRRset]


class _Writer:
    def __init__(self, query: Query) -> None:
        self.buf = bytearray(12)
        self.offsets: dict[Key, int] = {}
        if query.qname is not None:
            self.buf += query.question
            self._remember(query.qkey, 12)

    def _remember(self, key: Key, offset: int) -> None:
        for i in range(len(key) - 1):
            if offset >= 0x4000:
                return
            self.offsets.setdefault(key[i:], offset)
            offset += len(key[i]) + 1

    def name(self, name: dns.name.Name, key: Key) -> None:
        start = len(self.buf)
        labels = name.labels
        for i in range(len(key) - 1):
            pointer = self.offsets.get(key[i:])
            if pointer is not None:
                self.buf += struct.pack("!H", 0xC000 | pointer)
                break
            self.buf.append(len(labels[i]))
            self.buf += labels[i]
        else:
            self.buf.append(0)
        self._remember(key, start)

    def rrsets(self, entries: Sequence[Entry]) -> int:
        count = 0
        for owner, key, rrset in entries:
            records = rrset.records()
            if not records:
                continue
            at = len(self.buf)
            self.name(owner, key)
            repeat = struct.pack("!H", 0xC000 | at) if at < 0x4000 else name_wire(owner)
            for i, record in enumerate(records):
                if i:
                    self.buf += repeat
                self.buf += record
            count += len(records)
        return count


def render(query: Query, flags: int, rcode: int, sections: Sequence[Sequence[Entry]], *,
           opt_payload: int | None, limit: int, required_additional: int = 0) -> tuple[bytes, bool]:
    """The response wire, and whether it was truncated to fit limit.

    RFC 2181 section 9: TC is set only when required data does not fit. Answer, authority and the first
    ``required_additional`` additional RRsets (in-domain glue, RFC 9471) are required; the other additional RRsets are
    optional and are left out, from the last one back, until the response fits. When required data does not fit the
    response is the question and OPT only, with TC=1, as BIND and NSD do; the resolver retries over TCP.
    """
    opt = b""
    if opt_payload is not None:
        ttl = ((rcode >> 4) << 24) | (query.ednsflags & _DO)  # extended rcode, version 0, DO echoed (RFC 3225)
        opt = b"\x00" + _RR.pack(_OPT, opt_payload, ttl, 0)
    room = limit - len(opt)
    writer = _Writer(query)
    counts = [writer.rrsets(section) for section in sections]
    truncated = False
    if len(writer.buf) > room:
        writer, counts, truncated = _fit(query, sections, required_additional, room)
    flags = _QR | (query.flags & _OPCODE_BITS) | flags | (rcode & 0xF)
    qdcount = 1 if query.qname is not None else 0
    if truncated:
        body = query.question if qdcount else b""
        counts = [0, 0, 0]
        flags |= _TC
    else:
        body = bytes(writer.buf[12:])
    header = _HEADER.pack(query.id, flags, qdcount, counts[0], counts[1], counts[2] + (1 if opt else 0))
    return header + body + opt, truncated


def _fit(query: Query, sections: Sequence[Sequence[Entry]], required: int,
         room: int) -> tuple[_Writer, list[int], bool]:
    """The slow path of ``render``: required data first, then as many optional RRsets as fit, in order."""
    answer, authority, additional = sections
    writer = _Writer(query)
    counts = [writer.rrsets(answer), writer.rrsets(authority), writer.rrsets(additional[:required])]
    if len(writer.buf) > room:
        return writer, counts, True
    for entry in additional[required:]:
        size, offsets = len(writer.buf), dict(writer.offsets)
        added = writer.rrsets((entry,))
        if len(writer.buf) > room:
            del writer.buf[size:]
            writer.offsets = offsets
            break
        counts[2] += added
    return writer, counts, False


def header_only(wire: bytes, rcode: int) -> bytes:
    """An error response built from the header alone, for queries that cannot be parsed."""
    flags = struct.unpack_from("!H", wire, 2)[0]
    out_flags = _QR | (flags & (int(dns.flags.RD) | _OPCODE_BITS)) | rcode
    return wire[:2] + struct.pack("!HHHHH", out_flags, 0, 0, 0, 0)
