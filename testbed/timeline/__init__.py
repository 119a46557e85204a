"""Timelines: scenarios in phases, for rollout rehearsals (key rollovers, zones going secure or insecure, RFC 5011).

``state`` holds what persists across phases, ``actions`` the registry of steps a phase may take, ``build`` turns the
state into signed zones (every scenario's zones: a static one is a single phase). Driving the phases on a running lab
is ``testbed.run.phases``; the READY / NOT READY grid is ``testbed.report.readiness``. See docs/rollout.md.

May import: scenario, build, dnssec, faults, resolvers. Never: lab, run, report, cli (the lab a ``needs_lab`` action
uses is the ``LabControl`` protocol of ``actions``).
"""

from testbed.timeline import registry_actions  # noqa: F401  (registers submit-ds, registry-scan, ...)
from testbed.timeline.actions import Action, action, registry, signatures

__all__ = ["Action", "action", "registry", "signatures"]
