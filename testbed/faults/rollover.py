"""ROLL group: key rollovers done too early or too late (fault-catalog.md 4.7; RFC 7583, RFC 6781).

A timing fault needs a resolver that cached one state of the zone and then meets the next. Without a timeline, each
fault here builds the broken moment as one static snapshot: the zone data exactly as a resolver holding the stale
cache entry sees it (e.g. the DNSKEY RRset it cached before the roll, next to data signed after it). What the
snapshot cannot show is recovery: whether a resolver refetches and heals once TTLs run out is timeline work.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from typing import Any

import dns.dnssec
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.DNSKEY

from testbed.build.zones import BuildContext, ZoneBuild
from testbed.dnssec import Key, sign_rrset
from testbed.dnssec.crypto import SUPPORTED_ALGORITHMS
from testbed.errors import ScenarioError
from testbed.faults.common import (
    RRSET_PARAM,
    find_rrset,
    parse_rrset_ref,
    replace_rrsigs,
    resign,
    signed_zone,
)
from testbed.faults.ds import NEXT_KEY, digests_of, ds_for, extra_key, signed_child
from testbed.faults.registry import fault, param, variant
from testbed.scenario.model import Expectation

_CHILD = {"zone": "the zone that rolls its keys, e.g. example.jp."}
# An algorithm number no validator implements, for a roll "to an algorithm the resolver lacks".
UNASSIGNED_ALGORITHM = 100
DNSKEY_TTL = 3600


def the_zsk(build: ZoneBuild) -> Key:
    zsks = [key for key in build.keys if key.role == "zsk"]
    if len(zsks) != 1:
        raise ScenarioError(f"zone {build.name} needs exactly one ZSK for a ZSK roll", fix="use keys: ksk-zsk")
    return zsks[0]


def publish_dnskey(build: ZoneBuild, dnskey: dns.rdtypes.ANY.DNSKEY.DNSKEY) -> None:
    """Put a DNSKEY into the unsigned apex: published, but not used to sign (the signer keeps it beside its keys)."""
    node = build.unsigned.find_node(build.origin, create=True)
    rdataset = node.find_rdataset(dns.rdataclass.IN, dns.rdatatype.DNSKEY, create=True)
    rdataset.update_ttl(DNSKEY_TTL)
    rdataset.add(dnskey)


def move_signatures(build: ZoneBuild, old: Key, new: Key, *,
                    keep: Collection[tuple[dns.name.Name, int]] = ()) -> int:
    """Every RRSIG made by ``old`` is replaced by one from ``new`` over the same RRset and window, except over
    the RRsets in ``keep``. Returns how many were replaced."""
    zone = signed_zone(build)
    moved = 0
    for owner, node in list(zone.nodes.items()):
        for rdataset in list(node.rdatasets):
            if rdataset.rdtype != dns.rdatatype.RRSIG or (owner, rdataset.covers) in keep:
                continue
            if not any(sig.key_tag == old.key_tag and sig.algorithm == old.algorithm for sig in rdataset):
                continue
            rrset = find_rrset(zone, owner, rdataset.covers)
            sigs = []
            for sig in rdataset:
                if sig.key_tag == old.key_tag and sig.algorithm == old.algorithm:
                    sig = sign_rrset(rrset, new, sig.inception, sig.expiration, origin_ttl=sig.original_ttl,
                                     labels=sig.labels)
                    moved += 1
                sigs.append(sig)
            replace_rrsigs(zone, owner, rdataset.covers, sigs)
    return moved


def window(build: ZoneBuild) -> tuple[int, int]:
    assert build.options is not None
    return build.options.inception, build.options.expiration


@fault("zsk-prepublished", group="rollover", layer="keys", reference="RFC 7583 section 3.2.1",
       summary="pre-publish ZSK roll done right: the next ZSK is in the DNSKEY RRset but signs nothing yet",
       params=_CHILD, required=("zone",), expect=Expectation("secure"), cases=("ROLL-01",))
def zsk_prepublished(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = signed_child(ctx, params)
    the_zsk(build)
    publish_dnskey(build, extra_key(ctx, build, "zsk", NEXT_KEY).dnskey)


@fault("zsk-roll-new-key-too-early", group="rollover", layer="signed", reference="RFC 7583 section 3.2.1",
       summary="snapshot: the zone signs with the new ZSK while resolvers still hold the old DNSKEY RRset (old ZSK "
               "only): the data's signatures name a key the DNSKEY RRset lacks",
       params=_CHILD, required=("zone",), expect=Expectation("bogus", ede=(6, 9)), cases=("ROLL-02",))
def zsk_roll_new_key_too_early(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = signed_child(ctx, params)
    move_signatures(build, the_zsk(build), extra_key(ctx, build, "zsk", NEXT_KEY))


@fault("zsk-roll-old-key-removed-too-early", group="rollover", layer="signed", reference="RFC 7583 section 3.2.1",
       summary="snapshot: the DNSKEY RRset already holds only the new ZSK, but one RRset is still the cached copy "
               "signed by the old ZSK",
       params={**_CHILD, "rrset": f"the RRset still cached with the old signature: {RRSET_PARAM}"},
       required=("zone", "rrset"), expect=Expectation("bogus", ede=(6, 9)), cases=("ROLL-03",))
def zsk_roll_old_key_removed_too_early(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = signed_child(ctx, params)
    old, new = the_zsk(build), extra_key(ctx, build, "zsk", NEXT_KEY)
    cached = parse_rrset_ref(params["rrset"])
    zone = signed_zone(build)
    find_rrset(zone, *cached)       # a clear error for an RRset the zone does not have
    move_signatures(build, old, new, keep={cached})
    dnskeys = zone.get_rdataset(build.origin, dns.rdatatype.DNSKEY)
    if dnskeys is None:
        raise ScenarioError(f"zone {build.name} publishes no DNSKEY RRset to roll", fix="pick a signed zone")
    dnskeys.discard(old.dnskey)
    dnskeys.add(new.dnskey)
    inception, expiration = window(build)
    resign(build, build.origin, dns.rdatatype.DNSKEY, inception=inception, expiration=expiration,
           keys=build.sep_keys())


@fault("ksk-roll-ds-too-early", group="rollover", layer="keys", reference="RFC 7583 section 3.3",
       summary="the parent's DS already names the new KSK, which the child has not published yet",
       params=_CHILD, required=("zone",), expect=Expectation("bogus", ede=(9,)), cases=("ROLL-04",))
def ksk_roll_ds_too_early(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = signed_child(ctx, params)
    build.ds_override = ds_for([extra_key(ctx, build, "ksk", NEXT_KEY)], digests_of(build))


@fault("ksk-roll-old-key-removed-too-early", group="rollover", layer="keys", reference="RFC 7583 section 3.3.1",
       summary="snapshot: the child already publishes and signs with only the new KSK while resolvers still hold "
               "the old DS (the parent's DS names the old KSK)",
       params=_CHILD, required=("zone",), expect=Expectation("bogus", ede=(9,)), cases=("ROLL-05",))
def ksk_roll_old_key_removed_too_early(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = signed_child(ctx, params)
    old = build.sep_keys()
    if not old or any(key.role != "ksk" for key in old):
        raise ScenarioError(f"zone {build.name} has no separate KSK", fix="use keys: ksk-zsk")
    build.ds_override = ds_for(old, digests_of(build))
    new = extra_key(ctx, build, "ksk", NEXT_KEY)
    build.keys = [new if key in old else key for key in build.keys]


@fault("algorithm-roll-ds-first", group="rollover", layer="keys", reference="RFC 6781 section 4.1.4; RFC 6840 "
       "section 5.11", summary="algorithm roll: a KSK of the new algorithm (default 8) is published, signs the "
       "DNSKEY RRset and has its DS in the parent, but the zone's data is still signed with the old algorithm only",
       params={**_CHILD, "algorithm": param("the new algorithm, default 8 (RSASHA256)", "int",
                                                                one_of=tuple(sorted(SUPPORTED_ALGORITHMS)))},
       required=("zone",),
       expect=Expectation("secure"), cases=("ROLL-06",))
def algorithm_roll_ds_first(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = signed_child(ctx, params)
    algorithm = int(params.get("algorithm", 8))
    if algorithm == build.plan.signing.algorithm:
        raise ScenarioError(f"algorithm {algorithm} is the zone's own", fix="give the algorithm rolled to")
    the_zsk(build)
    # A KSK-role key signs only DNSKEY/CDS/CDNSKEY while a ZSK exists, so the data keeps old-algorithm signatures
    # only; the parent's DS (computed from the SEP keys) covers both algorithms.
    build.keys = [*build.keys, extra_key(ctx, build, "ksk", NEXT_KEY, algorithm)]


ROLL_STAGES = ("both-ds", "old-ds-removed")


@fault("algorithm-roll-to-unsupported", group="rollover", layer="keys", reference="RFC 4035 section 5.2; RFC 6840 "
       "section 5.2", summary="roll to an algorithm validators lack (100): its DNSKEY is published; stage both-ds: "
       "the parent has the old and the new DS (still secure); stage old-ds-removed: only the new DS (insecure)",
       params={**_CHILD, "stage": param(f"one of {', '.join(ROLL_STAGES)} (default both-ds)", "choice",
                                            choices=ROLL_STAGES)}, required=("zone",),
       expect=Expectation("secure"), cases=("ROLL-07",))
def algorithm_roll_to_unsupported(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = signed_child(ctx, params)
    stage = str(params.get("stage", "both-ds"))
    if stage not in ROLL_STAGES:
        raise ScenarioError(f"stage {stage!r} is not one of {', '.join(ROLL_STAGES)}", fix="use one of those")
    # No signer can sign with an algorithm that does not exist, so the new key is only published: validators that
    # lack the algorithm never look for its signatures (RFC 4035 5.2; RFC 6840 5.2), which is the point here.
    new = dns.rdtypes.ANY.DNSKEY.DNSKEY(dns.rdataclass.IN, dns.rdatatype.DNSKEY, 257, 3, UNASSIGNED_ALGORITHM,
                                        os.urandom(64))
    publish_dnskey(build, new)
    new_ds = [dns.dnssec.make_ds(build.origin, new, dns.dnssec.DSDigest.SHA256, policy=dns.dnssec.allow_all_policy)]
    old_ds = ds_for(build.sep_keys(), digests_of(build)) if stage == "both-ds" else []
    build.ds_override = old_ds + new_ds

# The two stages of ROLL-07 as ids of their own, so a scenario names the stage it shows.
variant("algorithm-roll-to-unsupported-both-ds", of="algorithm-roll-to-unsupported", preset={"stage": "both-ds"},
        summary="mid-roll to an unsupported algorithm: both DS published, the old algorithm still signs")
variant("algorithm-roll-to-unsupported-done", of="algorithm-roll-to-unsupported",
        preset={"stage": "old-ds-removed"},
        summary="rolled to an unsupported algorithm: only its DS is left, so validators treat the zone as insecure")
