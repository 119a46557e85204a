"""DS group: what the parent says about a child's keys (fault-catalog.md 4.3)."""

from __future__ import annotations

from typing import Any

from testbed.dnssec import generate_key, make_ds
from testbed.errors import ScenarioError
from testbed.faults.common import ZONE_PARAM, zone_of
from testbed.faults.registry import fault
from testbed.scenario.model import Expectation
from testbed.zones import BuildContext


@fault("ds-digest-mismatch", group="ds", layer="keys", reference="RFC 4035 section 5.2",
       summary="the parent's DS matches no key of the child (made from a key that is never published)",
       params={"zone": ZONE_PARAM}, required=("zone",), expect=Expectation("bogus", ede=(9,)))
def ds_digest_mismatch(ctx: BuildContext, params: dict[str, Any]) -> None:
    build = zone_of(ctx, params)
    if not build.is_signed:
        raise ScenarioError(f"zone {build.name} is unsigned, so it has no DS to break",
                            fix="pick a signed zone")
    algorithm = build.plan.signing.algorithm
    decoy = generate_key(build.name, algorithm, "ksk")
    build.ds_override = [make_ds(decoy, digest) for digest in build.plan.signing.ds_digests]
