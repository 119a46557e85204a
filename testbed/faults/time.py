"""TIME group: signature validity windows against the validator's clock (fault-catalog.md 4.10).

For one snapshot, a resolver clock that is off by X is the same as signatures whose window is off by -X, so these
faults move the windows relative to the lab clock: "the resolver's clock is two days past every expiration" is
"every signature of every zone expired two days ago". Timelines that move the resolvers' own clock come with the
virtual clock (reference/virtual-clock.md); the two give the same verdicts for a single moment.
"""

from __future__ import annotations

import re
from typing import Any

from testbed.errors import ScenarioError
from testbed.faults.common import RRSET_PARAM, ZONE_PARAM
from testbed.faults.registry import fault
from testbed.faults.signatures import DAY, rewindow, targets
from testbed.scenario.model import Expectation
from testbed.zones import BuildContext, ZoneBuild

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": DAY}
_OFFSET_RE = re.compile(r"^([+-]?\d+)\s*([smhd]?)$")
OFFSET_HELP = "seconds from now, or with a unit: -2d, +300s, 30m, +1h (negative is in the past)"
SERIAL_HALF = 1 << 31
_SCOPE = {"zone": ZONE_PARAM + "; leave it out for every signed zone, the root included",
          "rrset": RRSET_PARAM + "; or all (default)"}


def offset_seconds(value: Any, what: str) -> int:
    """``-2d``, ``+300``, ``30m`` ... as seconds; plain YAML numbers are seconds."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _OFFSET_RE.match(str(value).strip())
    if match is None:
        raise ScenarioError(f"{what} {value!r} is not a time offset", fix=f"write it as {OFFSET_HELP}")
    return int(match.group(1)) * _UNITS[match.group(2) or "s"]


def _zones(ctx: BuildContext, params: dict[str, Any]) -> list[ZoneBuild]:
    if "zone" in params:
        build = ctx.zone(str(params["zone"]))
        if build.signed is None:
            raise ScenarioError(f"zone {build.name} is not signed, so it has no signatures to move",
                                fix="pick a signed zone, or leave 'zone' out for every signed zone")
        return [build]
    return [b for b in ctx.zones.values() if b.signed is not None]


@fault("signature-window", group="time", layer="signed", reference="RFC 4035 section 5.3.1",
       summary="signatures are made again over a window relative to now: of one RRset, of a zone, or of every "
               "signed zone (the same, for one moment, as a resolver clock that is off the other way)",
       params={**_SCOPE, "inception": "start of validity, " + OFFSET_HELP,
               "expiration": "end of validity, " + OFFSET_HELP},
       required=("inception", "expiration"), expect=Expectation("bogus", ede=(7, 8)),
       cases=("TIME-01", "TIME-02", "TIME-03", "TIME-04", "TIME-05", "TIME-06", "SIG-19"))
def signature_window(ctx: BuildContext, params: dict[str, Any]) -> None:
    now = ctx.clock.now()
    inception = now + offset_seconds(params["inception"], "inception")
    expiration = now + offset_seconds(params["expiration"], "expiration")
    for build in _zones(ctx, params):
        rewindow(build, targets(build, str(params.get("rrset", "all"))), inception, expiration)


@fault("signature-serial-wrap", group="time", layer="signed", reference="RFC 4034 section 3.1.5 (RFC 1982)",
       summary="a long-lived signature whose window runs across the 2^32-second wrap: the Inception field is "
               "numerically larger than the Expiration field, yet under serial arithmetic the signature is valid "
               "now (from about 67 years ago to 30 days ahead)",
       params=_SCOPE, expect=Expectation("secure"), cases=("TIME-07",))
def signature_serial_wrap(ctx: BuildContext, params: dict[str, Any]) -> None:
    now = ctx.clock.now()
    # Serial arithmetic reads a field value v as "before now" when (now - v) mod 2^32 is below 2^31. An inception a
    # year more than 2^31 s ahead of now is, by that reading, 2^31 s less a year in the past; as a plain number it is
    # in the future (year 2094 or so), and larger than the expiration 30 days from now.
    inception = (now + SERIAL_HALF + 365 * DAY) % (1 << 32)
    expiration = now + 30 * DAY
    if inception <= expiration:
        raise ScenarioError("the lab clock is too close to 2106 for this construction of the wrap",
                            fix="this fault needs now + 2^31 + 1 year to stay below 2^32")
    for build in _zones(ctx, params):
        rewindow(build, targets(build, str(params.get("rrset", "all"))), inception, expiration)
