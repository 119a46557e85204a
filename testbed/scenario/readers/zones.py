"""The ``zones:`` section: record lines, servers and each zone's signing policy."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import dns.dnssec
import dns.exception
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.zone
import yaml

from testbed.dnssec.crypto import SUPPORTED_ALGORITHMS
from testbed.scenario.bounded_yaml import excerpt
from testbed.scenario.model import SERVER_SOFTWARE, SIGNERS, Nsec3Params, SigningSpec, ZoneSpec
from testbed.scenario.readers.base import (
    BOOL,
    INT,
    LINE_BREAK_OR_CONTROL,
    MAX_NAME_CHARS,
    NULL,
    STR,
    NodeReader,
    describe,
    dns_problem,
    getter,
    suggest,
)

_ZONE_KEYS = ("records", "replace_records", "servers", "signing", "delegations", "server", "file", "ds", "keys",
              "signer")
MAX_DELEGATIONS = 5_000_000  # .jp has 1.7M; five million signs in minutes and some GB
_SIGNING_KEYS = ("signed", "algorithm", "keys", "denial", "nsec3", "ds_digests", "validity_days", "inception_offset")
_NSEC3_KEYS = ("iterations", "salt", "opt_out")
_DS_DIGESTS = (1, 2, 4)  # what dnspython's make_ds computes
_HOST_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?")


class ZonesReader(NodeReader):
    def zones(self, node: yaml.Node) -> tuple[ZoneSpec, ...]:
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, f"'zones' must map zone names to their settings, got {describe(node)}.",
                      "write e.g. 'zones:' then an indented 'example.jp.:' with 'records: [...]' under it.")
        specs: dict[str, ZoneSpec] = {}
        for key_node, value_node in node.value:
            zone = self.zone_name(key_node, "zone name")
            if zone in specs:
                first = specs[zone].where
                self.fail(key_node, f"zone {zone!r} is listed twice (first on line {first.line if first else '?'}).",
                          "merge the two entries.")
            specs[zone] = self.zone(zone, key_node, value_node)
        return tuple(specs.values())

    def zone(self, zone: str, key_node: yaml.Node, node: yaml.Node) -> ZoneSpec:
        what = f"zone {zone!r}"
        if isinstance(node, yaml.ScalarNode) and node.tag == NULL:
            return ZoneSpec(name=zone, where=self.where(key_node))  # "example.jp.:" alone: just make sure it exists
        fields = self.mapping(node, what, _ZONE_KEYS)
        get = getter(fields)
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
            delegations=self.integer(get("delegations"), f"'delegations' of {what}", 0, MAX_DELEGATIONS)
            if "delegations" in fields else 0,
            server=self.choice(get("server"), f"'server' of {what}", SERVER_SOFTWARE) if "server" in fields else None,
            file=self.path(get("file"), f"'file' of {what}", folder=False) if "file" in fields else None,
            ds=tuple(self.ds_text(item, f"'ds' of {what}") for item in self.one_or_many(get("ds")))
            if "ds" in fields else (),
            keys_dir=self.path(get("keys"), f"'keys' of {what}", folder=True) if "keys" in fields else None,
            signer=self.choice(get("signer"), f"'signer' of {what}", SIGNERS) if "signer" in fields else None,
        )

    # ---- bring your own zone, keys, signer ---------------------------------------------------------------------

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
        upper = [t.upper() for t in tokens]
        if "DS" in upper:
            tokens = tokens[upper.index("DS") + 1:]
        try:
            rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DS, " ".join(tokens))
        except (dns.exception.DNSException, ValueError) as exc:
            self.fail(node, f"{what}: {text!r} is not a DS record ({dns_problem(exc)}).",
                      "write the DS rdata: key tag, algorithm, digest type, digest, e.g. '12345 13 2 ABCD...'.")
        return rdata.to_text()

    def host(self, node: yaml.Node, what: str) -> str:
        name = self.text(node, what)
        if len(name) > MAX_NAME_CHARS or not _HOST_RE.fullmatch(name):
            self.fail(node, f"{what}: {name!r} is not a valid host name.",
                      "use letters, digits and hyphens, e.g. 'child'.")
        return name

    # ---- records -----------------------------------------------------------------------------------------------

    def records(self, zone: str, node: yaml.Node) -> tuple[str, ...]:
        """Record lines, each checked by dnspython's zone-file parser relative to the zone's origin."""
        lines: list[tuple[str, int]] = []
        if isinstance(node, yaml.ScalarNode) and node.tag == STR and node.style in ("|", ">"):
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
        # The build joins record lines into one zone file: a line break inside one line (an escape such as "\n"
        # in a quoted string) would start a line of its own there, a $GENERATE or $ORIGIN directive say.
        control = LINE_BREAK_OR_CONTROL.search(text)
        if control is not None:
            self.fail(line, f"record line {excerpt(text)} in zone {zone!r} contains U+{ord(control.group()):04X}, a "
                            "line break or control character: a record line is exactly one line.", fix)
        try:
            parsed = dns.zone.from_text(f"$ORIGIN {zone}\n{text}\n", origin=zone, relativize=False,
                                        check_origin=False)
        except (dns.exception.DNSException, ValueError) as exc:
            self.fail(line, f"record line {text!r} in zone {zone!r} is not valid: {dns_problem(exc)}.", fix)
        if not parsed.nodes:
            # dnspython silently skips records whose owner lies outside the zone; we must not.
            self.fail(line, f"record line {text!r} has an owner name outside zone {zone!r}.",
                      f"use a name relative to {zone} or one ending in '{zone}', or list it under its own zone.")

    # ---- signing policy ----------------------------------------------------------------------------------------

    def signing(self, node: yaml.Node, what: str) -> SigningSpec:
        if isinstance(node, yaml.ScalarNode) and node.tag == BOOL:
            return SigningSpec(signed=self.boolean(node, "'signing'"))  # shorthand: "signing: false"
        where = f"'signing' of {what}"
        fields = self.mapping(node, where, _SIGNING_KEYS)
        get = getter(fields)
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
        if isinstance(node, yaml.ScalarNode) and node.tag == INT:
            number = self.integer(node, f"'algorithm' in {where}", 0, 255)
        else:
            name = self.text(node, f"'algorithm' in {where}")
            try:
                number = int(dns.dnssec.Algorithm.from_text(name.upper()))
            except (ValueError, dns.exception.DNSException):
                known = [a.name for a in dns.dnssec.Algorithm]
                self.fail(node, f"unknown DNSSEC algorithm {name!r} in {where}.",
                          f"{suggest(name.upper(), known)}Use a number (13) or a name such as ECDSAP256SHA256, "
                          "RSASHA256, ED25519.")
        # A zone is signed with real keys, so only algorithms the signer can make keys for; unsupported, unknown
        # and private algorithms are test cases of the faults instead (zone-algorithm-unsupported, ...).
        if number not in SUPPORTED_ALGORITHMS:
            self.fail(node, f"'algorithm' in {where} is {number}, which the test-bed cannot sign a zone with "
                            f"(it signs with {', '.join(map(str, sorted(SUPPORTED_ALGORITHMS)))}).",
                      "pick one of those; for a zone signed with an unsupported or unknown algorithm use the faults "
                      "zone-algorithm-unsupported or dnskey-algorithm-changed ('testbed faults').")
        return number

    def digest(self, node: yaml.Node, where: str) -> int:
        if isinstance(node, yaml.ScalarNode) and node.tag == INT:
            number = self.integer(node, f"a DS digest type in {where}", 0, 255)
        else:
            name = self.text(node, f"a DS digest type in {where}")
            try:
                number = int(dns.dnssec.DSDigest.from_text(name.upper()))
            except (ValueError, dns.exception.DNSException):
                self.fail(node, f"unknown DS digest type {name!r} in {where}.",
                          "use 1 (SHA1), 2 (SHA256) or 4 (SHA384).")
        if number not in _DS_DIGESTS:
            self.fail(node, f"DS digest type {number} in {where} is not one the test-bed can compute.",
                      "use 1 (SHA1), 2 (SHA256) or 4 (SHA384); for an unsupported digest type use the fault "
                      "ds-digest-type-unsupported.")
        return number

    def nsec3(self, node: yaml.Node, where: str) -> Nsec3Params:
        what = f"'nsec3' in {where}"
        fields = self.mapping(node, what, _NSEC3_KEYS)
        get = getter(fields)
        params: dict[str, Any] = {}
        if "iterations" in fields:
            params["iterations"] = self.integer(get("iterations"), f"'iterations' in {what}", 0, 65535)
        if "salt" in fields:
            salt_node = get("salt")
            # Take the literal text: YAML would read an unquoted salt such as 0011 as the number 9.
            salt = "" if salt_node.tag == NULL else str(getattr(salt_node, "value", "")).strip()
            salt = "" if salt == "-" else salt.lower()
            if not isinstance(salt_node, yaml.ScalarNode) or not re.fullmatch(r"([0-9a-f]{2}){0,255}", salt):
                self.fail(salt_node, f"'salt' in {what} must be hexadecimal digits in pairs, got {salt!r}.",
                          "write it in quotes, e.g. salt: \"aabbccdd\", or salt: \"\" for none (RFC 9276).")
            params["salt"] = salt
        if "opt_out" in fields:
            params["opt_out"] = self.boolean(get("opt_out"), f"'opt_out' in {what}")
        return Nsec3Params(**params)
