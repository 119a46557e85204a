"""The ISP operator's checklist for a root KSK roll, per resolver: how the resolver learns the new key, what the
operator has to do, and what this run saw (each resolver's RFC 5011 account at the last wait, the operator's
anchor changes). Printed with the readiness grid for runs that rehearse a root roll (any root trust-anchor event).

Mechanisms as shipped (shared/reference/landscape-2026.md section 3, the KSK-2024 row): Unbound and Knot Resolver
follow RFC 5011 from their anchor file; BIND's bind.keys has KSK-2017 as initial-key and KSK-2024 as initial-ds
(RFC 5011-managed); PowerDNS Recursor has no RFC 5011 and added KSK-2024 to its built-in anchors in 5.2.0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from testbed.registry.events import RegistryEvent
from testbed.run.checks import Verdict

STEPS: dict[str, tuple[str, str]] = {
    "unbound": ("RFC 5011 (auto-trust-anchor-file)",
                "keep the anchor file writable and the resolver running through the 30-day add hold-down; a "
                "resolver down from before the new key's publication until after the switch needs the new anchor "
                "installed by hand (unbound-anchor)"),
    "bind": ("RFC 5011 (trust-anchors initial-key / initial-ds)",
             "keep managed-keys state across restarts; an install from a bind.keys without KSK-2024 needs it added "
             "as initial-ds before KSK-2017 is revoked"),
    "knot": ("RFC 5011 (trust_anchors.add_file)",
             "keep the keyfile writable; a package older than the roll ships only KSK-2017 in root.keys"),
    "pdns": ("static anchor: no RFC 5011",
             "add KSK-2024 to dnssec.trustanchors (or run 5.2.0 or newer, which has it built in) before "
             "2026-10-11; drop KSK-2017 after its removal"),
}


def checklist_lines(verdicts: Iterable[Verdict], events: Sequence[RegistryEvent]) -> list[str]:
    roll = [e for e in events if e.child == "." and e.action in ("await-anchor", "set-trust-anchor")]
    if not roll:
        return []
    scenarios = dict.fromkeys(e.scenario for e in roll)
    resolvers = dict.fromkeys(v.resolver for v in verdicts if v.scenario in scenarios)
    lines = ["root KSK roll: the operator's checklist per resolver"]
    for resolver in resolvers:
        mechanism, step = STEPS.get(resolver, ("(unknown to this checklist)", "see the resolver's documentation"))
        lines.append(f"  {resolver}: {mechanism}")
        lines.append(f"    to do: {step}")
        for event in roll:
            seen = [d for d in event.details if d.startswith(f"{resolver}:")]
            if event.action == "await-anchor" and seen:
                last = seen[-1]
            elif event.action == "set-trust-anchor" and resolver in event.details:
                last = event.reason
            else:
                continue
            lines.append(f"    {event.scenario} [{event.phase}]: {last.removeprefix(resolver + ': ')}")
    return lines
