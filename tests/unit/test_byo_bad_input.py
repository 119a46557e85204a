"""Bring-your-own input a person got wrong, without a network: each is a ScenarioError (exit 2) that says what does
not match and how to fix it. (A zone file that does not parse: tests/unit/test_byo.py.)"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from testbed.build.topology import plan
from testbed.build.zones import KeyStore, prepare
from testbed.clock import LabClock
from testbed.dnssec import SignOptions, generate_key
from testbed.dnssec.keyfiles import load_key_folder
from testbed.dnssec.keys import key_to_files
from testbed.dnssec.zonefile import sign_zone_text
from testbed.errors import ScenarioError
from testbed.scenario import load_scenario
from tests.unit.test_byo import ZONE, scenario_with


def test_a_folder_with_only_other_zones_keys_says_whose_keys_it_holds(tmp_path: Path) -> None:
    key_to_files(generate_key("example.co.jp.", 13, "ksk"), tmp_path)
    with pytest.raises(ScenarioError, match=r"no key of example\.jp\..*holds keys of example\.co\.jp\.") as info:
        load_key_folder(tmp_path, "example.jp.")
    assert info.value.fix


def test_a_key_file_renamed_to_another_zone_is_named(tmp_path: Path) -> None:
    other = generate_key("example.co.jp.", 13, "ksk")
    for path in key_to_files(other, tmp_path):
        path.rename(path.with_name(path.name.replace("Kexample.co.jp.", "Kexample.jp.")))
    with pytest.raises(ScenarioError, match=r"is a key of example\.co\.jp\., not of example\.jp\."):
        load_key_folder(tmp_path, "example.jp.")


def test_keys_of_two_algorithms_are_refused(tmp_path: Path) -> None:
    key_to_files(generate_key("example.jp.", 13, "ksk"), tmp_path)
    key_to_files(generate_key("example.jp.", 15, "zsk"), tmp_path)
    with pytest.raises(ScenarioError, match=r"mix algorithms \[13, 15\]"):
        load_key_folder(tmp_path, "example.jp.")


def test_a_file_name_whose_algorithm_is_not_the_keys_own_is_named(tmp_path: Path) -> None:
    for path in key_to_files(generate_key("example.jp.", 13, "ksk"), tmp_path):
        path.rename(path.with_name(path.name.replace("+013+", "+015+")))
    with pytest.raises(ScenarioError, match="says algorithm 13, its name 015"):
        load_key_folder(tmp_path, "example.jp.")


def keys_scenario(tmp_path: Path, signing: str) -> Path:
    folder = tmp_path / "keys"
    folder.mkdir()
    for role in ("ksk", "zsk"):
        key_to_files(generate_key("example.jp.", 13, role), folder)
    path = tmp_path / "s.yaml"
    path.write_text(f"name: s\nzones:\n  example.jp.:\n    keys: keys/\n{signing}checks:\n"
                    "  - query: www.example.jp. A\n    expect: secure\n")
    return path


def test_keys_of_another_algorithm_than_the_policy_chose_are_refused(tmp_path: Path) -> None:
    scenario = load_scenario(keys_scenario(tmp_path, "    signing: {algorithm: 8}\n"))
    with pytest.raises(ScenarioError, match="are algorithm 13, but the zone's signing policy says algorithm 8") \
            as info:
        prepare(plan(scenario, []), LabClock(), KeyStore(), 1)
    assert info.value.line is not None and info.value.fix and "algorithm: 13" in info.value.fix


def test_without_a_chosen_algorithm_the_keys_choose(tmp_path: Path) -> None:
    scenario = load_scenario(keys_scenario(tmp_path, ""))
    ctx = prepare(plan(scenario, []), LabClock(), KeyStore(), 1)
    assert {k.algorithm for k in ctx.zones["example.jp."].keys} == {13}


def presigned(tmp_path: Path, forge: str | None) -> tuple[Path, str]:
    """ZONE signed outside the lab's build (our signer on its own, as `testbed sign` does), optionally with one
    base64 digit of the RRSIG over ``forge`` (an owner/type) changed."""
    keys = [generate_key("example.jp.", 13, "ksk"), generate_key("example.jp.", 13, "zsk")]
    now = int(time.time())
    text, _ = sign_zone_text(ZONE, "example.jp.", keys, SignOptions(inception=now - 3600, expiration=now + 86400),
                             workers=1)
    if forge is not None:
        owner, rdtype = forge.split("/")
        lines = text.splitlines(keepends=True)
        pattern = rf"^{re.escape(owner)}\s+\d+\s+(IN\s+)?RRSIG\s+{rdtype}\s"
        at = next(i for i, line in enumerate(lines) if re.match(pattern, line))
        fields = lines[at].rstrip("\n").split()
        fields[-1] = ("B" if fields[-1][0] != "B" else "C") + fields[-1][1:]
        lines[at] = " ".join(fields) + "\n"
        text = "".join(lines)
    return tmp_path / "example.jp.signed", text


def test_a_presigned_zone_whose_signature_does_not_verify_names_the_rrset(tmp_path: Path) -> None:
    path, text = presigned(tmp_path, "www.example.jp./A")
    scenario = scenario_with(tmp_path, "file: example.jp.signed", text, name=path.name)
    with pytest.raises(ScenarioError, match=r"does not verify: the RRSIG \(key tag \d+\) over www\.example\.jp\./A") \
            as info:
        prepare(plan(scenario, []), LabClock(), KeyStore(), 1)
    assert info.value.fix and info.value.file is not None


def test_the_same_zone_unforged_is_served_as_signed(tmp_path: Path) -> None:
    path, text = presigned(tmp_path, None)
    scenario = scenario_with(tmp_path, "file: example.jp.signed", text, name=path.name)
    ctx = prepare(plan(scenario, []), LabClock(), KeyStore(), 1)
    assert ctx.zones["example.jp."].presigned      # verified by our own verifier, then served as it is
