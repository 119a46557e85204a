"""The zones one listening address serves, and which of them answers a query."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import dns.name
import dns.rdatatype
import dns.zone

from testbed.auth.wire import Key, key_of
from testbed.auth.zonedata import ServedZone

_DS = int(dns.rdatatype.DS)


class ZoneSet:
    """Zones by origin. Accepts plain dnspython zones (indexed here) or already indexed ``ServedZone``s, so one
    zone loaded once can be shared by several addresses without indexing it again."""

    def __init__(self, zones: Mapping[dns.name.Name | str, dns.zone.Zone | ServedZone] | None = None) -> None:
        self._zones: dict[Key, ServedZone] = {}
        for origin, zone in (zones or {}).items():
            name = dns.name.from_text(origin) if isinstance(origin, str) else origin
            served = zone if isinstance(zone, ServedZone) else ServedZone(zone)
            if served.origin != name:
                raise ValueError(f"zone for {name} has origin {served.origin}")
            self._zones[served.okey] = served

    def __len__(self) -> int:
        return len(self._zones)

    def __iter__(self) -> Iterator[dns.name.Name]:
        return iter([zone.origin for zone in self._zones.values()])

    def __contains__(self, origin: object) -> bool:
        if isinstance(origin, str):
            origin = dns.name.from_text(origin)
        return isinstance(origin, dns.name.Name) and key_of(origin) in self._zones

    def __getitem__(self, origin: dns.name.Name | str) -> ServedZone:
        return self._zones[key_of(dns.name.from_text(origin) if isinstance(origin, str) else origin)]

    def deepest(self, key: Key) -> ServedZone | None:
        """The zone with the longest origin that encloses the name."""
        zones = self._zones
        for i in range(len(key)):
            zone = zones.get(key[i:])
            if zone is not None:
                return zone
        return None

    def find(self, qname: dns.name.Name | Key, qtype: int) -> ServedZone | None:
        """The zone that answers qname/qtype, or None (REFUSED).

        DS lives on the parent side of a cut (RFC 4035 3.1.4.1): DS for an apex goes to the zone enclosing the
        parent name when this set has one, which then answers or refers exactly as a server for both zones would.
        """
        key = key_of(qname) if isinstance(qname, dns.name.Name) else qname
        zone = self.deepest(key)
        if zone is not None and qtype == _DS and key == zone.okey and len(key) > 1:
            return self.deepest(key[1:]) or zone
        return zone
