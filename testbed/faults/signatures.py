"""SIG group: signatures that are expired, not yet valid, missing, tampered with or made by the wrong key
(fault-catalog.md 4.1).

Every fault here breaks exactly one thing and leaves the rest of the zone valid: where a change would also break a
signature it does not mean to break, that signature is made again (with the zone's own keys, over the zone's own
window), and where the fault *is* a broken signature nothing repairs it.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import dns.dnssec
import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.DNSKEY
import dns.rdtypes.ANY.RRSIG
import dns.rrset
import dns.zone
from cryptography.hazmat.primitives.asymmetric import rsa

from testbed.build.zones import DELEGATION_TTL, BuildContext, ZoneBuild
from testbed.dnssec import Key, generate_key, make_ds, sign_rrset
from testbed.dnssec.crypto import SUPPORTED_ALGORITHMS
from testbed.errors import ScenarioError
from testbed.faults.common import (
    RRSET_PARAM,
    ZONE_PARAM,
    find_rrset,
    origin_of,
    parse_rrset_ref,
    replace_rrsigs,
    replaced,
    resign,
    signed_zone,
    zone_of,
    zone_signing_keys,
)
from testbed.faults.registry import Param, fault, param, variant
from testbed.scenario.model import Expectation

DAY = 86400
# Validators forgive some clock skew at both ends of the window: Unbound allows 10% of the validity period,
# capped at one day (val-sig-skew-max). Two days past either end is wrong for every resolver.
SKEW_BEYOND = 2 * DAY
ALL = "all"
RRSET_OR_ALL = RRSET_PARAM + "; @ stands for the zone apex (@/DNSKEY); or 'all' for every RRSIG of the zone"
_PARAMS = {"zone": ZONE_PARAM, "rrset": RRSET_PARAM}
_PARAMS_OR_ALL: dict[str, str | Param] = {"zone": ZONE_PARAM, "rrset": param(RRSET_OR_ALL, "rrset", all_word=True)}
# RFC 8624 3.1: RSAMD5 MUST NOT be used for validation, so every validator treats it as unsupported.
UNSUPPORTED_ALGORITHM = int(dns.dnssec.Algorithm.RSAMD5)

RrsetRef = tuple[dns.name.Name, dns.rdatatype.RdataType]


# ---- helpers the DNSKEY and TIME groups share ------------------------------------------------------------------

def signed_rrsets(zone: dns.zone.Zone) -> list[RrsetRef]:
    """(owner, covered type) of every RRset that carries RRSIGs, in zone order."""
    out: list[RrsetRef] = []
    for name, node in zone.nodes.items():
        owner = name if name.is_absolute() else name.derelativize(origin_of(zone))
        out += [(owner, rds.covers) for rds in node.rdatasets if rds.rdtype == dns.rdatatype.RRSIG and len(rds)]
    return out


def rrsigs_of(zone: dns.zone.Zone, owner: dns.name.Name,
              covered: dns.rdatatype.RdataType) -> list[dns.rdtypes.ANY.RRSIG.RRSIG]:
    rdataset = zone.get_rdataset(owner, dns.rdatatype.RRSIG, covered)
    return list(rdataset) if rdataset is not None else []


def targets(build: ZoneBuild, rrset: str) -> list[RrsetRef]:
    """The RRsets a fault acts on: the one named (``@`` is the zone apex, as in a zone file, so one variant can
    name the DNSKEY RRset of whatever zone it is given), or with 'all' every signed RRset of the zone."""
    zone = signed_zone(build)
    text = rrset.strip()
    if text.lower() == ALL:
        return signed_rrsets(zone)
    if text.startswith("@/"):
        text = build.origin.to_text() + text[1:]
    owner, rdtype = parse_rrset_ref(text)
    find_rrset(zone, owner, rdtype)       # a clear error when the zone has no such RRset
    if not rrsigs_of(zone, owner, rdtype):
        raise ScenarioError(f"{owner}/{dns.rdatatype.to_text(rdtype)} in {build.name} has no RRSIG to change",
                            fix="name a signed RRset (NS at a delegation and glue are not signed)")
    return [(owner, rdtype)]


def keys_by_tag(build: ZoneBuild) -> dict[tuple[int, int], Key]:
    return {(k.algorithm, k.key_tag): k for k in build.keys}


def rewindow(build: ZoneBuild, refs: list[RrsetRef], inception: int, expiration: int) -> None:
    """Sign each RRset again with the keys that signed it, over another validity window; nothing else changes.

    Signatures by keys the zone does not hold (another fault's work) are left as they are.
    """
    zone = signed_zone(build)
    keys = keys_by_tag(build)
    for owner, covered in refs:
        rrset = find_rrset(zone, owner, covered)
        sigs = []
        for old in rrsigs_of(zone, owner, covered):
            key = keys.get((old.algorithm, old.key_tag))
            sigs.append(old if key is None else sign_rrset(rrset, key, inception, expiration, signer=old.signer,
                                                           labels=old.labels, origin_ttl=old.original_ttl))
        replace_rrsigs(zone, owner, covered, sigs)


def flip_bit(data: bytes) -> bytes:
    """``data`` with one bit of its middle byte flipped: a signature (or key) that no longer fits."""
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1:]


def set_dnskeys(build: ZoneBuild, dnskeys: list[dns.rdtypes.ANY.DNSKEY.DNSKEY], *, signers: list[Key]) -> None:
    """Publish exactly ``dnskeys`` at the apex and sign the RRset with ``signers`` over the zone's window (a key
    change that is not itself the fault must not leave a broken DNSKEY signature behind)."""
    zone = signed_zone(build)
    old = zone.get_rdataset(build.origin, dns.rdatatype.DNSKEY)
    ttl = old.ttl if old is not None else DELEGATION_TTL
    node = zone.find_node(build.origin)
    node.delete_rdataset(dns.rdataclass.IN, dns.rdatatype.DNSKEY)
    if dnskeys:
        rdataset = node.find_rdataset(dns.rdataclass.IN, dns.rdatatype.DNSKEY, create=True)
        rdataset.update_ttl(ttl)
        for dnskey in dnskeys:
            rdataset.add(dnskey)
    if not dnskeys or not signers:
        replace_rrsigs(zone, build.origin, dns.rdatatype.DNSKEY, [])
        return
    assert build.options is not None
    resign(build, build.origin, dns.rdatatype.DNSKEY, inception=build.options.inception,
           expiration=build.options.expiration, keys=signers)


def published_dnskeys(build: ZoneBuild) -> list[dns.rdtypes.ANY.DNSKEY.DNSKEY]:
    rdataset = signed_zone(build).get_rdataset(build.origin, dns.rdatatype.DNSKEY)
    return list(rdataset) if rdataset is not None else []


def dnskey_signers(build: ZoneBuild) -> list[Key]:
    """The zone's keys that sign its DNSKEY RRset now."""
    keys = keys_by_tag(build)
    sigs = rrsigs_of(signed_zone(build), build.origin, dns.rdatatype.DNSKEY)
    return [keys[(s.algorithm, s.key_tag)] for s in sigs if (s.algorithm, s.key_tag) in keys]


def sign_with_private(rrset: dns.rrset.RRset, private: Any, dnskey: dns.rdtypes.ANY.DNSKEY.DNSKEY,
                      signer: dns.name.Name, inception: int, expiration: int) -> dns.rdtypes.ANY.RRSIG.RRSIG:
    """An RRSIG by a key of an algorithm our own signer refuses to make (RSAMD5, DSA): dnspython still makes them,
    and a validator must be shown a real signature of that kind, not random bytes."""
    return dns.dnssec.sign(rrset, private, signer, dnskey, inception=inception, expiration=expiration,
                           policy=dns.dnssec.allow_all_policy)


def unsupported_key(zone: dns.name.Name, flags: int = 256) -> tuple[rsa.RSAPrivateKey,
                                                                   dns.rdtypes.ANY.DNSKEY.DNSKEY]:
    """A fresh RSAMD5 (algorithm 1) key: an algorithm no validator may use (RFC 8624 3.1)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    return private, dns.dnssec.make_dnskey(private.public_key(), UNSUPPORTED_ALGORITHM, flags=flags)


def _window(build: ZoneBuild) -> tuple[int, int]:
    assert build.options is not None
    return build.options.inception, build.options.expiration


# ---- validity window -------------------------------------------------------------------------------------------

@fault("rrsig-expired", group="signatures", layer="signed", reference="RFC 4035 section 5.3.1",
       summary="the RRSIG over one RRset (or with rrset: all, every RRSIG of the zone) expired two days ago",
       params=_PARAMS_OR_ALL, required=("zone", "rrset"), expect=Expectation("bogus", ede=(7,)), cases=("SIG-01",))
def rrsig_expired(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = zone_of(ctx, params)
    now = ctx.clock.now()
    rewindow(build, targets(build, str(params["rrset"])), now - 30 * DAY - SKEW_BEYOND, now - SKEW_BEYOND)


@fault("rrsig-not-yet-valid", group="signatures", layer="signed", reference="RFC 4035 section 5.3.1",
       summary="the RRSIG over one RRset (or with rrset: all, every RRSIG of the zone) becomes valid only in two days",
       params=_PARAMS_OR_ALL, required=("zone", "rrset"), expect=Expectation("bogus", ede=(8,)), cases=("SIG-03",))
def rrsig_not_yet_valid(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = zone_of(ctx, params)
    now = ctx.clock.now()
    rewindow(build, targets(build, str(params["rrset"])), now + SKEW_BEYOND, now + 30 * DAY + SKEW_BEYOND)


@fault("rrsig-expiration-before-inception", group="signatures", layer="signed",
       reference="RFC 4035 section 5.3.1; RFC 8914 / IANA EDE 25",
       summary="the RRSIG's expiration is earlier than its inception (expired two days ago, valid from in two days)",
       params=_PARAMS_OR_ALL, required=("zone", "rrset"), expect=Expectation("bogus", ede=(25, 7, 8)),
       cases=("SIG-05",))
def rrsig_expiration_before_inception(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = zone_of(ctx, params)
    now = ctx.clock.now()
    # now lies outside the empty window on both sides, so no reading of it (serial arithmetic or not) is valid
    rewindow(build, targets(build, str(params["rrset"])), now + SKEW_BEYOND, now - SKEW_BEYOND)


# ---- missing and tampered signatures ---------------------------------------------------------------------------

@fault("rrsig-missing", group="signatures", layer="signed", reference="RFC 4035 sections 5.3 and 5.5",
       summary="the RRSIGs over one RRset (or with rrset: all, every RRSIG of the zone) are removed",
       params=_PARAMS_OR_ALL, required=("zone", "rrset"), expect=Expectation("bogus", ede=(10,)), cases=("SIG-08",))
def rrsig_missing(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = zone_of(ctx, params)
    zone = signed_zone(build)
    for owner, covered in targets(build, str(params["rrset"])):
        replace_rrsigs(zone, owner, covered, [])


TAMPER_FIELDS = ("signature", "algorithm", "original_ttl")


@fault("rrsig-tampered", group="signatures", layer="signed", reference="RFC 4035 sections 5.3.1 and 5.3.3",
       summary="one field of the RRSIGs over an RRset is changed after signing: a signature bit, the algorithm "
               "number (to another supported one) or the Original TTL",
       params={**_PARAMS_OR_ALL,
               "field": param(f"which field to change: {', '.join(TAMPER_FIELDS)} (default signature)",
                                                   "choice", choices=TAMPER_FIELDS)},
       required=("zone", "rrset"), expect=Expectation("bogus", ede=(6,)))
def rrsig_tampered(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = zone_of(ctx, params)
    what = str(params.get("field", "signature"))
    if what not in TAMPER_FIELDS:
        raise ScenarioError(f"rrsig-tampered: unknown field {what!r}", fix=f"use one of: {', '.join(TAMPER_FIELDS)}")
    zone = signed_zone(build)
    for owner, covered in targets(build, str(params["rrset"])):
        changed = []
        for sig in rrsigs_of(zone, owner, covered):
            if what == "signature":
                changed.append(replaced(sig, signature=flip_bit(sig.signature)))
            elif what == "algorithm":
                # another algorithm every validator supports, so the only problem is that no key of it signed this
                other = dns.dnssec.Algorithm.RSASHA256 if sig.algorithm != dns.dnssec.Algorithm.RSASHA256 \
                    else dns.dnssec.Algorithm.ECDSAP256SHA256
                changed.append(replaced(sig, algorithm=other))
            else:
                changed.append(replaced(sig, original_ttl=sig.original_ttl + 3600))
        replace_rrsigs(zone, owner, covered, changed)


@fault("rdata-tampered", group="signatures", layer="signed", reference="RFC 4035 section 5.3.3",
       summary="the data of one RRset is changed after signing; its RRSIG stays as it was",
       params={**_PARAMS, "rdata": param("the new record data (default for A/AAAA: the address plus one)", "text")},
       required=("zone", "rrset"), expect=Expectation("bogus", ede=(6,)), cases=("SIG-07",))
def rdata_tampered(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = zone_of(ctx, params)
    owner, rdtype = parse_rrset_ref(str(params["rrset"]))
    zone = signed_zone(build)
    old = find_rrset(zone, owner, rdtype)
    if "rdata" in params:
        try:
            new = dns.rdata.from_text(dns.rdataclass.IN, rdtype, str(params["rdata"]), origin=build.origin)
        except (dns.exception.DNSException, ValueError) as exc:
            raise ScenarioError(f"rdata {params['rdata']!r} is not {dns.rdatatype.to_text(rdtype)} data: {exc}",
                                fix="write the record data as in a zone file for the RRset's type") from None
    elif rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
        first = old[0]
        new = dns.rdata.from_text(dns.rdataclass.IN, rdtype, str(ipaddress.ip_address(first.address) + 1))
    else:
        raise ScenarioError(f"rdata-tampered needs 'rdata' for a {dns.rdatatype.to_text(rdtype)} RRset",
                            fix="add rdata: <the new record data>")
    rdataset = zone.find_rdataset(owner, rdtype)
    # the first record is replaced; the RRSIG and the TTL stay as signed
    rdataset.remove(old[0])
    rdataset.add(new)


@fault("rrsig-unknown-key", group="signatures", layer="signed", reference="RFC 4035 section 5.3.1 (bullet 7)",
       summary="the RRset is signed by a key of the zone's algorithm that the zone never publishes: the RRSIG's "
               "key tag matches no DNSKEY",
       params=_PARAMS, required=("zone", "rrset"), expect=Expectation("bogus", ede=(6, 9)), cases=("SIG-10",))
def rrsig_unknown_key(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = zone_of(ctx, params)
    published = {(k.algorithm, k.key_tag) for k in build.keys}
    decoy = generate_key(build.name, build.plan.signing.algorithm, "zsk")
    while (decoy.algorithm, decoy.key_tag) in published:       # one in 65536: a tag collision would be KEY-18
        decoy = generate_key(build.name, build.plan.signing.algorithm, "zsk")
    inception, expiration = _window(build)
    for owner, covered in targets(build, str(params["rrset"])):
        rrset = find_rrset(signed_zone(build), owner, covered)
        replace_rrsigs(signed_zone(build), owner, covered, [sign_rrset(rrset, decoy, inception, expiration)])


@fault("rrsig-unsupported-algorithm-only", group="signatures", layer="signed",
       reference="RFC 6840 section 5.12; RFC 4035 section 5.5",
       summary="the zone also publishes an RSAMD5 key (algorithm 1, which no validator may use); the RRset's valid "
               "RRSIG is stripped and only an RSAMD5 RRSIG remains (a downgrade)",
       params=_PARAMS, required=("zone", "rrset"), expect=Expectation("bogus", ede=(6, 10)), cases=("SIG-12",))
def rrsig_unsupported_algorithm_only(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = zone_of(ctx, params)
    refs = targets(build, str(params["rrset"]))
    private, dnskey = unsupported_key(build.origin)
    # the extra key is published and the DNSKEY RRset correctly signed again, so only the stripped RRSIG is wrong
    set_dnskeys(build, [*published_dnskeys(build), dnskey], signers=dnskey_signers(build))
    inception, expiration = _window(build)
    zone = signed_zone(build)
    for owner, covered in refs:
        rrset = find_rrset(zone, owner, covered)
        replace_rrsigs(zone, owner, covered,
                       [sign_with_private(rrset, private, dnskey, build.origin, inception, expiration)])


@fault("rrsig-foreign-signer", group="signatures", layer="signed", reference="RFC 4035 section 5.3.1 (bullet 2)",
       summary="the RRset is signed, validly, by another zone's key with that zone as Signer's Name (a sibling, "
               "or the parent, which hides the zone cut)",
       params={**_PARAMS, "signer_zone": "the zone whose zone-signing key signs instead, e.g. example.co.jp. or jp."},
       required=("zone", "rrset", "signer_zone"), expect=Expectation("bogus", ede=(6, 10)),
       cases=("SIG-13", "SIG-14"))
def rrsig_foreign_signer(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = zone_of(ctx, params)
    other = ctx.zone(str(params["signer_zone"]))
    if other.name == build.name or not other.keys:
        raise ScenarioError(f"signer_zone {other.name} must be another signed zone",
                            fix="name a signed zone other than the one broken, e.g. example.co.jp. or jp.")
    inception, expiration = _window(other)
    zone = signed_zone(build)
    for owner, covered in targets(build, str(params["rrset"])):
        rrset = find_rrset(zone, owner, covered)
        replace_rrsigs(zone, owner, covered,
                       [sign_rrset(rrset, key, inception, expiration) for key in zone_signing_keys(other)])


def _relabel(ctx: BuildContext, params: dict[str, Any], delta: int) -> None:
    build = zone_of(ctx, params)
    inception, expiration = _window(build)
    zone = signed_zone(build)
    keys = keys_by_tag(build)
    for owner, covered in targets(build, str(params["rrset"])):
        rrset = find_rrset(zone, owner, covered)
        owner_labels = len(owner) - 1 - (1 if owner.is_wild() else 0)
        if owner_labels + delta < 0:
            raise ScenarioError(f"{owner} has too few labels for an RRSIG Labels field below it",
                                fix="name an RRset below the zone apex")
        sigs = [sign_rrset(rrset, keys[(s.algorithm, s.key_tag)], inception, expiration, labels=owner_labels + delta)
                for s in rrsigs_of(zone, owner, covered)]
        replace_rrsigs(zone, owner, covered, sigs)


@fault("rrsig-labels-above-owner", group="signatures", layer="signed", reference="RFC 4035 section 5.3.1 (bullet 4)",
       summary="the RRSIG's Labels field is one more than the owner name has (signed over the full owner, so only "
               "the field is wrong)",
       params=_PARAMS, required=("zone", "rrset"), expect=Expectation("bogus", ede=(6,)), cases=("SIG-15",))
def rrsig_labels_above_owner(ctx: BuildContext, params: dict[str, Any]) -> None:
    _relabel(ctx, params, +1)


@fault("rrsig-labels-below-owner", group="signatures", layer="signed", reference="RFC 4035 section 5.3.4",
       summary="the RRSIG's Labels field is one less than the owner has, a valid signature for a wildcard "
               "expansion, but the answer carries no NSEC proof that the name itself does not exist",
       params=_PARAMS, required=("zone", "rrset"), expect=Expectation("bogus", ede=(6, 12)), cases=("SIG-16",))
def rrsig_labels_below_owner(ctx: BuildContext, params: dict[str, Any]) -> None:
    _relabel(ctx, params, -1)


# ---- signatures that are fine: TTL and extra-signature edge cases ----------------------------------------------

@fault("rrset-ttl-above-original", group="signatures", layer="signed", reference="RFC 4035 section 5.3.3",
       summary="the RRset (and its RRSIG) are served with a TTL above the RRSIG's Original TTL; the signature stays "
               "valid and the validator must cut the TTL down to the Original TTL",
       params={**_PARAMS, "ttl": param("the TTL to serve (default 86400)", "int", low=0, high=2**31 - 1)},
       required=("zone", "rrset"), expect=Expectation("secure"), cases=("SIG-18",))
def rrset_ttl_above_original(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = zone_of(ctx, params)
    zone = signed_zone(build)
    ttl = int(params.get("ttl", DAY))
    for owner, covered in targets(build, str(params["rrset"])):
        if ttl <= min(s.original_ttl for s in rrsigs_of(zone, owner, covered)):
            raise ScenarioError(f"ttl {ttl} is not above the Original TTL of {owner}", fix="give a larger ttl")
        zone.find_rdataset(owner, covered).ttl = ttl       # set directly: Rdataset.update_ttl only ever lowers
        zone.find_rdataset(owner, dns.rdatatype.RRSIG, covered).ttl = ttl   # RFC 4034 3: RRSIG TTL = RRset TTL


@fault("rrsig-extra-corrupt", group="signatures", layer="signed", reference="RFC 6840 section 5.4",
       summary="a second zone-signing key is published and adds a corrupt RRSIG next to the RRset's valid one; "
               "one valid signature is enough",
       params=_PARAMS, required=("zone", "rrset"), expect=Expectation("secure"), cases=("SIG-20",))
def rrsig_extra_corrupt(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = zone_of(ctx, params)
    refs = targets(build, str(params["rrset"]))
    second = ctx.keystore.get(build.name, build.plan.signing.algorithm, "zsk", 1)
    set_dnskeys(build, [*published_dnskeys(build), second.dnskey], signers=dnskey_signers(build))
    inception, expiration = _window(build)
    zone = signed_zone(build)
    for owner, covered in refs:
        rrset = find_rrset(zone, owner, covered)
        bad = sign_rrset(rrset, second, inception, expiration)
        replace_rrsigs(zone, owner, covered,
                       [*rrsigs_of(zone, owner, covered), replaced(bad, signature=flip_bit(bad.signature))])


@fault("rrsig-algorithm-incomplete", group="signatures", layer="keys", reference="RFC 6840 section 5.11",
       summary="the DS and DNSKEY RRsets also list a key of a second algorithm that signs nothing; every RRset is "
               "signed with the zone's own algorithm only",
       params={"zone": ZONE_PARAM,
               "algorithm": param("the second algorithm, listed but unused (default 13; must differ "
                                                      "from the zone's, so sign the zone with e.g. algorithm 8)",
                                                      "int", one_of=tuple(sorted(SUPPORTED_ALGORITHMS)))},
       required=("zone",), expect=Expectation("secure"), cases=("SIG-21",))
def rrsig_algorithm_incomplete(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = zone_of(ctx, params)
    algorithm = int(params.get("algorithm", 13))
    if not build.is_signed or algorithm == build.plan.signing.algorithm:
        raise ScenarioError(f"rrsig-algorithm-incomplete needs {build.name} signed with an algorithm other than "
                            f"{algorithm}", fix="set signing: {algorithm: 8} for the zone")
    extra = ctx.keystore.get(build.name, algorithm, "ksk")
    # published as zone data: sign_zone keeps DNSKEYs already in the zone but signs only with build.keys
    node = build.unsigned.find_node(build.origin)
    rdataset = node.find_rdataset(dns.rdataclass.IN, dns.rdatatype.DNSKEY, create=True)
    rdataset.update_ttl(DELEGATION_TTL)
    rdataset.add(extra.dnskey)
    build.ds_override = build.ds_records() + [make_ds(extra, d) for d in build.plan.signing.ds_digests]


# ---- one id per catalog case (registry.variant): the bases above stay for scenarios that set the parameters ----

variant("rrsig-expired-all", of="rrsig-expired", preset={"rrset": ALL}, cases=("SIG-02",),
        summary="every RRSIG of the zone, the DNSKEY RRset's included, expired two days ago")
variant("rrsig-not-yet-valid-all", of="rrsig-not-yet-valid", preset={"rrset": ALL}, cases=("SIG-04",),
        summary="every RRSIG of the zone, the DNSKEY RRset's included, becomes valid only in two days")
variant("rrsig-missing-all", of="rrsig-missing", preset={"rrset": ALL}, cases=("SIG-09",),
        summary="every RRSIG of the zone is removed, the DNSKEY RRset's too, while the parent keeps its DS")
variant("dnskey-rrsig-missing", of="rrsig-missing", preset={"rrset": "@/DNSKEY"}, cases=("KEY-04",),
        summary="the zone's DNSKEY RRset is served without any RRSIG", reference="RFC 4035 section 5.2")
variant("rrsig-bad-signature-bytes", of="rrsig-tampered", preset={"field": "signature"}, cases=("SIG-06",),
        summary="one bit of the signature in the RRSIGs over an RRset is flipped")
variant("rrsig-alg-mismatch", of="rrsig-tampered", preset={"field": "algorithm"}, cases=("SIG-11",),
        summary="the algorithm field of the RRSIGs over an RRset names another supported algorithm than the key's",
        reference="RFC 4035 section 5.3.1 (bullet 7)")
variant("rrsig-origttl-tampered", of="rrsig-tampered", preset={"field": "original_ttl"}, cases=("SIG-17",),
        summary="the Original TTL field of the RRSIGs over an RRset is raised by an hour after signing",
        reference="RFC 4035 section 5.3.2")
variant("dnskey-rrsig-bad", of="rrsig-tampered", preset={"field": "signature", "rrset": "@/DNSKEY"},
        cases=("KEY-05",), summary="one bit of the signature in the RRSIG over the zone's DNSKEY RRset is flipped",
        reference="RFC 4035 section 5.2")
