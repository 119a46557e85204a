"""Resolver generations and version-keyed overrides: parsing, naming, images, exit codes. No lab needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from testbed.errors import ScenarioError
from testbed.lab import images
from testbed.resolvers import registry
from testbed.resolvers.generations import get_generation, host_generation, resolver_with_generation
from testbed.scenario.versions import parse_range, parse_version, version_in_range
from tests.unit.test_cli import run_testbed


def test_a_generation_is_a_named_subclass_with_its_own_image() -> None:
    adapter = registry()["bind"].for_generation("debian13")
    assert adapter.name == "bind@debian13"
    assert adapter.base_name == "bind" and adapter.generation == "debian13"
    assert adapter.image == "bind@debian13"
    assert registry()["bind"]().generation is None        # the registered class is untouched


def test_image_tags_differ_per_generation_and_name_it() -> None:
    plain, d13 = images.image_tag("bind"), images.image_tag("bind@debian13")
    assert d13 == plain + "-debian13"
    assert images.split_key("unbound@debian13") == ("unbound", "debian13")


def test_unknown_generation_names_the_known_ones() -> None:
    with pytest.raises(ScenarioError) as err:
        get_generation("debian99")
    assert "debian12" in (err.value.fix or "") and "debian13" in (err.value.fix or "")


def test_netns_runs_only_the_hosts_generation() -> None:
    here = host_generation()
    other = "debian13" if here != "debian13" else "debian12"
    with pytest.raises(ScenarioError) as err:
        resolver_with_generation(registry()["unbound"](), other, "netns")
    assert "--backend docker" in (err.value.fix or "")


def test_host_generation_reads_os_release(tmp_path: Path) -> None:
    release = tmp_path / "os-release"
    release.write_text('PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nID=debian\nVERSION_ID="13"\n')
    assert host_generation(release) == "debian13"
    assert host_generation(tmp_path / "missing") == "host"


def test_cli_unknown_generation_exits_2_with_the_fix() -> None:
    proc = run_testbed("run", "--resolver", "unbound@debian99", "--backend", "docker")
    assert proc.returncode == 2
    assert "debian99" in proc.stderr and "debian13" in proc.stderr


@pytest.mark.parametrize(("version", "spec", "inside"), [
    ("9.18.49-1~deb12u3-Debian", "<9.20", True),
    ("9.20.30-1~deb13u1-Debian", "<9.20", False),
    ("1:9.20.30-1~deb13u1", ">=9.20", True),
    ("9.18.49", "9.18", True),
    ("9.18.49", "9.18.49", True),
    ("9.18.4", "9.18.49", False),
    ("9.9.1", "<9.18", True),                # numeric, not text: 9.9 < 9.18
    ("1.17.1", ">=1.17,<1.20", True),
    ("1.26.2", ">=1.17,<1.20", False),
    ("5.4.9", "4.8.8 || 5.4.9", True),
    ("unknown", "<99", False),
])
def test_version_ranges(version: str, spec: str, inside: bool) -> None:
    assert version_in_range(version, spec) is inside


@pytest.mark.parametrize("bad", ["", "<", "9.x", "~9.18", "<9.20,", "9.18 9.20"])
def test_a_range_that_does_not_parse_says_how_to_write_one(bad: str) -> None:
    with pytest.raises(ScenarioError) as err:
        parse_range(bad)
    assert "<9.20" in (err.value.fix or "")


def test_parse_version_drops_epoch_and_revision() -> None:
    assert parse_version("1:9.20.30-1~deb13u1") == (9, 20, 30)
    assert parse_version("Version 1.26.2") is None
