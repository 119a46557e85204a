"""TA group: the trust anchors the resolvers are given (fault-catalog.md 4.6).

Every fault here sets ``ctx.trust_anchor_override`` (DS texts, any owner); the lab restarts the resolvers when the
anchor differs from the last scenario's. Some also change the root's keys, so that the anchor and the root disagree
the way they would in the field.

Static snapshots only. The RFC 5011 cases that need a resolver to watch a key over time (TA-06 add hold-down, TA-08
trust point deletion after every key is revoked) belong to the timeline work with the virtual clock; TA-07 and TA-09
are built here as the static picture of their end state (which key a static anchor still finds).
"""

from __future__ import annotations

from typing import Any

from testbed.build.zones import BuildContext, ZoneBuild
from testbed.dnssec.keys import REVOKE_FLAG
from testbed.errors import ScenarioError
from testbed.faults.ds import DECOY_KEY, NEXT_KEY, ds_for, ds_text, extra_key, with_ds_fields
from testbed.faults.registry import fault, param, variant
from testbed.scenario.model import Expectation

# Anchors are SHA-256 DS, like the one the lab gives by default (BuildContext.trust_anchor_ds).
ANCHOR_DIGEST = (2,)


def root(ctx: BuildContext) -> ZoneBuild:
    build = ctx.zones["."]
    if not build.is_signed or not build.keys:
        raise ScenarioError("the root is unsigned, so there is no root trust anchor to break",
                            fix="leave the root signed")
    return build


def anchors(owner: str, keys: list, *, digests: tuple[int, ...] = ANCHOR_DIGEST) -> list[str]:
    return [ds_text(owner, ds) for ds in ds_for(keys, digests)]


@fault("ta-mismatch", group="trust-anchor", layer="keys", reference="RFC 4035 section 5",
       summary="the resolvers' root anchor is the DS of a key the root never published",
       expect=Expectation("bogus", ede=(9,)), cases=("TA-01",))
def ta_mismatch(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = root(ctx)
    ctx.trust_anchor_override = anchors(".", [extra_key(ctx, build, "ksk", DECOY_KEY)])


@fault("ta-absent", group="trust-anchor", layer="keys", reference="RFC 4033 section 5; RFC 4035 section 4.4",
       summary="the resolvers get no trust anchor at all: nothing can be validated, signed data is insecure",
       expect=Expectation("insecure"), cases=("TA-02",))
def ta_absent(ctx: BuildContext, params: dict[str, Any]) -> None:
    ctx.trust_anchor_override = []


@fault("ta-island", group="trust-anchor", layer="keys", reference="RFC 4035 section 4.4; RFC 6840 section 5.10",
       summary="the only trust anchor is for a zone below the root (an island of trust); the root is not trusted",
       params={"zone": "the zone whose KSK becomes the only anchor, default jp."},
       expect=Expectation("secure"), cases=())
def ta_island(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = ctx.zone(str(params.get("zone", "jp.")))
    if not build.is_signed or not build.sep_keys():
        raise ScenarioError(f"zone {build.name} is unsigned, so it cannot be a trust anchor", fix="pick a signed zone")
    ctx.trust_anchor_override = anchors(build.name, build.sep_keys())


@fault("ta-unsupported-alg", group="trust-anchor", layer="keys", reference="RFC 4035 section 5.2",
       summary="the root anchor is the root KSK's DS with an algorithm number no validator implements (default 100)",
       params={"algorithm": param("the algorithm number the anchor claims, default 100", "int", low=0, high=255)},
       expect=Expectation("insecure", ede=(1,)), cases=("TA-04",))
def ta_unsupported_alg(ctx: BuildContext, params: dict[str, Any]) -> None:
    # The root cannot be signed with an algorithm nobody implements, so the anchor carries the unknown number: to a
    # validator that is an anchor it cannot use, which RFC 4035 5.2 (via 4035 4.4) treats as no anchor.
    build = root(ctx)
    algorithm = int(params.get("algorithm", 100))
    ctx.trust_anchor_override = [ds_text(".", with_ds_fields(ds, algorithm=algorithm))
                                 for ds in ds_for(build.sep_keys(), ANCHOR_DIGEST)]


@fault("ta-key-not-signing", group="trust-anchor", layer="keys", reference="RFC 4035 section 5",
       summary="the root anchor matches the root ZSK: a key in the root DNSKEY RRset that does not sign it",
       expect=Expectation("bogus", ede=(9, 6)), cases=("TA-05",))
def ta_key_not_signing(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = root(ctx)
    zsks = [key for key in build.keys if key.role == "zsk"]
    if not zsks:
        raise ScenarioError("the root has no separate ZSK", fix="sign the root with keys: ksk-zsk")
    ctx.trust_anchor_override = anchors(".", zsks)


@fault("ta-old-key-revoked", group="trust-anchor", layer="keys", reference="RFC 5011 section 2.1",
       summary="static snapshot after a root KSK roll: the old KSK is published revoked and self-signs the DNSKEY "
               "RRset, the new KSK signs it too; the anchors list both keys' (unrevoked) DS",
       expect=Expectation("secure"), cases=("TA-07",))
def ta_old_key_revoked(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = root(ctx)
    old = build.sep_keys()
    new = extra_key(ctx, build, "ksk", NEXT_KEY)
    # RFC 5011 2.1: a revoked key signs the DNSKEY RRset it is revoked in; its key tag changes with the flag, so the
    # DS of the unrevoked key no longer matches it, and only the new key can carry the chain.
    build.keys = [key.with_flags(key.flags | REVOKE_FLAG) if key in old else key for key in build.keys] + [new]
    ctx.trust_anchor_override = anchors(".", [*old, new])


@fault("ta-key-missing", group="trust-anchor", layer="keys", reference="RFC 5011 section 4",
       summary="static snapshot: the anchors list two root keys, one of which has vanished from the root (not "
               "revoked); the other still signs the root DNSKEY RRset",
       expect=Expectation("secure"), cases=("TA-09",))
def ta_key_missing(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = root(ctx)
    gone = extra_key(ctx, build, "ksk", NEXT_KEY)
    ctx.trust_anchor_override = anchors(".", [gone, *build.sep_keys()])


@fault("ta-stale-after-roll", group="trust-anchor", layer="keys", reference="RFC 5011 section 1; RFC 4035 section 5",
       summary="the root has finished a KSK roll (only the new KSK is published and signs), but the resolvers' "
               "static anchor is still the old KSK's DS",
       expect=Expectation("bogus", ede=(9,)), cases=("TA-10",))
def ta_stale_after_roll(ctx: BuildContext, params: dict[str, Any]) -> None:
    # The anchor stays what the lab gives by default (the usual root KSK), so resolvers keep running: only the
    # root's data changes, as in a real roll that a static anchor did not follow.
    build = root(ctx)
    old = build.sep_keys()
    ctx.trust_anchor_override = anchors(".", old)
    new = extra_key(ctx, build, "ksk", NEXT_KEY)
    build.keys = [new if key in old else key for key in build.keys]

# One id per catalog case, so `testbed faults` names each of them.
variant("ta-at-jp-island", of="ta-island", preset={"zone": "jp."}, cases=("TA-03",),
        summary="the only trust anchor is jp.'s key: jp. and below are an island of security under an untrusted root")
variant("ta-at-wrong-side-of-cut", of="ta-island", preset={"zone": "example.jp."}, cases=("TA-11",),
        summary="the only trust anchor is example.jp.'s key; its DS lives on the parent side of the cut, outside it")
