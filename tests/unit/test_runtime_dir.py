"""The runtime directory: created 0700 and ours, refused when someone else made it or opened it up."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from testbed.errors import EnvironmentProblem
from testbed.lab import runtime
from tests.conftest import QUICKSTART, ROOT

NOBODY = 65534


def test_created_private_and_ours(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(runtime.ENV, str(tmp_path / "rt"))
    path = runtime.runtime_dir()
    info = os.lstat(path)
    assert stat.S_IMODE(info.st_mode) == 0o700 and info.st_uid == os.geteuid()
    folder = runtime.prepare_lab_folder("abcdef")
    assert folder.parent == path
    with pytest.raises(EnvironmentProblem, match="exists already"):
        runtime.prepare_lab_folder("abcdef")
    fd = runtime.open_lock("x.lock")
    os.close(fd)
    assert stat.S_IMODE(os.lstat(path / runtime.LOCKS / "x.lock").st_mode) == 0o600
    assert stat.S_IMODE(os.lstat(path / runtime.LOCKS).st_mode) == 0o700


def test_the_default_is_under_run_for_root() -> None:
    if os.geteuid() != 0 or runtime.ENV in os.environ:
        pytest.skip("root without an override")
    assert runtime.candidate() == runtime.SYSTEM_DIR


@pytest.mark.parametrize("how", ["open mode", "other owner", "symlink"])
def test_refused_when_not_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    target = tmp_path / "rt"
    if how == "open mode":
        target.mkdir(mode=0o755)
        os.chmod(target, 0o755)
    elif how == "other owner":
        if os.geteuid() != 0:
            pytest.skip("needs root to chown")
        target.mkdir(mode=0o700)
        os.chown(target, NOBODY, NOBODY)
    else:
        (tmp_path / "elsewhere").mkdir(mode=0o700)
        target.symlink_to(tmp_path / "elsewhere")
    monkeypatch.setenv(runtime.ENV, str(target))
    with pytest.raises(EnvironmentProblem) as info:
        runtime.runtime_dir()
    assert str(target) in str(info.value) and "rm -rf" in str(info.value)
    assert not (target / runtime.LOCKS).exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to chown")
def test_cli_refuses_a_folder_another_user_made(tmp_path: Path) -> None:
    target = tmp_path / "rt"
    target.mkdir(mode=0o700)
    os.chown(target, NOBODY, NOBODY)
    env = {**os.environ, runtime.ENV: str(target), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "testbed.cli.main", "run", str(QUICKSTART / "secure-a.yaml"),
                           "--backend", "netns", "--resolver", "unbound"], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"belongs to uid {NOBODY}" in proc.stderr and "Traceback" not in proc.stderr
    assert list(target.iterdir()) == []
