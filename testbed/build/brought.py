"""What a scenario brings of its own (zone files, key folders), checked without building anything: what
``testbed validate`` reads, so that a zone file that does not parse, name servers the scenario cannot serve, keys
of another zone or algorithm, or a signed file that cannot be served are found before a run, with the same
file:line errors a run gives. A signed file's signatures are verified here too (a run refuses a forged one before
any lab starts); only running a signer tool and the faults wait for ``validate --build``.
"""

from __future__ import annotations

from testbed.build.byo import check_file_zone, presigned_ds, read_zone_file, verify_signatures
from testbed.build.topology import plan
from testbed.build.zones import KeyStore, zone_keys
from testbed.scenario.model import Scenario


def brings_own_parts(scenario: Scenario) -> bool:
    return any(z.file is not None or z.keys_dir is not None for z in scenario.zones)


def check_brought(scenario: Scenario) -> list[str]:
    """One line per zone that brings a file or keys, saying what was found; a ScenarioError for what is wrong."""
    if not brings_own_parts(scenario):
        return []
    topology = plan(scenario, [])        # reads each file's apex NS and matches it with the zone's servers
    found = []
    for zone_plan in topology.zones.values():
        parts = []
        if zone_plan.keys_dir is not None:
            keys = zone_keys(zone_plan, KeyStore())
            parts.append(f"{len(keys)} keys of algorithm {keys[0].algorithm}" if keys else "keys unused (unsigned)")
        if zone_plan.file is not None:
            zone = read_zone_file(zone_plan)
            signed = check_file_zone(zone_plan, topology, zone)
            if signed:
                presigned_ds(zone_plan, zone)      # a signed file needs a SEP key, or the scenario's DS
                verify_signatures(zone_plan, zone)
            parts.insert(0, f"{zone_plan.file.name}: {len(zone.nodes)} names, {'signed' if signed else 'unsigned'}")
        if parts:
            found.append(f"{zone_plan.name} " + ", ".join(parts))
    return found
