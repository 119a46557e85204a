"""The jp preset and scenario zone changes, planned without any network."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from testbed.build.topology import parent_of, plan
from testbed.errors import ScenarioError
from testbed.scenario.model import Scenario, SigningSpec, ZoneSpec


def scenario(**kw) -> Scenario:
    return Scenario(name="t", file=Path("t.yaml"), **kw)


def test_jp_preset_has_the_issue_hierarchy() -> None:
    topo = plan(scenario(), ["unbound"])
    assert list(topo.zones) == [".", "jp.", "co.jp.", "example.jp.", "insecure.jp.", "example.co.jp."]
    assert topo.zones["example.co.jp."].parent == "co.jp."
    assert topo.zones["co.jp."].parent == "jp."
    assert not topo.zones["insecure.jp."].signing.signed
    assert len(topo.zones["."].servers) == 2 and len(topo.zones["jp."].servers) == 2
    # each server host has its own address; resolvers and the probe are apart from the servers
    addresses = [topo.server_address(s) for s in topo.servers] + [topo.resolver_address("unbound"),
                                                                   topo.probe_address]
    assert len(set(addresses)) == len(addresses)


def test_plan_lays_on_the_given_subnet() -> None:
    topo = plan(scenario(), ["unbound"], ipaddress.IPv4Network("10.53.9.0/24"))
    assert topo.root_hints == [("a.root-servers.test.", "10.53.9.1"), ("b.root-servers.test.", "10.53.9.2")]
    assert topo.resolver_address("unbound") == "10.53.9.101"


def test_new_zone_becomes_child_of_closest_enclosing_zone_and_new_server_changes_shape() -> None:
    base = plan(scenario(), ["unbound"])
    topo = plan(scenario(zones=(ZoneSpec(name="shop.example.jp.", records=("www 300 IN A 192.0.2.1",),
                                         servers=("shop",)),)), ["unbound"])
    assert topo.zones["shop.example.jp."].parent == "example.jp."
    assert "shop" in topo.servers
    assert topo.shape() != base.shape()


def test_zone_changes_keep_the_shape_so_the_lab_is_reused() -> None:
    base = plan(scenario(), ["unbound"])
    topo = plan(scenario(zones=(ZoneSpec(name="example.jp.", records=("x 300 IN A 192.0.2.9",),
                                         signing=SigningSpec(denial="nsec3")),)), ["unbound"])
    assert topo.shape() == base.shape()
    assert "x 300 IN A 192.0.2.9" in topo.zones["example.jp."].records
    assert topo.zones["example.jp."].signing.denial == "nsec3"


def test_unknown_preset_is_a_scenario_error() -> None:
    with pytest.raises(ScenarioError, match="unknown topology"):
        plan(scenario(topology="nowhere"), [])


def test_parent_of() -> None:
    zones = {".", "jp.", "co.jp."}
    assert parent_of("example.co.jp.", zones) == "co.jp."
    assert parent_of("a.b.example.jp.", zones) == "jp."
    assert parent_of("com.", zones) == "."
    assert parent_of(".", zones) is None
