"""Where labs keep their folders and locks: a directory only we can write, checked before every use.

Labs run as root and their daemons execute what the lab folder holds (kresd and PowerDNS run Lua from it), so
whoever can write there owns the lab. A fixed name under /tmp is a name anyone can create first. The runtime
directory is therefore ``/run/dnssec-testbed`` (root's own tmpfs), or, where /run is not ours to write (a user
running only the docker backend), ``$XDG_RUNTIME_DIR/dnssec-testbed`` or ``<tmp>/dnssec-testbed-<uid>``. Whichever
it is, it must be a real directory (not a symlink), owned by this user, with no access for group or others;
anything else is refused with a TestbedError, never "fixed" (someone else made it: its contents cannot be trusted).

Layout: ``<dir>/<lab id>/`` per lab (with lab.json naming the owning process), ``<dir>/.locks/`` for the subnet
and image-build locks. ``TESTBED_RUNTIME_DIR`` overrides the directory (tests, unusual machines); it is checked
the same way.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import stat
import tempfile
from pathlib import Path

from testbed.errors import EnvironmentProblem

ENV = "TESTBED_RUNTIME_DIR"
SYSTEM_DIR = Path("/run/dnssec-testbed")
LOCKS = ".locks"
PLACES = ".places"          # in SYSTEM_DIR: the runtime directories TESTBED_RUNTIME_DIR named (all_places)
# where labs of versions before the runtime directory kept their folders: ``down --all`` still clears them
LEGACY_LABS_DIR = Path(tempfile.gettempdir()) / "dnssec-testbed"


def candidate() -> Path:
    """The runtime directory this process would use (not yet checked or created)."""
    override = os.environ.get(ENV)
    if override:
        return Path(override)
    if SYSTEM_DIR.parent.is_dir() and os.access(SYSTEM_DIR.parent, os.W_OK | os.X_OK):
        return SYSTEM_DIR
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg and Path(xdg).is_dir() and os.access(xdg, os.W_OK | os.X_OK):
        return Path(xdg) / "dnssec-testbed"
    return Path(tempfile.gettempdir()) / f"dnssec-testbed-{os.geteuid()}"


def all_places() -> list[Path]:
    """Every runtime directory a lab of this machine may have used (this process's, the default ones, those that
    other runs named with TESTBED_RUNTIME_DIR, the legacy folder): ``down --all`` looks in each for a lab's lab.json
    before it calls a lab dead, so a run with its own runtime directory never tears down another's live lab."""
    places = [candidate(), SYSTEM_DIR]
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg:
        places.append(Path(xdg) / "dnssec-testbed")
    places += [Path(tempfile.gettempdir()) / f"dnssec-testbed-{os.geteuid()}", LEGACY_LABS_DIR]
    places += _remembered_places()
    # runtime directories named after the default one (/run/dnssec-testbed-ci, ...), also those of runs whose
    # version did not yet remember its directory
    with contextlib.suppress(OSError):
        places += sorted(p for p in SYSTEM_DIR.parent.glob(f"{SYSTEM_DIR.name}*") if p.is_dir() and not p.is_symlink())
    return list(dict.fromkeys(places))


def _places_file() -> Path | None:
    """The list of runtime directories named by TESTBED_RUNTIME_DIR, kept in the system runtime directory (only
    where that is ours: root, who alone runs netns labs, whose namespaces carry no owner label)."""
    if not (SYSTEM_DIR.is_dir() and not SYSTEM_DIR.is_symlink() and os.lstat(SYSTEM_DIR).st_uid == os.geteuid()):
        return None
    return SYSTEM_DIR / PLACES


def _remembered_places() -> list[Path]:
    path = _places_file()
    if path is None:
        return []
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [Path(line) for line in text.splitlines() if line.startswith("/")]


def remember_place(place: Path) -> None:
    """Add a runtime directory other than the default ones to the list ``all_places`` reads; directories that no
    longer exist are dropped from it meanwhile."""
    if place == SYSTEM_DIR:
        return
    with contextlib.suppress(OSError, EnvironmentProblem):
        if not SYSTEM_DIR.is_dir():
            os.mkdir(SYSTEM_DIR, 0o700)
        check_private_dir(SYSTEM_DIR)
        path = SYSTEM_DIR / PLACES
        # two runs starting at once must not each write a list without the other's directory
        lock = os.open(SYSTEM_DIR / f"{PLACES}.lock", os.O_CREAT | os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            known = [p for p in _remembered_places() if p.is_dir() and p != place.resolve()]
            tmp = path.with_name(f"{PLACES}.{os.getpid()}")
            tmp.write_text("".join(f"{p}\n" for p in [*known, place.resolve()]), encoding="utf-8")
            tmp.replace(path)
        finally:
            os.close(lock)


def check_private_dir(path: Path) -> None:
    """Refuse ``path`` unless it is a directory (no symlink) owned by us with mode 0700 or stricter."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise EnvironmentProblem(f"{path} does not exist") from None
    fix = f"remove it (rm -rf {path}) and run again: it is re-created owned by you with mode 0700"
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise EnvironmentProblem(f"the runtime directory {path} is not a plain directory (a symlink or a file)",
                                 fix=fix)
    if info.st_uid != os.geteuid():
        raise EnvironmentProblem(f"the runtime directory {path} belongs to uid {info.st_uid}, not to this user "
                                 f"(uid {os.geteuid()}): someone else could change the lab's configs",
                                 fix=fix)
    if info.st_mode & 0o077:
        raise EnvironmentProblem(f"the runtime directory {path} has mode {stat.S_IMODE(info.st_mode):04o}; "
                                 "others could change the lab's configs", fix=fix)


def runtime_dir() -> Path:
    """The checked runtime directory, created (mode 0700) on first use."""
    path = candidate()
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise EnvironmentProblem(f"cannot create the runtime directory {path}: {exc.strerror}",
                                 fix=f"make its parent writable, or set {ENV} to a directory of yours") from exc
    check_private_dir(path)
    return path


def locks_dir() -> Path:
    path = runtime_dir() / LOCKS
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    check_private_dir(path)
    return path


def open_lock(name: str) -> int:
    """A lock file's descriptor (for flock), in the checked locks folder, never through a symlink."""
    return os.open(locks_dir() / name, os.O_CREAT | os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)


def lab_folder(lab_id: str) -> Path:
    """Where lab ``lab_id``'s folder is (or would be); ``prepare_lab_folder`` creates it."""
    return candidate() / lab_id


def prepare_lab_folder(lab_id: str) -> Path:
    """Create the folder of a new lab; an existing one is not reused (a lab id is new or a collision)."""
    place = runtime_dir()
    remember_place(place)
    path = place / lab_id
    try:
        os.mkdir(path, 0o755)       # its parent is 0700: the hosts' own folders stay readable to their daemons
    except FileExistsError:
        raise EnvironmentProblem(f"the lab folder {path} exists already",
                                 fix="run 'testbed down --all' to clear what earlier runs left") from None
    return path


def remove_lab_folder(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    if path.exists():           # something in it could not go: say so rather than leave it silently
        shutil.rmtree(path)


def lab_folders() -> list[Path]:
    """Every lab folder on this machine we may clear: in the runtime directory (if it passes its check) and in
    the fixed folder older versions used."""
    found: list[Path] = []
    path = candidate()
    if path.is_dir():
        check_private_dir(path)
        found += [p for p in path.iterdir() if not p.name.startswith(".") and p.is_dir()]
    if LEGACY_LABS_DIR.is_dir() and not LEGACY_LABS_DIR.is_symlink() and os.lstat(LEGACY_LABS_DIR).st_uid == \
            os.geteuid():
        found += [p for p in LEGACY_LABS_DIR.iterdir() if p.is_dir() and not p.is_symlink()]
    return found
