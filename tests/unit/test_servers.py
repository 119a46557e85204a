"""Real authoritative servers without a network: the loader's `server:` keys, which host runs which software, the
adapters' configs, and the served-vs-built comparison's choice of RRsets."""

from __future__ import annotations

from pathlib import Path

import dns.zone
import pytest

from testbed.auth.servers import SERVER_SOFTWARE, ServerContext, get_server, registry
from testbed.build.topology import plan
from testbed.errors import ScenarioError
from testbed.scenario import load_scenario
from testbed.scenario.model import Scenario, ZoneSpec


def test_the_registry_holds_every_real_server_the_loader_accepts() -> None:
    assert set(registry()) == set(SERVER_SOFTWARE) - {"builtin"}


def test_scenario_and_zone_server_keys_load(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nserver: nsd\nzones:\n  example.jp.: {server: knot}\n"
                    "checks:\n  - query: www.example.jp. A\n    expect: secure\n")
    scenario = load_scenario(path)
    assert scenario.server == "nsd" and scenario.zones[0].server == "knot"


def test_an_unknown_server_names_the_line_and_the_choices(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nzones:\n  example.jp.: {server: powerdns}\n"
                    "checks:\n  - query: www.example.jp. A\n    expect: secure\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.line == 3 and "nsd" in str(info.value) and "powerdns" in str(info.value)


def test_a_scenario_default_puts_every_host_on_that_software() -> None:
    topology = plan(Scenario(name="t", file=Path("t.yaml"), server="knot"), [])
    assert {s.software for s in topology.servers.values()} == {"knot"}
    assert set(topology.servers) == {"root-a", "root-b", "jp-a", "jp-b", "cojp", "child"}


def test_a_zone_that_chooses_other_software_moves_to_a_host_of_its_own() -> None:
    scenario = Scenario(name="t", file=Path("t.yaml"), zones=(ZoneSpec(name="example.jp.", server="nsd"),))
    topology = plan(scenario, [])
    assert topology.servers["child"].software == "builtin"
    assert topology.servers["child"].zones == ("insecure.jp.", "example.co.jp.")
    assert topology.servers["child-nsd"].software == "nsd"
    assert topology.servers["child-nsd"].zones == ("example.jp.",)
    assert topology.zones["example.jp."].servers == ("child-nsd",)
    # the software is part of the lab's shape: a builtin lab is never reused for it
    assert topology.shape() != plan(Scenario(name="t", file=Path("t.yaml")), []).shape()


@pytest.mark.parametrize("software", ["nsd", "knot", "bind"])
def test_each_adapter_lists_every_zone_file_at_its_absolute_path(software: str, tmp_path: Path) -> None:
    adapter = get_server(software)
    ctx = ServerContext(name="child", address="10.53.0.6", folder=tmp_path,
                        zones=(("example.jp.", "example.jp.zone"), (".", "root.zone")))
    text = "\n".join(adapter.render(ctx).values())
    assert str(tmp_path / "example.jp.zone") in text and str(tmp_path / "root.zone") in text
    assert "10.53.0.6" in text
    assert adapter.command(ctx)[0] == adapter.binary


def test_refusal_lines_are_read_from_the_servers_own_log() -> None:
    bind = get_server("bind")
    log = "04-Dec-2026 21:00:00.000 zone example.jp/IN: not loaded due to errors.\n"
    assert bind.refusal(log, "example.jp.") == log.strip()
    assert bind.refusal(log, "insecure.jp.") is None


ZONE = """\
$ORIGIN example.jp.
@ 300 IN SOA ns1 h 1 3600 900 604800 300
@ 300 IN NS ns1
ns1 300 IN A 192.0.2.1
sub 300 IN NS ns.sub
sub 300 IN DS 1 13 2 AABBCCDDEEFF00112233445566778899AABBCCDDEEFF00112233445566778899
sub 300 IN NSEC www NS DS RRSIG NSEC
ns.sub 300 IN A 192.0.2.2
www 300 IN A 192.0.2.80
"""


def test_the_comparison_asks_for_authoritative_data_only() -> None:
    from testbed.auth.servers.served import authoritative_rrsets

    zone = dns.zone.from_text(ZONE, origin="example.jp.", relativize=False)
    asked = {(name.to_text(), rdataset.rdtype.name) for name, rdataset, _ in authoritative_rrsets(zone)}
    assert asked == {("example.jp.", "SOA"), ("example.jp.", "NS"), ("ns1.example.jp.", "A"),
                     ("sub.example.jp.", "DS"), ("www.example.jp.", "A")}


def test_data_deep_below_a_cut_is_not_asked_for_and_relative_zones_work_too() -> None:
    from testbed.auth.servers.served import authoritative_rrsets

    deep = ZONE + "a.b.ns.sub 300 IN A 192.0.2.3\nsubway 300 IN A 192.0.2.4\n"
    for relativize in (False, True):
        zone = dns.zone.from_text(deep, origin="example.jp.", relativize=relativize)
        asked = {(name.to_text(), rdataset.rdtype.name) for name, rdataset, _ in authoritative_rrsets(zone)}
        # subway. is beside sub., not below it: a label test, not a string prefix
        assert asked == {("example.jp.", "SOA"), ("example.jp.", "NS"), ("ns1.example.jp.", "A"),
                         ("sub.example.jp.", "DS"), ("www.example.jp.", "A"), ("subway.example.jp.", "A")}


def test_the_differential_lists_cells_whose_status_or_outcome_differ() -> None:
    from testbed.report.differential import compare

    def cell(scenario: str, status: str, outcome: str, reason: str = "") -> dict:
        return {"scenario": scenario, "phase": None, "query": "www.example.jp. A", "resolver": "unbound",
                "status": status, "outcome": outcome, "reason": reason}

    base = {("a", None, "www.example.jp. A", "unbound"): cell("a", "pass", "bogus"),
            ("b", None, "www.example.jp. A", "unbound"): cell("b", "pass", "secure")}
    other = {("a", None, "www.example.jp. A", "unbound"): cell("a", "error", "bogus", "the server sanitised the "
                                                                                       "fault: NSD on child ..."),
             ("b", None, "www.example.jp. A", "unbound"): cell("b", "pass", "secure")}
    cells = compare(base, other)
    assert [c.scenario for c in cells] == ["a"]
    assert cells[0].why.startswith("the server sanitised") and cells[0].base_text == "pass (bogus)"
