"""The zones one listening address serves, and which of them answers a query."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import dns.name
import dns.rdatatype
import dns.zone

from testbed.auth.zonedata import ServedZone


class ZoneSet:
    """Zones by origin. Accepts plain dnspython zones (indexed here) or already indexed ``ServedZone``s, so one
    zone loaded once can be shared by several addresses without indexing it again."""

    def __init__(self, zones: Mapping[dns.name.Name | str, dns.zone.Zone | ServedZone] | None = None) -> None:
        self._zones: dict[dns.name.Name, ServedZone] = {}
        for origin, zone in (zones or {}).items():
            name = dns.name.from_text(origin) if isinstance(origin, str) else origin
            served = zone if isinstance(zone, ServedZone) else ServedZone(zone)
            if served.origin != name:
                raise ValueError(f"zone for {name} has origin {served.origin}")
            self._zones[name] = served

    def __len__(self) -> int:
        return len(self._zones)

    def __iter__(self) -> Iterator[dns.name.Name]:
        return iter(self._zones)

    def __contains__(self, origin: object) -> bool:
        return origin in self._zones

    def __getitem__(self, origin: dns.name.Name | str) -> ServedZone:
        return self._zones[dns.name.from_text(origin) if isinstance(origin, str) else origin]

    def deepest(self, name: dns.name.Name) -> ServedZone | None:
        """The zone with the longest origin that encloses name."""
        while True:
            zone = self._zones.get(name)
            if zone is not None:
                return zone
            if name == dns.name.root or len(name) == 0:
                return None
            name = name.parent()

    def find(self, qname: dns.name.Name, qtype: int) -> ServedZone | None:
        """The zone that answers qname/qtype, or None (REFUSED).

        DS lives on the parent side of a cut (RFC 4035 3.1.4.1): DS for an apex goes to the zone enclosing the
        parent name when this set has one, which then answers or refers exactly as a server for both zones would.
        """
        zone = self.deepest(qname)
        if zone is not None and qtype == dns.rdatatype.DS and qname == zone.origin and qname != dns.name.root:
            return self.deepest(qname.parent()) or zone
        return zone
