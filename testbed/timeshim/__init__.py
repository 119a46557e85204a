"""The lab's virtual clock for resolvers: a small LD_PRELOAD library (``timeshim.c``) and the offset file it reads.

Why a shim of our own, and what it moves, is explained at the top of ``timeshim.c`` and in
``shared/reference/virtual-clock.md``. This module builds it (once per source version, into a cache folder),
writes the offset file atomically, and gives the environment a resolver needs to run on the lab clock.

Only resolvers run on the shim. The Python harness and the builtin authoritative servers stay on real time: the
servers hand out whatever the signer made, and the signer takes "now" from ``LabClock``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from testbed.errors import EnvironmentProblem

SOURCE = Path(__file__).resolve().parent / "timeshim.c"
LIBRARY_NAME = "libtestbed-timeshim.so"
OFFSET_ENV = "TESTBED_TIMESHIM_FILE"
CACHE_ENV = "TESTBED_CACHE_DIR"
# -fno-delete-null-pointer-checks: glibc declares gettimeofday's and friends' pointer arguments nonnull, and gcc
# would otherwise drop our NULL checks; callers do pass NULL (gettimeofday(NULL, &tz)).
CFLAGS = ("-O2", "-fPIC", "-shared", "-fvisibility=hidden", "-fno-delete-null-pointer-checks", "-Wall", "-Wextra",
          "-Wno-nonnull-compare")


def cache_dir() -> Path:
    """Where built shims live: $TESTBED_CACHE_DIR, else $XDG_CACHE_HOME/dnssec-testbed, else ~/.cache/..."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dnssec-testbed"


def source_digest() -> str:
    """Names a build: the source text and the compiler flags. A changed shim gets a new file, never a stale one."""
    digest = hashlib.sha256(SOURCE.read_bytes())
    digest.update(" ".join(CFLAGS).encode())
    return digest.hexdigest()[:16]


def library_path() -> Path:
    return cache_dir() / f"timeshim-{source_digest()}" / LIBRARY_NAME


def compiler() -> str | None:
    return os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc")


def build(*, force: bool = False) -> Path:
    """Compile the shim unless this source version is already built; return the library's path.

    Compiles into a temporary name beside the target and renames it into place, so two runs building at once
    both end with a complete library.
    """
    target = library_path()
    if target.is_file() and not force:
        return target
    cc = compiler()
    if cc is None:
        raise EnvironmentProblem("the virtual clock needs a C compiler to build its time shim, and none was found",
                                 fix="apt-get install -y gcc, then run 'testbed timeshim build'")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".build-", suffix=".so", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        proc = subprocess.run([cc, *CFLAGS, "-o", str(tmp), str(SOURCE)], capture_output=True, text=True,
                              check=False, timeout=120)
        if proc.returncode != 0:
            raise EnvironmentProblem(f"building the time shim failed ({cc}):\n{proc.stderr.strip()}",
                                     fix="make sure gcc and the libc headers are installed (apt-get install -y gcc "
                                         "libc6-dev)")
        tmp.chmod(0o755)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def available() -> bool:
    """True when the shim is built or can be built here."""
    return library_path().is_file() or compiler() is not None


def write_offset(path: Path, seconds: int) -> None:
    """Point every process reading ``path`` at real time + ``seconds``.

    Write-then-rename: a reader sees the old file or the new one, never a half-written number (the shim would read
    that as offset 0, which is safe but wrong).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(f"{int(seconds):+d}\n")
    tmp.replace(path)


def read_offset(path: Path) -> int:
    """What the shim would read from ``path`` (0 when missing or unreadable, as in the C code)."""
    try:
        return int(path.read_text().strip() or "0")
    except (OSError, ValueError):
        return 0


def environment(library: Path, offset_file: Path) -> dict[str, str]:
    """The variables that put one process on the virtual clock."""
    return {"LD_PRELOAD": str(library), OFFSET_ENV: str(offset_file)}


def wrap(argv: list[str], library: Path, offset_file: Path) -> list[str]:
    """``argv`` run through env(1) with the shim: for commands run beside a resolver (rndc must share named's
    clock, or named refuses it once the offset passes a minute: shared/reference/virtual-clock.md)."""
    return ["env", *(f"{k}={v}" for k, v in environment(library, offset_file).items()), *argv]
