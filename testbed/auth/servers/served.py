"""Did a real server serve the zone it was given? Ask it for every authoritative RRset of the built zone, with
its signatures, and list what differs.

The builtin server serves exactly what a fault made; a real one may repair, drop or refuse parts of it (NSD sends
no RRSIG at all for a zone whose DNSKEY RRset is unsigned). A resolver's verdict over data the server changed says
nothing about the fault, so the lab reports such a zone as sanitised instead of judging the resolvers on it.
NSEC3 RRsets are not asked for: their owners are hashes that servers answer by proof rules, not by lookup.

A registry zone (a million delegations) is not compared RRset by RRset: parsing it through dnspython and asking a
million questions took longer than the lab needs for everything else. Above ``SAMPLE_LIMIT`` names (or, for a zone
still held as text, ``SAMPLE_TEXT_BYTES``) the comparison takes a sample of the zone (``sample_zone``): the apex,
the names the scenario's checks ask and their ancestors in the zone (so a cut above them is known), and delegations
with and without DS spread evenly over the zone. What a fault changes lies on those names or at the apex, and a
server that strips signatures or refuses data does so at the apex and on every delegation alike.
Denial is compared instead (``denial_differences``): a name that does not exist, a type the apex lacks and the DS
of a few delegations that have none, asked of
the real server and of the builtin server's own answer function over the same zone; the rcode and the proof records
(NSEC, NSEC3, their RRSIGs, the SOA) must be the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.zone

PROBE_LABEL = "testbed-nx-probe"     # a name no zone of ours has; its hash falls wherever it falls
DENIAL_NODE_LIMIT = 50_000            # bigger zones skip the denial comparison (it indexes the whole zone again)
MAX_DS_PROBES = 8                     # insecure delegations whose DS denial is compared, per zone
SAMPLE_LIMIT = 50_000               # names; bigger zones are compared on a sample (see the module text)
SAMPLE_TEXT_BYTES = 5_000_000        # zone text above this is sampled without being parsed whole (~60,000 lines)
SAMPLE_DELEGATIONS = 16              # delegations with DS, and as many without, spread over the zone
MAX_LISTED = 4          # differences quoted per zone; the count says how many more there were
TRY_TIMEOUT = 2.0


def authoritative_rrsets(zone: dns.zone.Zone) -> Iterator[tuple[dns.name.Name, dns.rdataset.Rdataset,
                                                                  dns.rdataset.Rdataset | None]]:
    """(owner, RRset, its RRSIGs) for every RRset a query for it answers from this zone's own data: not glue,
    not a delegation's NS or NSEC, not NSEC3 (see the module text)."""
    origin = zone.origin
    assert origin is not None
    # a set, and each name's ancestors looked up in it: a registry zone has as many cuts as names, and testing
    # every name against every cut took hours at 100,000 delegations
    cuts = {name.derelativize(origin) for name, node in zone.nodes.items()
            if name.derelativize(origin) != origin
            and node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.NS) is not None}
    for name in sorted(zone.nodes):
        absolute = name.derelativize(origin)
        if _below_a_cut(absolute, origin, cuts):
            continue
        at_cut = absolute in cuts
        node = zone.nodes[name]
        for rdataset in node.rdatasets:
            kind = rdataset.rdtype
            if kind in (dns.rdatatype.RRSIG, dns.rdatatype.NSEC3) or not len(rdataset):
                continue
            if at_cut and kind != dns.rdatatype.DS:
                continue        # the NSEC at a cut exists, but a query for it is rightly referred to the child
            sigs = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.RRSIG, covers=kind)
            yield absolute, rdataset, sigs


def _with_ancestors(names: Iterable[dns.name.Name], origin: dns.name.Name) -> set[dns.name.Name]:
    """The names and every ancestor of theirs down to ``origin``: a sampled zone must hold the cut above a name to
    know that the name is glue."""
    found = {origin}
    for name in names:
        if not name.is_subdomain(origin):
            continue
        while name != origin:
            found.add(name)
            name = name.parent()
    return found


def _spread(pattern: re.Pattern[str], text: str, count: int, skip: set[str]) -> list[str]:
    """Owners of the first match of ``pattern`` after each of ``count`` evenly spaced points of ``text``."""
    owners: list[str] = []
    for step in range(count):
        match = pattern.search(text, len(text) * step // count)
        if match and match.group(1) not in skip and match.group(1) not in owners:
            owners.append(match.group(1))
    return owners


def sample_zone_text(text: str, origin: dns.name.Name, probes: Iterable[dns.name.Name]) -> dns.zone.Zone | None:
    """The sample (see the module text) of a zone held as text with absolute owner names, one record a line, as a
    small dnspython zone; None when the text is not in that form (its apex SOA is not found), so the caller parses
    it whole instead of comparing nothing."""
    apex = origin.to_text()
    delegation = re.compile(r"\n(\S+)[ \t]+\d+[ \t]+IN[ \t]+NS[ \t]")
    with_ds = re.compile(r"\n(\S+)[ \t]+\d+[ \t]+IN[ \t]+DS[ \t]")
    signed = _spread(with_ds, text, SAMPLE_DELEGATIONS, {apex})
    unsigned = _spread(delegation, text, 4 * SAMPLE_DELEGATIONS, {apex, *signed})[:SAMPLE_DELEGATIONS]
    names = _with_ancestors([*probes, *(dns.name.from_text(n) for n in signed + unsigned)], origin)
    owners = sorted({variant for name in names for variant in (name.to_text(), name.to_text().lower())})
    lines = re.findall(r"(?:^|\n)((?:" + "|".join(map(re.escape, owners)) + r")[ \t][^\n]*)", text)
    if not any(line.split(None, 1)[0] == apex and " SOA " in line.replace("\t", " ") for line in lines):
        return None
    return dns.zone.from_text("\n".join(lines) + "\n", origin=origin, relativize=False, check_origin=False)


def sample_zone(zone: dns.zone.Zone, probes: Iterable[dns.name.Name]) -> dns.zone.Zone:
    """The sample (see the module text) of a big dnspython zone: the same names ``sample_zone_text`` takes."""
    origin = zone.origin
    assert origin is not None
    ordered = sorted(zone.nodes)
    picked: list[dns.name.Name] = []
    for kind in (dns.rdatatype.DS, dns.rdatatype.NS):
        step = max(1, len(ordered) // (4 * SAMPLE_DELEGATIONS))
        candidates = [name.derelativize(origin) for name in ordered[::step]
                      if name.derelativize(origin) != origin and zone.nodes[name].get_rdataset(
                          dns.rdataclass.IN, kind) is not None]
        picked += [name for name in candidates if name not in picked][:SAMPLE_DELEGATIONS]
    names = _with_ancestors([*probes, *picked], origin)
    small = dns.zone.Zone(origin, relativize=False)
    for name in names:
        node = zone.get_node(name)
        if node is not None:
            small.nodes[name] = node
    return small


def zone_to_compare(text: str | None, parsed: Callable[[], dns.zone.Zone], origin: dns.name.Name,
                    probes: Iterable[dns.name.Name]) -> tuple[dns.zone.Zone, bool]:
    """(the zone to compare with what a server serves, whether it is a sample). ``text`` is the zone while it is
    still text (None once it is a dnspython zone); ``parsed`` gives it as a dnspython zone, which for a zone held as
    text is only asked for when the text is small or not in the one-record-a-line form."""
    probes = list(probes)
    if text is not None and len(text) > SAMPLE_TEXT_BYTES:
        sample = sample_zone_text(text, origin, probes)
        if sample is not None:
            return sample, True
    zone = parsed()
    if len(zone.nodes) > SAMPLE_LIMIT:
        return sample_zone(zone, probes), True
    return zone, False


def _below_a_cut(name: dns.name.Name, origin: dns.name.Name, cuts: set[dns.name.Name]) -> bool:
    """Whether a proper ancestor of ``name``, inside the zone, is a delegation point (``name`` is glue or
    occluded data of a child zone)."""
    while len(name) > len(origin) + 1:
        name = name.parent()
        if name in cuts:
            return True
    return False


def _ask(address: str, name: dns.name.Name, rdtype: dns.rdatatype.RdataType) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype, want_dnssec=True, payload=1232)
    query.flags &= ~dns.flags.RD
    response, _ = dns.query.udp_with_fallback(query, address, timeout=TRY_TIMEOUT)
    return response


def _proof(message: dns.message.Message) -> set[str]:
    """The denial records of a response: NSEC, NSEC3 and SOA RRsets of the authority section and their RRSIGs."""
    kinds = (dns.rdatatype.NSEC, dns.rdatatype.NSEC3, dns.rdatatype.SOA)
    found = set()
    for rrset in message.authority:
        kind = rrset.covers if rrset.rdtype == dns.rdatatype.RRSIG else rrset.rdtype
        if kind in kinds:
            found |= {f"{rrset.name} {dns.rdatatype.to_text(rrset.rdtype)} {rr.to_text()}" for rr in rrset}
    return found


def denial_differences(zone: dns.zone.Zone, address: str, extra: tuple[tuple[str, str], ...] = ()) -> list[str]:
    """How the server at ``address`` denies a missing name, a missing type and the DS of insecure delegations,
    where it differs from the builtin server answering from ``zone``."""
    from testbed.auth.answer import answer
    from testbed.auth.zonedata import load_zone_text
    from testbed.auth.zoneset import ZoneSet

    origin = zone.origin
    assert origin is not None
    if len(zone.nodes) > DENIAL_NODE_LIMIT:
        return []
    builtin = ZoneSet({origin: load_zone_text(zone.to_text(relativize=False), origin)})
    found = []
    probes = [(dns.name.Name((PROBE_LABEL.encode(), *origin.labels)), dns.rdatatype.A), (origin, dns.rdatatype.NAPTR)]
    # and the DS of delegations without one: the parent's proof that a child is insecure
    probes += [(name, dns.rdatatype.DS) for name, node in sorted(zone.nodes.items())
               if name != origin and node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.NS) is not None
               and node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.DS) is None][:MAX_DS_PROBES]
    # and the questions the scenario's checks ask in this zone
    probes += [(dns.name.from_text(q), dns.rdatatype.from_text(t)) for q, t in extra
               if dns.name.from_text(q).is_subdomain(origin)]
    for qname, rdtype in dict.fromkeys(probes):
        query = dns.message.make_query(qname, rdtype, want_dnssec=True, payload=1232)
        query.flags &= ~dns.flags.RD
        want = answer(query, builtin, tcp=True)      # no truncation: _ask falls back to TCP as well
        try:
            got = _ask(address, qname, rdtype)
        except (dns.exception.DNSException, OSError) as exc:
            found.append(f"{qname}/{dns.rdatatype.to_text(rdtype)}: no answer ({type(exc).__name__})")
            continue
        if want is None:
            continue
        what = f"the answer to {qname}/{dns.rdatatype.to_text(rdtype)}"
        if got.rcode() != want.rcode():
            found.append(f"{what}: rcode {dns.rcode.to_text(got.rcode())} instead of {dns.rcode.to_text(want.rcode())}")
            continue
        missing, sent = _proof(want) - _proof(got), _proof(got) - _proof(want)
        if missing or sent:
            found.append(f"{what}: {len(missing)} proof record(s) of the zone left out, {len(sent)} other(s) sent"
                         + (f" (left out: {sorted(missing)[0][:120]})" if missing else ""))
    return found


def _describe(rdatas: set[str]) -> str:
    return "nothing" if not rdatas else "; ".join(sorted(rdatas))[:160]


def differences(zone: dns.zone.Zone, address: str) -> list[str]:
    """One sentence per RRset the server at ``address`` serves differently from ``zone`` (at most MAX_LISTED,
    then a count)."""
    found: list[str] = []
    for name, rdataset, sigs in authoritative_rrsets(zone):
        kind = dns.rdatatype.to_text(rdataset.rdtype)
        try:
            response = _ask(address, name, rdataset.rdtype)
        except (dns.exception.DNSException, OSError) as exc:
            found.append(f"{name}/{kind}: no answer ({type(exc).__name__})")
            continue
        served = {rr.to_text() for rrset in response.answer
                  if rrset.name == name and rrset.rdtype == rdataset.rdtype for rr in rrset}
        served_sigs = {rr.to_text() for rrset in response.answer
                       if rrset.name == name and rrset.rdtype == dns.rdatatype.RRSIG
                       and rrset.covers == rdataset.rdtype for rr in rrset}
        want = {rr.to_text() for rr in rdataset}
        want_sigs = {rr.to_text() for rr in sigs} if sigs is not None else set()
        if served != want:
            found.append(f"{name}/{kind}: served {_describe(served)} instead of {_describe(want)}")
        elif served_sigs != want_sigs:
            found.append(f"{name}/{kind}: served {len(served_sigs)} RRSIG(s) of the zone's {len(want_sigs)}"
                         + (f" and {len(served_sigs - want_sigs)} it does not have" if served_sigs - want_sigs
                            else ""))
    if len(found) > MAX_LISTED:
        found = found[:MAX_LISTED] + [f"and {len(found) - MAX_LISTED} more RRsets"]
    return found
