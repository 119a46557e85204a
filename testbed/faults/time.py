"""TIME group: signature validity windows against the validator's clock (fault-catalog.md 4.10).

For one snapshot, a resolver clock that is off by X is the same as signatures whose window is off by -X, so these
faults move the windows relative to the lab clock: "the resolver's clock is two days past every expiration" is
"every signature of every zone expired two days ago". Timelines that move the resolvers' own clock come with the
virtual clock (reference/virtual-clock.md); the two give the same verdicts for a single moment.
"""

from __future__ import annotations

import re
from typing import Any

from testbed.build.zones import BuildContext, ZoneBuild
from testbed.errors import ScenarioError
from testbed.faults.common import RRSET_PARAM, ZONE_PARAM
from testbed.faults.registry import Param, fault, param, variant
from testbed.faults.signatures import DAY, rewindow, targets
from testbed.scenario.model import Expectation

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": DAY}
_OFFSET_RE = re.compile(r"^([+-]?\d+)\s*([smhd]?)$")
OFFSET_HELP = "seconds from now, or with a unit: -2d, +300s, 30m, +1h (negative is in the past)"
SERIAL_HALF = 1 << 31
_SCOPE: dict[str, str | Param] = {"zone": ZONE_PARAM + "; leave it out for every signed zone, the root included",
          "rrset": param(RRSET_PARAM + "; or all (default)", "rrset", all_word=True)}


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
       params={**_SCOPE, "inception": param("start of validity, " + OFFSET_HELP, "offset"),
               "expiration": param("end of validity, " + OFFSET_HELP, "offset")},
       required=("inception", "expiration"), expect=Expectation("bogus", ede=(7, 8)))
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


# ---- one id per catalog case (registry.variant): the base above stays for scenarios that set their own window ----

variant("clock-after-expiry", of="signature-window", preset={"inception": "-32d", "expiration": "-2d"},
        cases=("TIME-01",), expect=Expectation("bogus", ede=(7,)),
        summary="every signature (of every zone, unless one is named) expired two days ago: a resolver clock two "
                "days past every expiration")
variant("clock-before-inception", of="signature-window", preset={"inception": "+2d", "expiration": "+32d"},
        cases=("TIME-02",), expect=Expectation("bogus", ede=(8,)),
        summary="every signature (of every zone, unless one is named) becomes valid in two days: a resolver clock "
                "two days before every inception")
variant("inception-now+300s", of="signature-window", preset={"inception": "+300s", "expiration": "+30d"},
        cases=("TIME-03",), expect=Expectation("bogus", ede=(8,)),
        summary="signatures become valid 5 minutes from now (a signer clock 5 minutes ahead)")
variant("inception-now+30s", of="signature-window", preset={"inception": "+30s", "expiration": "+30d"},
        cases=("TIME-04",), expect=Expectation("bogus", ede=(8,)),
        summary="signatures become valid 30 seconds from now")
variant("expired-300s-ago", of="signature-window", preset={"inception": "-30d", "expiration": "-300s"},
        cases=("TIME-05",), expect=Expectation("bogus", ede=(7,)),
        summary="signatures expired 5 minutes ago")
variant("expiring-within-ttl", of="signature-window", preset={"inception": "-1h", "expiration": "+10m"},
        cases=("TIME-06",), expect=Expectation("secure"), reference="RFC 4035 section 5.3.3",
        summary="signatures expire in 10 minutes, sooner than the TTLs of the data they cover; the data validates "
                "and should be kept no longer than its signatures last")
variant("ttl-beyond-expiration", of="signature-window", preset={"inception": "-1h", "expiration": "+10m"},
        cases=("SIG-19",), expect=Expectation("secure"), reference="RFC 4035 section 5.3.3",
        summary="one RRset's signature expires in 10 minutes, sooner than its TTL: it validates, and should be kept "
                "no longer than the signature lasts")
