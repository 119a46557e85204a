"""Denial-of-existence proofs, found by searching the zone's own NSEC / NSEC3 records.

Every function adds records that exist in the zone (with their RRSIGs under DO=1) and nothing else: when a record a
proof needs is missing, the proof goes out incomplete, and the resolver under test gets to judge it.
"""

from __future__ import annotations

from typing import Protocol

import dns.rdatatype

from testbed.auth.wire import Entry, Key, ServedRRset
from testbed.auth.zonedata import ServedZone


class _Sections(Protocol):
    authority: list[Entry]


class _Step(Protocol):
    """What a proof needs of the lookup in progress (``lookup._Step``; named here so lookup alone imports proofs)."""

    zone: ServedZone

    @property
    def out(self) -> _Sections: ...

    def put(self, section: list[Entry], owner: Key, rdtype: int, *,
            synthesized: bool = False) -> ServedRRset | None: ...

NSEC = int(dns.rdatatype.NSEC)
NSEC3 = int(dns.rdatatype.NSEC3)


def next_closer(key: Key, encloser: Key) -> Key:
    """RFC 5155 1.3: the ancestor of a name (or the name) with exactly one label more than the closest encloser."""
    return key[len(key) - len(encloser) - 1:]


def wildcard_of(encloser: Key) -> Key:
    return (b"*", *encloser)


def nsec_cover(step: _Step, key: Key) -> None:
    owner = step.zone.nsec_covering(key)
    if owner is not None:
        step.put(step.out.authority, owner, NSEC)


def nsec3_match(step: _Step, key: Key) -> None:
    owner = step.zone.nsec3_matching(key)
    if owner is not None:
        step.put(step.out.authority, owner, NSEC3)


def nsec3_cover(step: _Step, key: Key) -> None:
    owner = step.zone.nsec3_covering(key)
    if owner is not None:
        step.put(step.out.authority, owner, NSEC3)


def closest_provable_encloser(zone: ServedZone, key: Key) -> Key | None:
    """The deepest proper ancestor of a name inside the zone that has a matching NSEC3 (RFC 5155 7.2.1)."""
    for i in range(1, len(key) - len(zone.okey) + 1):
        if zone.nsec3_matching(key[i:]) is not None:
            return key[i:]
    return None


def nsec3_closest_encloser(step: _Step, key: Key, *, wildcard: bool) -> None:
    """Closest encloser proof (RFC 5155 7.2.1), plus the wildcard cover for a name error (7.2.2)."""
    zone = step.zone
    encloser = closest_provable_encloser(zone, key)
    if encloser is None:
        # Nothing provable: still send the covers the zone data implies, so the resolver sees what there is.
        encloser = zone.closest_encloser(key)
    else:
        nsec3_match(step, encloser)
    nsec3_cover(step, next_closer(key, encloser))
    if wildcard:
        nsec3_cover(step, wildcard_of(encloser))


def nsec3_match_or_opt_out(step: _Step, key: Key) -> None:
    """The NSEC3 matching a name; without one, the closest provable encloser proof that an opt-out span covers it
    (RFC 5155 7.2.4 for DS, 7.2.7 for insecure referrals; also empty non-terminals that only lead there)."""
    if step.zone.nsec3_matching(key) is not None:
        nsec3_match(step, key)
    elif key != step.zone.okey:
        nsec3_closest_encloser(step, key, wildcard=False)
