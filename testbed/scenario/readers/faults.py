"""The ``faults:`` section: which registered fault to inject, and its parameters."""

from __future__ import annotations

import re
from typing import Any

import dns.exception
import dns.name
import dns.rdatatype
import yaml

from testbed.scenario.model import FaultSignature, FaultSpec, ParamType
from testbed.scenario.readers.base import (
    FLOAT,
    INT,
    MAX_NAME_CHARS,
    NULL,
    STR,
    FaultParams,
    NodeReader,
    describe,
    suggest,
)

_HOST_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?")
# A time offset as the time faults read it: -2d, +300s, 30m, +1h; a bare number is seconds.
_OFFSET_RE = re.compile(r"^([+-]?\d{1,12})\s*([smhd]?)$")
_OFFSET_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Signature times are 32-bit (RFC 4034 3.1.5): twenty years either way of now stays inside them.
MAX_OFFSET = 20 * 365 * 86400
_OFFSET_FIX = "write it as -2d, +300s, 30m, +1h (negative is in the past) or a number of seconds."


class FaultsReader(NodeReader):
    def faults(self, node: yaml.Node) -> tuple[FaultSpec, ...]:
        example = "'- fault: rrsig-expired' with its parameters indented under it"
        return tuple(self.fault(item, i) for i, item in enumerate(self.sequence(node, "'faults'", example), 1))

    def fault(self, node: yaml.Node, index: int) -> FaultSpec:
        params_nodes: list[tuple[str, yaml.Node, yaml.Node]]
        if isinstance(node, yaml.ScalarNode) and node.tag == STR:
            fault_id, fault_node, params_nodes = self.text(node, f"fault {index}"), node, []
        else:
            if not isinstance(node, yaml.MappingNode):
                self.fail(node, f"fault {index} must be a mapping with a 'fault' key, got {describe(node)}.",
                          "write '- fault: FAULT-ID' and its parameters as 'key: value' lines under it.")
            pairs = [(self.param_name(k, index), k, v) for k, v in node.value]
            found = next((v for key, _, v in pairs if key == "fault"), None)
            if found is None:
                self.fail(node, f"fault {index} has no 'fault' key naming which fault to inject.",
                          "add 'fault: FAULT-ID' (see 'testbed faults' for the list).")
            fault_node = found
            fault_id = self.text(fault_node, f"'fault' in fault {index}")
            params_nodes = [(key, k, v) for key, k, v in pairs if key != "fault"]
        allowed: FaultParams | None = None
        known_faults = self.ctx.known_faults
        if known_faults is not None:
            if fault_id not in known_faults:
                known = sorted(known_faults)
                self.fail(fault_node, f"unknown fault {fault_id!r}.",
                          f"{suggest(fault_id, known)}Run 'testbed faults' to list them.")
            allowed = known_faults[fault_id]
        params: dict[str, Any] = {}
        for key, key_node, value_node in params_nodes:
            if allowed is not None and key not in allowed:
                self.fail(key_node, f"fault {fault_id!r} has no parameter {key!r}.",
                          f"{suggest(key, allowed)}Its parameters are: {', '.join(sorted(allowed)) or 'none'}.")
            if key in params:
                self.fail(key_node, f"parameter {key!r} appears twice in fault {fault_id!r}.", "keep only one.")
            if isinstance(allowed, FaultSignature):
                params[key] = self.typed(value_node, allowed.params[key], f"'{key}' of fault {fault_id!r}")
            elif key == "zone":  # normalised like zone keys so faults can match it against ZoneSpec names
                params[key] = self.zone_name(value_node, f"'zone' of fault {fault_id!r}")
            else:
                params[key] = self.plain(value_node, f"parameter {key!r} of fault {fault_id!r}")
        if isinstance(allowed, FaultSignature):
            missing = [p for p in allowed.required if p not in params]
            if missing:
                self.fail(node, f"fault {fault_id!r} needs the parameter(s): {', '.join(missing)}.",
                          f"add '{missing[0]}: ...' to it ('testbed faults' says what each parameter means).")
        return FaultSpec(fault=fault_id, params=params, where=self.where(node))

    # ---- typed parameter values --------------------------------------------------------------------------------

    def typed(self, node: yaml.Node, ptype: ParamType, what: str) -> Any:
        """A parameter's value, checked against the type its fault declares; returned as the fault reads it."""
        if ptype.kind == "zone":
            return self.zone_name(node, what)
        if ptype.kind in ("int", "number"):
            return self.number(node, ptype, what)
        if ptype.kind == "bool":
            return self.boolean(node, what)
        if ptype.kind == "choice":
            return self.choice(node, what, ptype.choices)
        if ptype.kind == "server":
            name = self.text(node, what)
            if len(name) > MAX_NAME_CHARS or not _HOST_RE.fullmatch(name):
                self.fail(node, f"{what}: {name!r} is not a valid host name.", "use a server host such as 'jp-a'.")
            return name
        if ptype.kind == "name":
            return self.domain_name(node, what)
        if ptype.kind == "rrset":
            return self.rrset(node, ptype, what)
        if ptype.kind == "offset":
            return self.offset(node, what)
        if ptype.kind == "hex":
            text = "" if node.tag == NULL else str(getattr(node, "value", "")).strip().lower()
            if not isinstance(node, yaml.ScalarNode) or not re.fullmatch(r"([0-9a-f]{2}){0,255}", text):
                self.fail(node, f"{what} must be hexadecimal digits in pairs (at most 255 bytes), got "
                                f"{describe(node)}.", "write it in quotes, e.g. \"aabbccdd\".")
            return text
        if ptype.kind == "types":
            return [self.record_type(item, what) for item in self.one_or_many(node)]
        return self.loose_text(node, what)  # "text"

    def number(self, node: yaml.Node, ptype: ParamType, what: str) -> int | float:
        words = ptype.describe()
        if not isinstance(node, yaml.ScalarNode) or node.tag not in ((INT,) if ptype.kind == "int" else (INT, FLOAT)):
            self.fail(node, f"{what} must be {words}, got {describe(node)}.", "write a number without quotes.")
        value = self.construct(node, what)
        if isinstance(value, float) and value != value:  # NaN compares false with every bound
            self.fail(node, f"{what} must be {words}, got {describe(node)}.")
        low = ptype.low if ptype.low is not None else -2**63
        high = ptype.high if ptype.high is not None else 2**63
        if not low <= value <= high or (ptype.one_of and value not in ptype.one_of) or value in ptype.exclude:
            self.fail(node, f"{what} must be {words}, got {value}.", "see 'testbed faults' for what it means.")
        return value

    def domain_name(self, node: yaml.Node, what: str) -> str:
        text = self.text(node, what)
        try:
            dns.name.from_text(text)
        except (dns.exception.DNSException, ValueError) as exc:
            self.fail(node, f"{what}: {text!r} is not a domain name ({exc}).", "write it like www.example.jp.")
        return text

    def rrset(self, node: yaml.Node, ptype: ParamType, what: str) -> str:
        text = self.text(node, what)
        fix = "write it as OWNER/TYPE, e.g. www.example.jp./A (@/DNSKEY for the zone apex)" + \
              (", or all." if ptype.all_word else ".")
        if ptype.all_word and text.lower() == "all":
            return text
        owner, slash, rdtype = text.rpartition("/")
        if not slash or not owner:
            self.fail(node, f"{what}: {text!r} is not OWNER/TYPE.", fix)
        try:
            if owner != "@":
                dns.name.from_text(owner)
            dns.rdatatype.from_text(rdtype)
        except (dns.exception.DNSException, ValueError) as exc:
            self.fail(node, f"{what}: {text!r} is not OWNER/TYPE ({exc}).", fix)
        return text

    def record_type(self, node: yaml.Node, what: str) -> str:
        text = self.text(node, what)
        try:
            return dns.rdatatype.to_text(dns.rdatatype.from_text(text))
        except (dns.exception.DNSException, ValueError):
            self.fail(node, f"{what}: {text!r} is not a DNS record type.", "use a type such as DS, DNSKEY, A.")

    def offset(self, node: yaml.Node, what: str) -> int | str:
        if isinstance(node, yaml.ScalarNode) and node.tag == INT:
            return self.integer(node, what, -MAX_OFFSET, MAX_OFFSET)
        text = self.text(node, what)
        match = _OFFSET_RE.match(text)
        if match is None:
            self.fail(node, f"{what} is {text!r}, which is not a time offset.", _OFFSET_FIX)
        if abs(int(match.group(1)) * _OFFSET_UNITS[match.group(2) or "s"]) > MAX_OFFSET:
            self.fail(node, f"{what} is {text!r}, more than twenty years from now.",
                      "signature times are 32-bit: keep offsets within twenty years.")
        return text

    def param_name(self, node: yaml.Node, index: int) -> str:
        # Never str() a list or mapping key: through aliases it can stand for millions of values.
        if not isinstance(node, yaml.ScalarNode):
            self.fail(node, f"parameter names in fault {index} must be plain words, got {describe(node)}.",
                      "write each parameter as 'name: value'.")
        return str(node.value)
