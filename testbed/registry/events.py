"""What the registry did, as the run records it: one event per DS submission or CDS/CDNSKEY scan decision.

Events travel with the run's result (``RunResult.registry``) into the console report and the result JSON's
``registry`` list (an addition to DESIGN.md's shape), next to the verdicts of the phase they happened in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ACCEPTED, REJECTED, PUBLISHED, DELETED, WAITING, NOTHING = \
    "accepted", "rejected", "published", "deleted", "waiting", "nothing"


@dataclass(frozen=True)
class RegistryEvent:
    """One registry decision. ``decision``: ``accepted`` (checked and published), ``rejected`` (not published,
    ``reason`` says why), ``published`` (published unchecked: ``acceptance: none``), ``deleted`` (the DS removed on
    the child's request), ``waiting`` (a scan saw a request it is not ready to act on) or ``nothing`` (no request)."""

    scenario: str
    phase: str
    parent: str
    child: str
    action: str                         # submit-ds | registry-scan
    decision: str
    reason: str
    acceptance: str
    policy: str
    at: int                             # lab clock, seconds since the epoch
    submitted: tuple[str, ...] = ()     # DS texts submitted, or the CDS/CDNSKEY seen
    ds_after: tuple[str, ...] = ()      # the child's DS RRset at the parent after the decision
    scans: int = 0                      # registry-scan: how many scans it took
    details: tuple[str, ...] = field(default_factory=tuple)
    zones: tuple[str, ...] = ()         # the lab's zones then: which checks are about this child (reports)

    @property
    def refused(self) -> bool:
        return self.decision == REJECTED

    def line(self) -> str:
        """One line for the console: registry, child, decision and reason."""
        if self.action == "await-anchor":
            return f"root trust anchors: {self.reason}"
        what = "DS submission" if self.action == "submit-ds" else "CDS scan"
        scans = f" after {self.scans} scan{'s' if self.scans != 1 else ''}" if self.scans else ""
        return f"registry {self.parent} {what} for {self.child}: {self.decision.upper()}{scans}: {self.reason}"

    def to_json(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "phase": self.phase, "parent": self.parent, "child": self.child,
                "action": self.action, "decision": self.decision, "reason": self.reason,
                "acceptance": self.acceptance, "policy": self.policy, "at": self.at,
                "submitted": list(self.submitted), "ds_after": list(self.ds_after), "scans": self.scans,
                "details": list(self.details)}
