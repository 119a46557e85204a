"""CDS group: the child's CDS/CDNSKEY records (fault-catalog.md 4.8; RFC 7344, RFC 8078).

A validating resolver treats CDS and CDNSKEY as ordinary signed data; only a parental agent applies the extra
acceptance rules. The faults publish the records (``cds-publish``, before signing) or break their signatures
afterwards; ``parental_agent_verdict`` is the parental agent's side, so a test can assert both.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, cast

import dns.dnssec
import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rdtypes.ANY.DS
import dns.rdtypes.dsbase
import dns.rrset
import dns.zone

from testbed.build.zones import BuildContext, ZoneBuild
from testbed.errors import ScenarioError
from testbed.faults.common import replace_rrsigs, resign, signed_zone, zone_signing_keys
from testbed.faults.ds import DECOY_KEY, NEXT_KEY, digests_of, ds_for, extra_key, signed_child
from testbed.faults.registry import fault, param, variant
from testbed.scenario.model import Expectation

CDS_TTL = 3600
# RFC 8078 section 4: the only allowed contents of a "delete the DS" CDS / CDNSKEY record.
DELETE_CDS = "0 0 0 00"
DELETE_CDNSKEY = "0 3 0 AA=="
VARIANTS = ("valid", "matches-no-dnskey", "delete", "delete-mixed", "inconsistent")
_CHILD = {"zone": "the child zone that publishes CDS/CDNSKEY, e.g. example.jp."}
_TYPES = (dns.rdatatype.CDS, dns.rdatatype.CDNSKEY)


def _put(build: ZoneBuild, rdtype: dns.rdatatype.RdataType, rdatas: list[dns.rdata.Rdata]) -> None:
    node = build.unsigned.find_node(build.origin, create=True)
    rdataset = node.find_rdataset(dns.rdataclass.IN, rdtype, create=True)
    rdataset.update_ttl(CDS_TTL)
    for rdata in rdatas:
        rdataset.add(rdata)


def _as(rdtype: dns.rdatatype.RdataType, rdata: dns.rdata.Rdata) -> dns.rdata.Rdata:
    """A DS as CDS, a DNSKEY as CDNSKEY (same rdata format, RFC 7344 sections 3.1 and 3.2)."""
    return dns.rdata.from_wire(dns.rdataclass.IN, rdtype, rdata.to_digestable(), 0, len(rdata.to_digestable()))


def _text(rdtype: dns.rdatatype.RdataType, text: str) -> dns.rdata.Rdata:
    return dns.rdata.from_text(dns.rdataclass.IN, rdtype, text)


@fault("cds-publish", group="cds", layer="keys", reference="RFC 7344 section 4; RFC 8078 section 4",
       summary="the child publishes CDS/CDNSKEY (signed by its KSKs, as ordinary signed data): valid for its next "
               "KSK during a double-signature roll, for a key it does not publish, a delete request, a delete mixed "
               "with a normal CDS, or CDS and CDNSKEY that disagree",
       params={**_CHILD, "variant": param(f"one of {', '.join(VARIANTS)} (default valid)", "choice",
                                                choices=VARIANTS)}, required=("zone",),
       expect=Expectation("secure"), cases=())
def cds_publish(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = signed_child(ctx, params)
    variant = str(params.get("variant", "valid"))
    if variant not in VARIANTS:
        raise ScenarioError(f"variant {variant!r} is not one of {', '.join(VARIANTS)}", fix="use one of those")
    cds, cdnskey = dns.rdatatype.CDS, dns.rdatatype.CDNSKEY
    digests = digests_of(build)
    nxt = extra_key(ctx, build, "ksk", NEXT_KEY)
    if variant in ("valid", "inconsistent"):
        # A double-signature KSK roll (RFC 6781 4.1.2) under way: the next KSK already signs the DNSKEY RRset
        # (and the CDS/CDNSKEY) beside the current one, whose DS alone is in the parent; the child asks for
        # the next KSK's DS. Publishing the next KSK without letting it sign would make the request unsafe
        # to act on (the new DS set would break the chain), which is not this variant's fault.
        build.ds_override = ds_for(build.sep_keys(), digests)
        current = build.sep_keys()
        build.keys = [*build.keys, nxt]
        _put(build, cds, [_as(cds, ds) for ds in ds_for([nxt], digests)])
        wanted = current if variant == "inconsistent" else [nxt]     # inconsistent: CDNSKEY names the old KSK
        _put(build, cdnskey, [_as(cdnskey, key.dnskey) for key in wanted])
    elif variant == "matches-no-dnskey":
        decoy = extra_key(ctx, build, "ksk", DECOY_KEY)
        _put(build, cds, [_as(cds, ds) for ds in ds_for([decoy], digests)])
        _put(build, cdnskey, [_as(cdnskey, decoy.dnskey)])
    elif variant == "delete":
        _put(build, cds, [_text(cds, DELETE_CDS)])
        _put(build, cdnskey, [_text(cdnskey, DELETE_CDNSKEY)])
    elif variant == "delete-mixed":
        _put(build, cds, [_text(cds, DELETE_CDS), *(_as(cds, ds) for ds in ds_for(build.sep_keys(), digests))])


def _published(build: ZoneBuild) -> list[dns.rdatatype.RdataType]:
    zone = signed_zone(build)
    present = [t for t in _TYPES if zone.get_rdataset(build.origin, t) is not None]
    if not present:
        raise ScenarioError(f"zone {build.name} publishes no CDS or CDNSKEY",
                            fix="put a cds-publish fault before this one")
    return present


@fault("cds-rrsig-missing", group="cds", layer="signed", reference="RFC 7344 section 4.1; RFC 4035 section 5.3",
       summary="the child's CDS and CDNSKEY are served without RRSIGs (use after cds-publish)",
       params=_CHILD, required=("zone",), expect=Expectation("bogus", ede=(10,)), cases=("CDS-03",))
def cds_rrsig_missing(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = signed_child(ctx, params)
    for rdtype in _published(build):
        replace_rrsigs(signed_zone(build), build.origin, rdtype, [])


@fault("cds-signed-by-zsk", group="cds", layer="signed", reference="RFC 7344 section 4.1",
       summary="the child's CDS and CDNSKEY are signed only by its ZSK, a key the parent's DS does not name "
               "(use after cds-publish)",
       params=_CHILD, required=("zone",), expect=Expectation("secure"), cases=("CDS-04",))
def cds_signed_by_zsk(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = signed_child(ctx, params)
    zsks = [key for key in build.keys if key.role == "zsk"]
    if not zsks:
        raise ScenarioError(f"zone {build.name} has no separate ZSK", fix="use keys: ksk-zsk")
    assert build.options is not None
    for rdtype in _published(build):
        resign(build, build.origin, rdtype, inception=build.options.inception,
               expiration=build.options.expiration, keys=zone_signing_keys(build))


# ---- the parental agent's side ----------------------------------------------------------------------------

@dataclass(frozen=True)
class AgentVerdict:
    """What a parental agent does with the child's CDS/CDNSKEY: ``accept`` (publish ``ds``), ``delete`` (remove
    the DS), ``reject`` (keep the DS as is, ``reason`` says why) or ``none`` (nothing published)."""

    action: str
    reason: str = ""
    ds: list[dns.rdtypes.ANY.DS.DS] = field(default_factory=list)


def _rrset(zone: dns.zone.Zone, name: dns.name.Name, rdtype: dns.rdatatype.RdataType) -> dns.rrset.RRset | None:
    rdataset = zone.get_rdataset(name, rdtype)
    if rdataset is None:
        return None
    rrset = dns.rrset.RRset(name, dns.rdataclass.IN, rdtype)
    rrset.update(rdataset)
    return rrset


def _signers(zone: dns.zone.Zone, name: dns.name.Name, rrset: dns.rrset.RRset,
             dnskeys: dns.rrset.RRset, now: float) -> set[int]:
    """Key tags of the DNSKEYs whose RRSIG over ``rrset`` validates."""
    sigs = zone.get_rdataset(name, dns.rdatatype.RRSIG, rrset.rdtype)
    good: set[int] = set()
    for sig in sigs or ():
        for key in dnskeys:
            if dns.dnssec.key_id(key) != sig.key_tag:
                continue
            one = dns.rdataset.from_rdata(dnskeys.ttl, key)
            try:
                dns.dnssec.validate_rrsig(rrset, sig, {name: one}, now=now)
            except (dns.dnssec.ValidationFailure, dns.exception.DNSException):
                continue
            good.add(sig.key_tag)
    return good


def _ds_key(rdata: dns.rdata.Rdata) -> tuple[int, int, int, bytes]:
    ds = cast(dns.rdtypes.dsbase.DSBase, rdata)  # a DS or CDS: both are DSBase
    return ds.key_tag, ds.algorithm, ds.digest_type, bytes(ds.digest)


def parental_agent_verdict(zone: dns.zone.Zone, current_ds: list[dns.rdtypes.ANY.DS.DS],
                           now: float | None = None) -> AgentVerdict:
    """The parental agent's decision on the child's CDS/CDNSKEY (RFC 7344 section 4.1, RFC 8078 section 4).

    Rules, in order: the records must be signed by a child key that the current DS names; a delete request must be
    alone in its RRset; CDS and CDNSKEY must agree; every requested DS must match a published DNSKEY and at least
    one of them a key that signs the DNSKEY RRset (the new DS set must not break the delegation).
    """
    now = time.time() if now is None else now
    origin = zone.origin
    assert origin is not None
    cds = _rrset(zone, origin, dns.rdatatype.CDS)
    cdnskey = _rrset(zone, origin, dns.rdatatype.CDNSKEY)
    if cds is None and cdnskey is None:
        return AgentVerdict("none", "no CDS or CDNSKEY")
    dnskeys = _rrset(zone, origin, dns.rdatatype.DNSKEY)
    if dnskeys is None:
        return AgentVerdict("reject", "the child has no DNSKEY RRset")
    named = {ds.key_tag for ds in current_ds
             if any(dns.dnssec.key_id(k) == ds.key_tag and _ds_key(_make_ds(origin, k, ds.digest_type)) == _ds_key(ds)
                    for k in dnskeys)}
    for rrset in (r for r in (cds, cdnskey) if r is not None):
        if not _signers(zone, origin, rrset, dnskeys, now) & named:
            return AgentVerdict("reject", f"{dns.rdatatype.to_text(rrset.rdtype)} is not signed by a key the "
                                          "current DS names (RFC 7344 section 4.1)")
    deletes = [r for r in (cds, cdnskey) if r is not None and any(rd.algorithm == 0 for rd in r)]
    if deletes:
        for rrset in (r for r in (cds, cdnskey) if r is not None):
            wanted = DELETE_CDS if rrset.rdtype == dns.rdatatype.CDS else DELETE_CDNSKEY
            if len(rrset) != 1 or rrset[0].to_text() != _text(rrset.rdtype, wanted).to_text():
                return AgentVerdict("reject", f"a delete request must be the only {dns.rdatatype.to_text(rrset.rdtype)}"
                                              f" record, exactly '{wanted}' (RFC 8078 section 4)")
        return AgentVerdict("delete", "delete request (RFC 8078 section 4)")
    from_cdnskey = None
    if cdnskey is not None:
        digests = sorted({ds.digest_type for ds in cds}) if cds is not None else [2]
        from_cdnskey = {_ds_key(_make_ds(origin, key, d)) for key in cdnskey for d in digests}
    requested = {_ds_key(ds) for ds in cds} if cds is not None else from_cdnskey
    assert requested is not None
    if from_cdnskey is not None and requested != from_cdnskey:
        return AgentVerdict("reject", "CDS and CDNSKEY do not agree (RFC 7344 section 4)")
    by_ds = {_ds_key(_make_ds(origin, key, d)): dns.dnssec.key_id(key)
             for key in dnskeys for d in {r[2] for r in requested}}
    if not requested <= set(by_ds):
        return AgentVerdict("reject", "a CDS matches no published DNSKEY (RFC 7344 section 4.1)")
    dnskey_signers = _signers(zone, origin, dnskeys, dnskeys, now)
    if not {by_ds[r] for r in requested} & dnskey_signers:
        return AgentVerdict("reject", "no requested DS names a key that signs the DNSKEY RRset: the new DS set "
                                      "would break the delegation (RFC 7344 section 4.1)")
    ds_list = [dns.rdtypes.ANY.DS.DS(dns.rdataclass.IN, dns.rdatatype.DS, *r) for r in sorted(requested)]
    return AgentVerdict("accept", "", ds_list)


def _make_ds(origin: dns.name.Name, key: dns.rdata.Rdata, digest_type: int) -> dns.rdata.Rdata:
    if key.rdtype == dns.rdatatype.CDNSKEY:
        key = dns.rdata.from_wire(dns.rdataclass.IN, dns.rdatatype.DNSKEY, key.to_digestable(), 0,
                                  len(key.to_digestable()))
    try:
        return dns.dnssec.make_ds(origin, key, dns.dnssec.DSDigest.make(digest_type),
                                  policy=dns.dnssec.allow_all_policy)
    except (dns.dnssec.UnsupportedAlgorithm, ValueError):
        # an unknown digest type cannot be computed, so nothing can match it
        return dns.rdtypes.ANY.DS.DS(dns.rdataclass.IN, dns.rdatatype.DS, 0, 0, digest_type, b"\0")

# One id per catalog case, so `testbed faults` names each of them.
variant("cds-valid", of="cds-publish", preset={"variant": "valid"}, cases=("CDS-01",),
        summary="the child publishes a signed CDS/CDNSKEY for its next KSK during a double-signature roll")
variant("cds-matches-no-dnskey", of="cds-publish", preset={"variant": "matches-no-dnskey"}, cases=("CDS-02",),
        summary="the child's CDS matches no DNSKEY it publishes (a parent must not act on it)")
variant("cds-delete", of="cds-publish", preset={"variant": "delete"}, cases=("CDS-05",),
        summary="the child asks for its DS to be removed (CDS/CDNSKEY 'delete', RFC 8078)")
variant("cds-delete-mixed", of="cds-publish", preset={"variant": "delete-mixed"}, cases=("CDS-06",),
        summary="a delete CDS mixed with ordinary CDS records (invalid per RFC 8078 section 4)")
variant("cds-cdnskey-inconsistent", of="cds-publish", preset={"variant": "inconsistent"}, cases=("CDS-07",),
        summary="CDS and CDNSKEY name different keys (a parent must not act on them)")
