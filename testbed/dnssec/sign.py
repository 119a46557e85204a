"""Signing: one RRset (``sign_rrset``, also the tool for fault injection) or a whole zone (``sign_zone``).

``sign_zone`` does exactly what it is given. Keys are published and used as told, whatever their flags (no zone bit,
REVOKE set); which RRsets a key signs follows its ``role``. It fixes nothing in the zone data either; the only input
it drops is signer-made data (RRSIG, NSEC, NSEC3, NSEC3PARAM), which it rebuilds. DNSKEY records already in the
zone stay, next to the keys' own. Only NS cuts make data non-authoritative: anything below a DNAME (invalid per
RFC 6672) is signed as given.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import dns.name
import dns.node
import dns.rdata
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rdtypes.ANY.RRSIG
import dns.rrset
import dns.zone

from testbed.dnssec.crypto import make_signer
from testbed.dnssec.engine import (
    GENERATED_TYPES,
    IN,
    NSEC,
    NSEC3,
    RRSIG,
    Canon,
    Engine,
    KeyCtx,
    Node,
    RRData,
    SigningError,
    gc_paused,
    rdata_from_wire,
    rrset_signed_data,
)
from testbed.dnssec.keys import Key
from testbed.dnssec.options import SignOptions
from testbed.dnssec.pool import sign_jobs
from testbed.dnssec.wire import b32hex, key_from_labels, nsec3_digest, wire_from_labels

_RRSIG_HEAD = struct.Struct("!HBBIIIH")


def _canonical_labels(name: dns.name.Name) -> list[bytes]:
    return [label.lower() for label in name.labels[:-1]]


def sign_rrset(rrset: dns.rrset.RRset, key: Key, inception: int, expiration: int, *, origin_ttl: int | None = None,
               signer: dns.name.Name | None = None, labels: int | None = None) -> dns.rdtypes.ANY.RRSIG.RRSIG:
    """One RRSIG by ``key`` over ``rrset`` in canonical form (RFC 4034 3.1.8.1, 6.2, 6.3).

    The overrides are for fault injection and go into the signed data as well as the RRSIG, so the signature is
    cryptographically valid for what the RRSIG claims: ``origin_ttl`` (original TTL), ``signer`` (signer name;
    default ``key.zone``), ``labels`` (fewer labels than the owner has makes a wildcard-expansion signature: the
    signed owner becomes ``*.`` plus the rightmost ``labels`` labels, RFC 4035 5.3.2). A relative owner name is
    taken relative to ``key.zone``.
    """
    owner = rrset.name if rrset.name.is_absolute() else rrset.name.derelativize(key.zone)
    owner_labels = _canonical_labels(owner)
    total = len(owner_labels)
    count = labels if labels is not None else total - (1 if total and owner_labels[0] == b"*" else 0)
    if 0 <= count < total:
        owner_wire = wire_from_labels([b"*", *owner_labels[total - count:]])
    else:
        owner_wire = wire_from_labels(owner_labels)
    ttl = rrset.ttl if origin_ttl is None else origin_ttl
    signer_name = key.zone if signer is None else signer
    if not signer_name.is_absolute():
        raise ValueError(f"signer name {signer_name} must be absolute")
    wires = list(dict.fromkeys(rdata.to_digestable(key.zone) for rdata in rrset))
    inception &= 0xFFFFFFFF
    expiration &= 0xFFFFFFFF
    tag = key.key_tag
    data = (_RRSIG_HEAD.pack(rrset.rdtype, key.algorithm, count, ttl, expiration, inception, tag)
            + wire_from_labels(_canonical_labels(signer_name))
            + rrset_signed_data(owner_wire, rrset.rdtype, ttl, wires, rrset.rdclass))
    signature = make_signer(key.algorithm, key.private)(data)
    return dns.rdtypes.ANY.RRSIG.RRSIG(rrset.rdclass, RRSIG, rrset.rdtype, key.algorithm, count, ttl, expiration,
                                       inception, tag, signer_name, signature)


def nsec3_hash(name: str | dns.name.Name, salt: bytes, iterations: int) -> str:
    """RFC 5155 hash of ``name`` (relative text is taken from the root) in lowercase base32hex, no padding."""
    if not isinstance(name, dns.name.Name):
        name = dns.name.from_text(name)
    if not name.is_absolute():
        name = name.derelativize(dns.name.root)
    return b32hex(nsec3_digest(wire_from_labels(_canonical_labels(name)), salt, iterations))


def _digestable(origin: dns.name.Name) -> Canon:
    def canon(rdtype: int, items: list) -> list[bytes]:
        return [item.to_digestable(origin) for item in items]

    return canon


def zone_nodes(zone: dns.zone.Zone) -> tuple[bytes, dict[bytes, Node]]:
    """Engine nodes for a dnspython zone: absolute owners, rdata made absolute, signer-made types dropped."""
    origin = zone.origin
    if origin is None:
        raise SigningError("the zone has no origin")
    origin_wire = wire_from_labels(_canonical_labels(origin))
    nodes: dict[bytes, Node] = {}
    for name, znode in zone.nodes.items():
        owner = name if name.is_absolute() else name.derelativize(origin)
        labels = _canonical_labels(owner)
        wire = wire_from_labels(labels)
        count = len(labels) - (1 if labels and labels[0] == b"*" else 0)
        node = Node(wire, key_from_labels(labels), count, owner)
        for rdataset in znode.rdatasets:
            rdtype = rdataset.rdtype
            if rdtype in GENERATED_TYPES or not len(rdataset):
                continue
            if rdataset.rdclass != IN:
                raise SigningError(f"{owner} {dns.rdatatype.to_text(rdtype)}: only class IN can be signed")
            items = list(rdataset)
            if zone.relativize:
                items = [rdata_from_wire(rdtype, item.to_wire(origin=origin) or b"") for item in items]
            node.rrsets[rdtype] = RRData(rdataset.ttl, items)
        if node.rrsets:
            if wire in nodes:
                raise SigningError(f"{owner} appears twice in the zone")
            nodes[wire] = node
    return origin_wire, nodes


def rrsig_rdata(ctx: KeyCtx, entry: tuple[int, int, int, int, int], signature: bytes) -> dns.rdata.Rdata:
    rdtype, ttl, labels, _, _ = entry
    return dns.rdtypes.ANY.RRSIG.RRSIG(IN, RRSIG, rdtype, ctx.algorithm, labels, ttl, ctx.expiration, ctx.inception,
                                       ctx.tag, ctx.key.zone, signature)


def _add(node: dns.node.Node, rdtype: int, ttl: int, items: Sequence[dns.rdata.Rdata], covers: int = 0) -> None:
    rdataset = dns.rdataset.Rdataset(IN, dns.rdatatype.RdataType(rdtype), dns.rdatatype.RdataType(covers))
    rdataset.update_ttl(ttl)
    for item in items:
        rdataset.add(item)
    node.rdatasets.append(rdataset)


def sign_zone(zone: dns.zone.Zone, keys: list[Key], options: SignOptions, *, workers: int = 1) -> dns.zone.Zone:
    """A new signed zone with absolute names (``relativize=False``); the input zone is not changed.

    Adds the DNSKEY RRset (every key) and the NSEC chain, or the NSEC3 chain and NSEC3PARAM; signs DNSKEY, CDS and
    CDNSKEY with the KSK/CSK set and every other authoritative RRset with the ZSK/CSK set (with no ZSK the KSKs sign
    everything, and the other way round). NS at a delegation is not signed, DS is; names below a delegation get
    neither RRSIG nor NSEC/NSEC3. ``workers`` > 1 spreads big zones over that many processes (see ``pool.py``).
    """
    with gc_paused():
        return _sign_zone(zone, keys, options, workers)


def _sign_zone(zone: dns.zone.Zone, keys: list[Key], options: SignOptions, workers: int) -> dns.zone.Zone:
    origin_wire, nodes = zone_nodes(zone)
    origin = zone.origin
    assert origin is not None
    engine = Engine(origin_wire, nodes, keys, options, _digestable(origin))
    engine.plan()
    signatures, _ = sign_jobs(engine.jobs, [(ctx.algorithm, ctx.key.private) for ctx in engine.keys], workers)
    ctxs = engine.keys

    def add_sigs(target: dns.node.Node, entries: Sequence[tuple[int, int, int, int, int]]) -> None:
        by_type: dict[int, list[dns.rdata.Rdata]] = {}
        ttls: dict[int, int] = {}
        for entry in entries:
            by_type.setdefault(entry[0], []).append(rrsig_rdata(ctxs[entry[3]], entry, signatures[entry[4]]))
            ttls[entry[0]] = entry[1]
        for covered, rdatas in by_type.items():
            _add(target, RRSIG, ttls[covered], rdatas, covered)

    out = dns.zone.Zone(origin, zone.rdclass, relativize=False)
    for node in engine.order:
        target = dns.node.Node()
        for rdtype, rr in node.rrsets.items():
            _add(target, rdtype, rr.ttl, rr.items)
        if node.nsec is not None:
            _add(target, NSEC, engine.negative_ttl, [rdata_from_wire(NSEC, node.nsec[0])])
        add_sigs(target, node.sigs)
        assert isinstance(node.ref, dns.name.Name)      # zone_nodes keeps the names as refs
        out.nodes[node.ref] = target
    for record in engine.nsec3:
        target = dns.node.Node()
        _add(target, NSEC3, engine.negative_ttl, [rdata_from_wire(NSEC3, record.rdata)])
        add_sigs(target, record.sigs)
        out.nodes[dns.name.Name([record.label.encode("ascii"), *origin.labels])] = target
    return out
