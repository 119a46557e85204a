"""`testbed validate` reads what a scenario brings (zone files, key folders) as a run would: each wrong part is an
exit 2 naming the scenario's line, the zone file's own line where there is one, and the fix; a good part is listed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from testbed.dnssec import generate_key
from testbed.dnssec.keys import key_to_files
from tests.unit.test_byo import ZONE
from tests.unit.test_byo_bad_input import presigned


class Result:
    def __init__(self, done: subprocess.CompletedProcess[str]) -> None:
        self.exit_code, self.output = done.returncode, done.stdout + done.stderr


def validate(tmp_path: Path, zone: str, text: str = ZONE, name: str = "example.jp.zone", *more: str) -> Result:
    """The real command line, as a person runs it (its errors are printed by the CLI's main, exit 2)."""
    (tmp_path / name).write_text(text)
    path = tmp_path / "s.yaml"
    path.write_text(f"name: s\nzones:\n  example.jp.: {{{zone}}}\nchecks:\n  - query: www.example.jp. A\n"
                    "    expect: secure\n")
    return Result(subprocess.run([sys.executable, "-m", "testbed", "validate", *more, str(path)],
                                 capture_output=True, text=True, timeout=120, check=False))


def test_a_record_that_does_not_parse_names_both_files_the_right_line_and_quotes_it(tmp_path: Path) -> None:
    lines = ZONE.splitlines(keepends=True)
    lines.insert(8, "broken IN A 192.0.2.999\n")            # line 9 of the zone file
    result = validate(tmp_path, "file: example.jp.zone", "".join(lines))
    assert result.exit_code == 2, result.output
    assert f"{tmp_path / 's.yaml'}:3:" in result.output
    # dnspython itself says line 10 here: it has read on to the next line when the address fails
    assert f"{tmp_path / 'example.jp.zone'}:9: Text input is malformed" in result.output
    assert "the line reads: broken IN A 192.0.2.999" in result.output
    assert "Traceback" not in result.output


def test_a_field_error_keeps_dnspythons_own_line(tmp_path: Path) -> None:
    result = validate(tmp_path, "file: example.jp.zone", ZONE + "mail IN MX ten www\n")
    assert result.exit_code == 2 and "example.jp.zone:11: expecting an integer" in result.output, result.output


def test_name_servers_the_scenario_cannot_serve_are_found(tmp_path: Path) -> None:
    result = validate(tmp_path, "file: example.jp.zone, servers: [a, b, c]")
    assert result.exit_code == 2 and "names 2 name servers" in result.output and "on 3 hosts" in result.output


def test_keys_of_another_zone_are_found(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    key_to_files(generate_key("example.co.jp.", 13, "ksk"), tmp_path / "keys")
    result = validate(tmp_path, "file: example.jp.zone, keys: keys/")
    assert result.exit_code == 2 and "holds keys of example.co.jp." in result.output, result.output


def test_dnskeys_without_signatures_are_found(tmp_path: Path) -> None:
    key = generate_key("example.jp.", 13, "ksk")
    text = ZONE + f"@ 300 IN DNSKEY {key.dnskey.to_text()}\n"
    result = validate(tmp_path, "file: example.jp.zone", text)
    assert result.exit_code == 2 and "has DNSKEY records but no RRSIG" in result.output, result.output


def test_a_forged_signature_of_a_signed_file_is_found_without_build(tmp_path: Path) -> None:
    path, text = presigned(tmp_path, "www.example.jp./A")
    result = validate(tmp_path, "file: example.jp.signed", text, path.name)
    assert result.exit_code == 2, result.output
    assert "does not verify" in result.output and "over www.example.jp./A" in result.output


def test_good_parts_are_listed(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    for role in ("ksk", "zsk"):
        key_to_files(generate_key("example.jp.", 13, role), tmp_path / "keys")
    result = validate(tmp_path, "file: example.jp.zone, keys: keys/")
    assert result.exit_code == 0, result.output
    assert "example.jp. example.jp.zone: 6 names, unsigned, 2 keys of algorithm 13" in result.output
    path, text = presigned(tmp_path, None)
    signed = validate(tmp_path, "file: example.jp.signed", text, path.name)
    assert signed.exit_code == 0 and "example.jp.signed:" in signed.output and ", signed" in signed.output
