"""SIG group: signatures that are expired, not yet valid, or missing (fault-catalog.md 4.1)."""

from __future__ import annotations

from typing import Any

from testbed.faults.common import (
    RRSET_PARAM,
    ZONE_PARAM,
    parse_rrset_ref,
    replace_rrsigs,
    resign,
    rrset_keys,
    signed_zone,
    zone_of,
)
from testbed.faults.registry import fault
from testbed.scenario.model import Expectation
from testbed.zones import BuildContext

DAY = 86400
# Validators forgive some clock skew at both ends of the window: Unbound allows 10% of the validity period,
# capped at one day (val-sig-skew-max). Two days past either end is wrong for every resolver.
SKEW_BEYOND = 2 * DAY
_PARAMS = {"zone": ZONE_PARAM, "rrset": RRSET_PARAM}


@fault("rrsig-expired", group="signatures", layer="signed", reference="RFC 4035 section 5.3.1",
       summary="the RRSIG over one RRset expired two days ago; everything else is valid",
       params=_PARAMS, required=("zone", "rrset"), expect=Expectation("bogus", ede=(7,)), cases=("SIG-01",))
def rrsig_expired(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = zone_of(ctx, params)
    owner, rdtype = parse_rrset_ref(params["rrset"])
    now = ctx.clock.now()
    resign(build, owner, rdtype, inception=now - 30 * DAY - SKEW_BEYOND, expiration=now - SKEW_BEYOND,
           keys=rrset_keys(build, rdtype))


@fault("rrsig-not-yet-valid", group="signatures", layer="signed", reference="RFC 4035 section 5.3.1",
       summary="the RRSIG over one RRset becomes valid only in two days", params=_PARAMS, required=("zone", "rrset"),
       expect=Expectation("bogus", ede=(8,)))
def rrsig_not_yet_valid(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = zone_of(ctx, params)
    owner, rdtype = parse_rrset_ref(params["rrset"])
    now = ctx.clock.now()
    resign(build, owner, rdtype, inception=now + SKEW_BEYOND, expiration=now + 30 * DAY + SKEW_BEYOND,
           keys=rrset_keys(build, rdtype))


@fault("rrsig-missing", group="signatures", layer="signed", reference="RFC 4035 sections 5.3 and 5.5",
       summary="the RRSIG over one RRset is removed", params=_PARAMS, required=("zone", "rrset"),
       expect=Expectation("bogus", ede=(10,)))
def rrsig_missing(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = zone_of(ctx, params)
    owner, rdtype = parse_rrset_ref(params["rrset"])
    replace_rrsigs(signed_zone(build), owner, rdtype, [])
