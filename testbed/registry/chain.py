"""Authenticate one RRset from the lab's root trust anchor down, as a registry's validating checker would for an
RFC 9615 bootstrapping signal: DNSKEY of each zone on the path validated by the DS above it, the DS validated by
the parent's keys, and the RRset itself validated by its zone's keys, all at the lab clock.

The zone cuts are the lab's (its topology): each zone is asked at its own first name server, over TCP. Any missing
link (an unsigned zone, a missing DS, a signature that does not validate) means "not authenticated", with the
link named.
"""

from __future__ import annotations

import dns.name
import dns.rdtypes.ANY.DS
import dns.rrset

from testbed.build.topology import Topology
from testbed.registry.agent import compute_ds, valid_signatures
from testbed.registry.fetch import InLab, fetch, name_servers


def path_to(topology: Topology, qname: str) -> list[str]:
    """The lab's zones from the root down to the deepest one holding ``qname``."""
    name = dns.name.from_text(qname)
    inside = [z for z in topology.zones if name.is_subdomain(dns.name.from_text(z))]
    return sorted(inside, key=lambda z: len(dns.name.from_text(z).labels))


def deepest_zone(topology: Topology, qname: str) -> str:
    return path_to(topology, qname)[-1]


def _trusted_keys(zone: str, answer_keys: dns.rrset.RRset | None, sigs: dns.rrset.RRset | None,
                  ds_set: list[dns.rdtypes.ANY.DS.DS], now: float) -> tuple[dns.rrset.RRset | None, str]:
    if answer_keys is None:
        return None, f"{zone} serves no DNSKEY RRset (the zone is not signed)"
    origin = dns.name.from_text(zone)
    signers = valid_signatures(answer_keys, sigs, answer_keys, now)
    if any(compute_ds(origin, key, ds.digest_type) == ds for ds in ds_set for key in signers):
        return answer_keys, ""
    return None, f"{zone}'s DNSKEY RRset is not signed by a key its DS names"


def authenticate(in_lab: InLab, topology: Topology, anchor: list[dns.rdtypes.ANY.DS.DS], qname: str, qtype: str,
                 now: float) -> tuple[dns.rrset.RRset | None, str]:
    """(the validated RRset, "") or (None, why not); (None, "") when the RRset is validly absent is not told apart
    from a missing link: both mean the signal is not there."""
    if not anchor:
        return None, "the lab's root has no trust anchor (unsigned root)"
    trusted = list(anchor)
    path = path_to(topology, qname)
    for index, zone in enumerate(path):
        ns, address = name_servers(topology, zone)[0]
        keys_answer = fetch(in_lab, ns, address, zone, "DNSKEY", tcp=True)
        if keys_answer.error:
            return None, f"{keys_answer.where} {keys_answer.error} for {zone} DNSKEY"
        keys, why = _trusted_keys(zone, keys_answer.rrset, keys_answer.rrsigs, trusted, now)
        if keys is None:
            return None, why
        if index + 1 < len(path):
            child = path[index + 1]
            ds_answer = fetch(in_lab, ns, address, child, "DS", tcp=True)
            if ds_answer.error or ds_answer.rrset is None:
                return None, f"{zone} publishes no DS for {child} (an insecure delegation)"
            if not valid_signatures(ds_answer.rrset, ds_answer.rrsigs, keys, now):
                return None, f"the DS RRset of {child} in {zone} does not validate"
            trusted = list(ds_answer.rrset)
            continue
        answer = fetch(in_lab, ns, address, qname, qtype, tcp=True)
        if answer.error or answer.rrset is None:
            return None, f"{answer.where} has no {qname} {qtype}" + (f" ({answer.error})" if answer.error else "")
        if not valid_signatures(answer.rrset, answer.rrsigs, keys, now):
            return None, f"{qname} {qtype} in {zone} is not signed by {zone}'s validated keys"
        return answer.rrset, ""
    return None, f"no lab zone holds {qname}"
