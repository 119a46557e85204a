"""Zones stay text through build and signing (the registry-scale path), and give what the dnspython path gives."""

from __future__ import annotations

import dns.dnssec
import dns.name
import dns.rdatatype
import dns.zone

from testbed.build.topology import plan
from testbed.build.zones import BuildContext, KeyStore, ZoneBuild, prepare, sign_all
from testbed.clock import LabClock
from testbed.scenario import load_scenario
from tests.conftest import QUICKSTART

T = dns.rdatatype


def built(objects: bool) -> BuildContext:
    """The quickstart's zones, signed; with ``objects`` every zone is taken as a dnspython zone first (as a fault
    would), so the dnspython path signs it."""
    scenario = load_scenario(QUICKSTART / "secure-a.yaml")
    ctx = prepare(plan(scenario, []), LabClock(), KEYS, serial=7)
    if objects:
        for build in ctx.zones.values():
            assert build.unsigned is not None
    sign_all(ctx)
    return ctx


KEYS = KeyStore()


def rrsets(zone: dns.zone.Zone) -> dict:
    return {(name, rds.rdtype, rds.covers): rds for name, node in zone.nodes.items() for rds in node.rdatasets}


def parse(build: ZoneBuild) -> dns.zone.Zone:
    return dns.zone.from_text(build.text(), origin=build.name, relativize=False, check_origin=False)


def test_text_path_signs_what_the_dnspython_path_signs():
    text, objects = built(False), built(True)
    assert text.zones.keys() == objects.zones.keys()
    for name in text.zones:
        a, b = rrsets(parse(text.zones[name])), rrsets(parse(objects.zones[name]))
        assert a.keys() == b.keys(), name
        for key, rds in a.items():
            if rds.rdtype != T.RRSIG:       # ECDSA signatures differ from run to run; their validity is checked below
                assert rds == b[key] and rds.ttl == b[key].ttl, (name, key)


def test_text_path_signatures_validate():
    ctx = built(False)
    for name, build in ctx.zones.items():
        if not build.is_signed:
            continue
        zone = parse(build)
        origin = dns.name.from_text(name)
        keys = {origin: zone.find_rrset(origin, T.DNSKEY)}
        for owner, node in zone.nodes.items():
            for rds in node.rdatasets:
                if rds.rdtype == T.RRSIG:
                    covered = zone.find_rrset(owner, rds.covers)
                    sigs = zone.find_rrset(owner, T.RRSIG, rds.covers)
                    dns.dnssec.validate(covered, sigs, keys, now=ctx.clock.now())


def test_serial_written_once_and_faults_still_apply(tmp_path):
    build = built(False).zones["example.jp."]
    assert build.soa_serial() == 7
    first, second = tmp_path / "a.zone", tmp_path / "b.zone"
    build.write_file(first)
    build.write_file(second)
    assert first.stat().st_ino == second.stat().st_ino and first.read_text() == build.text()
    # a fault takes the signed zone as dnspython data and changes it: text, serial and the next file follow
    signed = build.signed
    assert signed is not None
    soa = signed.find_rdataset("example.jp.", T.SOA)
    soa.add(soa[0].replace(serial=8))        # SOA is a singleton type: this replaces the record
    assert build.soa_serial() == 8 and " 8 " in build.text().split("SOA", 1)[1].split("\n", 1)[0]
    build.write_file(second)
    assert first.stat().st_ino != second.stat().st_ino and second.read_text() == build.text()


def test_a_build_kept_by_a_frozen_server_is_never_linked_to_its_successor(tmp_path):
    """A secondary whose transfers stopped keeps serving the old build while the primary's file is replaced by
    the new one: the old build's next file holds the old text, not a link to what now stands at its first path."""
    old, new = built(False).zones["example.jp."], built(False).zones["example.jp."]
    primary, secondary = tmp_path / "primary.zone", tmp_path / "secondary.zone"
    old.write_file(primary)
    new.write_file(primary)            # the next phase: the primary serves the new version
    old.write_file(secondary)          # the frozen secondary: still the old one
    assert secondary.read_text() == old.text() != new.text()
    assert primary.read_text() == new.text()


def test_the_run_path_keeps_untouched_zones_as_text(tmp_path):
    """build_scenario (labs, testbed build) never turns a zone no fault touches into dnspython objects: that cost
    a 1M-delegation lab minutes and gigabytes. A fault on one zone takes only that zone."""
    from testbed.faults import fault_params
    from testbed.timeline.build import build_scenario

    scenario = load_scenario(QUICKSTART / "secure-a.yaml")
    ctx = build_scenario(scenario, plan(scenario, []), LabClock(), KEYS, serial=3)
    assert all(build.is_text for build in ctx.zones.values())
    assert all(build.has_signed for build in ctx.zones.values() if build.is_signed)
    assert ctx.serial_for("child", "example.jp.") == 3
    faulted = load_scenario(QUICKSTART / "expired-rrsig.yaml", known_faults=fault_params())
    ctx = build_scenario(faulted, plan(faulted, []), LabClock(), KEYS, serial=3)
    assert [name for name, build in ctx.zones.items() if not build.is_text] == ["example.jp."]
