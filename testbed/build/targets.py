"""Validate without a lab: do a scenario's faults aim at zones, servers, names and RRsets the scenario has?

``testbed validate`` runs this after loading. It plans the topology (testbed/build/topology.py: the preset plus the
scenario's zones) and reads each zone's planned records, so a fault aimed at ``absent.jp.`` or at
``www.example.jp./TXT`` in a zone with no TXT there fails here with the fault's file:line, not at build time.
Records that only signing makes (DNSKEY, NSEC, NSEC3PARAM, RRSIG at every owner, DS at a signed child's cut in
its parent) count as present in a signed zone.
"""

from __future__ import annotations

from collections.abc import Mapping

import dns.exception
import dns.name
import dns.rdatatype
import dns.zone

from testbed.build.topology import Topology, ZonePlan, plan
from testbed.build.zones import unsigned_zone_text
from testbed.errors import ScenarioError
from testbed.scenario.model import FaultSignature, FaultSpec, Scenario

# Types signing adds: at the apex, or at every owner name of the zone.
_APEX_SIGNED = {dns.rdatatype.DNSKEY, dns.rdatatype.NSEC3PARAM}
_EVERY_OWNER_SIGNED = {dns.rdatatype.RRSIG, dns.rdatatype.NSEC}


def check_fault_targets(scenario: Scenario, signatures: Mapping[str, FaultSignature]) -> None:
    """Raise ScenarioError at the fault's line for the first target the planned topology does not have."""
    if not scenario.faults:
        return
    topology = plan(scenario, [])
    zones: dict[str, dns.zone.Zone] = {}
    for spec in scenario.faults:
        signature = signatures.get(spec.fault)
        if signature is not None:
            _check(spec, signature, topology, zones, scenario)


def _fail(spec: FaultSpec, scenario: Scenario, message: str, fix: str) -> ScenarioError:
    where = spec.where
    return ScenarioError(message, file=where.file if where else scenario.file, line=where.line if where else None,
                         fix=fix)


def _check(spec: FaultSpec, signature: FaultSignature, topology: Topology, zones: dict[str, dns.zone.Zone],
           scenario: Scenario) -> None:
    what = f"fault {spec.fault!r}"
    for name, value in spec.params.items():
        kind = signature.params[name].kind if name in signature.params else None
        if kind == "zone" and value not in topology.zones:
            raise _fail(spec, scenario, f"{what} aims at zone {value!r} ('{name}'), which this scenario does not have.",
                        f"use one of its zones: {', '.join(topology.zones)}; or add the zone under 'zones:'.")
        if kind == "server" and value not in topology.servers:
            raise _fail(spec, scenario, f"{what} aims at server {value!r}, which this scenario does not have.",
                        f"use one of its servers: {', '.join(topology.servers)}.")
    zone_name = spec.params.get("zone")
    if not isinstance(zone_name, str) or zone_name not in topology.zones:
        return  # no zone (a fault over every zone) or one checked above
    zone_plan = topology.zones[zone_name]
    origin = dns.name.from_text(zone_name)
    for name, value in spec.params.items():
        kind = signature.params[name].kind if name in signature.params else None
        if kind == "name":
            _check_name(spec, scenario, what, name, str(value), origin)
        elif kind == "rrset" and str(value).strip().lower() != "all":
            zone = zones.get(zone_name)
            if zone is None:
                zone = zones[zone_name] = _planned_zone(zone_plan, topology)
            _check_rrset(spec, scenario, what, str(value).strip(), zone_plan, topology, zone)


def _check_name(spec: FaultSpec, scenario: Scenario, what: str, param: str, text: str,
                origin: dns.name.Name) -> None:
    name = dns.name.from_text(text)  # absolute, as the faults read it
    if not name.is_subdomain(origin):
        raise _fail(spec, scenario, f"{what}: '{param}' {text!r} is not in zone {origin.to_text()!r}.",
                    f"name something at or below {origin.to_text()}.")


def _planned_zone(zone_plan: ZonePlan, topology: Topology) -> dns.zone.Zone:
    """The zone's records as the build will start from them (the loader has checked each record line)."""
    text = unsigned_zone_text(zone_plan, topology, 1)
    try:
        return dns.zone.from_text(text, origin=zone_plan.name, relativize=False, check_origin=False)
    except dns.exception.DNSException:
        return dns.zone.Zone(dns.name.from_text(zone_plan.name), relativize=False)


def _check_rrset(spec: FaultSpec, scenario: Scenario, what: str, text: str, zone_plan: ZonePlan,
                 topology: Topology, zone: dns.zone.Zone) -> None:
    owner_text, _, type_text = text.rpartition("/")
    origin = zone.origin
    assert origin is not None  # made with an origin above
    # Absolute as the faults read it (parse_rrset_ref): "www/A" is www./A, not www.<zone>/A.
    owner = origin if owner_text == "@" else dns.name.from_text(owner_text)
    rdtype = dns.rdatatype.from_text(type_text)
    shown = f"{owner.to_text()}/{dns.rdatatype.to_text(rdtype)}"
    if not owner.is_subdomain(origin):
        raise _fail(spec, scenario, f"{what}: RRset {text!r} is not in zone {zone_plan.name!r}.",
                    f"name an RRset of {zone_plan.name}, e.g. www.{zone_plan.name}/A.")
    if _present(owner, rdtype, zone_plan, topology, zone):
        return
    node = zone.get_node(owner)
    have = sorted(dns.rdatatype.to_text(r.rdtype) for r in node) if node is not None else []
    detail = f"it has {', '.join(have)} there" if have else f"it has no records at {owner.to_text()}"
    raise _fail(spec, scenario,
                f"{what} aims at RRset {shown}, which zone {zone_plan.name!r} does not have ({detail}).",
                "name an RRset the zone has, or add the record under 'zones:' -> 'records:'.")


def _present(owner: dns.name.Name, rdtype: dns.rdatatype.RdataType, zone_plan: ZonePlan, topology: Topology,
             zone: dns.zone.Zone) -> bool:
    if zone.get_rdataset(owner, rdtype) is not None:
        return True
    if not zone_plan.signing.signed:
        return False
    exists = zone.get_node(owner) is not None
    if rdtype in _APEX_SIGNED and owner == zone.origin:
        return rdtype != dns.rdatatype.NSEC3PARAM or zone_plan.signing.denial == "nsec3"
    if rdtype in _EVERY_OWNER_SIGNED and exists:
        return rdtype != dns.rdatatype.NSEC or zone_plan.signing.denial == "nsec"
    if rdtype == dns.rdatatype.NSEC3:
        return zone_plan.signing.denial == "nsec3"  # NSEC3 owners are hashes; any of them is fine here
    if rdtype == dns.rdatatype.DS:
        child = topology.zones.get(owner.to_text())
        return child is not None and child.parent == zone_plan.name and child.signing.signed
    return False
