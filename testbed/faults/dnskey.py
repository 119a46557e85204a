"""KEY group: what a zone publishes in its DNSKEY RRset (fault-catalog.md 4.2).

Two kinds of fault live here, as in the catalog's pitfalls section:
* *clean* key faults (the ``keys`` layer): the key is made with the wrong field (flags, protocol) and the zone is
  signed and its DS computed with it, so the field is the only thing wrong;
* *edited* key faults (the ``signed`` layer): a published key is removed or altered after signing. Where the
  catalog's case keeps the DNSKEY RRset's own signature valid, it is made again over the changed RRset; where the
  case says that signature breaks too, it is left as it was.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import dns.dnssec
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.DNSKEY
import dns.rrset
from cryptography.hazmat.primitives.asymmetric import dsa, rsa

from testbed.build.zones import DELEGATION_TTL, BuildContext, ZoneBuild
from testbed.dnssec import Key
from testbed.dnssec.keys import key_from_private
from testbed.errors import ScenarioError
from testbed.faults.common import ZONE_PARAM, find_rrset, replace_rrsigs, replaced, resign, signed_zone, zone_of
from testbed.faults.registry import Param, fault, param, variant
from testbed.faults.signatures import (
    dnskey_signers,
    flip_bit,
    published_dnskeys,
    rrsigs_of,
    set_dnskeys,
    sign_with_private,
    signed_rrsets,
)
from testbed.scenario.model import Expectation

KEY_ROLES = ("all", "ksk", "zsk")
KEY_PARAM = "which keys: ksk (the keys the DS points at), zsk (the zone-signing keys) or all"


def _key_param(help: str, roles: tuple[str, ...] = KEY_ROLES) -> Param:
    return param(help, "choice", choices=roles)
RSA_ALGORITHMS = (5, 7, 8, 10)
# Algorithms RFC 8624 3.1 says MUST NOT be validated, that dnspython can still sign with: RSAMD5, DSA, DSA-NSEC3.
UNSUPPORTED_ALGORITHMS = (1, 3, 6)


def _role(params: dict[str, Any], default: str) -> str:
    role = str(params.get("key", default)).lower()
    if role not in KEY_ROLES:
        raise ScenarioError(f"unknown key {role!r}", fix=f"use one of: {', '.join(KEY_ROLES)}")
    return role


def _selected(key: Key, role: str) -> bool:
    """Whether ``key`` is one of the keys ``role`` names (a CSK is both a KSK and a ZSK)."""
    return role == "all" or key.role == role or key.role == "csk"


def _signed_build(ctx: BuildContext, params: dict[str, Any]) -> ZoneBuild:
    build = zone_of(ctx, params)
    if not build.is_signed:
        raise ScenarioError(f"zone {build.name} is unsigned, so it has no keys to break", fix="pick a signed zone")
    return build


def _publish_in_unsigned(build: ZoneBuild, dnskey: dns.rdtypes.ANY.DNSKEY.DNSKEY) -> None:
    """Publish a key as zone data: sign_zone keeps DNSKEYs already in the zone but signs only with build.keys."""
    node = build.unsigned.find_node(build.origin, create=True)
    rdataset = node.find_rdataset(dns.rdataclass.IN, dns.rdatatype.DNSKEY, create=True)
    rdataset.update_ttl(DELEGATION_TTL)
    rdataset.add(dnskey)


# ---- keys removed or altered after signing (signed layer) -------------------------------------------------------

@fault("dnskey-missing", group="dnskey", layer="signed", reference="RFC 4035 sections 5.2 and 5.3.1",
       summary="keys are taken out of the DNSKEY RRset: all of it (with its RRSIG), the KSK the DS points at, or the "
               "ZSK the data RRSIGs point at (the smaller RRset is then signed again by the key that signed it)",
       params={"zone": ZONE_PARAM, "key": _key_param(KEY_PARAM + " (default all)")}, required=("zone",),
       expect=Expectation("bogus", ede=(9,)))
def dnskey_missing(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = _signed_build(ctx, params)
    role = _role(params, "all")
    removed = {k.dnskey for k in build.keys if _selected(k, role)}
    # The NSEC at the apex still lists DNSKEY: the zone's data says the RRset exists, as it would after this mistake.
    set_dnskeys(build, [d for d in published_dnskeys(build) if d not in removed], signers=dnskey_signers(build))


@fault("dnskey-material-corrupt", group="dnskey", layer="signed", reference="RFC 4035 sections 5.2 and 5.3",
       summary="one bit of a published key's public key is flipped after signing: the DS (for a KSK) and the "
               "DNSKEY RRset's signature no longer fit",
       params={"zone": ZONE_PARAM, "key": _key_param("ksk or zsk", ("ksk", "zsk"))}, required=("zone", "key"),
       expect=Expectation("bogus", ede=(9, 6)))
def dnskey_material_corrupt(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = _signed_build(ctx, params)
    role = _role(params, "ksk")
    targets = {k.dnskey for k in build.keys if _selected(k, role)}
    zone = signed_zone(build)
    rdataset = zone.find_rdataset(build.origin, dns.rdatatype.DNSKEY)
    for dnskey in [d for d in rdataset if d in targets]:
        rdataset.remove(dnskey)
        rdataset.add(dnskey.replace(key=flip_bit(dnskey.key)))


@fault("dnskey-algorithm-changed", group="dnskey", layer="signed", reference="RFC 4035 sections 5.2 and 5.3.1",
       summary="the algorithm field of a published key is changed after signing (the DNSKEY RRset is signed again "
               "by its own keys), so no RRSIG (for a ZSK) or DS (for a KSK) matches that key any more",
       params={"zone": ZONE_PARAM, "key": _key_param("ksk or zsk", ("ksk", "zsk")),
               "algorithm": param("the new algorithm number (default 100, unassigned)", "int", low=0, high=255)},
       required=("zone", "key"), expect=Expectation("bogus", ede=(6, 9)))
def dnskey_algorithm_changed(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = _signed_build(ctx, params)
    role = _role(params, "zsk")
    algorithm = int(params.get("algorithm", 100))
    targets = {k.dnskey for k in build.keys if _selected(k, role)}
    if any(d.algorithm == algorithm for d in targets):
        raise ScenarioError(f"the {role} already has algorithm {algorithm}", fix="give another algorithm")
    signers = dnskey_signers(build)
    changed = [replaced(d, algorithm=algorithm) if d in targets else d for d in published_dnskeys(build)]
    set_dnskeys(build, changed, signers=signers)


@fault("zone-algorithm-unsupported", group="dnskey", layer="signed",
       reference="RFC 4035 section 5.2; RFC 6840 section 5.2; RFC 8624 section 3.1",
       summary="the whole zone is signed with an algorithm validators must not use (RSAMD5, DSA or DSA-NSEC3-SHA1) "
               "and the parent's DS names those keys: the zone is insecure, not bogus",
       params={"zone": ZONE_PARAM, "algorithm": param("1 (RSAMD5, default), 3 (DSA) or 6 (DSA-NSEC3-SHA1)", "int",
                                                      one_of=UNSUPPORTED_ALGORITHMS)},
       required=("zone",), expect=Expectation("insecure", ede=(1,)), cases=("KEY-14",))
def zone_algorithm_unsupported(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = _signed_build(ctx, params)
    algorithm = int(params.get("algorithm", 1))
    if algorithm not in UNSUPPORTED_ALGORITHMS:
        raise ScenarioError(f"algorithm {algorithm} is not one this fault can sign with",
                            fix=f"use one of: {', '.join(map(str, UNSUPPORTED_ALGORITHMS))}")
    parent = ctx.zone(build.plan.parent or ".")
    if build.plan.parent is None or parent.signed is None:
        raise ScenarioError(f"{build.name} needs a signed parent to carry its DS", fix="pick a zone below jp.")
    zone = signed_zone(build)
    assert build.options is not None
    inception, expiration = build.options.inception, build.options.expiration
    # every key of the zone gets a stand-in of the unsupported algorithm with the same flags and role
    stand_in: dict[tuple[int, int], tuple[Any, dns.rdtypes.ANY.DNSKEY.DNSKEY]] = {}
    for key in build.keys:
        # Any: dnspython signs with DSA keys, but its annotations leave DSA out of make_dnskey's key types
        private: Any = (rsa.generate_private_key(public_exponent=65537, key_size=1024) if algorithm == 1
                        else dsa.generate_private_key(key_size=1024))
        stand_in[(key.algorithm, key.key_tag)] = (private, dns.dnssec.make_dnskey(private.public_key(), algorithm,
                                                                                  flags=key.flags))
    for owner, covered in signed_rrsets(zone):
        rrset = find_rrset(zone, owner, covered)
        if covered == dns.rdatatype.DNSKEY:
            # the stand-ins replace the zone's keys in its DNSKEY RRset, and sign it in their place
            rrset = dns.rrset.from_rdata_list(owner, rrset.ttl, [d for _, d in stand_in.values()])
            node = zone.find_node(owner)
            node.delete_rdataset(dns.rdataclass.IN, dns.rdatatype.DNSKEY)
            node.replace_rdataset(rrset.to_rdataset())
        sigs = [sign_with_private(rrset, *stand_in[(s.algorithm, s.key_tag)], build.origin, inception, expiration)
                for s in rrsigs_of(zone, owner, covered) if (s.algorithm, s.key_tag) in stand_in]
        replace_rrsigs(zone, owner, covered, sigs)
    # the parent's DS now names the new KSKs, signed again by the parent as any DS is
    sep = [d for k, (_, d) in zip(build.keys, stand_in.values(), strict=True) if k.role in ("ksk", "csk")]
    build.ds_override = [dns.dnssec.make_ds(build.origin, d, dns.dnssec.DSDigest.make(digest),
                                            policy=dns.dnssec.allow_all_policy)
                         for d in sep for digest in build.plan.signing.ds_digests]
    node = parent.signed.find_node(build.origin)
    node.delete_rdataset(dns.rdataclass.IN, dns.rdatatype.DS)
    ds_set = node.find_rdataset(dns.rdataclass.IN, dns.rdatatype.DS, create=True)
    ds_set.update_ttl(DELEGATION_TTL)
    for ds in build.ds_override:
        ds_set.add(ds)
    assert parent.options is not None
    resign(parent, build.origin, dns.rdatatype.DS, inception=parent.options.inception,
           expiration=parent.options.expiration)


# ---- keys made with a wrong field, zone signed with them (keys layer) ------------------------------------------

@fault("dnskey-flags", group="dnskey", layer="keys",
       reference="RFC 4034 section 2.1.1; RFC 4035 section 5.3.1 (bullet 8); RFC 5011 section 2.1",
       summary="keys are made with other DNSKEY flags (0: no zone key bit; 256: SEP bit clear; 385: REVOKE) and the "
               "zone is signed and its DS computed with them, so only the flags are wrong; keep_ds leaves the DS "
               "naming the key as it was before",
       params={"zone": ZONE_PARAM, "key": _key_param(KEY_PARAM),
               "flags": param("the new flags value, e.g. 0, 256, 257 or 385", "int", low=0, high=65535),
               "keep_ds": "true: the parent keeps the DS of the keys as they were (default false)"},
       required=("zone", "key", "flags"), expect=Expectation("bogus", ede=(11,)))
def dnskey_flags(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = _signed_build(ctx, params)
    role = _role(params, "all")
    flags = int(params["flags"])
    if not 0 <= flags <= 0xFFFF:
        raise ScenarioError(f"flags {flags} is not a 16-bit value", fix="use e.g. 0, 256, 257 or 385")
    old_ds = build.ds_records()
    build.keys = [k.with_flags(flags) if _selected(k, role) else k for k in build.keys]
    if params.get("keep_ds", False):
        build.ds_override = old_ds


@fault("dnskey-protocol", group="dnskey", layer="keys", reference="RFC 4034 section 2.1.2",
       summary="keys are published with a Protocol field other than 3; the zone is signed and its DS computed with "
               "them, so only that field is wrong",
       params={"zone": ZONE_PARAM, "key": _key_param(KEY_PARAM + " (default all)"),
               "protocol": param("the value (default 4)", "int", low=0, high=255, exclude=(3,))},
       required=("zone",), expect=Expectation("bogus", ede=(6,)), cases=("KEY-11",))
def dnskey_protocol(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = _signed_build(ctx, params)
    role = _role(params, "all")
    protocol = int(params.get("protocol", 4))
    if protocol == 3 or not 0 <= protocol <= 255:
        raise ScenarioError(f"protocol {protocol} is not a wrong 8-bit value", fix="use e.g. 4")

    def with_protocol(key: Key) -> Key:
        return dataclasses.replace(key, dnskey=replaced(key.dnskey, protocol=protocol))

    build.keys = [with_protocol(k) if _selected(k, role) else k for k in build.keys]


@fault("dnskey-all-replaced", group="dnskey", layer="keys", reference="RFC 4035 section 5.2",
       summary="the zone is signed with a new KSK and ZSK while the parent's DS still names the old KSK "
               "(the dnssec-failed.org pattern)",
       params={"zone": ZONE_PARAM}, required=("zone",), expect=Expectation("bogus", ede=(9,)), cases=("KEY-17",))
def dnskey_all_replaced(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = _signed_build(ctx, params)
    old_ds = build.ds_records()
    build.keys = [ctx.keystore.get(build.name, k.algorithm, k.role, 1) for k in build.keys]
    build.ds_override = old_ds


def _tag_sum(data: bytes, start: int = 0) -> int:
    """RFC 4034 Appendix B's running sum over ``data`` placed at offset ``start`` of the rdata (before folding)."""
    return sum(b if (start + i) & 1 else b << 8 for i, b in enumerate(data))


def colliding_rsa_key(target: Key, moduli: int = 40) -> Key:
    """A real RSA key of ``target``'s algorithm, size and flags whose key tag equals ``target``'s.

    The key tag is a 16-bit checksum of the DNSKEY rdata. Keeping one modulus and choosing the 3-byte public
    exponent (bytes e2 e1 e0 add e2 + 256*e1 + e0 to the sum) reaches almost every tag at once, where fresh keys
    would take ~65536 tries. A modulus can still miss the tag: the checksum keeps e's residue modulo 3, 5 and 17
    (255 = 3*5*17), and an exponent sharing a factor with lambda(n) is no RSA key; then the next modulus is tried.
    """
    assert isinstance(target.private, rsa.RSAPrivateKey)
    # rdata: flags(2) protocol(1) algorithm(1) | exponent length(1) exponent(3) | modulus (RFC 3110)
    head = _tag_sum(target.flags.to_bytes(2, "big") + bytes([3, target.algorithm, 3]))
    tag = target.key_tag          # a property that hashes the rdata each time: read it once
    for _ in range(moduli):
        numbers = rsa.generate_private_key(public_exponent=65537, key_size=target.private.key_size).private_numbers()
        p, q, n = numbers.p, numbers.q, numbers.public_numbers.n
        lam = math.lcm(p - 1, q - 1)
        base = head + _tag_sum(n.to_bytes((n.bit_length() + 7) // 8, "big"), start=8)
        for e1 in range(256):
            for pair in range(2, 511):                           # pair = e2 + e0
                total = base + (e1 << 8) + pair
                if (total + (total >> 16)) & 0xFFFF != tag:
                    continue
                for e2 in range(max(1, pair - 255), min(255, pair - 1) + 1):
                    e = (e2 << 16) | (e1 << 8) | (pair - e2)
                    if not e & 1 or math.gcd(e, lam) != 1:
                        continue
                    d = pow(e, -1, lam)
                    private = rsa.RSAPrivateNumbers(p=p, q=q, d=d, dmp1=d % (p - 1), dmq1=d % (q - 1),
                                                    iqmp=rsa.rsa_crt_iqmp(p, q),
                                                    public_numbers=rsa.RSAPublicNumbers(e, n)).private_key()
                    key = key_from_private(target.zone, target.algorithm, target.role, private, flags=target.flags)
                    if key.key_tag == tag and key.dnskey != target.dnskey:
                        return key
    raise ScenarioError(f"found no RSA key with key tag {tag} in {moduli} moduli",
                        fix="run again: new keys are tried")


@fault("dnskey-keytag-collision", group="dnskey", layer="keys", reference="RFC 4034 Appendix B; RFC 4035 section 5.3.1",
       summary="a second, real key with the same algorithm and key tag as the zone's ZSK (or KSK) is published but "
               "signs nothing; validators must try every key with the tag",
       params={"zone": ZONE_PARAM, "key": _key_param("ksk or zsk (default zsk): whose tag the extra key shares",
                                                        ("ksk", "zsk"))},
       required=("zone",), expect=Expectation("secure"), cases=("KEY-18",))
def dnskey_keytag_collision(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = _signed_build(ctx, params)
    role = _role(params, "zsk")
    target = next((k for k in build.keys if _selected(k, role)), None)
    if target is None or target.algorithm not in RSA_ALGORITHMS:
        raise ScenarioError(f"dnskey-keytag-collision needs {build.name} signed with an RSA algorithm",
                            fix="set signing: {algorithm: 8} for the zone")
    _publish_in_unsigned(build, colliding_rsa_key(target).dnskey)


# ---- one id per catalog case (registry.variant): the bases above stay for scenarios that set the parameters ----

variant("dnskey-rrset-missing", of="dnskey-missing", preset={"key": "all"}, cases=("KEY-01",),
        summary="the zone publishes no DNSKEY RRset at all (nor its RRSIG) while the parent keeps its DS")
variant("dnskey-ksk-removed", of="dnskey-missing", preset={"key": "ksk"}, cases=("KEY-02",),
        summary="the KSK the DS points at is taken out of the DNSKEY RRset; the ZSK and every signature stay")
variant("dnskey-zsk-removed", of="dnskey-missing", preset={"key": "zsk"}, cases=("KEY-03",),
        expect=Expectation("bogus", ede=(6, 9)),
        summary="the ZSK is taken out of the DNSKEY RRset (which the KSK signs again); the data RRSIGs point at it")
variant("dnskey-ksk-material-corrupt", of="dnskey-material-corrupt", preset={"key": "ksk"}, cases=("KEY-06",),
        expect=Expectation("bogus", ede=(9,)), reference="RFC 4035 section 5.2",
        summary="one bit of the KSK's public key is flipped after signing: neither the DS nor the DNSKEY RRset's "
                "signature fits any more")
variant("dnskey-zsk-material-corrupt", of="dnskey-material-corrupt", preset={"key": "zsk"}, cases=("KEY-07",),
        expect=Expectation("bogus", ede=(6,)), reference="RFC 4035 section 5.3",
        summary="one bit of the ZSK's public key is flipped after signing (the DNSKEY RRset's signature breaks too)")
variant("dnskey-zsk-alg-field-changed", of="dnskey-algorithm-changed", preset={"key": "zsk"}, cases=("KEY-15",),
        expect=Expectation("bogus", ede=(6,)), reference="RFC 4035 section 5.3.1",
        summary="the ZSK's algorithm field is changed (default 100) after signing; the KSK signs the DNSKEY RRset "
                "again, so only the data RRSIGs lose their key")
variant("dnskey-ksk-alg-field-changed", of="dnskey-algorithm-changed", preset={"key": "ksk"}, cases=("KEY-16",),
        expect=Expectation("bogus", ede=(9,)), reference="RFC 4035 section 5.2",
        summary="the KSK's algorithm field is changed (default 100) after signing, so the parent's DS matches no key")
variant("dnskey-no-zone-bit-all", of="dnskey-flags", preset={"key": "all", "flags": 0}, cases=("KEY-08",),
        summary="every key has DNSKEY flags 0 (no Zone Key bit); the zone is signed and its DS computed with them")
variant("dnskey-no-zone-bit-zsk", of="dnskey-flags", preset={"key": "zsk", "flags": 0}, cases=("KEY-09",),
        summary="the ZSK has DNSKEY flags 0 (no Zone Key bit) and the zone is signed with it; the KSK is fine")
variant("dnskey-sep-bit-clear", of="dnskey-flags", preset={"key": "ksk", "flags": 256}, cases=("KEY-10",),
        expect=Expectation("secure"), reference="RFC 4034 section 2.1.1",
        summary="the KSK has flags 256 (SEP bit clear) and the DS matches it; validators must not act on SEP")
variant("dnskey-revoked-ksk-ds-matches", of="dnskey-flags", preset={"key": "ksk", "flags": 385}, cases=("KEY-12",),
        expect=Expectation("bogus", ede=(6, 9)), reference="RFC 5011 section 2.1",
        summary="the KSK has the REVOKE bit (flags 385), still signs the DNSKEY RRset, and the DS is made to match it")
variant("dnskey-revoked-ksk-stale-ds", of="dnskey-flags", preset={"key": "ksk", "flags": 385, "keep_ds": True},
        cases=("KEY-13",), expect=Expectation("bogus", ede=(9,)), reference="RFC 5011 section 2.1; RFC 4034 Appendix B",
        summary="the KSK is revoked in place (flags 385, so a new key tag); the parent's DS still names it as it was")
