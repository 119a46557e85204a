"""The signing engine shared by ``sign_zone`` (dnspython zone in and out) and ``sign_zone_file`` (text in and out).

Input is a dict of ``Node`` keyed by canonical owner wire form, each holding its RRsets as ``RRData`` (a TTL and a
list of items: rdata text or dnspython rdata; the caller's ``canon`` function turns items into canonical rdata wire).
``Engine.plan`` classifies names (apex, delegation point, occluded, ordinary), adds the DNSKEY RRset (and
NSEC3PARAM), builds the NSEC or NSEC3 chain and queues every piece of data to be signed as ``(key index, bytes)``
jobs. The caller signs the jobs (in process or in a pool, see ``pool.py``) and writes the result in its own form
using the ``sigs`` entries: ``(covered type, TTL, labels, key index, job index)``.
"""

from __future__ import annotations

import gc
import struct
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.NSEC3PARAM

from testbed.dnssec.crypto import SUPPORTED_ALGORITHMS
from testbed.dnssec.wire import (
    b32hex,
    bitmap_text,
    bitmap_wire,
    labels_from_wire,
    nsec3_digest,
    parent_wire,
    sigtime_text,
    wire_from_labels,
)

if TYPE_CHECKING:
    from testbed.dnssec.keys import Key
    from testbed.dnssec.options import SignOptions

SOA = dns.rdatatype.SOA
NS = dns.rdatatype.NS
DS = dns.rdatatype.DS
DNSKEY = dns.rdatatype.DNSKEY
CDS = dns.rdatatype.CDS
CDNSKEY = dns.rdatatype.CDNSKEY
NSEC = dns.rdatatype.NSEC
NSEC3 = dns.rdatatype.NSEC3
NSEC3PARAM = dns.rdatatype.NSEC3PARAM
RRSIG = dns.rdatatype.RRSIG
IN = dns.rdataclass.IN

# Types the signer makes itself; any copies in the input are dropped and rebuilt.
GENERATED_TYPES = frozenset({RRSIG, NSEC, NSEC3, NSEC3PARAM})
# At the apex these are signed by the key-signing keys (RFC 7344 4.1 for CDS/CDNSKEY).
KSK_TYPES = frozenset({DNSKEY, CDS, CDNSKEY})

# Node kinds. OCCLUDED is falsy on purpose: "if node.kind" means "authoritative".
OCCLUDED, NORMAL, APEX, CUT = 0, 1, 2, 3

_RRSIG_HEAD = struct.Struct("!HBBIIIH")
_RR_HEAD = struct.Struct("!HHIH")
_RR_FIXED = struct.Struct("!HHI")
_U16 = struct.Struct("!H")
_NSEC3_HEAD = struct.Struct("!BBHB")


class SigningError(ValueError):
    """The zone cannot be signed as asked (no SOA at the apex, an NSEC3 hash collision, no keys)."""


class RRData:
    """One RRset: TTL and items (rdata text or dnspython rdata, whatever the caller's ``canon`` understands)."""

    __slots__ = ("ttl", "items")

    def __init__(self, ttl: int, items: list) -> None:
        self.ttl = ttl
        self.items = items


class Node:
    """One owner name. ``labels`` is the RRSIG labels value (label count without the root and a leading '*')."""

    __slots__ = ("wire", "key", "labels", "ref", "rrsets", "kind", "sigs", "nsec")

    def __init__(self, wire: bytes, key: str, labels: int, ref: str | dns.name.Name) -> None:
        self.wire = wire
        self.key = key
        self.labels = labels
        self.ref = ref                      # the caller's handle for output (owner text or dns.name.Name)
        self.rrsets: dict[int, RRData] = {}
        self.kind = NORMAL
        # made on the first signature: most names of a TLD (insecure delegations) never get one
        self.sigs: list[tuple[int, int, int, int, int]] | tuple[()] = ()
        # NSEC rdata wire, next owner's ref, type bitmap text. Not the next Node itself: a ring of references would
        # keep the whole chain alive until a cyclic GC pass.
        self.nsec: tuple[bytes, object, str] | None = None


class Nsec3Record:
    __slots__ = ("label", "rdata", "text", "sigs")

    def __init__(self, label: str, rdata: bytes, text: str) -> None:
        self.label = label                  # base32hex of the owner hash, lowercase
        self.rdata = rdata
        self.text = text
        self.sigs: list[tuple[int, int, int, int, int]] | tuple[()] = ()


class KeyCtx:
    """A key as the engine uses it: its index in the job list, RRSIG header fields and signer name."""

    __slots__ = ("index", "key", "algorithm", "tag", "signer_wire", "inception", "expiration")

    def __init__(self, index: int, key: Key, inception: int, expiration: int) -> None:
        self.index = index
        self.key = key
        self.algorithm = key.algorithm
        self.tag = key.key_tag
        canonical = key.zone.canonicalize()
        if not canonical.is_absolute():
            raise SigningError(f"key zone {key.zone} is not an absolute name")
        self.signer_wire = wire_from_labels(canonical.labels[:-1])
        self.inception = inception & 0xFFFFFFFF
        self.expiration = expiration & 0xFFFFFFFF

    def header(self, rdtype: int, labels: int, ttl: int) -> bytes:
        """RRSIG RDATA up to and including the signer name (RFC 4034 3.1.8.1, signature field excluded)."""
        return _RRSIG_HEAD.pack(rdtype, self.algorithm, labels, ttl, self.expiration, self.inception,
                                self.tag) + self.signer_wire


def rrset_signed_data(owner_wire: bytes, rdtype: int, ttl: int, wires: Sequence[bytes], rdclass: int = IN) -> bytes:
    """The RR part of the signed data: ``wires`` (unique canonical rdata) in canonical order, RFC 4034 6.3."""
    if len(wires) == 1:
        rdata = wires[0]
        return owner_wire + _RR_HEAD.pack(rdtype, rdclass, ttl, len(rdata)) + rdata
    fixed = owner_wire + _RR_FIXED.pack(rdtype, rdclass, ttl)
    return b"".join([fixed + _U16.pack(len(rdata)) + rdata for rdata in sorted(wires)])


Canon = Callable[[int, list], list[bytes]]


class Engine:
    def __init__(self, origin_wire: bytes, nodes: dict[bytes, Node], keys: Sequence[Key], options: SignOptions,
                 canon: Canon) -> None:
        if not keys:
            raise SigningError("sign_zone needs at least one key")
        if options.denial not in ("nsec", "nsec3"):
            raise SigningError(f"denial must be 'nsec' or 'nsec3', not {options.denial!r}")
        if not 0 <= options.nsec3_iterations <= 0xFFFF:
            raise SigningError(f"NSEC3 iterations {options.nsec3_iterations} out of range 0..65535")
        if len(options.nsec3_salt) > 255:
            raise SigningError("NSEC3 salt longer than 255 octets")
        for key in keys:
            if key.algorithm not in SUPPORTED_ALGORITHMS:
                raise SigningError(f"key {key.key_tag} has unsupported algorithm {key.algorithm}")
        self.origin_wire = origin_wire
        self.nodes = nodes
        self.options = options
        self.canon = canon
        self.keys = [KeyCtx(i, key, options.inception, options.expiration) for i, key in enumerate(keys)]
        ksk = [k for k in self.keys if k.key.role in ("ksk", "csk")]
        zsk = [k for k in self.keys if k.key.role in ("zsk", "csk")]
        self.ksk = ksk or zsk
        self.zsk = zsk or ksk
        if not self.zsk:
            raise SigningError("no key has role 'ksk', 'zsk' or 'csk'")
        self.jobs: list[tuple[int, bytes]] = []
        self.order: list[Node] = []
        self.nsec3: list[Nsec3Record] = []
        self.negative_ttl = 0
        self._bitmaps: dict[tuple[int, ...], tuple[bytes, str]] = {}

    # -- helpers ---------------------------------------------------------------------------------------------------
    def _bitmap(self, types: tuple[int, ...]) -> tuple[bytes, str]:
        cached = self._bitmaps.get(types)
        if cached is None:
            unique = sorted(set(types))
            cached = self._bitmaps[types] = (bitmap_wire(unique), bitmap_text(unique))
        return cached

    def _unique_wires(self, rdtype: int, rr: RRData) -> list[bytes]:
        """Canonical rdata of ``rr``, duplicates removed (from the output too, so what is served is what is signed)."""
        wires = self.canon(rdtype, rr.items)
        if len(wires) > 1:
            unique = dict(zip(wires, rr.items, strict=True))
            if len(unique) != len(wires):
                rr.items = list(unique.values())
                wires = list(unique)
        return wires

    def _sign(self, owner_wire: bytes, labels: int, holder: Node | Nsec3Record, rdtype: int, ttl: int,
              wires: Sequence[bytes], keyset: list[KeyCtx]) -> None:
        body = rrset_signed_data(owner_wire, rdtype, ttl, wires)
        sigs = holder.sigs
        if not isinstance(sigs, list):
            sigs = holder.sigs = []
        jobs = self.jobs
        for ctx in keyset:
            sigs.append((rdtype, ttl, labels, ctx.index, len(jobs)))
            jobs.append((ctx.index, ctx.header(rdtype, labels, ttl) + body))

    # -- the plan --------------------------------------------------------------------------------------------------
    def plan(self) -> None:
        options = self.options
        apex = self.nodes.get(self.origin_wire)
        if apex is None or SOA not in apex.rrsets:
            raise SigningError("the zone has no SOA record at its apex")
        soa = apex.rrsets[SOA]
        soa_wire = self.canon(SOA, soa.items[:1])[0]
        minimum = struct.unpack("!I", soa_wire[-4:])[0]
        # RFC 4034 section 4 and RFC 9077: NSEC(3) TTL is the smaller of the SOA TTL and the SOA minimum field.
        self.negative_ttl = min(soa.ttl, minimum)

        dnskeys = [ctx.key.dnskey for ctx in self.keys]
        existing = apex.rrsets.get(DNSKEY)
        if existing is not None:
            existing.items.extend(dnskeys)
            if options.dnskey_ttl is not None:
                existing.ttl = options.dnskey_ttl
        else:
            ttl = options.dnskey_ttl if options.dnskey_ttl is not None else soa.ttl
            apex.rrsets[DNSKEY] = RRData(ttl, dnskeys)
        if options.denial == "nsec3":
            param = dns.rdtypes.ANY.NSEC3PARAM.NSEC3PARAM(IN, NSEC3PARAM, 1, 0, options.nsec3_iterations,
                                                          options.nsec3_salt)
            apex.rrsets[NSEC3PARAM] = RRData(0, [param])

        order = sorted(self.nodes.values(), key=_node_key)
        self.order = order
        apex.kind = APEX
        cut_prefix: str | None = None
        for node in order:
            if node is apex:
                continue
            if cut_prefix is not None:
                if node.key.startswith(cut_prefix):
                    node.kind = OCCLUDED
                    continue
                cut_prefix = None
            if NS in node.rrsets:
                node.kind = CUT
                cut_prefix = node.key + "\x00"
            else:
                node.kind = NORMAL

        ksk, zsk = self.ksk, self.zsk
        sign = self._sign
        unique = self._unique_wires
        for node in order:
            node.key = ""           # sorted and cut: the sort key is not needed again (1M names: 70 MB)
            kind = node.kind
            if not kind:
                continue
            if kind == CUT:
                rr = node.rrsets.get(DS)
                if rr is not None:
                    sign(node.wire, node.labels, node, DS, rr.ttl, unique(DS, rr), zsk)
                continue
            for rdtype, rr in node.rrsets.items():
                keyset = ksk if kind == APEX and rdtype in KSK_TYPES else zsk
                sign(node.wire, node.labels, node, rdtype, rr.ttl, unique(rdtype, rr), keyset)

        if options.denial == "nsec":
            self._nsec_chain(apex)
        else:
            self._nsec3_chain(apex)
        # from here on the names are in self.order; the lookup table would only hold memory while signing
        self.nodes = {}

    def _nsec_chain(self, apex: Node) -> None:
        auth = [node for node in self.order if node.kind]
        ttl = self.negative_ttl
        zsk = self.zsk
        sign = self._sign
        bitmap = self._bitmap
        count = len(auth)
        for index, node in enumerate(auth):
            following = auth[index + 1] if index + 1 < count else auth[0]
            if node.kind == CUT:
                types: tuple[int, ...] = (NS, DS, RRSIG, NSEC) if DS in node.rrsets else (NS, RRSIG, NSEC)
            else:
                types = (*node.rrsets, RRSIG, NSEC)
            bm_wire, bm_text = bitmap(types)
            rdata = following.wire + bm_wire
            node.nsec = (rdata, following.ref, bm_text)
            sign(node.wire, node.labels, node, NSEC, ttl, [rdata], zsk)

    def _nsec3_chain(self, apex: Node) -> None:
        options = self.options
        salt, iterations = options.nsec3_salt, options.nsec3_iterations
        opt_out = options.nsec3_opt_out
        nodes = self.nodes
        origin_wire = self.origin_wire
        entries: list[tuple[bytes, tuple[int, ...]]] = []
        empty_non_terminals: set[bytes] = set()
        for node in self.order:
            kind = node.kind
            if not kind:
                continue
            if kind == CUT:
                if DS in node.rrsets:
                    types: tuple[int, ...] = (NS, DS, RRSIG)
                elif opt_out:
                    continue            # RFC 5155 7.1: insecure delegations may be left out under opt-out
                else:
                    types = (NS,)
            else:
                types = (*node.rrsets, RRSIG)
            entries.append((nsec3_digest(node.wire, salt, iterations), types))
            if kind == APEX:
                continue
            # Empty non-terminals between this name and the apex (RFC 5155 7.1). Under opt-out, ENTs that lead only
            # to insecure delegations are never reached here, so they get no NSEC3, as 7.1 allows.
            parent = parent_wire(node.wire)
            while parent != origin_wire and parent not in nodes and parent not in empty_non_terminals:
                empty_non_terminals.add(parent)
                entries.append((nsec3_digest(parent, salt, iterations), ()))
                parent = parent_wire(parent)

        entries.sort()
        for index in range(1, len(entries)):
            if entries[index][0] == entries[index - 1][0]:
                raise SigningError(f"NSEC3 hash collision on {b32hex(entries[index][0])}; change the salt")
        flags = 1 if opt_out else 0
        head = _NSEC3_HEAD.pack(1, flags, iterations, len(salt)) + salt + b"\x14"
        salt_text = salt.hex().upper() if salt else "-"
        text_head = f"1 {flags} {iterations} {salt_text} "
        ttl = self.negative_ttl
        labels = apex.labels + 1
        zsk = self.zsk
        sign = self._sign
        bitmap = self._bitmap
        count = len(entries)
        records = self.nsec3
        labels_text = [b32hex(digest) for digest, _ in entries]
        for index, (_, types) in enumerate(entries):
            following = index + 1 if index + 1 < count else 0
            bm_wire, bm_text = bitmap(types)
            label = labels_text[index]
            rdata = head + entries[following][0] + bm_wire
            text = text_head + labels_text[following] + (" " + bm_text if bm_text else "")
            record = Nsec3Record(label, rdata, text)
            owner_wire = b"\x20" + label.encode("ascii") + origin_wire
            if owner_wire in nodes:
                raise SigningError(f"the NSEC3 owner {label} is already a name in the zone; change the salt")
            sign(owner_wire, labels, record, NSEC3, ttl, [rdata], zsk)
            records.append(record)


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: the signer makes hundreds of thousands of long-lived objects and no
    cycles, and each full collection would walk all of them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _node_key(node: Node) -> str:
    return node.key


def rrsig_text_prefix(ctx: KeyCtx, rdtype: int, labels: int, ttl: int, signer_text: str) -> str:
    """RRSIG presentation text up to the signature: ``TYPE alg labels ttl expiration inception tag signer ``."""
    type_text = dns.rdatatype.to_text(dns.rdatatype.RdataType(rdtype))
    return (f"{type_text} {ctx.algorithm} {labels} {ttl} {sigtime_text(ctx.expiration)} "
            f"{sigtime_text(ctx.inception)} {ctx.tag} {signer_text} ")


def rdata_from_wire(rdtype: int, wire: bytes) -> dns.rdata.Rdata:
    return dns.rdata.from_wire(IN, dns.rdatatype.RdataType(rdtype), wire, 0, len(wire))


def name_from_wire(wire: bytes) -> dns.name.Name:
    return dns.name.Name([*labels_from_wire(wire), b""])
