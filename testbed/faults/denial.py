"""DEN group: proofs of non-existence that are missing, unsigned, forged or misleading (fault-catalog.md 4.4).

Most faults here edit the signed zone. The builtin server finds NSEC / NSEC3 proofs by searching the zone it is
given (testbed/auth/proofs.py): a record removed here is a record it cannot send, so the resolver gets the
incomplete or wrong proof a broken signer or a stale zone would give it. The NSEC3 parameter faults act one layer
earlier, on how the zone is signed.
"""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import dns.exception
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.RRSIG
import dns.zone

from testbed.build.zones import BuildContext, ZoneBuild
from testbed.dnssec import nsec3_hash
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
)
from testbed.faults.registry import fault, param, variant
from testbed.faults.signatures import rrsigs_of
from testbed.scenario.model import Expectation

IN = dns.rdataclass.IN
NSEC = dns.rdatatype.NSEC
NSEC3 = dns.rdatatype.NSEC3
NSEC3PARAM = dns.rdatatype.NSEC3PARAM
RRSIG = dns.rdatatype.RRSIG
NS = dns.rdatatype.NS
OPT_OUT = 0x01
KIND_PARAM = "nsec or nsec3: refuse a zone signed the other way (the catalog cases name one kind)"
NAME_PARAM = "the name whose proof record is broken: the NSEC/NSEC3 that matches or covers it, e.g. " \
             "nosuchname.example.jp. (or *.example.jp. for the wildcard proof)"


# ---- finding the records a proof uses ---------------------------------------------------------------------------

def denial_type(zone: dns.zone.Zone) -> dns.rdatatype.RdataType:
    """NSEC3 when the signed zone has an NSEC3 chain, else NSEC."""
    for node in zone.nodes.values():
        if node.get_rdataset(IN, NSEC3) is not None:
            return NSEC3
    return NSEC


def _absolute(text: str) -> dns.name.Name:
    try:
        return dns.name.from_text(text)
    except dns.exception.DNSException as exc:
        raise ScenarioError(f"{text!r} is not a domain name", fix="write it like nosuchname.example.jp.") from exc


def _covers(owner: Any, name: Any, nxt: Any) -> bool:
    """owner < name < next on a ring: the last record of a chain wraps round to the first (RFC 4034 4.1.1)."""
    if owner < nxt:
        return owner < name < nxt
    return name > owner or name < nxt


def nsec_owner_for(zone: dns.zone.Zone, name: dns.name.Name) -> dns.name.Name | None:
    """The NSEC owner that matches ``name`` or covers it in canonical order (dnspython compares names that way)."""
    for owner, node in zone.nodes.items():
        rds = node.get_rdataset(IN, NSEC)
        if rds is None:
            continue
        if owner == name or _covers(owner, name, rds[0].next):
            return owner
    return None


def nsec3_parameters(zone: dns.zone.Zone) -> tuple[int, int, bytes]:
    """(hash algorithm, iterations, salt) of the zone's NSEC3 records (our signer makes one chain per zone)."""
    for node in zone.nodes.values():
        rds = node.get_rdataset(IN, NSEC3)
        if rds is not None:
            rd = rds[0]
            return rd.algorithm, rd.iterations, bytes(rd.salt)
    raise ScenarioError(f"zone {zone.origin} has no NSEC3 records",
                        fix="sign it with NSEC3: signing: {denial: nsec3}")


def hash_label(digest: bytes) -> str:
    return base64.b32hexencode(digest).decode("ascii").rstrip("=").lower()


def label_hash(owner: dns.name.Name) -> bytes:
    label = owner.labels[0].upper()
    return base64.b32hexdecode(label + b"=" * (-len(label) % 8))


def nsec3_owner_for(zone: dns.zone.Zone, name: dns.name.Name) -> dns.name.Name | None:
    """The NSEC3 owner whose hash matches ``name``'s hash or covers it (RFC 5155 sections 7.2 and 8.3)."""
    _, iterations, salt = nsec3_parameters(zone)
    digest = base64.b32hexdecode(nsec3_hash(name, salt, iterations).upper())
    for owner, node in zone.nodes.items():
        rds = node.get_rdataset(IN, NSEC3)
        if rds is None:
            continue
        here = label_hash(owner)
        if here == digest or _covers(here, digest, bytes(rds[0].next)):
            return owner
    return None


def proof_owner(build: ZoneBuild, name: dns.name.Name) -> tuple[dns.name.Name, dns.rdatatype.RdataType]:
    zone = signed_zone(build)
    rdtype = denial_type(zone)
    owner = nsec3_owner_for(zone, name) if rdtype == NSEC3 else nsec_owner_for(zone, name)
    if owner is None:
        raise ScenarioError(f"no {dns.rdatatype.to_text(rdtype)} record of zone {build.name} matches or covers {name}",
                            fix="name something inside the zone")
    return owner, rdtype


def remove_rrset(zone: dns.zone.Zone, owner: dns.name.Name, rdtype: dns.rdatatype.RdataType) -> None:
    """Remove an RRset and the RRSIGs over it; a node left empty goes too (it was only there for them)."""
    node = zone.find_node(owner)
    node.delete_rdataset(IN, rdtype)
    node.delete_rdataset(IN, RRSIG, rdtype)
    if not node.rdatasets:
        zone.delete_node(owner)


def denial_owners(zone: dns.zone.Zone, rdtype: dns.rdatatype.RdataType) -> list[dns.name.Name]:
    return [owner for owner, node in zone.nodes.items() if node.get_rdataset(IN, rdtype) is not None]


def resign_window(build: ZoneBuild) -> tuple[int, int]:
    """The zone's own validity window (inception, expiration), so a re-made signature is as valid as every other
    one in the zone."""
    assert build.options is not None
    return build.options.inception, build.options.expiration


def edit_nsec3(build: ZoneBuild, owner: dns.name.Name, resign_after: bool, **changes: Any) -> None:
    """Replace fields of the NSEC3 record at ``owner``; re-sign it when the edit is the whole fault."""
    zone = signed_zone(build)
    rdataset = zone.find_rdataset(owner, NSEC3)
    edited = [rd.replace(**changes) for rd in rdataset]
    ttl = rdataset.ttl
    rdataset.clear()
    rdataset.update_ttl(ttl)
    for rd in edited:
        rdataset.add(rd)
    if resign_after:
        inception, expiration = resign_window(build)
        resign(build, owner, NSEC3, inception=inception, expiration=expiration)


def _signed_with_denial(ctx: BuildContext, params: dict[str, Any]) -> tuple[ZoneBuild, dns.rdatatype.RdataType]:
    build = zone_of(ctx, params)
    rdtype = denial_type(signed_zone(build))
    wanted = str(params.get("denial", "")).lower()
    if wanted and wanted != dns.rdatatype.to_text(rdtype).lower():
        raise ScenarioError(f"this fault breaks {wanted.upper()} proofs, but zone {build.name} is signed with "
                            f"{dns.rdatatype.to_text(rdtype)}",
                            fix=f"add zones: {{{build.name}: {{signing: {{denial: {wanted}}}}}}} to the scenario")
    return build, rdtype


# ---- the whole chain ----------------------------------------------------------------------------------------------

@fault("denial-chain-removed", group="denial", layer="signed", reference="RFC 4035 section 5.4; RFC 5155 section 8",
       summary="every NSEC (or NSEC3) record of the zone is gone with its RRSIG: negative answers carry no proof",
       params={"zone": ZONE_PARAM, "denial": KIND_PARAM}, required=("zone",), expect=Expectation("bogus", ede=(12,)))
def denial_chain_removed(ctx: BuildContext, params: dict[str, Any]) -> None:
    build, rdtype = _signed_with_denial(ctx, params)
    zone = signed_zone(build)
    # NSEC3PARAM stays: it is what an authoritative server reads, not a proof (RFC 5155 4)
    for owner in denial_owners(zone, rdtype):
        remove_rrset(zone, owner, rdtype)


@fault("denial-rrsig-missing", group="denial", layer="signed", reference="RFC 4035 sections 5.3 and 5.4",
       summary="the NSEC (or NSEC3) records are served without their RRSIGs",
       params={"zone": ZONE_PARAM, "denial": KIND_PARAM}, required=("zone",), expect=Expectation("bogus", ede=(10, 12)))
def denial_rrsig_missing(ctx: BuildContext, params: dict[str, Any]) -> None:
    build, rdtype = _signed_with_denial(ctx, params)
    zone = signed_zone(build)
    for owner in denial_owners(zone, rdtype):
        replace_rrsigs(zone, owner, rdtype, [])


@fault("denial-rrsig-bad", group="denial", layer="signed", reference="RFC 4035 section 5.3.3; RFC 9276 section 3.2",
       summary="the RRSIGs over the NSEC (or NSEC3) records do not verify (their signature bytes are changed)",
       params={"zone": ZONE_PARAM, "denial": KIND_PARAM}, required=("zone",), expect=Expectation("bogus", ede=(6,)))
def denial_rrsig_bad(ctx: BuildContext, params: dict[str, Any]) -> None:
    build, rdtype = _signed_with_denial(ctx, params)
    zone = signed_zone(build)
    for owner in denial_owners(zone, rdtype):
        # flip one bit in the middle of each signature: same length, same key tag, only the maths fails
        bad: list[dns.rdtypes.ANY.RRSIG.RRSIG] = []
        for sig in rrsigs_of(zone, owner, rdtype):
            raw = bytearray(sig.signature)
            raw[len(raw) // 2] ^= 0x01
            bad.append(replaced(sig, signature=bytes(raw)))
        replace_rrsigs(zone, owner, rdtype, bad)


# ---- one proof record ---------------------------------------------------------------------------------------------

@fault("denial-record-removed", group="denial", layer="signed",
       reference="RFC 4035 sections 3.1.3 and 5.4; RFC 5155 sections 7.2 and 8",
       summary="the NSEC (or NSEC3) record that matches or covers one name is gone: the server sends the proof "
               "without it (or with a neighbour that does not cover the name)",
       params={"zone": ZONE_PARAM, "name": NAME_PARAM, "denial": KIND_PARAM}, required=("zone", "name"),
       expect=Expectation("bogus", ede=(12,)))
def denial_record_removed(ctx: BuildContext, params: dict[str, Any]) -> None:
    build, _ = _signed_with_denial(ctx, params)
    owner, rdtype = proof_owner(build, _absolute(str(params["name"])))
    remove_rrset(signed_zone(build), owner, rdtype)


@fault("nodata-type-in-bitmap", group="denial", layer="signed", reference="RFC 4035 section 5.4; RFC 6840 section 4.3",
       summary="an RRset is removed after signing, so the server answers NODATA with an NSEC (or NSEC3) whose type "
               "bitmap still lists the type (for a CNAME: a NODATA that hides the CNAME)",
       params={"zone": ZONE_PARAM, "rrset": RRSET_PARAM}, required=("zone", "rrset"),
       expect=Expectation("bogus", ede=(6, 12)))
def nodata_type_in_bitmap(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = zone_of(ctx, params)
    owner, rdtype = parse_rrset_ref(str(params["rrset"]))
    zone = signed_zone(build)
    find_rrset(zone, owner, rdtype)          # says which RRsets exist when the name is wrong
    remove_rrset(zone, owner, rdtype)


@fault("nsec-ancestor-overreach", group="denial", layer="signed", reference="RFC 6840 section 4.1; RFC 4035 5.4",
       summary="the parent drops a delegation's NS (and the glue below it) but keeps the signed NSEC of the cut "
               "(NS set, SOA clear), and so denies names below the cut with it",
       params={"zone": "the parent zone, e.g. jp.", "child": "the delegation whose NSEC overreaches, e.g. example.jp."},
       required=("zone", "child"), expect=Expectation("bogus", ede=(6, 12)), cases=("DEN-09",))
def nsec_ancestor_overreach(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = zone_of(ctx, params)
    zone = signed_zone(build)
    cut = _absolute(str(params["child"]))
    node = zone.get_node(cut)
    if node is None or node.get_rdataset(IN, NS) is None or node.get_rdataset(IN, NSEC) is None:
        raise ScenarioError(f"zone {build.name} has no NSEC-signed delegation {cut}",
                            fix="name a delegation of an NSEC-signed parent, e.g. zone: jp., child: example.jp.")
    node.delete_rdataset(IN, NS)
    for owner in [o for o in zone.nodes if o != cut and o.is_subdomain(cut)]:
        zone.delete_node(owner)


@fault("ent-answered-nxdomain", group="denial", layer="signed", reference="RFC 4035 section 5.4; RFC 8020 section 2",
       summary="the names below an empty non-terminal are dropped from the served zone, so the server answers the "
               "empty non-terminal NXDOMAIN with an NSEC whose next name lies below it",
       params={"zone": ZONE_PARAM, "name": "the empty non-terminal, e.g. wild.example.jp."},
       required=("zone", "name"), expect=Expectation("bogus", ede=(6, 12)), cases=("DEN-12",))
def ent_answered_nxdomain(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = zone_of(ctx, params)
    zone = signed_zone(build)
    ent = _absolute(str(params["name"]))
    below = [o for o in zone.nodes if o != ent and o.is_subdomain(ent)]
    if ent in zone.nodes or not below:
        raise ScenarioError(f"{ent} is not an empty non-terminal of zone {build.name}",
                            fix="name a name with no data of its own but names below it")
    for owner in below:
        zone.delete_node(owner)


# ---- NSEC3 records edited -----------------------------------------------------------------------------------------

def _nsec3_zone(ctx: BuildContext, params: dict[str, Any]) -> ZoneBuild:
    build = zone_of(ctx, params)
    if denial_type(signed_zone(build)) != NSEC3:
        raise ScenarioError(f"zone {build.name} is not signed with NSEC3",
                            fix=f"add zones: {{{build.name}: {{signing: {{denial: nsec3}}}}}} to the scenario")
    return build


@fault("nsec3-owner-hash-wrong", group="denial", layer="signed", reference="RFC 5155 section 8.3",
       summary="the NSEC3 record matching or covering a name moves to an owner one hash value higher; its RRSIG "
               "stays at the old owner",
       params={"zone": ZONE_PARAM, "name": NAME_PARAM}, required=("zone", "name"),
       expect=Expectation("bogus", ede=(12, 10)), cases=("DEN-16",))
def nsec3_owner_hash_wrong(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = _nsec3_zone(ctx, params)
    zone = signed_zone(build)
    owner, _ = proof_owner(build, _absolute(str(params["name"])))
    digest = label_hash(owner)
    # one more than the old hash: the record keeps its place in the chain, so the server still picks it
    moved = (int.from_bytes(digest, "big") + 1) % (1 << (8 * len(digest)))
    new_owner = dns.name.Name([hash_label(moved.to_bytes(len(digest), "big")).encode(), *origin_of(zone).labels])
    node = zone.find_node(owner)
    rdataset = node.get_rdataset(IN, NSEC3)
    if rdataset is None:
        raise ScenarioError(f"{owner} has no NSEC3 record to move", fix="name a name the NSEC3 chain covers")
    node.delete_rdataset(IN, NSEC3)
    zone.find_node(new_owner, create=True).replace_rdataset(rdataset)


@fault("nsec3-next-hash-wrong", group="denial", layer="signed", reference="RFC 5155 section 3; RFC 4035 section 5.3",
       summary="the next-hashed-owner field of the NSEC3 matching or covering a name is changed after signing",
       params={"zone": ZONE_PARAM, "name": NAME_PARAM}, required=("zone", "name"),
       expect=Expectation("bogus", ede=(6,)), cases=("DEN-17",))
def nsec3_next_hash_wrong(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = _nsec3_zone(ctx, params)
    owner, _ = proof_owner(build, _absolute(str(params["name"])))
    rd = signed_zone(build).find_rdataset(owner, NSEC3)[0]
    nxt = bytearray(rd.next)
    nxt[-1] ^= 0x01      # the last bit: the record still covers the same names, but its RRSIG no longer verifies
    edit_nsec3(build, owner, resign_after=False, next=bytes(nxt))


@fault("nsec3-opt-out-flag-cleared", group="denial", layer="signed", reference="RFC 5155 sections 6 and 8.6",
       summary="a zone signed with opt-out (insecure delegations left out of the chain) has the opt-out flag "
               "cleared on every NSEC3, each validly re-signed: nothing proves an unsigned delegation is allowed",
       params={"zone": ZONE_PARAM}, required=("zone",), expect=Expectation("bogus", ede=(6, 12)), cases=("DEN-24",))
def nsec3_opt_out_flag_cleared(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = _nsec3_zone(ctx, params)
    assert build.options is not None
    if not build.options.nsec3_opt_out:
        raise ScenarioError(f"zone {build.name} is not signed with NSEC3 opt-out",
                            fix="add signing: {denial: nsec3, nsec3: {opt_out: true}} for it")
    zone = signed_zone(build)
    for owner in denial_owners(zone, NSEC3):
        flags = zone.find_rdataset(owner, NSEC3)[0].flags
        edit_nsec3(build, owner, resign_after=True, flags=flags & ~OPT_OUT)


@fault("nsec3-flags-unknown", group="denial", layer="signed", reference="RFC 5155 section 8.2",
       summary="every NSEC3 record carries a flags value other than 0 or 1 (validly re-signed): validators must "
               "ignore such records, so no proof is left",
       params={"zone": ZONE_PARAM,
               "flags": param("the flags value to set, 2..255 (default 2)", "int", low=2, high=255)},
       required=("zone",), expect=Expectation("bogus", ede=(12,)), cases=("DEN-31",))
def nsec3_flags_unknown(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = _nsec3_zone(ctx, params)
    flags = int(params.get("flags", 2))
    if not 2 <= flags <= 255:
        raise ScenarioError(f"nsec3-flags-unknown: flags {flags} is not an unknown value",
                            fix="use 2..255 (0 and 1 are the defined values)")
    zone = signed_zone(build)
    for owner in denial_owners(zone, NSEC3):
        edit_nsec3(build, owner, resign_after=True, flags=flags)


@fault("nsec3param-broken", group="denial", layer="signed", reference="RFC 5155 sections 4 and 7.3",
       summary="the apex NSEC3PARAM is removed, or names another salt; validators never read it, and our server "
               "still finds the chain from the NSEC3 records themselves",
       params={"zone": ZONE_PARAM,
               "mode": param("missing (default) or wrong-salt", "choice", choices=("missing", "wrong-salt"))},
       required=("zone",),
       expect=Expectation("secure"), cases=("DEN-33",))
def nsec3param_broken(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = _nsec3_zone(ctx, params)
    zone = signed_zone(build)
    origin = zone.origin
    assert origin is not None
    mode = str(params.get("mode", "missing"))
    if mode == "missing":
        remove_rrset(zone, origin, NSEC3PARAM)
    elif mode == "wrong-salt":
        rdataset = zone.find_rdataset(origin, NSEC3PARAM)
        rd = rdataset[0]
        wrong = bytes(b ^ 0xFF for b in rd.salt) if rd.salt else b"\xba\xd5\xa1\x7f"
        rdataset.clear()
        rdataset.add(rd.replace(salt=wrong))
        inception, expiration = resign_window(build)
        resign(build, origin, NSEC3PARAM, inception=inception, expiration=expiration)
    else:
        raise ScenarioError(f"nsec3param-broken: unknown mode {mode!r}", fix="use mode: missing or mode: wrong-salt")


# ---- how the zone is signed (NSEC3 parameters) --------------------------------------------------------------------

def _set_nsec3(ctx: BuildContext, params: dict[str, Any], **changes: Any) -> None:
    build = zone_of(ctx, params)
    if not build.is_signed or build.options is None:
        raise ScenarioError(f"zone {build.name} is unsigned", fix="pick a signed zone")
    build.options = dataclasses.replace(build.options, denial="nsec3", **changes)


def _salt(params: dict[str, Any]) -> bytes:
    if "salt" in params:
        try:
            return bytes.fromhex(str(params["salt"]))
        except ValueError as exc:
            raise ScenarioError(f"salt {params['salt']!r} is not hex", fix="write it like salt: 'aabbccdd'") from exc
    length = int(params.get("salt_length", 8))
    if not 0 <= length <= 255:
        raise ScenarioError(f"salt_length {length} is out of range", fix="use 0..255 bytes")
    # a fixed pattern rather than random bytes: the same run gives the same hashes, so a failure can be replayed
    return bytes((i * 37 + 11) % 256 for i in range(length))


@fault("nsec3-iterations", group="denial", layer="keys", reference="RFC 9276 sections 3.1 and 3.2; RFC 5155 10.3",
       summary="the zone is signed with NSEC3 and extra hash iterations; above a validator's limit (150 in the "
               "2023 releases) its proofs count as insecure, and RFC 9276 asks for EDE 27 then",
       params={"zone": ZONE_PARAM,
               "iterations": param("extra SHA-1 iterations, 0..2500 (default 200)", "int", low=0, high=2500)},
       required=("zone",), expect=Expectation("insecure", ede=(27,)))
def nsec3_iterations(ctx: BuildContext, params: dict[str, Any]) -> None:
    iterations = int(params.get("iterations", 200))
    if not 0 <= iterations <= 2500:
        raise ScenarioError(f"nsec3-iterations: {iterations} is out of range", fix="use 0..2500 (RFC 5155 10.3)")
    _set_nsec3(ctx, params, nsec3_iterations=iterations)


@fault("nsec3-salt", group="denial", layer="keys", reference="RFC 9276 section 3.1",
       summary="the zone is signed with an NSEC3 salt (RFC 9276 says SHOULD NOT, but it is valid)",
       params={"zone": ZONE_PARAM, "salt": param("the salt in hex", "hex"),
               "salt_length": param("or: a salt of this many bytes (default 8)", "int", low=0, high=255)},
       required=("zone",), expect=Expectation("secure"), cases=("DEN-29",))
def nsec3_salt(ctx: BuildContext, params: dict[str, Any]) -> None:
    _set_nsec3(ctx, params, nsec3_salt=_salt(params))


@fault("nsec3-opt-out", group="denial", layer="keys", reference="RFC 5155 sections 6 and 9.2",
       summary="the zone is signed with NSEC3 opt-out: unsigned delegations are left out of the chain and every "
               "NSEC3 has the opt-out flag, so proofs that rest on a covering NSEC3 are no longer secure",
       params={"zone": ZONE_PARAM}, required=("zone",), expect=Expectation("insecure", ede=()))
def nsec3_opt_out(ctx: BuildContext, params: dict[str, Any]) -> None:
    _set_nsec3(ctx, params, nsec3_opt_out=True)


@fault("nsec3-iter-over-limit-bad-sig", group="denial", layer="signed", reference="RFC 9276 section 3.2",
       summary="in a zone signed with more NSEC3 iterations than validators accept (over 150), the RRSIGs over the "
               "NSEC3 records do not verify: going insecure must not skip checking them",
       params={"zone": ZONE_PARAM}, required=("zone",), expect=Expectation("bogus", ede=(6,)), cases=("DEN-28",))
def nsec3_iter_over_limit_bad_sig(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = _nsec3_zone(ctx, params)
    _, iterations, _ = nsec3_parameters(signed_zone(build))
    if iterations <= 150:
        raise ScenarioError(f"zone {build.name} has {iterations} NSEC3 iterations, within every validator's limit",
                            fix="sign it with more, e.g. signing: {denial: nsec3, nsec3: {iterations: 200}}")
    denial_rrsig_bad(ctx, {"zone": build.name})


# ---- one id per fault-catalog case ---------------------------------------------------------------------------------
# The bases above take the parameters; each catalog case is a variant with its own id, so a scenario names its case.

variant("nxdomain-nsec-missing", of="denial-chain-removed", preset={"denial": "nsec"}, cases=("DEN-01",),
        summary="the zone's NSEC chain is gone: a name error comes as a bare NXDOMAIN with no proof")
variant("nodata-nsec-missing", of="denial-chain-removed", preset={"denial": "nsec"}, cases=("DEN-02",),
        summary="the zone's NSEC chain is gone: a NODATA answer comes with no proof")
variant("nsec3-missing", of="denial-chain-removed", preset={"denial": "nsec3"}, cases=("DEN-13",),
        summary="every NSEC3 record of the zone is gone: negative answers come with no proof",
        reference="RFC 5155 sections 8.4 to 8.7")
variant("nsec-rrsig-missing", of="denial-rrsig-missing", preset={"denial": "nsec"}, cases=("DEN-03",),
        summary="the NSEC records are served without their RRSIGs")
variant("nsec3-rrsig-missing", of="denial-rrsig-missing", preset={"denial": "nsec3"}, cases=("DEN-14",),
        summary="the NSEC3 records are served without their RRSIGs")
variant("nsec-rrsig-bad", of="denial-rrsig-bad", preset={"denial": "nsec"}, cases=("DEN-04",),
        summary="the RRSIGs over the NSEC records do not verify (one bit of each signature flipped)")
variant("nsec3-rrsig-bad", of="denial-rrsig-bad", preset={"denial": "nsec3"}, cases=("DEN-15",),
        summary="the RRSIGs over the NSEC3 records do not verify (one bit of each signature flipped)")
variant("nxdomain-no-wildcard-denial", of="denial-record-removed", preset={"denial": "nsec"}, cases=("DEN-05",),
        expect=Expectation("bogus", ede=(12, 6)), reference="RFC 4035 sections 3.1.3.2 and 5.4",
        summary="the NSEC covering the source of synthesis (*.<closest encloser>) is gone; name it as the fault's name")
variant("nxdomain-qname-not-covered", of="denial-record-removed", preset={"denial": "nsec"}, cases=("DEN-06",),
        reference="RFC 4035 sections 3.1.3.2 and 5.4",
        summary="the NSEC covering the missing name is gone; the server sends a neighbour that does not cover it")
variant("wildcard-answer-no-proof", of="denial-record-removed", preset={"denial": "nsec"}, cases=("DEN-10",),
        expect=Expectation("bogus", ede=(6, 12)), reference="RFC 4035 sections 3.1.3.3 and 5.3.4",
        summary="a wildcard-expanded answer comes without the NSEC proving no closer match (the NSEC covering the "
                "query name is gone)")
variant("wildcard-nodata-no-proof", of="denial-record-removed", preset={"denial": "nsec"}, cases=("DEN-11",),
        reference="RFC 4035 sections 3.1.3.4 and 5.4",
        summary="a wildcard NODATA comes without its proof (the NSEC at the wildcard, which also covers the query "
                "name, is gone)")
variant("nsec3-no-closest-encloser", of="denial-record-removed", preset={"denial": "nsec3"}, cases=("DEN-18",),
        reference="RFC 5155 sections 8.3 and 8.4",
        summary="the NSEC3 matching the closest encloser is gone; name the encloser as the fault's name")
variant("nsec3-no-next-closer", of="denial-record-removed", preset={"denial": "nsec3"}, cases=("DEN-19",),
        reference="RFC 5155 section 8.4",
        summary="the NSEC3 covering the next closer name is gone; the server sends a neighbour that does not cover it")
variant("nsec3-no-wildcard-cover", of="denial-record-removed", preset={"denial": "nsec3"}, cases=("DEN-20",),
        reference="RFC 5155 section 8.4",
        summary="the NSEC3 covering the wildcard at the closest encloser is gone; name the wildcard as the name")
variant("nodata-bitmap-has-qtype", of="nodata-type-in-bitmap", preset={}, cases=("DEN-07",),
        reference="RFC 4035 sections 3.1.3.1 and 5.4",
        summary="an RRset is removed after signing: NODATA for its type, with an NSEC whose bitmap lists the type")
variant("nodata-hiding-cname", of="nodata-type-in-bitmap", preset={}, cases=("DEN-08",),
        reference="RFC 6840 section 4.3",
        summary="a CNAME is removed after signing: NODATA for other types, with an NSEC whose bitmap shows the CNAME")
variant("nsec3-iter-51-150", of="nsec3-iterations", preset={"iterations": 100}, cases=("DEN-26",),
        expect=Expectation("secure"), reference="RFC 9276 section 3.2",
        summary="the zone is signed with 100 NSEC3 iterations: within the 2023 releases' limit of 150")
variant("nsec3-iter-over-limit", of="nsec3-iterations", preset={"iterations": 200}, cases=("DEN-27",),
        summary="the zone is signed with 200 NSEC3 iterations, over every resolver's limit: insecure, with EDE 27")
variant("nsec3-optout-nxdomain", of="nsec3-opt-out", preset={}, cases=("DEN-21",), reference="RFC 5155 section 9.2",
        summary="the zone is signed with NSEC3 opt-out, so a name error rests on an opt-out NSEC3: NXDOMAIN, no AD")
variant("nsec3-optout-unsigned-delegation", of="nsec3-opt-out", preset={}, cases=("DEN-22",),
        reference="RFC 5155 sections 6 and 8.9",
        summary="the parent is signed with NSEC3 opt-out and leaves its unsigned delegations out of the chain")
variant("nsec3-optout-ds-query", of="nsec3-opt-out", preset={}, cases=("DEN-23",),
        reference="RFC 5155 sections 8.6 and 9.2",
        summary="the parent is signed with NSEC3 opt-out; a DS query for an unsigned delegation gets an opt-out proof")
