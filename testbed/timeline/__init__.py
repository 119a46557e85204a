"""Timelines: scenarios in phases, for rollout rehearsals (key rollovers, zones going secure or insecure, RFC 5011).

``state`` holds what persists across phases, ``actions`` the registry of steps a phase may take, ``build`` turns the
state into signed zones, ``run`` drives a timeline on a running lab, and ``readiness`` turns its verdicts into the
phase x resolver grid and the READY / NOT READY verdict. See docs/rollout.md.
"""

from testbed.timeline import registry_actions  # noqa: F401  (registers submit-ds, registry-scan, ...)
from testbed.timeline.actions import Action, action, registry, signatures

__all__ = ["Action", "action", "registry", "signatures"]
