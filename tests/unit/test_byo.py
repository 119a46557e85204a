"""Bring your own zone and keys, without a network: what the lab makes of a zone file, and the errors a person gets
for a file that does not fit the hierarchy."""

from __future__ import annotations

from pathlib import Path

import dns.rdatatype
import pytest

from testbed.build.topology import plan
from testbed.build.zones import KeyStore, prepare
from testbed.clock import LabClock
from testbed.dnssec import generate_key
from testbed.dnssec.keyfiles import load_key_folder
from testbed.dnssec.keys import key_to_files
from testbed.errors import ScenarioError
from testbed.scenario import load_scenario

ZONE = """\
$ORIGIN example.jp.
$TTL 300
@ IN SOA ns1 hostmaster 7 3600 900 604800 300
@ IN NS ns1
@ IN NS ns2
ns1 IN A 198.51.100.1
ns2 IN A 198.51.100.2
www IN A 192.0.2.80
shop IN NS ns.shop
ns.shop IN A 198.51.100.9
"""


def scenario_with(tmp_path: Path, zone: str, text: str = ZONE, name: str = "example.jp.zone"):
    (tmp_path / name).write_text(text)
    path = tmp_path / "s.yaml"
    path.write_text(f"name: s\nzones:\n  example.jp.: {{{zone}}}\nchecks:\n  - query: www.example.jp. A\n"
                    "    expect: secure\n")
    return load_scenario(path)


def test_an_unsigned_file_gets_lab_addresses_a_lab_serial_and_keeps_its_own_records(tmp_path: Path) -> None:
    scenario = scenario_with(tmp_path, "file: example.jp.zone, servers: [child, child2]")
    topology = plan(scenario, [])
    assert topology.zones["example.jp."].ns_names == ("ns1.example.jp.", "ns2.example.jp.")
    ctx = prepare(topology, LabClock(), KeyStore(), 42)
    zone = ctx.zones["example.jp."].unsigned
    soa = zone.get_rdataset("example.jp.", dns.rdatatype.SOA)
    assert soa is not None and soa[0].serial == 42
    ns1 = zone.get_rdataset("ns1.example.jp.", dns.rdatatype.A)
    assert ns1 is not None and [r.address for r in ns1] == [topology.server_address("child")]
    shop = zone.get_rdataset("shop.example.jp.", dns.rdatatype.NS)
    assert shop is not None and zone.get_rdataset("www.example.jp.", dns.rdatatype.A) is not None
    # jp.'s delegation names the file's name servers, with glue at the lab hosts
    jp = ctx.zones["jp."].unsigned
    delegation = jp.get_rdataset("example.jp.", dns.rdatatype.NS)
    assert delegation is not None and sorted(r.target.to_text() for r in delegation) == ["ns1.example.jp.",
                                                                                          "ns2.example.jp."]
    glue = jp.get_rdataset("ns2.example.jp.", dns.rdatatype.A)
    assert glue is not None and [r.address for r in glue] == [topology.server_address("child2")]


def test_one_host_answers_for_every_name_server_of_the_file(tmp_path: Path) -> None:
    topology = plan(scenario_with(tmp_path, "file: example.jp.zone"), [])
    assert topology.zones["example.jp."].servers == ("child", "child")


def test_more_hosts_than_name_servers_says_what_does_not_match(tmp_path: Path) -> None:
    scenario = scenario_with(tmp_path, "file: example.jp.zone, servers: [a, b, c]")
    with pytest.raises(ScenarioError, match=r"names 2 name servers .* on 3 hosts") as info:
        plan(scenario, [])
    assert info.value.line == 3


def test_a_zone_file_that_does_not_parse_names_its_own_line(tmp_path: Path) -> None:
    scenario = scenario_with(tmp_path, "file: example.jp.zone", ZONE + "bad 300 IN AX 1.2.3.4\n")
    # the plan reads only the apex NS lines of a plain file; the build parses it whole
    topology = plan(scenario, [])
    with pytest.raises(ScenarioError, match=r"example\.jp\.zone:11: unknown rdatatype 'AX'"):
        prepare(topology, LabClock(), KeyStore(), 1)


def test_the_apex_ns_scan_reads_what_dnspython_reads_or_leaves_the_file_to_it() -> None:
    from testbed.build.zonefile_source import scan_apex_ns

    assert scan_apex_ns(ZONE, "example.jp.") == ("ns1.example.jp.", "ns2.example.jp.")
    forms = ("$ORIGIN jp.\nexample 1h IN SOA ns1.example h 1 2 3 4 5\n\tIN 300 NS ns1.example\n"
             "  NS ns2.example.jp. ; a comment\n$ORIGIN example.jp.\n@ NS ns3\nwww A 192.0.2.1\n"
             "sub NS ns.other.jp.\n")
    assert scan_apex_ns(forms, "example.jp.") == ("ns1.example.jp.", "ns2.example.jp.", "ns3.example.jp.")
    zone = dns.zone.from_text(forms, origin="example.jp.", relativize=False, check_origin=False)
    assert sorted(r.target.to_text() for r in zone.get_rdataset("example.jp.", "NS")) == \
        ["ns1.example.jp.", "ns2.example.jp.", "ns3.example.jp."]
    assert scan_apex_ns(ZONE.replace("@ IN NS ns2", "@ IN NS ( ns2 )"), "example.jp.") is None
    assert scan_apex_ns(ZONE.replace("@ IN SOA", "www IN SOA"), "example.jp.") is None


def test_a_missing_zone_file_is_a_loader_error(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nzones:\n  example.jp.: {file: nowhere.zone}\nchecks:\n  - query: x.jp. A\n"
                    "    expect: secure\n")
    with pytest.raises(ScenarioError, match="nowhere.zone is not a file") as info:
        load_scenario(path)
    assert info.value.line == 3


def test_bind_key_files_come_back_with_roles_from_their_flags(tmp_path: Path) -> None:
    ksk, zsk = generate_key("example.jp.", 13, "ksk"), generate_key("example.jp.", 13, "zsk")
    other = generate_key("example.co.jp.", 13, "ksk")
    for key in (ksk, zsk, other):
        key_to_files(key, tmp_path)
    keys = {k.key_tag: k.role for k in load_key_folder(tmp_path, "example.jp.")}
    assert keys == {ksk.key_tag: "ksk", zsk.key_tag: "zsk"}
    assert [k.role for k in load_key_folder(tmp_path, "example.co.jp.")] == ["csk"]


def test_a_private_file_without_its_public_half_is_named(tmp_path: Path) -> None:
    key = generate_key("example.jp.", 13, "ksk")
    for path in key_to_files(key, tmp_path):
        if path.suffix == ".key":
            path.unlink()
    with pytest.raises(ScenarioError, match="no public half"):
        load_key_folder(tmp_path, "example.jp.")
