"""Files only their owner may read: private keys, rndc keys.

``os.open(path, O_CREAT | O_TRUNC, 0o600)`` is not enough: the mode applies only when the file is new, so a key
written over an existing 0644 file (or one another user made) keeps that file's mode and owner. A private file is
therefore always a fresh one: written to a new 0600 temporary file in the same folder, then renamed over the
old name (which also replaces a symlink instead of writing through it).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_private(path: Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` as a new file of mode 0600 owned by this user."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)     # mkstemp: O_EXCL, mode 0600
    try:
        with os.fdopen(fd, "w", encoding=encoding) as handle:
            os.fchmod(handle.fileno(), 0o600)        # whatever the umask
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path
