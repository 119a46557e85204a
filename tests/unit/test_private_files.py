"""Private keys and rndc keys are 0600 and ours, also when written over an older, more open file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from testbed.dnssec import generate_key, key_to_files
from testbed.private_files import write_private
from testbed.resolvers.base import write_rendered
from testbed.resolvers.bind import Bind


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_key_private_file_is_0600_over_an_existing_0644_file(tmp_path: Path) -> None:
    key = generate_key("example.jp.", 13, "ksk")
    first = key_to_files(key, tmp_path)[1]
    assert mode(first) == 0o600
    os.chmod(first, 0o644)
    public, private = key_to_files(key, tmp_path)
    assert private == first and mode(private) == 0o600
    assert "PrivateKey:" in private.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([public.name, private.name])   # no temp left


def test_write_private_replaces_a_symlink_instead_of_writing_through_it(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    link = tmp_path / "rndc.key"
    link.symlink_to(victim)
    write_private(link, "secret")
    assert victim.read_text() == "keep me"
    assert not link.is_symlink() and link.read_text() == "secret" and mode(link) == 0o600


def test_bind_rndc_key_is_0600_and_the_config_is_not(tmp_path: Path) -> None:
    (tmp_path / "rndc.key").write_text("old")
    os.chmod(tmp_path / "rndc.key", 0o644)
    write_rendered(Bind(), tmp_path, {"rndc.key": "key {};\n", "named.conf": "options {};\n"})
    assert mode(tmp_path / "rndc.key") == 0o600
    assert mode(tmp_path / "named.conf") & 0o044            # configs stay readable as before
