"""Zone data as served: a literal zone loader, compact storage, and the per-zone indexes the answer code searches.

The builtin server serves exactly what it is given, so loading must not repair anything either. dnspython's zone
reader refuses a CNAME beside other data and its nodes silently delete one or the other; ``LiteralZone`` keeps both.
Served zones keep their records as wire bytes (``ZoneBuilder``, ``ServedZone``), so a registry zone with a million
delegations fits in about 1 GB; ``zonetext.py`` reads zone files straight into that form.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, TextIO, cast

import dns.exception
import dns.name
import dns.node
import dns.rdata
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.tokenizer
import dns.zone
import dns.zonefile

from testbed.auth.wire import Key, ServedRRset, canonical_wire, key_of

IN = dns.rdataclass.IN
NSEC = dns.rdatatype.NSEC
NSEC3 = dns.rdatatype.NSEC3
NONE = dns.rdatatype.NONE

Nsec3Params = tuple[int, int, bytes]  # (hash algorithm, iterations, salt)


class LiteralNode(dns.node.Node):
    """A node that keeps every rdataset it is given, even a CNAME beside other data."""

    def _append_rdataset(self, rdataset: dns.rdataset.Rdataset) -> None:
        self.rdatasets.append(rdataset)


class _LiteralTransaction(dns.zone.Transaction):
    def check_put_rdataset(self, check: object) -> None:
        # The zone reader registers its CNAME-and-other-data check here; broken zones must load as written.
        return None


class LiteralZone(dns.zone.Zone):
    """A dnspython zone that stores its data as written, however broken."""

    node_factory = LiteralNode

    def writer(self, replacement: bool = False) -> dns.zone.Transaction:
        txn = _LiteralTransaction(self, replacement)
        txn._setup_version()
        return txn


class _Tokenizer(dns.tokenizer.Tokenizer):
    """dnspython's tokenizer has counted the newline once it has read it, so an error found at the end of a line
    (a missing or bad last field) names the next line. People fix the line we name: give that newline back."""

    _last_eol = False

    def get(self, want_leading: bool = False, want_comment: bool = False) -> dns.tokenizer.Token:
        token = super().get(want_leading, want_comment)
        self._last_eol = token.is_eol()
        return token

    def where(self) -> tuple[str, int]:
        filename, line = super().where()
        token = self.ungotten_token
        newline_read = self.ungotten_char == "\n" or (token is not None and token.is_eol()) or self._last_eol
        return filename, line - 1 if newline_read and line > 1 else line


def _read(source: TextIO | str, origin: dns.name.Name | str, filename: str) -> dns.zone.Zone:
    """dns.zone.from_text with our literal zone class and our tokenizer; no origin checks (a zone may lack SOA)."""
    origin = dns.name.from_text(origin) if isinstance(origin, str) else origin
    zone = LiteralZone(origin, IN, relativize=False)
    with zone.writer(True) as txn:
        dns.zonefile.Reader(_Tokenizer(source, filename), IN, txn, allow_include=True).read()
    return zone


def load_zone_file(path: str | Path, origin: dns.name.Name | str) -> dns.zone.Zone:
    """Read an RFC 1035 zone file with absolute names. Raises dns.exception.SyntaxError naming file and line."""
    with open(path, encoding="utf-8") as source:
        return _read(source, origin, str(path))


def load_zone_text(text: str, origin: dns.name.Name | str) -> dns.zone.Zone:
    return _read(text, origin, "<string>")


@lru_cache(maxsize=65536)
def nsec3_hash(key: Key, algorithm: int, iterations: int, salt: bytes) -> bytes | None:
    """RFC 5155 section 5 hash of a name; None for hash algorithms we do not know (only SHA-1 is defined)."""
    if algorithm != 1:
        return None
    digest = hashlib.sha1(canonical_wire(key) + salt).digest()
    for _ in range(iterations):
        digest = hashlib.sha1(digest + salt).digest()
    return digest


def decode_hash_label(label: bytes) -> bytes | None:
    """The hash in an NSEC3 owner's first label (base32hex), or None when the label is not one."""
    text = label.upper()
    try:
        return base64.b32hexdecode(text + b"=" * (-len(text) % 8))
    except (ValueError, binascii.Error):
        return None


def is_under(key: Key, ancestor: Key) -> bool:
    """key is ancestor or below it."""
    return len(key) >= len(ancestor) and key[len(key) - len(ancestor):] == ancestor


# One RRset as stored: (type, covered type for RRSIG else 0, TTL, the rdatas' uncompressed wire forms).
RRsetData = tuple[int, int, int, tuple[bytes, ...]]
NodeData = tuple[RRsetData, ...]
_RRSIG = int(dns.rdatatype.RRSIG)
_NSEC3 = int(NSEC3)
_NS = int(dns.rdatatype.NS)
# RRsets made ready for the wire and kept for the next answer; bounded so a walk over a 1M zone cannot keep them all.
RRSET_CACHE_SIZE = 100_000


class ZoneBuilder:
    """Collects records of one zone as bytes, then freezes them into a ``ServedZone``.

    Compact on purpose: a registry zone has a million delegations, and a dnspython node with its rdatasets and rdata
    objects costs some 2 kB, where a tuple of wire forms costs a few hundred bytes. Nothing is repaired or merged
    except what dnspython's zone would merge too: identical records of one RRset (kept once, lowest TTL).
    """

    def __init__(self, origin: dns.name.Name) -> None:
        self.origin = origin
        self.okey: Key = key_of(origin)
        self.nodes: dict[Key, dict[tuple[int, int], list]] = {}
        self.names: dict[Key, tuple[bytes, ...]] = {}   # owner labels as written, where they differ from the key
        self._labels: dict[bytes, bytes] = {}           # one object per label text: suffixes like b"jp" repeat
        self._shared: dict[bytes, bytes] = {}           # one object per NS target: providers serve many children
        self._ints: dict[int, int] = {}

    def key(self, labels: tuple[bytes, ...]) -> Key:
        shared = self._labels
        key = tuple([shared.setdefault(low, low) for low in [label.lower() for label in labels]])
        if key != labels:
            self.names[key] = labels
        return key

    def add(self, key: Key, rdtype: int, covers: int, ttl: int, wire: bytes) -> None:
        node = self.nodes.get(key)
        if node is None:
            node = self.nodes[key] = {}
        if rdtype == _NS:
            wire = self._shared.setdefault(wire, wire)
        slot = node.get((rdtype, covers))
        if slot is None:
            node[(rdtype, covers)] = [self._ints.setdefault(ttl, ttl), [wire]]
        else:
            if ttl < slot[0]:
                slot[0] = ttl
            if wire not in slot[1]:
                slot[1].append(wire)

    def build(self) -> ServedZone:
        nodes = self.nodes
        for key, node in nodes.items():
            nodes[key] = tuple((rdtype, covers, ttl, tuple(wires))  # type: ignore[assignment]
                               for (rdtype, covers), (ttl, wires) in node.items())
        self.nodes = {}
        return ServedZone.from_data(self.origin, nodes, self.names)  # type: ignore[arg-type]


def builder_from_zone(zone: dns.zone.Zone) -> ZoneBuilder:
    """The records of a dnspython zone (with absolute names), as a builder."""
    if zone.origin is None or zone.relativize:
        raise ValueError("served zones need an origin and absolute names (relativize=False)")
    builder = ZoneBuilder(zone.origin)
    for name, node in zone.nodes.items():
        key = builder.key(tuple(name.labels))
        for rds in node.rdatasets:
            if rds.rdclass != zone.rdclass:
                continue
            for rd in rds:
                builder.add(key, rds.rdtype, rds.covers, rds.ttl, rd.to_wire())
    return builder


def _only_nsec3(node: NodeData) -> bool:
    """A node that only the NSEC3 chain made: NSEC3 records and signatures over them, nothing else."""
    return bool(node) and all(rdtype == _NSEC3 or (rdtype == _RRSIG and covers == _NSEC3)
                              for rdtype, covers, _, _ in node)


def _nsec3_params_of(wire: bytes) -> Nsec3Params:
    """(hash algorithm, iterations, salt) from NSEC3 or NSEC3PARAM rdata: the first fields are the same."""
    return wire[0], int.from_bytes(wire[2:4], "big"), wire[5:5 + wire[4]]


class ServedZone:
    """A zone plus the indexes answering needs: cuts, empty non-terminals, NSEC order and the NSEC3 chain.

    Everything inside is keyed by ``Key`` (lowercased label tuples): hashing and comparing dnspython names costs more
    than the rest of an answer. Records are kept as wire bytes (see ``ZoneBuilder``) and become dnspython RRsets
    only when an answer needs them. Built once per zone load and never changed afterwards. RRsets handed out are
    shared between answers: callers must not change them.
    """

    origin: dns.name.Name
    okey: Key
    rdclass: int
    names: dict[Key, tuple[bytes, ...]]
    nodes: dict[Key, NodeData]            # names that exist for queries
    nsec3_nodes: dict[Key, NodeData]

    def __init__(self, zone: dns.zone.Zone) -> None:
        built = builder_from_zone(zone).build()
        self.__dict__.update(built.__dict__)

    @classmethod
    def from_data(cls, origin: dns.name.Name, nodes: dict[Key, NodeData],
                  names: dict[Key, tuple[bytes, ...]] | None = None) -> ServedZone:
        self = cls.__new__(cls)
        self.origin = origin
        self.okey = key_of(origin)
        self.rdclass = IN
        self.names = names or {}
        # Nodes holding only NSEC3 records (and their RRSIGs) go apart: their RRsets can be handed out in proofs,
        # but the names do not exist for queries (RFC 5155 7.2.8), unless something below them has data.
        self.nodes = {}
        self.nsec3_nodes = {}
        okey, size = self.okey, len(self.okey)
        data, nsec3 = self.nodes, self.nsec3_nodes
        for key, node in nodes.items():
            # dnspython keeps out-of-zone names out; a hand-built zone might not
            if key[len(key) - size:] != okey or len(key) < size:
                continue
            first = node[0][0] if node else 0
            if first in (_NSEC3, _RRSIG) and _only_nsec3(node):
                nsec3[key] = node
            else:
                data[key] = node
        self._index()
        return self

    # -- indexes -----------------------------------------------------------------------------------------------

    def _index(self) -> None:
        okey = self.okey
        self.cuts: frozenset[Key] = frozenset(
            key for key, node in self.nodes.items()
            if key != okey and (node[0][0] == _NS or any(t == _NS for t, _, _, _ in node)))
        self.ents: frozenset[Key] = frozenset(self._empty_non_terminals())
        # RFC 4034 6.1 canonical order is tuple order of the reversed lowercased labels.
        self.nsec_order: list[Key] = sorted(
            key[::-1] for key, node in self.nodes.items() if any(t == NSEC for t, _, _, _ in node))
        self.nsec3_params: Nsec3Params | None = self._choose_nsec3_params()
        self.nsec3_chain: list[tuple[bytes, Key]] = self._nsec3_chain()
        self.nsec3_by_hash: dict[bytes, Key] = dict(self.nsec3_chain)
        self.denial: str | None = self._denial_kind()
        self._rrsets: dict[tuple[Key, int, int], ServedRRset | None] = {}

    def _empty_non_terminals(self) -> set[Key]:
        ents: set[Key] = set()
        depth = len(self.okey)
        for key in self.nodes:
            for i in range(1, len(key) - depth + 1):
                parent = key[i:]
                if parent in self.nodes or parent in ents:
                    break
                ents.add(parent)
        return ents

    def data(self, key: Key, rdtype: int, covers: int = 0) -> RRsetData | None:
        node = self.nodes.get(key) or self.nsec3_nodes.get(key)
        for item in node or ():
            if item[0] == rdtype and item[1] == covers:
                return item
        return None

    def types_at(self, key: Key) -> list[tuple[int, int]]:
        """(type, covered type) of every RRset at a name that exists for queries."""
        return [(rdtype, covers) for rdtype, covers, _, _ in self.nodes.get(key, ())]

    def _nsec3_rdatas(self) -> Iterator[tuple[Key, bytes]]:
        for table in (self.nodes, self.nsec3_nodes):
            for key, node in table.items():
                for rdtype, _, _, wires in node:
                    if rdtype == _NSEC3:
                        for wire in wires:
                            yield key, wire

    def _choose_nsec3_params(self) -> Nsec3Params | None:
        """The zone's NSEC3PARAM when some NSEC3 record uses it, else the parameters most NSEC3 records use."""
        seen: Counter[Nsec3Params] = Counter(_nsec3_params_of(wire) for _, wire in self._nsec3_rdatas())
        if not seen:
            return None
        param = self.data(self.okey, int(dns.rdatatype.NSEC3PARAM))
        for wire in param[3] if param else ():
            params = _nsec3_params_of(wire)
            if params in seen:
                return params
        return seen.most_common(1)[0][0]

    def _nsec3_chain(self) -> list[tuple[bytes, Key]]:
        chain: dict[bytes, Key] = {}
        for key, wire in self._nsec3_rdatas():
            if _nsec3_params_of(wire) != self.nsec3_params or key[1:] != self.okey:
                continue  # another chain, or not named <hash>.<origin>: not something a proof can use
            digest = decode_hash_label(key[0])
            if digest is not None:
                chain[digest] = key
        return sorted(chain.items())

    def _denial_kind(self) -> str | None:
        has_param = self.data(self.okey, int(dns.rdatatype.NSEC3PARAM)) is not None
        if self.nsec3_chain and (has_param or not self.nsec_order):
            return "nsec3"
        if self.nsec_order:
            return "nsec"
        return "nsec3" if self.nsec3_chain else None

    # -- lookups -----------------------------------------------------------------------------------------------

    def contains(self, key: Key) -> bool:
        return is_under(key, self.okey)

    def exists(self, key: Key) -> bool:
        """True for names with data and for empty non-terminals (RFC 4592 section 2.2.2)."""
        return key in self.nodes or key in self.ents

    def rrset(self, key: Key, rdtype: int, covers: int = NONE) -> ServedRRset | None:
        """The RRset stored at key, ready for the wire, cached (with its wire form) because answers repeat."""
        cache_key = (key, rdtype, covers)
        try:
            return self._rrsets[cache_key]
        except KeyError:
            pass
        item = self.data(key, rdtype, covers)
        rrset = None
        if item is not None:
            _, _, ttl, wires = item
            rdclass, kind, covered = cast(Any, self.rdclass), cast(Any, rdtype), cast(Any, covers)
            rrset = ServedRRset(dns.name.Name(self.names.get(key, key)), rdclass, kind, covered)
            for wire in wires:
                rrset.add(dns.rdata.from_wire(rdclass, kind, wire, 0, len(wire)))
            rrset.ttl = ttl
            rrset.set_records(ttl, wires)
        if len(self._rrsets) >= RRSET_CACHE_SIZE:
            self._rrsets.clear()
        self._rrsets[cache_key] = rrset
        return rrset

    def closest_encloser(self, key: Key) -> Key:
        """The deepest existing ancestor of a name that does not exist itself (RFC 4592 section 3.3.1)."""
        for i in range(1, len(key) - len(self.okey) + 1):
            if self.exists(key[i:]):
                return key[i:]
        return self.okey

    def nsec_covering(self, key: Key) -> Key | None:
        """The NSEC owner preceding key in canonical order (wrapping to the last), as a real server picks it."""
        if not self.nsec_order:
            return None
        i = bisect_left(self.nsec_order, key[::-1]) - 1
        return self.nsec_order[i][::-1]  # i == -1 wraps to the last owner, whose NSEC points back to the apex

    def nsec3_hash_of(self, key: Key) -> bytes | None:
        return None if self.nsec3_params is None else nsec3_hash(key, *self.nsec3_params)

    def nsec3_matching(self, key: Key) -> Key | None:
        digest = self.nsec3_hash_of(key)
        return self.nsec3_by_hash.get(digest) if digest is not None else None

    def nsec3_covering(self, key: Key) -> Key | None:
        """The NSEC3 owner whose hash precedes key's hash (wrapping to the last)."""
        digest = self.nsec3_hash_of(key)
        if digest is None or not self.nsec3_chain:
            return None
        i = bisect_left(self.nsec3_chain, (digest,)) - 1
        return self.nsec3_chain[i][1]
