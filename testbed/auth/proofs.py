"""Denial-of-existence proofs, found by searching the zone's own NSEC / NSEC3 records.

Every function adds records that exist in the zone (with their RRSIGs under DO=1) and nothing else: when a record a
proof needs is missing, the proof goes out incomplete, and the resolver under test gets to judge it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import dns.name
import dns.rdatatype

from testbed.auth.zonedata import ServedZone

if TYPE_CHECKING:
    from testbed.auth.lookup import _Step

NSEC = dns.rdatatype.NSEC
NSEC3 = dns.rdatatype.NSEC3


def next_closer(name: dns.name.Name, encloser: dns.name.Name) -> dns.name.Name:
    """RFC 5155 1.3: the ancestor of name (or name) with exactly one label more than the closest encloser."""
    return name.split(len(encloser) + 1)[1]


def wildcard_of(encloser: dns.name.Name) -> dns.name.Name:
    return dns.name.Name((b"*",) + encloser.labels)


def nsec_cover(step: _Step, name: dns.name.Name) -> None:
    owner = step.zone.nsec_covering(name)
    if owner is not None:
        step.put(step.out.authority, owner, NSEC)


def nsec3_match(step: _Step, name: dns.name.Name) -> None:
    owner = step.zone.nsec3_matching(name)
    if owner is not None:
        step.put(step.out.authority, owner, NSEC3)


def nsec3_cover(step: _Step, name: dns.name.Name) -> None:
    owner = step.zone.nsec3_covering(name)
    if owner is not None:
        step.put(step.out.authority, owner, NSEC3)


def closest_provable_encloser(zone: ServedZone, name: dns.name.Name) -> dns.name.Name | None:
    """The deepest proper ancestor of name inside the zone that has a matching NSEC3 (RFC 5155 7.2.1)."""
    while name != zone.origin and name != dns.name.root:
        name = name.parent()
        if zone.nsec3_matching(name) is not None:
            return name
    return None


def nsec3_closest_encloser(step: _Step, name: dns.name.Name, *, wildcard: bool) -> None:
    """Closest encloser proof (RFC 5155 7.2.1), plus the wildcard cover for a name error (7.2.2)."""
    zone = step.zone
    encloser = closest_provable_encloser(zone, name)
    if encloser is None:
        # Nothing provable: still send the covers the zone data implies, so the resolver sees what there is.
        encloser = zone.closest_encloser(name)
    else:
        nsec3_match(step, encloser)
    nsec3_cover(step, next_closer(name, encloser))
    if wildcard:
        nsec3_cover(step, wildcard_of(encloser))


def nsec3_match_or_opt_out(step: _Step, name: dns.name.Name) -> None:
    """The NSEC3 matching name; without one, the closest provable encloser proof that an opt-out span covers it
    (RFC 5155 7.2.4 for DS, 7.2.7 for insecure referrals; also empty non-terminals that only lead there)."""
    if step.zone.nsec3_matching(name) is not None:
        nsec3_match(step, name)
    elif name != step.zone.origin:
        nsec3_closest_encloser(step, name, wildcard=False)
