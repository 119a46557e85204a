"""DS group: what the parent says about a child's keys (fault-catalog.md 4.3).

Most faults here act at the "keys" layer: they set the DS records the parent will publish (``ds_override``) before
anything is signed, so the parent is signed over exactly the broken DS set and its NSEC/NSEC3 bitmap agrees with it.
Only the faults that break the parent's signature over the DS (DS-13, DS-14) act on the signed parent.

The helpers at the top are shared with the delegation, trust-anchor, rollover and CDS groups.
"""

from __future__ import annotations

from typing import Any

import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.DS

from testbed.build.zones import BuildContext, ZoneBuild
from testbed.dnssec import Key, make_ds
from testbed.errors import ScenarioError
from testbed.faults.common import ZONE_PARAM, replace_rrsigs, replaced, signed_zone, zone_of
from testbed.faults.registry import fault, param, variant
from testbed.scenario.model import Expectation

# KeyStore slots beyond the zone's own keys (slot 0). Taken from the run's KeyStore, so a scenario run twice, or two
# scenarios of one run, see the same "next" key: trust anchors built from them stay put and resolvers need no restart.
NEXT_KEY = 1      # the key a rollover moves to
DECOY_KEY = 2     # a key that is never published anywhere: a DS or anchor for it matches nothing
_BOGUS_DS = Expectation("bogus", ede=(9,))
_CHILD = {"zone": "the child zone whose DS in its parent is broken, e.g. example.jp."}


# ---- helpers shared by the DS, delegation, trust-anchor, rollover and CDS groups --------------------------------

def signed_child(ctx: BuildContext, params: dict[str, Any]) -> ZoneBuild:
    """The zone named by ``params["zone"]``; it must be signed and have a parent (it is the child of a DS fault)."""
    build = zone_of(ctx, params)
    if not build.is_signed or not build.keys:
        raise ScenarioError(f"zone {build.name} is unsigned, so it has no DS or keys to break",
                            fix="pick a signed zone, e.g. example.jp.")
    if build.plan.parent is None:
        raise ScenarioError("the root has no parent and so no DS", fix="pick a zone below the root, e.g. example.jp.")
    return build


def parent_of(ctx: BuildContext, build: ZoneBuild) -> ZoneBuild:
    assert build.plan.parent is not None
    return ctx.zones[build.plan.parent]


def extra_key(ctx: BuildContext, build: ZoneBuild, role: str, slot: int, algorithm: int | None = None) -> Key:
    """Another key of ``build``'s zone from the run's KeyStore (``NEXT_KEY``, ``DECOY_KEY``)."""
    alg = build.plan.signing.algorithm if algorithm is None else algorithm
    return ctx.keystore.get(build.name, alg, role, slot)


def ds_for(keys: list[Key], digests: tuple[int, ...]) -> list[dns.rdtypes.ANY.DS.DS]:
    return [make_ds(key, digest) for key in keys for digest in digests]


def with_ds_fields(ds: dns.rdtypes.ANY.DS.DS, *, key_tag: int | None = None, algorithm: int | None = None,
                   digest_type: int | None = None, digest: bytes | None = None) -> dns.rdtypes.ANY.DS.DS:
    """A copy of a DS with some of its four fields replaced (dnspython rdata are immutable)."""
    return dns.rdtypes.ANY.DS.DS(
        dns.rdataclass.IN, dns.rdatatype.DS,
        ds.key_tag if key_tag is None else key_tag,
        ds.algorithm if algorithm is None else algorithm,
        ds.digest_type if digest_type is None else digest_type,
        ds.digest if digest is None else digest)


def flip_last_bit(data: bytes) -> bytes:
    """The same bytes with the lowest bit of the last byte flipped: one wrong bit, the length unchanged."""
    if not data:
        raise ValueError("nothing to flip in empty data")
    return data[:-1] + bytes([data[-1] ^ 0x01])


def ds_text(owner: str, ds: dns.rdtypes.ANY.DS.DS) -> str:
    """A DS as the trust-anchor texts the resolver adapters take (``". IN DS 12345 13 2 ABCD..."``)."""
    return f"{owner} IN DS {ds.to_text()}"


def digests_of(build: ZoneBuild) -> tuple[int, ...]:
    return build.plan.signing.ds_digests


# ---- DS-01 .. DS-16 -----------------------------------------------------------------------------------------

@fault("ds-missing", group="ds", layer="keys", reference="RFC 4035 section 5.2",
       summary="the child is signed but its parent publishes no DS, and proves that with NSEC/NSEC3",
       params=_CHILD, required=("zone",), expect=Expectation("insecure"), cases=("DS-01",))
def ds_missing(ctx: BuildContext, params: dict[str, Any]) -> None:
    signed_child(ctx, params).ds_override = []


@fault("ds-digest-mismatch", group="ds", layer="keys", reference="RFC 4035 section 5.2",
       summary="the parent's DS names the child's KSK (key tag, algorithm) but its digest is wrong by one bit",
       params={"zone": ZONE_PARAM}, required=("zone",), expect=_BOGUS_DS, cases=("DS-02",))
def ds_digest_mismatch(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = signed_child(ctx, params)
    build.ds_override = [with_ds_fields(ds, digest=flip_last_bit(ds.digest))
                         for ds in ds_for(build.sep_keys(), digests_of(build))]


@fault("ds-keytag-mismatch", group="ds", layer="keys", reference="RFC 4035 section 5.2",
       summary="the parent's DS has the right digest of the child's KSK but a key tag no key of the child has",
       params=_CHILD, required=("zone",), expect=_BOGUS_DS, cases=("DS-03",))
def ds_keytag_mismatch(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = signed_child(ctx, params)
    used = {key.key_tag for key in build.keys}
    out = []
    for ds in ds_for(build.sep_keys(), digests_of(build)):
        tag = (ds.key_tag + 1) % 65536
        while tag in used:              # a tag that really points at no key of the zone
            tag = (tag + 1) % 65536
        out.append(with_ds_fields(ds, key_tag=tag))
    build.ds_override = out


def _relabel_algorithm(ctx: BuildContext, params: dict[str, Any], default: int) -> None:
    build = signed_child(ctx, params)
    algorithm = int(params.get("algorithm", default))
    if algorithm == build.plan.signing.algorithm:
        raise ScenarioError(f"algorithm {algorithm} is the zone's own, so the DS would not be wrong",
                            fix="give another algorithm number")
    build.ds_override = [with_ds_fields(ds, algorithm=algorithm) for ds in ds_for(build.sep_keys(), digests_of(build))]


@fault("ds-alg-mismatch", group="ds", layer="keys", reference="RFC 4035 section 5.2",
       summary="the parent's DS says another supported algorithm (default 8, RSASHA256) than the child's KSK has",
       params={**_CHILD, "algorithm": param("the (supported) algorithm number the DS claims, default 8", "int",
                                              low=0, high=255)},
       required=("zone",), expect=_BOGUS_DS, cases=("DS-04",))
def ds_alg_mismatch(ctx: BuildContext, params: dict[str, Any]) -> None:
    _relabel_algorithm(ctx, params, 8)


@fault("ds-alg-unassigned", group="ds", layer="keys", reference="RFC 4035 section 5.2; RFC 6840 section 5.2",
       summary="the parent's only DS names an unassigned or reserved algorithm (default 100), so the child is "
               "insecure",
       params={**_CHILD, "algorithm": param("the unassigned/reserved algorithm number the DS claims, default 100",
                                              "int", low=0, high=255)},
       required=("zone",), expect=Expectation("insecure", ede=(1,)), cases=("DS-05",))
def ds_alg_unassigned(ctx: BuildContext, params: dict[str, Any]) -> None:
    _relabel_algorithm(ctx, params, 100)


@fault("ds-digest-type-unsupported", group="ds", layer="keys", reference="RFC 4035 section 5.2; RFC 6840 section 5.2",
       summary="the parent's only DS uses a digest type validators do not implement (default 100; 3 = GOST)",
       params={**_CHILD,
               "digest_type": param("the digest type number the DS claims, default 100 (3 for GOST R 34.11-94)",
                                                "int", low=1, high=255, exclude=(1, 2, 4))},
       required=("zone",), expect=Expectation("insecure", ede=(2,)), cases=())
def ds_digest_type_unsupported(ctx: BuildContext, params: dict[str, Any]) -> None:
    # The digest bytes are the key's SHA-256 digest under the new type number. We have no GOST implementation, and
    # a validator that does not implement the type never computes or compares the bytes (RFC 4035 5.2: such a DS
    # is treated as absent); one that does would call the DS bogus, which the result would show.
    build = signed_child(ctx, params)
    digest_type = int(params.get("digest_type", 100))
    if digest_type in (1, 2, 4):
        raise ScenarioError(f"digest type {digest_type} is a supported one", fix="use 3 (GOST) or an unassigned type")
    build.ds_override = [with_ds_fields(ds, digest_type=digest_type) for ds in ds_for(build.sep_keys(), (2,))]


@fault("ds-sha1-only", group="ds", layer="keys", reference="RFC 8624 section 3.3",
       summary="the parent's DS is a correct SHA-1 (digest type 1) DS and nothing else",
       params=_CHILD, required=("zone",), expect=Expectation("secure"), cases=("DS-08",))
def ds_sha1_only(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = signed_child(ctx, params)
    build.ds_override = ds_for(build.sep_keys(), (1,))


@fault("ds-sha256-bad-sha1-good", group="ds", layer="keys", reference="RFC 4509 section 3",
       summary="two DS for the KSK: the SHA-256 one is wrong, the SHA-1 one is right (SHA-1 must then be ignored)",
       params=_CHILD, required=("zone",), expect=_BOGUS_DS, cases=("DS-09",))
def ds_sha256_bad_sha1_good(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = signed_child(ctx, params)
    keys = build.sep_keys()
    build.ds_override = ds_for(keys, (1,)) + [with_ds_fields(ds, digest=flip_last_bit(ds.digest))
                                              for ds in ds_for(keys, (2,))]


@fault("ds-extra-for-absent-key", group="ds", layer="keys", reference="RFC 4035 section 5.2",
       summary="besides the right DS the parent has a DS for a key the child does not publish (yet)",
       params=_CHILD, required=("zone",), expect=Expectation("secure"), cases=("DS-10",))
def ds_extra_for_absent_key(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = signed_child(ctx, params)
    prepublished = extra_key(ctx, build, "ksk", NEXT_KEY)
    build.ds_override = ds_for(build.sep_keys(), digests_of(build)) + ds_for([prepublished], digests_of(build))


@fault("ds-bad-plus-unsupported", group="ds", layer="keys", reference="RFC 4035 section 5.2",
       summary="a DS of a supported algorithm with a wrong digest, next to a DS of an unassigned algorithm (100)",
       params=_CHILD, required=("zone",), expect=_BOGUS_DS, cases=("DS-11",))
def ds_bad_plus_unsupported(ctx: BuildContext, params: dict[str, Any]) -> None:
    # The unsupported DS does not make the child insecure: a supported DS is present, so it must validate.
    build = signed_child(ctx, params)
    good = ds_for(build.sep_keys(), digests_of(build))
    build.ds_override = ([with_ds_fields(ds, digest=flip_last_bit(ds.digest)) for ds in good]
                         + [with_ds_fields(ds, algorithm=100) for ds in good])


@fault("ds-child-unsigned", group="ds", layer="keys", reference="RFC 4035 section 5.2",
       summary="the parent has a DS for the child, but the child serves its zone unsigned",
       params=_CHILD, required=("zone",), expect=_BOGUS_DS, cases=("DS-12",))
def ds_child_unsigned(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = signed_child(ctx, params)
    build.ds_override = ds_for(build.sep_keys(), digests_of(build))
    build.keys = []                 # sign_all leaves a zone without keys unsigned


@fault("ds-rrsig-bad", group="ds", layer="signed", reference="RFC 4035 section 5.2",
       summary="the parent's RRSIG over the child's DS has one bit of its signature flipped",
       params=_CHILD, required=("zone",), expect=Expectation("bogus", ede=(6,)), cases=("DS-13",))
def ds_rrsig_bad(ctx: BuildContext, params: dict[str, Any]) -> None:
    owner, parent = _ds_owner_and_parent(ctx, params)
    zone = signed_zone(parent)
    sigs = zone.get_rdataset(owner, dns.rdatatype.RRSIG, dns.rdatatype.DS)
    if sigs is None:
        raise ScenarioError(f"zone {parent.name} has no RRSIG over the DS at {owner}", fix="pick a signed parent")
    replace_rrsigs(zone, owner, dns.rdatatype.DS, [replaced(sig, signature=flip_last_bit(sig.signature))
                                                   for sig in sigs])


@fault("ds-rrsig-missing", group="ds", layer="signed", reference="RFC 4035 section 5.2",
       summary="the parent serves the child's DS without its RRSIG",
       params=_CHILD, required=("zone",), expect=Expectation("bogus", ede=(10,)), cases=("DS-14",))
def ds_rrsig_missing(ctx: BuildContext, params: dict[str, Any]) -> None:
    owner, parent = _ds_owner_and_parent(ctx, params)
    replace_rrsigs(signed_zone(parent), owner, dns.rdatatype.DS, [])


def _ds_owner_and_parent(ctx: BuildContext, params: dict[str, Any]) -> tuple[dns.name.Name, ZoneBuild]:
    build = signed_child(ctx, params)
    parent = parent_of(ctx, build)
    zone = signed_zone(parent)
    if zone.get_rdataset(build.origin, dns.rdatatype.RRSIG, dns.rdatatype.DS) is None:
        raise ScenarioError(f"{parent.name} has no signed DS for {build.name}",
                            fix="do not combine this fault with one that removes the DS")
    return build.origin, parent


@fault("ds-for-non-signing-key", group="ds", layer="keys", reference="RFC 4035 section 5.2",
       summary="the parent's DS matches the child's ZSK, a key in the DNSKEY RRset that does not sign it",
       params=_CHILD, required=("zone",), expect=_BOGUS_DS, cases=("DS-15",))
def ds_for_non_signing_key(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = signed_child(ctx, params)
    zsks = [key for key in build.keys if key.role == "zsk"]
    if not zsks:
        raise ScenarioError(f"zone {build.name} has no separate ZSK (one combined key signs everything)",
                            fix="sign the zone with keys: ksk-zsk")
    build.ds_override = ds_for(zsks, digests_of(build))


@fault("ds-for-key-without-zone-bit", group="ds", layer="keys", reference="RFC 4034 section 2.1.1; RFC 4035 "
       "section 5.2", summary="the child's KSK is published with flags 0 (no Zone Key bit), signs the DNSKEY RRset "
       "and the parent's DS matches it exactly", params=_CHILD, required=("zone",),
       expect=Expectation("bogus", ede=(11, 9)), cases=("DS-16",))
def ds_for_key_without_zone_bit(ctx: BuildContext, params: dict[str, Any]) -> None:
    # The key keeps its KSK role, so the signer still signs the DNSKEY RRset with it and the DS is computed from the
    # flags-0 DNSKEY as published: the zone bit is the only thing wrong.
    build = signed_child(ctx, params)
    if not any(key.role == "ksk" for key in build.keys):
        raise ScenarioError(f"zone {build.name} has no separate KSK", fix="sign the zone with keys: ksk-zsk")
    build.keys = [key.with_flags(0) if key.role == "ksk" else key for key in build.keys]

# One id per catalog case, so `testbed faults` names each of them.
variant("ds-digest-unassigned", of="ds-digest-type-unsupported", preset={"digest_type": 100}, cases=("DS-06",),
        summary="the parent's only DS uses an unassigned digest type (100): the child is insecure")
variant("ds-digest-gost", of="ds-digest-type-unsupported", preset={"digest_type": 3}, cases=("DS-07",),
        summary="the parent's only DS uses GOST R 34.11-94 (digest 3), which none of the resolvers implement")
