"""The chain-of-trust walk: from the lab's trust anchor down to the answer, judging every link on the way.

A pure function over ``fetch(name, type, server_address) -> Message``: it asks authoritative servers exactly as an
iterative validator would (DO=1, RD=0), starting at the root hints, following referrals, asking each parent for
the child's DS and each zone for its DNSKEY RRset, then judges the final answer or denial with the zone's keys. It
sees what a resolver sees, whatever software serves the zones; it never looks at zone files or keys directly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from dns.rdtypes.ANY.DNSKEY import DNSKEY
from dns.rdtypes.ANY.DS import DS
from dns.rdtypes.ANY.RRSIG import RRSIG

from testbed.explain.denial import Need, judge_denial, name_text
from testbed.explain.keys import KeyJudgement, judge_dnskeys
from testbed.explain.model import Chain, Link, ZoneStep
from testbed.explain.sigs import judge_rrset, rrset_text, zone_text

T = TypeVar("T")


class FetchError(Exception):
    """The server gave no usable answer: the message says what happened ("no answer within 2 s")."""


Fetch = Callable[[dns.name.Name, dns.rdatatype.RdataType, str], dns.message.Message]
MAX_DEPTH = 24              # zone cuts and CNAME hops: a loop in broken data must end
MAX_CNAME_FOLLOW = 4

_DS_TEXT = re.compile(r"^\s*(\S+)\s+(?:\d+\s+)?(?:IN\s+)?DS\s+(.+)$", re.IGNORECASE)


def parse_anchors(texts: Iterable[str]) -> dict[dns.name.Name, list[DS]]:
    """Trust anchors as the lab gives them to resolvers: ". IN DS 12345 13 2 ABCD..." per line."""
    anchors: dict[dns.name.Name, list[DS]] = {}
    for text in texts:
        match = _DS_TEXT.match(text)
        if not match:
            raise ValueError(f"not a DS trust anchor: {text!r}")
        owner = dns.name.from_text(match.group(1))
        rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DS, match.group(2))
        assert isinstance(rdata, DS)
        anchors.setdefault(owner, []).append(rdata)
    return anchors


@dataclass
class Server:
    name: str
    address: str

    def __str__(self) -> str:
        return f"{self.name.rstrip('.')} ({self.address})"


def walk(qname: str | dns.name.Name, qtype: str | int, fetch: Fetch, anchors: Iterable[str],
         root_hints: Iterable[tuple[str, str]], now: int, *, managed_anchor: bool = False) -> Chain:
    """Walk ``qname``/``qtype`` from the root, judging each link at ``now`` (the lab clock, seconds).

    ``managed_anchor``: the resolvers were given ``anchors`` as an RFC 5011 starting point and track the keys
    themselves, so they may trust a newer key by now; a broken anchor link then says so."""
    name = dns.name.from_text(qname) if isinstance(qname, str) else qname
    rdtype = dns.rdatatype.from_text(qtype) if isinstance(qtype, str) else dns.rdatatype.RdataType.make(qtype)
    walker = _Walker(fetch, parse_anchors(anchors), [Server(n, a) for n, a in root_hints], now)
    walker.managed = managed_anchor
    return walker.walk(name, rdtype, follow=MAX_CNAME_FOLLOW)


def _sigs(section: list[dns.rrset.RRset], owner: dns.name.Name, covered: int) -> list[RRSIG]:
    return [sig for rrset in section if rrset.rdtype == dns.rdatatype.RRSIG and rrset.name == owner
            for sig in rrset if sig.type_covered == covered]


def _find(section: list[dns.rrset.RRset], owner: dns.name.Name, rdtype: int) -> dns.rrset.RRset | None:
    return next((r for r in section if r.name == owner and r.rdtype == rdtype), None)


class _Walker:
    def __init__(self, fetch: Fetch, anchors: dict[dns.name.Name, list[DS]], roots: list[Server], now: int):
        self.fetch = fetch
        self.anchors = anchors
        self.roots = roots
        self.now = now
        self.managed = False

    # ---- asking servers --------------------------------------------------------------------------------------
    def try_servers(self, name: dns.name.Name, rdtype: dns.rdatatype.RdataType, servers: list[Server],
                    step: ZoneStep, judge: Callable[[dns.message.Message, ZoneStep], T]) -> T | None:
        """Ask each server in turn and judge its answer, as a resolver that retries another server after a
        validation failure does: the first answer whose links hold wins. When none holds, the first answer's
        links are kept; when no server answers at all, a ``server`` link says why and None is returned."""
        problems: list[str] = []
        first: tuple[Server, ZoneStep, T] | None = None
        for server in servers:
            try:
                response = self.fetch(name, rdtype, server.address)
            except FetchError as exc:
                problems.append(f"{server}: {exc}")
                continue
            rcode = response.rcode()
            if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                problems.append(f"{server}: answered {dns.rcode.to_text(rcode)}")
                continue
            note = getattr(response, "explain_note", "") or _unsigned_note(response, name, rdtype)
            if note and f"{server} {note}" not in step.notes:
                step.notes.append(f"{server} {note}")
            scratch = ZoneStep(step.zone)
            result = judge(response, scratch)
            if not any(link.broken for link in scratch.links):
                step.links += scratch.links
                if first is not None:
                    broken = next(link for link in first[1].links if link.broken)
                    step.notes.append(f"{first[0]} gave an answer that does not hold: {broken.sentence}")
                return result
            if first is None:
                first = (server, scratch, result)
        if first is not None:
            step.links += first[1].links
            return first[2]
        what = rrset_text(name, rdtype)
        zone = zone_text(dns.name.from_text(step.zone))
        if len(problems) == 1:
            sentence = f"the only server of {zone} could not answer {what}: {problems[0]}"
        else:
            sentence = f"no server of {zone} answered {what}: " + "; ".join(problems)
        step.links.append(Link("server", what, "error", "; ".join(problems), sentence,
                               {"zone": step.zone, "rrset": f"{name}/{dns.rdatatype.to_text(rdtype)}",
                                "problem": "no-answer", "servers": [str(s) for s in servers]}))
        return None

    def addresses(self, ns_names: list[dns.name.Name], glue: list[dns.rrset.RRset]) -> list[Server]:
        servers = []
        for ns in ns_names:
            found = [rr.address for g in glue if g.name == ns and g.rdtype == dns.rdatatype.A for rr in g]
            if not found:
                found = self.resolve_address(ns)
            servers += [Server(ns.to_text(), address) for address in found]
        return servers

    def resolve_address(self, target: dns.name.Name, depth: int = 0) -> list[str]:
        """A name server's address without glue: a plain iterative lookup, not validated (resolvers do the same)."""
        servers = self.roots
        for _ in range(MAX_DEPTH):
            response = None
            for server in servers:
                try:
                    response = self.fetch(target, dns.rdatatype.A, server.address)
                    break
                except FetchError:
                    continue
            if response is None:
                return []
            a = _find(response.answer, target, dns.rdatatype.A)
            if a is not None:
                return [rr.address for rr in a]
            referral = _referral(response, target)
            if referral is None or depth > 4:
                return []
            _, ns_names, glue = referral
            servers = [Server(ns.to_text(), rr.address) for ns in ns_names for g in glue
                       if g.name == ns and g.rdtype == dns.rdatatype.A for rr in g]
            if not servers:
                servers = [Server(ns.to_text(), a) for ns in ns_names for a in self.resolve_address(ns, depth + 1)]
        return []

    # ---- the walk ------------------------------------------------------------------------------------------
    def walk(self, qname: dns.name.Name, qtype: dns.rdatatype.RdataType, follow: int) -> Chain:
        chain = Chain(qname.to_text(), dns.rdatatype.to_text(qtype), self.now)
        zone = dns.name.root
        servers = self.roots
        ds_set: list[DS] = []
        ds_source = "the trust anchor"
        secure = False
        keys: list[DNSKEY] = []
        for _ in range(MAX_DEPTH):
            step = ZoneStep(zone.to_text(), [str(s) for s in servers])
            chain.steps.append(step)
            if zone in self.anchors:
                ds_set, ds_source, secure = self.anchors[zone], "the trust anchor", True
                if self.managed:
                    step.notes.append("the anchor is RFC 5011-managed: the resolvers track these keys themselves "
                                      "and may trust a newer one than the anchor they were started with")
                step.links.append(Link("anchor", f"trust anchor {zone_text(zone)}", "info",
                                       ", ".join(f"DS {ds.key_tag} {ds.algorithm} {ds.digest_type}" for ds in ds_set)))
            if secure:
                judged = self.try_servers(zone, dns.rdatatype.DNSKEY, servers, step,
                                          partial(self.keys, zone=zone, ds_set=ds_set, source=ds_source))
                if judged is None or judged.state == "bogus":
                    return chain
                secure = judged.state == "secure"
                keys = judged.keys
            step.secure = secure
            found: list[tuple[dns.name.Name, list[dns.name.Name], list[dns.rrset.RRset],
                              list[dns.rrset.RRset]]] = []

            def look(response: dns.message.Message, scratch: ZoneStep, z: dns.name.Name = zone,
                     found: list = found, keys: list[DNSKEY] = keys, secure: bool = secure) -> bool:
                """A referral (remembered in ``found``) or the final answer, judged into ``scratch``."""
                cut = _referral(response, qname) or _hidden_cut(response, z, qname)
                if cut is not None and cut[0] != z and cut[0].is_subdomain(z):
                    found.append((*cut, list(response.authority)))
                    return True
                self.answer(chain, scratch, response, z, keys, secure, qname, qtype, follow)
                return False

            referred = self.try_servers(qname, qtype, servers, step, look)
            if not referred or not found:
                return chain
            child, ns_names, glue, authority = found[-1]
            child_servers = self.addresses(ns_names, glue) if ns_names else servers
            step.links.append(Link("delegation", f"{zone_text(child)} NS", "info",
                                   ", ".join(str(s) for s in child_servers) or "no address for any name server"))
            if not child_servers:
                step.links.append(Link("server", f"{zone_text(child)} NS", "error", "no usable name server",
                                       f"the delegation to {zone_text(child)} names no name server with an address",
                                       {"zone": str(child), "problem": "no-address"}))
                return chain
            if secure:
                outcome: tuple[bool | None, list[DS]] | None
                from_referral = self.referral_ds(zone, child, authority, keys)
                if from_referral is None:
                    outcome = self.try_servers(child, dns.rdatatype.DS, servers, step,
                                               partial(self.delegation, zone=zone, child=child, keys=keys))
                else:
                    step.links += from_referral[2]
                    outcome = from_referral[0], from_referral[1]
                if outcome is None or outcome[0] is None:
                    return chain
                secure, ds_set = outcome[0], outcome[1]
                ds_source = f"the DS at {zone_text(zone)}"
            zone, servers = child, child_servers
        chain.steps[-1].links.append(Link("server", qname.to_text(), "error", "too many zone cuts",
                                          f"the walk for {name_text(qname)} found more than {MAX_DEPTH} zone cuts, "
                                          f"a referral loop", {"problem": "loop"}))
        return chain

    def keys(self, response: dns.message.Message, step: ZoneStep, zone: dns.name.Name, ds_set: list[DS],
             source: str) -> KeyJudgement:
        if not response.flags & dns.flags.AA:
            step.links.append(Link("server", rrset_text(zone, dns.rdatatype.DNSKEY), "error", "answer without AA",
                                   f"the server of {zone_text(zone)} is not authoritative for it: it answers "
                                   f"{rrset_text(zone, dns.rdatatype.DNSKEY)} without AA (a lame delegation)",
                                   {"zone": str(zone), "problem": "lame"}))
            return KeyJudgement("bogus")
        judged = judge_dnskeys(zone, ds_set, source, _find(response.answer, zone, dns.rdatatype.DNSKEY),
                               _sigs(response.answer, zone, dns.rdatatype.DNSKEY), self.now)
        step.links += judged.links
        return judged

    def referral_ds(self, zone: dns.name.Name, child: dns.name.Name, authority: list[dns.rrset.RRset],
                    keys: list[DNSKEY]) -> tuple[bool | None, list[DS], list[Link]] | None:
        """The DS or its denial as the referral itself carries them (resolvers use these first). None when the
        referral has neither, or what it has does not hold: then the parent is asked for the DS."""
        scratch = ZoneStep(zone.to_text())
        has_ds = _find(authority, child, dns.rdatatype.DS) is not None
        has_denial = any(r.rdtype in (dns.rdatatype.NSEC, dns.rdatatype.NSEC3) for r in authority)
        if not has_ds and not has_denial:
            return None
        fake = dns.message.Message()
        if has_ds:
            fake.answer = [r for r in authority if r.name == child and r.rdtype in (dns.rdatatype.DS,
                                                                                    dns.rdatatype.RRSIG)]
        else:
            fake.authority = list(authority)
        secure, ds_set = self.delegation(fake, scratch, zone, child, keys)
        if secure is None:
            return None
        return secure, ds_set, scratch.links

    def delegation(self, response: dns.message.Message, step: ZoneStep, zone: dns.name.Name, child: dns.name.Name,
                   keys: list[DNSKEY]) -> tuple[bool | None, list[DS]]:
        """Judge the parent's DS answer. (True, DS set): secure; (False, []): insecure delegation proven;
        (None, []): a broken link, recorded in ``step``."""
        ds = _find(response.answer, child, dns.rdatatype.DS)
        if ds is not None:
            judged = judge_rrset(ds, _sigs(response.answer, child, dns.rdatatype.DS), keys, zone, self.now)
            what = rrset_text(child, dns.rdatatype.DS)
            facts = {"zone": str(zone), "rrset": f"{child}/DS", "problem": judged.problem}
            if not judged.ok:
                worst = next((r for r in judged.results if r.problem == judged.problem), None)
                missing = judged.problem == "no-rrsig"
                sentence = (f"the DS RRset for {zone_text(child)} in {zone_text(zone)} carries no RRSIG" if missing
                            else judged.why)
                step.links.append(Link("rrsig", what, "missing" if missing else "invalid", judged.why, sentence,
                                       {**facts, **(worst.facts() if worst else {})}))
                return None, []
            good = judged.good
            step.links.append(Link("rrsig", what, "valid", f"{len(ds)} DS, signed by key "
                                                           f"{good.sig.key_tag if good else '?'}", facts=facts))
            return True, [rr for rr in ds if isinstance(rr, DS)]
        links = judge_denial(Need("nods", child, dns.rdatatype.DS), response.authority, zone, keys, self.now)
        step.links += links
        if any(link.broken for link in links):
            return None, []
        return False, []

    def answer(self, chain: Chain, step: ZoneStep, response: dns.message.Message, zone: dns.name.Name,
               keys: list[DNSKEY], secure: bool, qname: dns.name.Name, qtype: dns.rdatatype.RdataType,
               follow: int) -> None:
        rcode = dns.rcode.to_text(response.rcode())
        chain.rcode = rcode
        if not response.flags & dns.flags.AA:
            step.links.append(Link("server", rrset_text(qname, qtype), "error", "answer without AA",
                                   f"the server of {zone_text(zone)} answered {rrset_text(qname, qtype)} without "
                                   f"authority (AA=0) and without a referral: a lame delegation",
                                   {"zone": str(zone), "problem": "lame"}))
            return
        if not secure:
            self.unvalidated(chain, step, zone)
        # the RRset asked for, following CNAMEs that stay in this answer
        owner = qname
        for _ in range(MAX_DEPTH):
            rrset = _find(response.answer, owner, qtype)
            cname = _find(response.answer, owner, dns.rdatatype.CNAME) if rrset is None else None
            target = rrset or cname
            if target is None:
                break
            if secure:
                link = self.judge_rrset_link(target, response.answer, zone, keys)
                step.links.append(link)
                if link.broken:
                    return
                if link.facts.get("wildcard") and rrset is not None:
                    labels = int(link.facts["labels"])
                    denial = judge_denial(Need("wildcard", owner, qtype, labels), response.authority, zone, keys,
                                          self.now)
                    step.links += denial
                    if any(d.broken for d in denial):
                        return
            if rrset is not None:
                step.links.append(Link("answer", rrset_text(owner, qtype), "valid" if secure else "info",
                                       " ".join(rr.to_text() for rr in rrset) + ("" if secure else
                                                                                 " (not validated)")))
                return
            assert cname is not None
            owner = cname[0].target
            in_answer = (_find(response.answer, owner, qtype) or _find(response.answer, owner, dns.rdatatype.CNAME))
            if not owner.is_subdomain(zone) or in_answer is None:
                if follow > 0:
                    chain.followed.append(self.walk(owner, qtype, follow - 1))
                return
        if rcode == "NXDOMAIN" or not response.answer:
            kind = "nxdomain" if rcode == "NXDOMAIN" else "nodata"
            if not secure:
                step.links.append(Link("answer", f"{rcode} {name_text(qname)}", "info", "not validated"))
                return
            step.links += judge_denial(Need(kind, owner, qtype), response.authority, zone, keys, self.now)

    def unvalidated(self, chain: Chain, step: ZoneStep, zone: dns.name.Name) -> None:
        """An answer outside every secure chain: say why, unless an insecure link above already does."""
        if chain.insecure is not None or any(link.verdict == "insecure" for link in step.links):
            return
        if not self.anchors:
            sentence = "the lab gives the resolvers no trust anchor at all, so nothing can be validated"
        else:
            names = ", ".join(zone_text(a) for a in self.anchors)
            sentence = (f"no trust anchor covers {zone_text(zone)} (the resolvers' anchors: {names}), so its "
                        f"answers are insecure")
        step.links.append(Link("anchor", f"{zone_text(zone)} trust", "insecure", "not under a trust anchor", sentence,
                               {"zone": str(zone), "problem": "no-anchor",
                                "anchors": [str(a) for a in self.anchors]}))

    def judge_rrset_link(self, rrset: dns.rrset.RRset, section: list[dns.rrset.RRset], zone: dns.name.Name,
                         keys: list[DNSKEY]) -> Link:
        judged = judge_rrset(rrset, _sigs(section, rrset.name, rrset.rdtype), keys, zone, self.now)
        what = rrset_text(rrset.name, rrset.rdtype)
        facts: dict[str, object] = {"zone": str(zone), "rrset": f"{rrset.name}/{dns.rdatatype.to_text(rrset.rdtype)}",
                                    "problem": judged.problem}
        if judged.ok:
            good = judged.good
            assert good is not None
            facts.update(key_tag=good.sig.key_tag, wildcard=good.wildcard, labels=good.sig.labels)
            detail = f"signed by key {good.sig.key_tag}" + (" (wildcard expansion)" if good.wildcard else "")
            return Link("rrsig", what, "valid", detail, facts=facts)
        worst = next((r for r in judged.results if r.problem == judged.problem), None)
        if judged.problem == "no-rrsig":
            return Link("rrsig", what, "missing", judged.why, f"{what} in {zone_text(zone)} carries no RRSIG", facts)
        return Link("rrsig", what, "invalid", judged.why, judged.why, {**facts, **(worst.facts() if worst else {})})


def _referral(response: dns.message.Message, qname: dns.name.Name
              ) -> tuple[dns.name.Name, list[dns.name.Name], list[dns.rrset.RRset]] | None:
    """(child zone, its NS names, glue) when ``response`` is a referral towards ``qname``."""
    if response.flags & dns.flags.AA and response.answer:
        return None
    if any(r.name == qname for r in response.answer):
        return None
    for rrset in response.authority:
        if rrset.rdtype == dns.rdatatype.NS and qname.is_subdomain(rrset.name):
            if response.flags & dns.flags.AA:
                return None     # the NS RRset of the zone itself, in an authoritative answer
            return rrset.name, [rr.target for rr in rrset], list(response.additional)
    return None


def _hidden_cut(response: dns.message.Message, zone: dns.name.Name, qname: dns.name.Name
                ) -> tuple[dns.name.Name, list[dns.name.Name], list[dns.rrset.RRset]] | None:
    """A server that serves parent and child answers for the child at once: the SOA of a negative answer, or the
    signer of the answer, names a zone below the one being walked."""
    candidates = [r.name for r in response.authority if r.rdtype == dns.rdatatype.SOA]
    candidates += [sig.signer for r in response.answer if r.rdtype == dns.rdatatype.RRSIG and r.name == qname
                   for sig in r]
    for name in candidates:
        if name != zone and name.is_subdomain(zone) and qname.is_subdomain(name):
            return name, [], []
    return None


def _unsigned_note(response: dns.message.Message, name: dns.name.Name, rdtype: dns.rdatatype.RdataType) -> str:
    """A DO=1 answer with records but not one RRSIG: worth saying which server sent it (a stripping server looks
    exactly like unsigned data in one answer)."""
    sections = response.answer + response.authority
    if not response.answer or any(r.rdtype == dns.rdatatype.RRSIG for r in sections):
        return ""
    return f"sent no RRSIG at all in its answer to {rrset_text(name, rdtype)}, though asked with DO=1"
