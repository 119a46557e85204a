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
_PARAMS = {"zone": ZONE_PARAM, "rrset": RRSET_PARAM}


@fault("rrsig-expired", group="signatures", layer="signed", reference="RFC 4035 section 5.3.1",
       summary="the RRSIG over one RRset expired a day ago; everything else is valid",
       params=_PARAMS, required=("zone", "rrset"), expect=Expectation("bogus", ede=(7,)))
def rrsig_expired(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = zone_of(ctx, params)
    owner, rdtype = parse_rrset_ref(params["rrset"])
    now = ctx.clock.now()
    resign(build, owner, rdtype, inception=now - 31 * DAY, expiration=now - DAY, keys=rrset_keys(build, rdtype))


@fault("rrsig-not-yet-valid", group="signatures", layer="signed", reference="RFC 4035 section 5.3.1",
       summary="the RRSIG over one RRset becomes valid only tomorrow", params=_PARAMS, required=("zone", "rrset"),
       expect=Expectation("bogus", ede=(8,)))
def rrsig_not_yet_valid(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = zone_of(ctx, params)
    owner, rdtype = parse_rrset_ref(params["rrset"])
    now = ctx.clock.now()
    resign(build, owner, rdtype, inception=now + DAY, expiration=now + 31 * DAY, keys=rrset_keys(build, rdtype))


@fault("rrsig-missing", group="signatures", layer="signed", reference="RFC 4035 sections 5.3 and 5.5",
       summary="the RRSIG over one RRset is removed", params=_PARAMS, required=("zone", "rrset"),
       expect=Expectation("bogus", ede=(10,)))
def rrsig_missing(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = zone_of(ctx, params)
    owner, rdtype = parse_rrset_ref(params["rrset"])
    replace_rrsigs(signed_zone(build), owner, rdtype, [])
