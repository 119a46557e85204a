"""Zone data as served: a literal zone loader and the per-zone indexes the answer code searches.

The builtin server serves exactly what it is given, so loading must not repair anything either. dnspython's zone
reader refuses a CNAME beside other data and its nodes silently delete one or the other; ``LiteralZone`` keeps both.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from bisect import bisect_left
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import TextIO

import dns.exception
import dns.name
import dns.node
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rrset
import dns.tokenizer
import dns.zone
import dns.zonefile

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
def nsec3_hash(name: dns.name.Name, algorithm: int, iterations: int, salt: bytes) -> bytes | None:
    """RFC 5155 section 5 hash of a name; None for hash algorithms we do not know (only SHA-1 is defined)."""
    if algorithm != 1:
        return None
    digest = hashlib.sha1(name.canonicalize().to_wire() + salt).digest()
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


class ServedZone:
    """A zone plus the indexes answering needs: cuts, empty non-terminals, NSEC order and the NSEC3 chain.

    Built once per zone load; the zone must not be changed afterwards (the indexes and the RRset cache would go
    stale). RRsets handed out are shared between answers: callers must copy before changing them.
    """

    def __init__(self, zone: dns.zone.Zone) -> None:
        if zone.origin is None or zone.relativize:
            raise ValueError("served zones need an origin and absolute names (relativize=False)")
        self.zone = zone
        self.origin: dns.name.Name = zone.origin
        self.rdclass = zone.rdclass
        self.nodes: dict[dns.name.Name, dns.node.Node] = dict(zone.nodes)
        self.cuts: frozenset[dns.name.Name] = frozenset(
            name for name, node in self.nodes.items()
            if name != self.origin and node.get_rdataset(self.rdclass, dns.rdatatype.NS) is not None)
        self.ents: frozenset[dns.name.Name] = frozenset(self._empty_non_terminals())
        self.nsec_owners: list[dns.name.Name] = sorted(
            name for name, node in self.nodes.items() if node.get_rdataset(self.rdclass, NSEC) is not None)
        self.nsec3_params: Nsec3Params | None = self._choose_nsec3_params()
        self.nsec3_chain: list[tuple[bytes, dns.name.Name]] = self._nsec3_chain()
        self.nsec3_by_hash: dict[bytes, dns.name.Name] = dict(self.nsec3_chain)
        self.denial: str | None = self._denial_kind()
        self._rrsets: dict[tuple[dns.name.Name, int, int], dns.rrset.RRset | None] = {}

    # -- indexes -----------------------------------------------------------------------------------------------

    def _empty_non_terminals(self) -> set[dns.name.Name]:
        ents: set[dns.name.Name] = set()
        for name in self.nodes:
            if not name.is_subdomain(self.origin):
                continue
            parent = name
            while parent != self.origin:
                parent = parent.parent()
                if parent in self.nodes or parent in ents:
                    break
                ents.add(parent)
        return ents

    def _nsec3_rdatas(self):  # type: ignore[no-untyped-def]
        for name, node in self.nodes.items():
            rds = node.get_rdataset(self.rdclass, NSEC3)
            if rds is not None:
                for rd in rds:
                    yield name, rd

    def _choose_nsec3_params(self) -> Nsec3Params | None:
        """The zone's NSEC3PARAM when some NSEC3 record uses it, else the parameters most NSEC3 records use."""
        seen: Counter[Nsec3Params] = Counter(
            (rd.algorithm, rd.iterations, bytes(rd.salt)) for _, rd in self._nsec3_rdatas())
        if not seen:
            return None
        apex = self.nodes.get(self.origin)
        param_rds = apex.get_rdataset(self.rdclass, dns.rdatatype.NSEC3PARAM) if apex is not None else None
        for rd in param_rds or ():
            params = (rd.algorithm, rd.iterations, bytes(rd.salt))
            if params in seen:
                return params
        return seen.most_common(1)[0][0]

    def _nsec3_chain(self) -> list[tuple[bytes, dns.name.Name]]:
        chain: dict[bytes, dns.name.Name] = {}
        for name, rd in self._nsec3_rdatas():
            if (rd.algorithm, rd.iterations, bytes(rd.salt)) != self.nsec3_params or len(name) < 2:
                continue
            digest = decode_hash_label(name.labels[0])
            if digest is not None and name.parent() == self.origin:
                chain[digest] = name
        return sorted(chain.items())

    def _denial_kind(self) -> str | None:
        apex = self.nodes.get(self.origin)
        has_param = apex is not None and apex.get_rdataset(self.rdclass, dns.rdatatype.NSEC3PARAM) is not None
        if self.nsec3_chain and (has_param or not self.nsec_owners):
            return "nsec3"
        if self.nsec_owners:
            return "nsec"
        return "nsec3" if self.nsec3_chain else None

    # -- lookups -----------------------------------------------------------------------------------------------

    def exists(self, name: dns.name.Name) -> bool:
        """True for names with data and for empty non-terminals (RFC 4592 section 2.2.2)."""
        return name in self.nodes or name in self.ents

    def rrset(self, name: dns.name.Name, rdtype: int, covers: int = NONE) -> dns.rrset.RRset | None:
        """The RRset stored at name, as an RRset ready for a message, cached because answers repeat."""
        key = (name, rdtype, covers)
        try:
            return self._rrsets[key]
        except KeyError:
            pass
        node = self.nodes.get(name)
        rds = node.get_rdataset(self.rdclass, rdtype, covers) if node is not None else None
        rrset = None
        if rds is not None:
            rrset = dns.rrset.RRset(name, rds.rdclass, rds.rdtype, rds.covers)
            rrset.update(rds)
            rrset.ttl = rds.ttl
        self._rrsets[key] = rrset
        return rrset

    def closest_encloser(self, name: dns.name.Name) -> dns.name.Name:
        """The deepest existing ancestor of a name that does not exist itself (RFC 4592 section 3.3.1)."""
        while name != self.origin:
            name = name.parent()
            if self.exists(name):
                return name
        return self.origin

    def nsec_covering(self, name: dns.name.Name) -> dns.name.Name | None:
        """The NSEC owner preceding name in canonical order (wrapping to the last), as a real server picks it."""
        if not self.nsec_owners:
            return None
        i = bisect_left(self.nsec_owners, name) - 1
        return self.nsec_owners[i]  # i == -1 wraps to the last owner, whose NSEC points back to the apex

    def nsec3_hash_of(self, name: dns.name.Name) -> bytes | None:
        if self.nsec3_params is None:
            return None
        return nsec3_hash(name, *self.nsec3_params)

    def nsec3_matching(self, name: dns.name.Name) -> dns.name.Name | None:
        digest = self.nsec3_hash_of(name)
        return self.nsec3_by_hash.get(digest) if digest is not None else None

    def nsec3_covering(self, name: dns.name.Name) -> dns.name.Name | None:
        """The NSEC3 owner whose hash precedes name's hash (wrapping to the last)."""
        digest = self.nsec3_hash_of(name)
        if digest is None or not self.nsec3_chain:
            return None
        i = bisect_left(self.nsec3_chain, (digest,)) - 1
        return self.nsec3_chain[i][1]
