"""The compose document: one service per host at its planned address, an internal network, a probe, and
configs rendered for the container paths. No Docker needed."""

from __future__ import annotations

from pathlib import Path

import yaml

from testbed.build.topology import DEFAULT_SUBNET
from testbed.lab.compose_export import GATEWAY_HOST, LAB, PROBE_SERVICE, write_compose
from testbed.lab.netfaults import NetFault, fault_commands
from testbed.scenario import load_scenario
from tests.conftest import QUICKSTART


def export(tmp_path: Path) -> tuple[Path, dict]:
    out = tmp_path / "p"
    write_compose(load_scenario(QUICKSTART / "secure-a.yaml"), out, ["unbound"], DEFAULT_SUBNET)
    return out, yaml.safe_load((out / "docker-compose.yml").read_text())


def test_every_host_is_a_service_on_an_internal_network(tmp_path: Path) -> None:
    out, doc = export(tmp_path)
    assert doc["version"] == "2.4"                       # what docker-compose 1.29 needs for ipam and internal
    network = doc["networks"]["lab"]
    assert network["internal"] is True
    assert network["ipam"]["config"] == [{"subnet": str(DEFAULT_SUBNET),
                                          "gateway": str(DEFAULT_SUBNET.network_address + GATEWAY_HOST)}]
    services = doc["services"]
    assert {"root-a", "root-b", "jp-a", "jp-b", "cojp", "child", "unbound", PROBE_SERVICE} <= set(services)
    addresses = [s["networks"]["lab"]["ipv4_address"] for s in services.values()]
    assert len(addresses) == len(set(addresses))
    assert str(DEFAULT_SUBNET.network_address + GATEWAY_HOST) not in addresses
    for name, service in services.items():
        assert list(service["networks"]) == ["lab"], name            # no other network
        assert service["image"].startswith("dnssec-testbed/")
        assert (out / service["build"]["context"] / "Dockerfile").is_file()
        assert "ports" not in service                                # nothing published
        assert "cap_add" not in service                              # no network faults in this scenario


def test_configs_use_container_paths_and_the_files_exist(tmp_path: Path) -> None:
    out, doc = export(tmp_path)
    root = doc["services"]["root-a"]
    assert root["command"] == ["python3", "-m", "testbed.auth", f"{LAB}/servers/root-a/config.json"]
    assert (out / "servers" / "root-a" / "config.json").is_file()
    assert (out / "servers" / "root-a" / "root.zone").is_file()
    conf = (out / "resolvers" / "unbound" / "unbound.conf").read_text()
    assert f'trust-anchor-file: "{LAB}/resolvers/unbound/root-anchor.ds"' in conf
    assert str(tmp_path) not in conf                                   # movable: no paths of this machine
    assert (out / "resolvers" / "unbound" / "root-anchor.ds").read_text().startswith(". IN DS ")
    assert (out / "images" / "auth" / "testbed" / "auth" / "__main__.py").is_file()
    assert (out / "images" / "auth" / "vendor" / "dns" / "__init__.py").is_file()
    assert "dig +dnssec @10.53.0.101" in (out / "docker-compose.yml").read_text()


def test_network_faults_become_an_entrypoint_with_net_admin(tmp_path: Path) -> None:
    from testbed.build.topology import plan
    from testbed.lab.compose_export import compose_document

    topology = plan(load_scenario(QUICKSTART / "secure-a.yaml"), ["unbound"], DEFAULT_SUBNET)
    written: list[str] = []
    doc = compose_document(topology, ["unbound"], {"child": {"udp_max": 512}}, tmp_path, written)
    child = doc["services"]["child"]
    assert child["cap_add"] == ["NET_ADMIN"]
    assert child["entrypoint"] == ["/bin/sh", f"{LAB}/netfaults/child.sh"]
    script = (tmp_path / "netfaults" / "child.sh").read_text()
    assert script.rstrip().endswith('exec "$@"')
    assert len(fault_commands(NetFault(udp_max=512))) == script.count("\ntc ")


def test_without_a_subnet_the_export_takes_one_no_route_of_this_host_overlaps(tmp_path: Path) -> None:
    import ipaddress

    from testbed.lab.backends.subnets import _routed_networks

    out = tmp_path / "free"
    write_compose(load_scenario(QUICKSTART / "secure-a.yaml"), out, ["unbound"])
    doc = yaml.safe_load((out / "docker-compose.yml").read_text())
    subnet = ipaddress.IPv4Network(doc["networks"]["lab"]["ipam"]["config"][0]["subnet"])
    assert not any(subnet.overlaps(net) for net in _routed_networks())
    address = ipaddress.IPv4Address(doc["services"]["unbound"]["networks"]["lab"]["ipv4_address"])
    assert address in subnet


def test_a_subnet_that_is_not_a_slash_24_is_refused_with_exit_2(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from testbed.cli.main import cli

    result = CliRunner().invoke(cli, ["compose", str(QUICKSTART / "secure-a.yaml"), "-o", str(tmp_path / "x"),
                                      "--subnet", "10.53.0.0/16"])
    assert result.exit_code == 2 and "need a /24" in result.output
    result = CliRunner().invoke(cli, ["compose", str(QUICKSTART / "secure-a.yaml"), "-o", str(tmp_path / "x"),
                                      "--subnet", "10.53.0.300/24"])
    assert result.exit_code == 2 and "not an IPv4 network" in result.output
