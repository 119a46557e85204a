"""The ``checks:`` of a scenario or phase: the query, what to expect, and per-resolver overrides."""

from __future__ import annotations

import re
from dataclasses import replace

import dns.edns
import dns.exception
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import yaml

from testbed.errors import ScenarioError
from testbed.scenario.model import OUTCOMES, Check, Expectation, Override, QueryFlags
from testbed.scenario.readers.base import INT, NULL, NodeReader, ReadContext, describe, dns_problem, getter, suggest
from testbed.scenario.readers.resolvers import ResolversReader

_CHECK_KEYS = ("query", "expect", "rcode", "ede", "answer", "reference", "resolver_overrides", "flags", "readiness",
               "profiles")
# what a profile's block may say: the check's expectation and overrides under that profile
_PROFILE_KEYS = ("expect", "rcode", "ede", "answer", "reference", "resolver_overrides")
_FLAG_KEYS = ("do", "ad", "cd")
_OVERRIDE_KEYS = ("expect", "rcode", "ede", "answer", "reason", "reference", "versions", "log")
# Overrides that expect a servfail without EDE must name the log line that tells the fault apart (see override())
REQUIRE_LOG = True

# The rcodes each outcome word implies (DESIGN.md, "Outcome words").
IMPLIED_RCODES: dict[str, tuple[str, ...]] = {
    "secure": ("NOERROR", "NXDOMAIN"),
    "insecure": ("NOERROR", "NXDOMAIN"),
    "bogus": ("SERVFAIL",),
    "servfail": ("SERVFAIL",),
}


class ChecksReader(NodeReader):
    def __init__(self, ctx: ReadContext) -> None:
        super().__init__(ctx)
        self.resolvers = ResolversReader(ctx)  # override keys are resolver names

    def checks(self, node: yaml.Node, reference: str | None) -> tuple[Check, ...]:
        items = self.sequence(node, "'checks'", "'- query: www.example.jp. A' with 'expect: secure' under it")
        if not items:
            self.fail(node, "'checks' is empty: a scenario must check something.",
                      "add at least one '- query: NAME TYPE' with 'expect: ...'.")
        return tuple(self.check(item, i, reference) for i, item in enumerate(items, 1))

    def check(self, node: yaml.Node, index: int, reference: str | None) -> Check:
        fields = self.mapping(node, f"check {index}", _CHECK_KEYS, required=("query", "expect"))
        get = getter(fields)
        qname, qtype = self.query(get("query"), index)
        what = f"check {index} ({qname} {qtype})"
        expect, own_reference, overrides = self.expectation(fields, qtype, what)
        flags = self.flags(get("flags"), what) if "flags" in fields else QueryFlags()
        readiness = self.choice(get("readiness"), f"'readiness' in {what}", ("ok",)) if "readiness" in fields else None
        check = Check(qname=qname, qtype=qtype, expect=expect, overrides=overrides,
                      reference=own_reference or reference, where=self.where(node), flags=flags,
                      readiness=readiness)  # type: ignore[arg-type]  # validated by choice() above
        if "profiles" in fields:
            check = replace(check, by_profile=self.profiles(get("profiles"), check, what))
        return check

    def expectation(self, fields: dict, qtype: str, what: str
                    ) -> tuple[Expectation, str | None, tuple[Override, ...]]:
        """expect/rcode/ede/answer, reference and resolver_overrides: of a check, or of one profile's block."""
        get = getter(fields)
        outcome = self.outcome(get("expect"), what)
        expect = Expectation(
            outcome=outcome,  # type: ignore[arg-type]  # validated against OUTCOMES above
            rcode=self.rcode(get("rcode"), outcome, what) if "rcode" in fields else None,
            ede=self.ede(get("ede"), what) if "ede" in fields else None,
            answer=self.answer(get("answer"), qtype, what) if "answer" in fields else None,
        )
        own_reference = self.text(get("reference"), f"'reference' in {what}") if "reference" in fields else None
        overrides: tuple[Override, ...] = ()
        if "resolver_overrides" in fields:
            overrides = self.overrides(get("resolver_overrides"), expect, qtype, what)
        return expect, own_reference, overrides

    def profiles(self, node: yaml.Node, check: Check, what: str) -> tuple[tuple[str, Check], ...]:
        """``profiles: {rfc2026: {expect: insecure, resolver_overrides: ...}}``: the check under another profile."""
        from testbed.resolvers.profiles import DEFAULT_PROFILE, PROFILES

        if not isinstance(node, yaml.MappingNode):
            self.fail(node, f"'profiles' in {what} must map a profile name to its expectation, got {describe(node)}.",
                      "write e.g. 'profiles: {rfc2026: {expect: insecure, reason: ...}}'.")
        out: list[tuple[str, Check]] = []
        for key_node, value_node in node.value:
            name = self.choice(key_node, f"a profile name in {what}", tuple(p for p in PROFILES
                                                                         if p != DEFAULT_PROFILE))
            fields = self.mapping(value_node, f"the {name} profile of {what}", _PROFILE_KEYS, required=("expect",))
            expect, own_reference, overrides = self.expectation(fields, check.qtype, f"the {name} profile of {what}")
            out.append((name, replace(check, expect=expect, overrides=overrides,
                                      reference=own_reference or check.reference)))
        return tuple(out)

    def flags(self, node: yaml.Node, what: str) -> QueryFlags:
        """``flags: {cd: true}``: the query's DO, AD and CD bits; the ones not named keep the default."""
        fields = self.mapping(node, f"'flags' in {what}", _FLAG_KEYS)
        return QueryFlags(**{key: self.boolean(value, f"'{key}' in the flags of {what}")
                             for key, (_, value) in fields.items()})

    def query(self, node: yaml.Node, index: int) -> tuple[str, str]:
        text = self.text(node, f"'query' in check {index}")
        fix = "write the query as NAME TYPE, e.g. 'www.example.jp. A'."
        words = text.split()
        if len(words) == 3 and words[1].upper() == "IN":
            words = [words[0], words[2]]  # "www.example.jp. IN A" reads naturally to zone-file people
        if len(words) != 2:
            self.fail(node, f"query {text!r} in check {index} must be a name and a type.", fix)
        try:
            qname = dns.name.from_text(words[0]).to_text()
        except (dns.exception.DNSException, ValueError) as exc:  # ValueError: IDNA (UnicodeError)
            self.fail(node, f"query name {words[0]!r} in check {index} is not valid: {dns_problem(exc)}.", fix)
        try:
            qtype = dns.rdatatype.to_text(dns.rdatatype.from_text(words[1]))
        except (dns.exception.DNSException, ValueError):  # ValueError: TYPE65536 and above
            self.fail(node, f"query type {words[1]!r} in check {index} is not a DNS record type.",
                      f"{suggest(words[1].upper(), [t.name for t in dns.rdatatype.RdataType])}"
                      "Use a type such as A, AAAA, MX, TXT, DNSKEY, DS, SOA.")
        return qname, qtype

    def outcome(self, node: yaml.Node, what: str) -> str:
        return self.choice(node, f"'expect' in {what}", OUTCOMES)

    def rcode(self, node: yaml.Node, outcome: str, what: str) -> str:
        text = self.text(node, f"'rcode' in {what}").upper()
        try:
            rcode = dns.rcode.to_text(dns.rcode.from_text(text))
        except dns.exception.DNSException:
            self.fail(node, f"'rcode' in {what} is {text!r}, which is not a DNS response code.",
                      "use NOERROR, NXDOMAIN, SERVFAIL or REFUSED.")
        implied = IMPLIED_RCODES[outcome]
        if rcode not in implied:
            self.fail(node, f"'rcode: {rcode}' contradicts 'expect: {outcome}' in {what}: {outcome} means "
                            f"{' or '.join(implied)}.", "fix one of the two, or drop 'rcode'.")
        return rcode

    def ede(self, node: yaml.Node, what: str) -> tuple[int, ...] | None:
        if isinstance(node, yaml.ScalarNode) and node.tag == NULL:
            return None  # explicit "ede: ~" in an override: do not check EDE for that resolver
        codes: list[int] = []
        for item in self.one_or_many(node):
            if isinstance(item, yaml.ScalarNode) and item.tag == INT:
                codes.append(self.integer(item, f"an EDE code in {what}", 0, 65535))
                continue
            name = self.text(item, f"an EDE code in {what}")
            try:  # names as in RFC 8914's registry: "Signature Expired", SIGNATURE_EXPIRED, signature-expired
                codes.append(int(dns.edns.EDECode.from_text(re.sub(r"[\s-]+", "_", name).upper())))
            except (ValueError, dns.exception.DNSException):
                self.fail(item, f"unknown EDE code {name!r} in {what}.",
                          "use the number from RFC 8914, e.g. 7 for Signature Expired, 6 for DNSSEC Bogus.")
        return tuple(dict.fromkeys(codes))

    def answer(self, node: yaml.Node, qtype: str, what: str) -> tuple[str, ...] | None:
        if isinstance(node, yaml.ScalarNode) and node.tag == NULL:
            return None
        texts = [self.loose_text(item, f"an answer in {what}") for item in self.one_or_many(node)]
        for item, text in zip(self.one_or_many(node), texts, strict=True):
            try:
                dns.rdata.from_text(dns.rdataclass.IN, qtype, text, origin=dns.name.root)
            except (dns.exception.DNSException, ValueError) as exc:
                self.fail(item, f"answer {text!r} in {what} is not valid {qtype} data: {dns_problem(exc)}.",
                          f"write the record data as it appears in a zone file for type {qtype}.")
        return tuple(texts)

    # ---- resolver overrides ------------------------------------------------------------------------------------

    def overrides(self, node: yaml.Node, base: Expectation, qtype: str, what: str) -> tuple[Override, ...]:
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, f"'resolver_overrides' in {what} must map resolver names to their differences, "
                            f"got {describe(node)}.", "write e.g. 'bind: {ede: [], reason: \"...\"}'.")
        out: list[Override] = []
        seen: set[str] = set()
        for key_node, value_node in node.value:
            resolver = self.resolvers.resolver_name(key_node, f"'resolver_overrides' of {what}")
            if resolver in seen:
                self.fail(key_node, f"resolver {resolver!r} has two overrides in {what}.",
                          "merge them, or give one list of overrides with distinct 'versions' each.")
            seen.add(resolver)
            # one override, or a list of them for different versions (measured on 9.18: this; on 9.20: that)
            items = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            mine = [self.override(resolver, key_node, item, base, qtype, what) for item in items]
            if len(mine) > 1 and any(o.versions is None for o in mine):
                self.fail(value_node, f"the {resolver} overrides of {what} are a list, but not every one says "
                                      "which versions it was measured on.",
                          "give each a 'versions' range, e.g. versions: \"<9.20\" and versions: \">=9.20\".")
            out += mine
        return tuple(out)

    def override(self, resolver: str, key_node: yaml.Node, node: yaml.Node, base: Expectation, qtype: str,
                 what: str) -> Override:
        where = f"the {resolver} override of {what}"
        fields = self.mapping(node, where, _OVERRIDE_KEYS)
        get = getter(fields)
        if "reason" not in fields:
            # An undocumented override would hide a resolver bug as "expected"; the reason is the whole point.
            self.fail(key_node, f"{where} has no 'reason'.",
                      "say why this resolver differs, e.g. reason: \"BIND 9.18 sends no DNSSEC EDE codes\", "
                      "and add a 'reference' to its documentation if there is one.")
        reason = self.text(get("reason"), f"'reason' in {where}")
        outcome = self.outcome(get("expect"), where) if "expect" in fields else base.outcome
        # A new outcome implies its own rcode; keep the base rcode only when it still fits.
        rcode = base.rcode if base.rcode in IMPLIED_RCODES[outcome] else None
        expectation = Expectation(
            outcome=outcome,  # type: ignore[arg-type]
            rcode=self.rcode(get("rcode"), outcome, where) if "rcode" in fields else rcode,
            ede=self.ede(get("ede"), where) if "ede" in fields else base.ede,
            answer=self.answer(get("answer"), qtype, where) if "answer" in fields else base.answer,
        )
        if expectation == base:
            self.fail(node, f"{where} changes nothing: it expects exactly what the check already expects.",
                      "list only the fields that differ for this resolver (expect, rcode, ede, answer), "
                      "or remove the override.")
        reference = self.text(get("reference"), f"'reference' in {where}") if "reference" in fields else None
        versions = self.versions(get("versions"), where) if "versions" in fields else None
        log = self.log_pattern(get("log"), where) if "log" in fields else None
        if log is None and expectation.outcome == "servfail" and not expectation.ede and REQUIRE_LOG:
            # A plain SERVFAIL is what every failure looks like: without the log line the override would be met by
            # any breakage at all, so it must say what this resolver writes for this fault.
            self.fail(key_node, f"{where} expects a servfail without EDE but names no 'log' pattern, so any "
                                "failure at all would meet it.",
                      "add log: \"<regular expression>\" matching the line the resolver logs for this query "
                      "(see the evidence of a failing check in the JSON report, or a run with --keep).")
        return Override(resolver=resolver, expectation=expectation, reason=reason, reference=reference,
                        versions=versions, log=log, where=self.where(key_node))

    def versions(self, node: yaml.Node, where: str) -> str:
        """A version range (testbed/scenario/versions.py); an unquoted 9.18 arrives as a number, so any scalar."""
        from testbed.scenario.versions import EXAMPLES, parse_range

        if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
            self.fail(node, f"'versions' in {where} must be a version range.", f"write e.g. {EXAMPLES}.")
        text = str(node.value).strip()
        try:
            parse_range(text)
        except ScenarioError as exc:
            self.fail(node, f"'versions' in {where}: {exc.message}", exc.fix or f"write e.g. {EXAMPLES}.")
        return text

    def log_pattern(self, node: yaml.Node, where: str) -> str:
        text = self.text(node, f"'log' in {where}")
        try:
            re.compile(text)
        except re.error as exc:
            self.fail(node, f"'log' in {where} is not a regular expression: {exc}.",
                      "escape regex characters such as ( ) [ ] . with a backslash, and quote the text in single "
                      "quotes so backslashes stay as written.")
        return text
