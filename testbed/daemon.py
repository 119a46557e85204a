"""What resolver and server adapters share: a daemon from a Debian package, run from PATH on netns or from an
image on docker, whose version its own ``--version``-style output tells.

Imports nothing of the project: testbed/resolvers/ and testbed/auth/servers/ both stand on it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import ClassVar


def parse_version(text: str, pattern: str) -> str:
    match = re.search(pattern, text)
    return match.group(1) if match else "unknown"


class PackagedDaemon:
    """The facts an adapter declares about its daemon, and how to read its version on this machine."""

    name: ClassVar[str]
    display_name: ClassVar[str]
    binary: ClassVar[str]                 # the daemon, as found on PATH (netns backend)
    debian_package: ClassVar[str]
    image: ClassVar[str]                  # compose/<image>/Dockerfile (docker backend)
    version_argv: ClassVar[tuple[str, ...]]
    version_pattern: ClassVar[str] = r"(\d+\.\d+(?:\.\d+)?)"

    def available_locally(self) -> bool:
        return shutil.which(self.binary) is not None

    def local_version(self) -> str:
        try:
            proc = subprocess.run([self.binary, *self.version_argv], capture_output=True, text=True, timeout=10,
                                  check=False)
        except (OSError, subprocess.TimeoutExpired):
            return "unknown"
        return self.parse_version(proc.stdout + proc.stderr)

    def parse_version(self, text: str) -> str:
        return parse_version(text, self.version_pattern)
