"""The lab clock: the one source of "now" for signature validity and timeline phases.

Nothing else reads ``time.time()`` to decide validity. A timeline moves the clock with ``advance``; the
resolvers follow it through the lab's time shim (later work), the signer through ``LabClock.now``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass
class LabClock:
    """Real time plus an explicit offset in seconds that timelines move forward."""

    offset: int = 0

    def now(self) -> int:
        return int(time.time()) + self.offset

    def advance(self, seconds: int) -> None:
        self.offset += seconds
