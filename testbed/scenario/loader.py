"""Load: a scenario YAML file becomes a validated, frozen ``Scenario``.

We walk PyYAML's *node* tree (``compose``) instead of the plain objects ``safe_load`` returns, because nodes keep
their line numbers: every error can then say ``file:line``, which key is wrong and how to fix it. Scenario files
are written by people who are not necessarily programmers, so messages are plain sentences, never tracebacks.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import Any, NoReturn

import dns.dnssec
import dns.edns
import dns.exception
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.zone
import yaml

from testbed.errors import ScenarioError
from testbed.scenario.model import (
    OUTCOMES,
    SERVER_SOFTWARE,
    SIGNERS,
    ActionSignature,
    ActionSpec,
    Check,
    Expectation,
    FaultSpec,
    Nsec3Params,
    Override,
    Phase,
    QueryFlags,
    Scenario,
    SigningSpec,
    Where,
    ZoneSpec,
)

# The parameter names one fault accepts. The fault registry hands the loader {fault id: parameter names}.
FaultParams = Collection[str]

SCENARIO_SUFFIXES = (".yaml", ".yml")

_TOP_KEYS = ("name", "summary", "reference", "topology", "zones", "faults", "resolvers", "checks", "phases", "server")
_PHASE_KEYS = ("name", "summary", "actions", "checks", "flush")
_ZONE_KEYS = ("records", "replace_records", "servers", "signing", "server", "file", "ds", "keys", "signer")
_SIGNING_KEYS = ("signed", "algorithm", "keys", "denial", "nsec3", "ds_digests", "validity_days", "inception_offset")
_NSEC3_KEYS = ("iterations", "salt", "opt_out")
_CHECK_KEYS = ("query", "expect", "rcode", "ede", "answer", "reference", "resolver_overrides", "flags", "readiness")
_FLAG_KEYS = ("do", "ad", "cd")
_OVERRIDE_KEYS = ("expect", "rcode", "ede", "answer", "reason", "reference")

# The rcodes each outcome word implies (DESIGN.md, "Outcome words").
IMPLIED_RCODES: dict[str, tuple[str, ...]] = {
    "secure": ("NOERROR", "NXDOMAIN"),
    "insecure": ("NOERROR", "NXDOMAIN"),
    "bogus": ("SERVFAIL",),
    "servfail": ("SERVFAIL",),
}

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
# Zone and server names are host names; anything else is almost always a typo or a pasted comment.
_ZONE_NAME_RE = re.compile(r"^(\.|([A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?\.?)+)$")
_HOST_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$")
# Durations for the lab clock: "30d", "2h", "400s", "1d12h", "2w"; a bare number is seconds.
_DURATION_RE = re.compile(r"^(?:\d+[wdhms])+$")
_DURATION_PART_RE = re.compile(r"(\d+)([wdhms])")
_DURATION_UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
# When no action registry is given, a one-value action ("advance: 30d") keeps its value under this key.
SCALAR_PARAM = "value"


def parse_duration(text: str) -> int:
    """``"30d"`` -> 2592000. Units w, d, h, m, s may be combined (``"1d12h"``); a bare number is seconds.
    Raises ValueError for anything else."""
    text = str(text).strip().lower()
    if text.isdigit():
        return int(text)
    if not _DURATION_RE.match(text):
        raise ValueError(f"{text!r} is not a duration")
    return sum(int(count) * _DURATION_UNITS[unit] for count, unit in _DURATION_PART_RE.findall(text))


def _suggest(word: str, choices: Iterable[str]) -> str:
    """A 'did you mean' hint, or '' when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}? " if close else ""


def _describe(node: yaml.Node) -> str:
    """How a wrongly typed value looks to the person who wrote it."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping (key: value pairs)"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    kinds = {_STR: "text", _INT: "a number", _BOOL: "true/false", _NULL: "nothing (empty)",
             "tag:yaml.org,2002:float": "a decimal number"}
    kind = kinds.get(node.tag, "a value")
    return kind if node.tag == _NULL else f"{kind} {node.value!r}"


class _Reader:
    """Turns one file's node tree into model objects; knows the file so every error can name it."""

    def __init__(self, file: Path, loader: yaml.SafeLoader, known_faults: Mapping[str, FaultParams] | None,
                 known_resolvers: Collection[str] | None, known_topologies: Collection[str] | None,
                 known_actions: Mapping[str, ActionSignature] | None = None) -> None:
        self.file = file
        self.loader = loader
        self.known_faults = known_faults
        self.known_resolvers = known_resolvers
        self.known_topologies = known_topologies
        self.known_actions = known_actions

    # ---- errors and primitive values ---------------------------------------------------------------------------

    def line(self, node: yaml.Node) -> int:
        return node.start_mark.line + 1  # PyYAML counts from 0, editors from 1

    def where(self, node: yaml.Node) -> Where:
        return Where(self.file, self.line(node))

    def fail(self, node: yaml.Node | int, message: str, fix: str | None = None) -> NoReturn:
        line = node if isinstance(node, int) else self.line(node)
        raise ScenarioError(message, file=self.file, line=line, fix=fix)

    def mapping(self, node: yaml.Node, what: str, allowed: tuple[str, ...],
                required: tuple[str, ...] = ()) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """``{key: (key node, value node)}``; rejects unknown, duplicate and missing keys."""
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, f"{what} must be a mapping (key: value lines), got {_describe(node)}.",
                      f"write {what} as 'key: value' lines; allowed keys: {', '.join(allowed)}.")
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _NULL:
                self.fail(key_node, f"keys in {what} must be plain words.")
            key = str(key_node.value)
            if key not in allowed:
                self.fail(key_node, f"unknown key {key!r} in {what}.",
                          f"{_suggest(key, allowed)}Allowed keys here: {', '.join(allowed)}.")
            if key in out:
                self.fail(key_node, f"key {key!r} appears twice in {what} (first on line {self.line(out[key][0])}).",
                          "keep only one of them.")
            out[key] = (key_node, value_node)
        for key in required:
            if key not in out:
                self.fail(node, f"{what} has no {key!r} key, which is required.", f"add '{key}: ...' to {what}.")
        return out

    def sequence(self, node: yaml.Node, what: str, example: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, f"{what} must be a list, got {_describe(node)}.", f"write it as a list, e.g. {example}.")
        return list(node.value)

    def text(self, node: yaml.Node, what: str, *, allow_empty: bool = False) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag != _STR:
            fix = "give it a value." if node.tag == _NULL else "put the value in quotes."
            self.fail(node, f"{what} must be text, got {_describe(node)}.", fix)
        value = str(node.value).strip()
        if not value and not allow_empty:
            self.fail(node, f"{what} is empty.", "give it a value or remove the key.")
        return value

    def loose_text(self, node: yaml.Node, what: str) -> str:
        """Any scalar as its literal text: record and rdata lines may look like numbers to YAML (``"10"``)."""
        if not isinstance(node, yaml.ScalarNode) or node.tag == _NULL or not str(node.value).strip():
            self.fail(node, f"{what} must be a line of text, got {_describe(node)}.", "put the line in quotes.")
        return str(node.value).strip()

    def boolean(self, node: yaml.Node, what: str) -> bool:
        if not isinstance(node, yaml.ScalarNode) or node.tag != _BOOL:
            self.fail(node, f"{what} must be true or false, got {_describe(node)}.", "write true or false.")
        return bool(self.loader.construct_object(node))

    def integer(self, node: yaml.Node, what: str, low: int, high: int) -> int:
        if not isinstance(node, yaml.ScalarNode) or node.tag != _INT:
            self.fail(node, f"{what} must be a whole number, got {_describe(node)}.", "write a number without quotes.")
        value = int(self.loader.construct_object(node))
        if not low <= value <= high:
            self.fail(node, f"{what} must be between {low} and {high}, got {value}.")
        return value

    def one_or_many(self, node: yaml.Node) -> list[yaml.Node]:
        """A list, or a single value standing for a one-item list (``ede: 7`` is ``ede: [7]``)."""
        return list(node.value) if isinstance(node, yaml.SequenceNode) else [node]

    def choice(self, node: yaml.Node, what: str, choices: Iterable[str]) -> str:
        choices = list(choices)
        value = self.text(node, what)
        if value not in choices:
            self.fail(node, f"{what} is {value!r}, which is not one of: {', '.join(choices)}.",
                      f"{_suggest(value, choices)}Use one of the listed words.")
        return value

    def plain(self, node: yaml.Node) -> Any:
        """The ordinary Python value of a node (fault parameters are passed through as written)."""
        return self.loader.construct_object(node, deep=True)

    # ---- names -------------------------------------------------------------------------------------------------

    def zone_name(self, node: yaml.Node, what: str) -> str:
        text = self.text(node, what)
        if not _ZONE_NAME_RE.match(text):
            self.fail(node, f"{what}: {text!r} is not a valid zone name.",
                      "use a domain name such as 'example.jp.' (letters, digits and hyphens; no spaces).")
        try:
            return dns.name.from_text(text).to_text().lower()
        except dns.exception.DNSException as exc:
            self.fail(node, f"{what}: {text!r} is not a valid zone name: {_dns_problem(exc)}.",
                      "labels must be 1-63 characters and the whole name at most 255.")

    def resolver_name(self, node: yaml.Node, what: str) -> str:
        name = self.text(node, what)
        if self.known_resolvers is not None and name not in self.known_resolvers:
            known = sorted(self.known_resolvers)
            self.fail(node, f"unknown resolver {name!r} in {what}.",
                      f"{_suggest(name, known)}Known resolvers: {', '.join(known) or 'none'}.")
        return name

    # ---- the scenario ------------------------------------------------------------------------------------------

    def scenario(self, root: yaml.Node) -> Scenario:
        top = self.mapping(root, "the scenario", _TOP_KEYS, required=("name",))
        get = _getter(top)
        if "checks" in top and "phases" in top:
            self.fail(top["phases"][0], "a scenario has either top-level 'checks' or 'phases' (a timeline), not both.",
                      "move the top-level checks into a phase, or drop 'phases'.")
        if "checks" not in top and "phases" not in top:
            self.fail(root, "the scenario has no 'checks' key, which is required (a timeline has 'phases' instead).",
                      "add 'checks:' with at least one '- query: NAME TYPE' and 'expect: ...'.")
        name = self.text(get("name"), "'name'")
        reference = self.text(get("reference"), "'reference'") if "reference" in top else ""
        topology = "jp"
        if "topology" in top:
            topology = self.text(get("topology"), "'topology'")
            if self.known_topologies is not None and topology not in self.known_topologies:
                known = sorted(self.known_topologies)
                self.fail(get("topology"), f"unknown topology {topology!r}.",
                          f"{_suggest(topology, known)}Known topologies: {', '.join(known)}.")
        return Scenario(
            name=name,
            file=self.file,
            summary=self.text(get("summary"), "'summary'", allow_empty=True) if "summary" in top else "",
            reference=reference,
            topology=topology,
            zones=self.zones(get("zones")) if "zones" in top else (),
            faults=self.faults(get("faults")) if "faults" in top else (),
            resolvers=self.resolvers(get("resolvers")) if "resolvers" in top else "all",
            checks=self.checks(get("checks"), reference or None) if "checks" in top else (),
            phases=self.phases(get("phases"), reference or None) if "phases" in top else (),
            server=self.choice(get("server"), "'server'", SERVER_SOFTWARE) if "server" in top else None,
        )

    def resolvers(self, node: yaml.Node) -> tuple[str, ...] | str:
        if isinstance(node, yaml.ScalarNode) and node.tag == _STR and node.value == "all":
            return "all"
        if isinstance(node, yaml.SequenceNode) and not node.value:
            self.fail(node, "'resolvers' is an empty list.", "write 'resolvers: all' or list at least one resolver.")
        names = [self.resolver_name(item, "'resolvers'") for item in self.one_or_many(node)]
        return tuple(dict.fromkeys(names))

    # ---- zones -------------------------------------------------------------------------------------------------

    def zones(self, node: yaml.Node) -> tuple[ZoneSpec, ...]:
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, f"'zones' must map zone names to their settings, got {_describe(node)}.",
                      "write e.g. 'zones:' then an indented 'example.jp.:' with 'records: [...]' under it.")
        specs: dict[str, ZoneSpec] = {}
        for key_node, value_node in node.value:
            zone = self.zone_name(key_node, "zone name")
            if zone in specs:
                self.fail(key_node, f"zone {zone!r} is listed twice (first on line {specs[zone].where.line}).",
                          "merge the two entries.")
            specs[zone] = self.zone(zone, key_node, value_node)
        return tuple(specs.values())

    def zone(self, zone: str, key_node: yaml.Node, node: yaml.Node) -> ZoneSpec:
        what = f"zone {zone!r}"
        if isinstance(node, yaml.ScalarNode) and node.tag == _NULL:
            return ZoneSpec(name=zone, where=self.where(key_node))  # "example.jp.:" alone: just make sure it exists
        fields = self.mapping(node, what, _ZONE_KEYS)
        get = _getter(fields)
        servers: tuple[str, ...] = ()
        if "servers" in fields:
            servers = tuple(self.host(item, f"a server of {what}") for item in self.one_or_many(get("servers")))
        return ZoneSpec(
            name=zone,
            records=self.records(zone, get("records")) if "records" in fields else (),
            replace_records=self.boolean(get("replace_records"), f"'replace_records' in {what}")
            if "replace_records" in fields else False,
            signing=self.signing(get("signing"), what) if "signing" in fields else None,
            servers=servers,
            where=self.where(key_node),
            server=self.choice(get("server"), f"'server' of {what}", SERVER_SOFTWARE) if "server" in fields else None,
            file=self.path(get("file"), f"'file' of {what}", folder=False) if "file" in fields else None,
            ds=tuple(self.ds_text(item, f"'ds' of {what}") for item in self.one_or_many(get("ds")))
            if "ds" in fields else (),
            keys_dir=self.path(get("keys"), f"'keys' of {what}", folder=True) if "keys" in fields else None,
            signer=self.choice(get("signer"), f"'signer' of {what}", SIGNERS) if "signer" in fields else None,
        )

    def path(self, node: yaml.Node, what: str, *, folder: bool) -> Path:
        """A file or folder named relative to the scenario file; it must exist now."""
        path = (self.file.parent / self.text(node, what)).resolve()
        if not (path.is_dir() if folder else path.is_file()):
            self.fail(node, f"{what}: {path} is not {'a folder' if folder else 'a file'}.",
                      "paths are relative to the scenario file's folder.")
        return path

    def ds_text(self, node: yaml.Node, what: str) -> str:
        """A DS record's rdata, "12345 13 2 ABCD..." (an owner, class and type in front are allowed)."""
        text = self.loose_text(node, what)
        tokens = text.split()
        if "DS" in (upper := [t.upper() for t in tokens]):
            tokens = tokens[upper.index("DS") + 1:]
        try:
            rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DS, " ".join(tokens))
        except (dns.exception.DNSException, ValueError) as exc:
            self.fail(node, f"{what}: {text!r} is not a DS record ({_dns_problem(exc)}).",
                      "write the DS rdata: key tag, algorithm, digest type, digest, e.g. '12345 13 2 ABCD...'.")
        return rdata.to_text()

    def host(self, node: yaml.Node, what: str) -> str:
        name = self.text(node, what)
        if not _HOST_RE.match(name):
            self.fail(node, f"{what}: {name!r} is not a valid host name.",
                      "use letters, digits and hyphens, e.g. 'child'.")
        return name

    def records(self, zone: str, node: yaml.Node) -> tuple[str, ...]:
        """Record lines, each checked by dnspython's zone-file parser relative to the zone's origin."""
        lines: list[tuple[str, int]] = []
        if isinstance(node, yaml.ScalarNode) and node.tag == _STR and node.style in ("|", ">"):
            # A block of zone-file text: its first line sits one below the '|' indicator.
            for offset, text in enumerate(str(node.value).splitlines()):
                if text.strip() and not text.strip().startswith(";"):
                    lines.append((text.strip(), self.line(node) + 1 + offset))
        else:
            for item in self.sequence(node, f"'records' of zone {zone!r}", '["www 300 A 192.0.2.80"]'):
                lines.append((self.loose_text(item, f"a record of zone {zone!r}"), self.line(item)))
        for text, line in lines:
            self.record_line(zone, text, line)
        return tuple(text for text, _ in lines)

    def record_line(self, zone: str, text: str, line: int) -> None:
        fix = (f"write one record per line as in a zone file, relative to {zone}: OWNER TTL TYPE DATA, "
               f"e.g. 'www 300 A 192.0.2.80' ('@' is the zone apex).")
        if text.startswith("$"):
            self.fail(line, f"record line {text!r} in zone {zone!r} is a zone-file directive, not a record.", fix)
        try:
            parsed = dns.zone.from_text(f"$ORIGIN {zone}\n{text}\n", origin=zone, relativize=False,
                                        check_origin=False)
        except dns.exception.DNSException as exc:
            self.fail(line, f"record line {text!r} in zone {zone!r} is not valid: {_dns_problem(exc)}.", fix)
        if not parsed.nodes:
            # dnspython silently skips records whose owner lies outside the zone; we must not.
            self.fail(line, f"record line {text!r} has an owner name outside zone {zone!r}.",
                      f"use a name relative to {zone} or one ending in '{zone}', or list it under its own zone.")

    def signing(self, node: yaml.Node, what: str) -> SigningSpec:
        if isinstance(node, yaml.ScalarNode) and node.tag == _BOOL:
            return SigningSpec(signed=self.boolean(node, "'signing'"))  # shorthand: "signing: false"
        where = f"'signing' of {what}"
        fields = self.mapping(node, where, _SIGNING_KEYS)
        get = _getter(fields)
        spec: dict[str, Any] = {}
        if "signed" in fields:
            spec["signed"] = self.boolean(get("signed"), f"'signed' in {where}")
        if "algorithm" in fields:
            spec["algorithm"] = self.algorithm(get("algorithm"), where)
        if "keys" in fields:
            spec["keys"] = self.choice(get("keys"), f"'keys' in {where}", ("ksk-zsk", "csk"))
        if "denial" in fields:
            spec["denial"] = self.choice(get("denial"), f"'denial' in {where}", ("nsec", "nsec3"))
        if "nsec3" in fields:
            if spec.get("denial") == "nsec":
                self.fail(get("nsec3"), f"{where} sets 'nsec3' parameters but 'denial: nsec'.",
                          "write 'denial: nsec3' or remove the 'nsec3' settings.")
            spec["denial"] = "nsec3"  # NSEC3 parameters alone are enough to ask for NSEC3
            spec["nsec3"] = self.nsec3(get("nsec3"), where)
        if "ds_digests" in fields:
            spec["ds_digests"] = tuple(self.digest(item, where) for item in self.one_or_many(get("ds_digests")))
        if "validity_days" in fields:
            spec["validity_days"] = self.integer(get("validity_days"), f"'validity_days' in {where}", 1, 3650)
        if "inception_offset" in fields:
            spec["inception_offset"] = self.integer(get("inception_offset"), f"'inception_offset' in {where}",
                                                    0, 10 * 365 * 86400)
        return SigningSpec(**spec)

    def algorithm(self, node: yaml.Node, where: str) -> int:
        # Any algorithm number is allowed on purpose: unsupported and private algorithms are test cases too.
        if isinstance(node, yaml.ScalarNode) and node.tag == _INT:
            return self.integer(node, f"'algorithm' in {where}", 0, 255)
        name = self.text(node, f"'algorithm' in {where}")
        try:
            return int(dns.dnssec.Algorithm.from_text(name.upper()))
        except (ValueError, dns.exception.DNSException):
            known = [a.name for a in dns.dnssec.Algorithm]
            self.fail(node, f"unknown DNSSEC algorithm {name!r} in {where}.",
                      f"{_suggest(name.upper(), known)}Use a number (13) or a name such as ECDSAP256SHA256, "
                      "RSASHA256, ED25519.")

    def digest(self, node: yaml.Node, where: str) -> int:
        if isinstance(node, yaml.ScalarNode) and node.tag == _INT:
            return self.integer(node, f"a DS digest type in {where}", 0, 255)
        name = self.text(node, f"a DS digest type in {where}")
        try:
            return int(dns.dnssec.DSDigest.from_text(name.upper()))
        except (ValueError, dns.exception.DNSException):
            self.fail(node, f"unknown DS digest type {name!r} in {where}.", "use 1 (SHA1), 2 (SHA256) or 4 (SHA384).")

    def nsec3(self, node: yaml.Node, where: str) -> Nsec3Params:
        what = f"'nsec3' in {where}"
        fields = self.mapping(node, what, _NSEC3_KEYS)
        get = _getter(fields)
        params: dict[str, Any] = {}
        if "iterations" in fields:
            params["iterations"] = self.integer(get("iterations"), f"'iterations' in {what}", 0, 65535)
        if "salt" in fields:
            salt_node = get("salt")
            # Take the literal text: YAML would read an unquoted salt such as 0011 as the number 9.
            salt = "" if salt_node.tag == _NULL else str(getattr(salt_node, "value", "")).strip()
            salt = "" if salt == "-" else salt.lower()
            if not isinstance(salt_node, yaml.ScalarNode) or not re.fullmatch(r"([0-9a-f]{2}){0,255}", salt):
                self.fail(salt_node, f"'salt' in {what} must be hexadecimal digits in pairs, got {salt!r}.",
                          "write it in quotes, e.g. salt: \"aabbccdd\", or salt: \"\" for none (RFC 9276).")
            params["salt"] = salt
        if "opt_out" in fields:
            params["opt_out"] = self.boolean(get("opt_out"), f"'opt_out' in {what}")
        return Nsec3Params(**params)

    # ---- faults ------------------------------------------------------------------------------------------------

    def faults(self, node: yaml.Node) -> tuple[FaultSpec, ...]:
        example = "'- fault: rrsig-expired' with its parameters indented under it"
        return tuple(self.fault(item, i) for i, item in enumerate(self.sequence(node, "'faults'", example), 1))

    def fault(self, node: yaml.Node, index: int) -> FaultSpec:
        if isinstance(node, yaml.ScalarNode) and node.tag == _STR:
            fault_id, fault_node, params_nodes = self.text(node, f"fault {index}"), node, []
        else:
            if not isinstance(node, yaml.MappingNode):
                self.fail(node, f"fault {index} must be a mapping with a 'fault' key, got {_describe(node)}.",
                          "write '- fault: FAULT-ID' and its parameters as 'key: value' lines under it.")
            pairs = [(str(k.value), k, v) for k, v in node.value]
            fault_node = next((v for key, _, v in pairs if key == "fault"), None)
            if fault_node is None:
                self.fail(node, f"fault {index} has no 'fault' key naming which fault to inject.",
                          "add 'fault: FAULT-ID' (see 'testbed faults' for the list).")
            fault_id = self.text(fault_node, f"'fault' in fault {index}")
            params_nodes = [(key, k, v) for key, k, v in pairs if key != "fault"]
        allowed: FaultParams | None = None
        if self.known_faults is not None:
            if fault_id not in self.known_faults:
                known = sorted(self.known_faults)
                self.fail(fault_node, f"unknown fault {fault_id!r}.",
                          f"{_suggest(fault_id, known)}Run 'testbed faults' to list them.")
            allowed = self.known_faults[fault_id]
        params: dict[str, Any] = {}
        for key, key_node, value_node in params_nodes:
            if allowed is not None and key not in allowed:
                self.fail(key_node, f"fault {fault_id!r} has no parameter {key!r}.",
                          f"{_suggest(key, allowed)}Its parameters are: {', '.join(sorted(allowed)) or 'none'}.")
            if key in params:
                self.fail(key_node, f"parameter {key!r} appears twice in fault {fault_id!r}.", "keep only one.")
            # 'zone' is normalised like zone keys so faults can match it against ZoneSpec names.
            params[key] = self.zone_name(value_node, f"'zone' of fault {fault_id!r}") if key == "zone" \
                else self.plain(value_node)
        return FaultSpec(fault=fault_id, params=params, where=self.where(node))

    # ---- timeline phases ---------------------------------------------------------------------------------------

    def phases(self, node: yaml.Node, reference: str | None) -> tuple[Phase, ...]:
        items = self.sequence(node, "'phases'", "'- name: publish-new-key' with 'actions:' and 'checks:' under it")
        if not items:
            self.fail(node, "'phases' is empty: a timeline needs at least one phase.",
                      "add '- name: ...' with 'actions:' and 'checks:' under it.")
        phases: dict[str, Phase] = {}
        for index, item in enumerate(items, 1):
            phase = self.phase(item, index, reference)
            if phase.name in phases:
                first = phases[phase.name].where
                self.fail(item, f"two phases are named {phase.name!r} (first on line {first.line if first else '?'}).",
                          "give every phase its own name: reports and the readiness grid show phases by name.")
            phases[phase.name] = phase
        if not any(p.checks for p in phases.values()):
            self.fail(node, "no phase has checks: a timeline must check something.",
                      "add 'checks:' to the phases, at least after the last step.")
        return tuple(phases.values())

    def phase(self, node: yaml.Node, index: int, reference: str | None) -> Phase:
        fields = self.mapping(node, f"phase {index}", _PHASE_KEYS, required=("name",))
        get = _getter(fields)
        name = self.text(get("name"), f"'name' of phase {index}")
        what = f"phase {name!r}"
        actions: tuple[ActionSpec, ...] = ()
        if "actions" in fields:
            items = self.sequence(get("actions"), f"'actions' of {what}",
                                  "'- advance: 30d' or '- publish-key: {zone: example.jp., key: zsk-2, role: zsk}'")
            actions = tuple(self.action(item, i, what) for i, item in enumerate(items, 1))
        checks: tuple[Check, ...] = ()
        if "checks" in fields:
            check_nodes = self.sequence(get("checks"), f"'checks' of {what}",
                                        "'- query: www.example.jp. A' with 'expect: secure' under it")
            checks = tuple(self.check(item, i, reference) for i, item in enumerate(check_nodes, 1))
        if not actions and not checks:
            self.fail(node, f"{what} has neither actions nor checks.", "add 'actions:', 'checks:' or both.")
        return Phase(
            name=name,
            actions=actions,
            checks=checks,
            flush=self.boolean(get("flush"), f"'flush' in {what}") if "flush" in fields else False,
            summary=self.text(get("summary"), f"'summary' of {what}", allow_empty=True) if "summary" in fields else "",
            where=self.where(node),
        )

    def action(self, node: yaml.Node, index: int, phase: str) -> ActionSpec:
        """``- ACTION: {param: value, ...}``, ``- ACTION: VALUE`` (its one main parameter) or a bare ``- ACTION``."""
        example = "e.g. '- advance: 30d' or '- retire-key: {zone: example.jp., key: zsk}'"
        if isinstance(node, yaml.ScalarNode) and node.tag == _STR:
            name_node, value_node = node, None
        elif isinstance(node, yaml.MappingNode) and len(node.value) == 1:
            name_node, value_node = node.value[0]
        else:
            self.fail(node, f"action {index} of {phase} must be one 'ACTION: PARAMETERS' pair, got {_describe(node)}.",
                      f"write one action per list item, {example}.")
        name = self.text(name_node, f"the action name in action {index} of {phase}")
        signature: ActionSignature | None = None
        if self.known_actions is not None:
            if name not in self.known_actions:
                known = sorted(self.known_actions)
                self.fail(name_node, f"unknown action {name!r} in {phase}.",
                          f"{_suggest(name, known)}Known actions: {', '.join(known)}.")
            signature = self.known_actions[name]
        what = f"action {name!r} in {phase}"
        params: dict[str, Any] = {}
        if value_node is None or (isinstance(value_node, yaml.ScalarNode) and value_node.tag == _NULL):
            pass
        elif isinstance(value_node, yaml.MappingNode):
            for key_node, item in value_node.value:
                key = self.text(key_node, f"a parameter name of {what}")
                if signature is not None and key not in signature.params:
                    allowed = sorted(signature.params)
                    self.fail(key_node, f"{what} has no parameter {key!r}.",
                              f"{_suggest(key, allowed)}Its parameters are: {', '.join(allowed) or 'none'}.")
                if key in params:
                    self.fail(key_node, f"parameter {key!r} appears twice in {what}.", "keep only one.")
                params[key] = self.action_value(item, signature.params[key] if signature else "any",
                                                f"'{key}' of {what}")
        else:
            if signature is not None and signature.scalar is None:
                self.fail(value_node, f"{what} takes 'key: value' parameters, not one value.",
                          f"write it as '{name}: {{{', '.join(f'{p}: ...' for p in signature.params)}}}'.")
            key = signature.scalar if signature is not None and signature.scalar else SCALAR_PARAM
            kind = signature.params[key] if signature is not None else "any"
            params[key] = self.action_value(value_node, kind, f"the value of {what}")
        if signature is not None:
            missing = [p for p in signature.required if p not in params]
            if missing:
                self.fail(node, f"{what} needs the parameter(s): {', '.join(missing)}.",
                          f"add {missing[0]}: ... to it.")
        return ActionSpec(action=name, params=params, where=self.where(node))

    def action_value(self, node: yaml.Node, kind: str, what: str) -> Any:
        if kind == "zone":
            return self.zone_name(node, what)
        if kind == "zones":
            return tuple(self.zone_name(item, what) for item in self.one_or_many(node))
        if kind == "duration":
            if isinstance(node, yaml.ScalarNode) and node.tag == _INT:
                return self.integer(node, what, 0, 100 * 365 * 86400)
            text = self.text(node, what)
            try:
                return parse_duration(text)
            except ValueError:
                self.fail(node, f"{what} is {text!r}, which is not a duration.",
                          "write a number with a unit: 400s, 90m, 2h, 30d, 2w (or combined: 1d12h).")
        if kind == "int":
            return self.integer(node, what, 0, 2**31 - 1)
        if kind == "bool":
            return self.boolean(node, what)
        if kind == "text":
            return self.loose_text(node, what)
        return self.plain(node)

    # ---- checks ------------------------------------------------------------------------------------------------

    def checks(self, node: yaml.Node, reference: str | None) -> tuple[Check, ...]:
        items = self.sequence(node, "'checks'", "'- query: www.example.jp. A' with 'expect: secure' under it")
        if not items:
            self.fail(node, "'checks' is empty: a scenario must check something.",
                      "add at least one '- query: NAME TYPE' with 'expect: ...'.")
        return tuple(self.check(item, i, reference) for i, item in enumerate(items, 1))

    def check(self, node: yaml.Node, index: int, reference: str | None) -> Check:
        fields = self.mapping(node, f"check {index}", _CHECK_KEYS, required=("query", "expect"))
        get = _getter(fields)
        qname, qtype = self.query(get("query"), index)
        what = f"check {index} ({qname} {qtype})"
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
        flags = self.flags(get("flags"), what) if "flags" in fields else QueryFlags()
        readiness = self.choice(get("readiness"), f"'readiness' in {what}", ("ok",)) if "readiness" in fields else None
        return Check(qname=qname, qtype=qtype, expect=expect, overrides=overrides,
                     reference=own_reference or reference, where=self.where(node), flags=flags,
                     readiness=readiness)  # type: ignore[arg-type]  # validated by choice() above

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
        except dns.exception.DNSException as exc:
            self.fail(node, f"query name {words[0]!r} in check {index} is not valid: {_dns_problem(exc)}.", fix)
        try:
            qtype = dns.rdatatype.to_text(dns.rdatatype.from_text(words[1]))
        except dns.exception.DNSException:
            self.fail(node, f"query type {words[1]!r} in check {index} is not a DNS record type.",
                      f"{_suggest(words[1].upper(), [t.name for t in dns.rdatatype.RdataType])}"
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
        if isinstance(node, yaml.ScalarNode) and node.tag == _NULL:
            return None  # explicit "ede: ~" in an override: do not check EDE for that resolver
        codes: list[int] = []
        for item in self.one_or_many(node):
            if isinstance(item, yaml.ScalarNode) and item.tag == _INT:
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
        if isinstance(node, yaml.ScalarNode) and node.tag == _NULL:
            return None
        texts = [self.loose_text(item, f"an answer in {what}") for item in self.one_or_many(node)]
        for item, text in zip(self.one_or_many(node), texts, strict=True):
            try:
                dns.rdata.from_text(dns.rdataclass.IN, qtype, text, origin=dns.name.root)
            except dns.exception.DNSException as exc:
                self.fail(item, f"answer {text!r} in {what} is not valid {qtype} data: {_dns_problem(exc)}.",
                          f"write the record data as it appears in a zone file for type {qtype}.")
        return tuple(texts)

    def overrides(self, node: yaml.Node, base: Expectation, qtype: str, what: str) -> tuple[Override, ...]:
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, f"'resolver_overrides' in {what} must map resolver names to their differences, "
                            f"got {_describe(node)}.", "write e.g. 'bind: {ede: [], reason: \"...\"}'.")
        out: dict[str, Override] = {}
        for key_node, value_node in node.value:
            resolver = self.resolver_name(key_node, f"'resolver_overrides' of {what}")
            if resolver in out:
                self.fail(key_node, f"resolver {resolver!r} has two overrides in {what}.", "merge them.")
            out[resolver] = self.override(resolver, key_node, value_node, base, qtype, what)
        return tuple(out.values())

    def override(self, resolver: str, key_node: yaml.Node, node: yaml.Node, base: Expectation, qtype: str,
                 what: str) -> Override:
        where = f"the {resolver} override of {what}"
        fields = self.mapping(node, where, _OVERRIDE_KEYS)
        get = _getter(fields)
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
        return Override(resolver=resolver, expectation=expectation, reason=reason, reference=reference)


def _getter(fields: dict[str, tuple[yaml.Node, yaml.Node]]) -> Callable[[str], yaml.Node]:
    """A small accessor for a mapping's value nodes, to keep the builders above readable."""
    return lambda key: fields[key][1]


def _dns_problem(exc: Exception) -> str:
    """dnspython's message without its '<string>:3:' prefix (that line is in our wrapper, not the user's file)."""
    text = re.sub(r"^<string>:\d+:\s*", "", str(exc)).strip().rstrip(".")
    return (text[:1].lower() + text[1:]) if text else type(exc).__name__


def _yaml_error(file: Path, exc: yaml.YAMLError) -> ScenarioError:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        problem = exc.problem or "the YAML syntax is broken"
        if exc.context and exc.context_mark is not None:
            problem += f" ({exc.context} started on line {exc.context_mark.line + 1})"
        return ScenarioError(f"this is not valid YAML: {problem}.", file=file, line=exc.problem_mark.line + 1,
                             fix="check indentation (spaces, not tabs), colons after keys and closing brackets; "
                                 "quote values that contain ': ' or start with a special character.")
    return ScenarioError(f"this is not valid YAML: {exc}.", file=file)


def load_scenario(path: Path, *, known_faults: Mapping[str, FaultParams] | None = None,
                  known_resolvers: Iterable[str] | None = None,
                  known_topologies: Iterable[str] | None = None,
                  known_actions: Mapping[str, ActionSignature] | None = None) -> Scenario:
    """Read and validate one scenario file.

    ``known_faults`` maps fault ids to the parameter names each accepts, ``known_resolvers`` lists resolver
    adapter names, ``known_topologies`` preset names and ``known_actions`` the timeline actions' signatures;
    when one is ``None`` that part is not checked.
    Raises ``ScenarioError`` naming the file and line of the first problem.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError("no such scenario file.", file=path, fix="check the path.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read this file: {exc}.", file=path,
                            fix="scenario files must be readable UTF-8 text.") from None
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as exc:
        raise _yaml_error(path, exc) from None
    if root is None:
        raise ScenarioError("the file is empty.", file=path, line=1,
                            fix="start it with 'name: ...', a 'summary' and a list of 'checks'.")
    try:
        reader = _Reader(path, loader, known_faults,
                         None if known_resolvers is None else frozenset(known_resolvers),
                         None if known_topologies is None else frozenset(known_topologies), known_actions)
        return reader.scenario(root)
    except yaml.YAMLError as exc:  # constructing a fault parameter's value can still fail (bad tags, ...)
        raise _yaml_error(path, exc) from None
    finally:
        loader.dispose()


def scenario_files(paths: Iterable[Path]) -> list[Path]:
    """Scenario files named by ``paths``: files as given, folders searched recursively for *.yaml / *.yml.

    Each folder's files are sorted so runs are repeatable; a file named twice is listed once.
    """
    found: dict[Path, None] = {}
    for path in map(Path, paths):
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.suffix in SCENARIO_SUFFIXES and p.is_file()
                            and not any(part.startswith(".") for part in p.relative_to(path).parts))
            if not inside:
                raise ScenarioError("this folder has no scenario files (*.yaml, *.yml).", file=path,
                                    fix="point at a folder of scenarios or at scenario files.")
            found.update(dict.fromkeys(inside))
        elif path.is_file():
            found[path] = None
        else:
            raise ScenarioError("no such file or folder.", file=path, fix="check the path.")
    return list(found)


def load_paths(paths: list[Path], *, known_faults: Mapping[str, FaultParams] | None = None,
               known_resolvers: Iterable[str] | None = None,
               known_topologies: Iterable[str] | None = None,
               known_actions: Mapping[str, ActionSignature] | None = None) -> list[Scenario]:
    """Load every scenario under ``paths`` (see ``scenario_files``); stops at the first bad file."""
    resolvers = None if known_resolvers is None else frozenset(known_resolvers)
    topologies = None if known_topologies is None else frozenset(known_topologies)
    return [load_scenario(f, known_faults=known_faults, known_resolvers=resolvers, known_topologies=topologies,
                          known_actions=known_actions)
            for f in scenario_files(paths)]
