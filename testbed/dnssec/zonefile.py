"""Sign a zone file straight to a zone file: the fast path for big zones (``testbed sign``, the benchmark).

The reader is a small RFC 1035 master-file parser. It keeps rdata as text and turns it into canonical wire form only
for RRsets that get signed: in a TLD-like zone most records are delegation NS and glue, which are never signed, so
they are never parsed beyond owner, TTL and type. Unusual syntax (``$GENERATE``) falls back to dnspython's reader.
Records pass through to the output as written, with absolute owner names and ``$ORIGIN`` set to the zone, so
relative names in rdata keep their meaning. Records that are not signed (glue, NS at a delegation) are therefore not
checked here.
"""

from __future__ import annotations

import base64
import io
import socket
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import dns.exception
import dns.name
import dns.rdata
import dns.rdatatype
import dns.ttl
import dns.zone

from testbed.dnssec.engine import (
    GENERATED_TYPES,
    IN,
    Engine,
    KeyCtx,
    Node,
    RRData,
    SigningError,
    gc_paused,
    rrsig_text_prefix,
)
from testbed.dnssec.keys import Key
from testbed.dnssec.pool import Helpers, available_cpus, sign_jobs
from testbed.dnssec.sign import SignOptions, zone_nodes
from testbed.dnssec.wire import (
    PLAIN_NAME,
    BadNameError,
    absolute_text,
    key_from_labels,
    plain_info,
    wire_from_labels,
)
from testbed.errors import TestbedError

_DIGITS = frozenset("0123456789")
# Zone files at least this big start their signing helpers before parsing (a jp.-like zone of this size has some
# 20k delegations); smaller ones start them only if the job list turns out long enough.
EARLY_HELPERS_BYTES = 1_500_000
_DS_HEAD = struct.Struct("!HBB")


@dataclass(frozen=True)
class SignStats:
    """What ``sign_zone_file`` did: records written (input records kept plus DNSKEY, NSEC/NSEC3, RRSIG...),
    RRSIGs made, wall time, and how many processes signed."""

    records: int
    signatures: int
    seconds: float
    workers: int = 1


class _Unsupported(Exception):
    """Syntax the fast reader leaves to dnspython."""


class _Reader:
    """Reads master-file text into engine nodes for one zone."""

    def __init__(self, origin: dns.name.Name) -> None:
        self.origin = origin.canonicalize()
        self.origin_text = self.origin.to_text()
        self.origin_wire = wire_from_labels(self.origin.labels[:-1])
        self.origin_key = key_from_labels(list(self.origin.labels[:-1]))
        self.origin_labels = len(self.origin.labels) - 1
        self.nodes: dict[bytes, Node] = {}
        # no cache from owner text to node: at registry scale it held a second copy of every owner name (about
        # 200 MB for 1M delegations); consecutive records of one owner reuse it in read(), others find it by wire
        self.default_ttl: int | None = None
        self.last_ttl: int | None = None
        self.ttls: dict[str, int] = {}
        self.types: dict[str, int] = {}

    # -- names -----------------------------------------------------------------------------------------------------
    def _in_zone(self, absolute: str) -> bool:
        origin = self.origin_text
        return origin == "." or absolute == origin or absolute.endswith("." + origin)

    def owner(self, token: str, current: str, path: Path, lineno: int) -> Node:
        """The node for owner ``token`` written while ``$ORIGIN`` is ``current``."""
        if current is self.origin_text and token[-1] != "." and PLAIN_NAME.fullmatch(token):
            return self._relative_owner(token.lower(), path, lineno)
        if token == "@":
            absolute = current
        elif PLAIN_NAME.fullmatch(token):
            absolute = absolute_text(token.lower(), current)
        else:
            absolute = ""
        if absolute:
            if not self._in_zone(absolute):
                raise TestbedError(f"owner {absolute} is outside the zone {self.origin_text}", file=path,
                                   line=lineno)
            try:
                wire, key, count = plain_info(absolute)
            except BadNameError as exc:
                raise TestbedError(f"bad owner name {token!r}: {exc}", file=path, line=lineno) from None
            if absolute.startswith("*."):
                count -= 1
            ref = absolute
        else:
            try:
                name = dns.name.from_text(token, dns.name.from_text(current)).canonicalize()
            except dns.exception.DNSException as exc:
                raise TestbedError(f"bad owner name {token!r}: {exc}", file=path, line=lineno) from None
            if not name.is_subdomain(self.origin):
                raise TestbedError(f"owner {name} is outside the zone {self.origin_text}", file=path, line=lineno)
            labels = list(name.labels[:-1])
            wire, key = wire_from_labels(labels), key_from_labels(labels)
            count = len(labels) - (1 if labels and labels[0] == b"*" else 0)
            ref = name.to_text()
        node = self.nodes.get(wire)
        if node is None:
            node = self.nodes[wire] = Node(wire, key, count, ref)
        return node

    def _relative_owner(self, low: str, path: Path, lineno: int) -> Node:
        """Fast path for the usual owner: plain text relative to the zone origin (so inside the zone)."""
        if "." not in low:
            # one label, a TLD's delegation: most owners of a registry zone
            if len(low) > 63 or len(low) + len(self.origin_text) > 254:
                raise TestbedError(f"bad owner name {low!r}: name or label too long", file=path, line=lineno)
            wire = (chr(len(low)) + low).encode("latin-1") + self.origin_wire
            node = self.nodes.get(wire)
            if node is None:
                key = self.origin_key + "\x00" + low if self.origin_key else low
                ref = low + "." + self.origin_text if self.origin_text != "." else low + "."
                node = self.nodes[wire] = Node(wire, key, self.origin_labels + (low != "*"), ref)
            return node
        parts = low.split(".")
        if len(low) + len(self.origin_text) > 254 or max(map(len, parts)) > 63:
            raise TestbedError(f"bad owner name {low!r}: name or label too long", file=path, line=lineno)
        wire = "".join([chr(len(part)) + part for part in parts]).encode("latin-1") + self.origin_wire
        node = self.nodes.get(wire)
        if node is None:
            count = len(parts) + self.origin_labels - (1 if parts[0] == "*" else 0)
            parts.reverse()
            key = self.origin_key + "\x00" + "\x00".join(parts) if self.origin_key else "\x00".join(parts)
            ref = low + "." + self.origin_text if self.origin_text != "." else low + "."
            node = self.nodes[wire] = Node(wire, key, count, ref)
        return node

    def ttl(self, token: str, path: Path, lineno: int) -> int:
        value = self.ttls.get(token)
        if value is None:
            try:
                value = self.ttls[token] = dns.ttl.from_text(token)
            except dns.exception.DNSException as exc:
                raise TestbedError(f"bad TTL {token!r}: {exc}", file=path, line=lineno) from None
        return value

    def rdtype(self, token: str, path: Path, lineno: int) -> int:
        value = self.types.get(token)
        if value is None:
            upper = token.upper()
            if upper in ("CH", "HS", "NONE", "ANY") or upper.startswith("CLASS"):
                raise TestbedError(f"class {token} is not supported; only IN zones can be signed", file=path,
                                   line=lineno)
            try:
                value = self.types[token] = dns.rdatatype.from_text(token)
            except dns.exception.DNSException:
                raise TestbedError(f"unknown record type {token!r}", file=path, line=lineno) from None
        return value

    # -- text ------------------------------------------------------------------------------------------------------
    def read(self, path: Path, origin_text: str, text: str | None = None) -> None:
        """Read the zone file at path, or ``text`` (then path only names it in messages)."""
        if text is None:
            try:
                text = path.read_text(encoding="utf-8", errors="surrogateescape")
            except OSError as exc:
                raise TestbedError(f"cannot read zone file: {exc.strerror}", file=path) from None
        lines = text.split("\n")
        text = None                 # the lines hold it now; the caller's copy, if any, stays the caller's
        current = origin_text
        last_token: str | None = None
        last_node: Node | None = None
        count = len(lines)
        index = 0
        zone_origin = self.origin_text
        ttls, types = self.ttls, self.types
        digits = _DIGITS
        generated = GENERATED_TYPES
        ns_type = dns.rdatatype.NS
        shared: dict[str, str] = {}
        while index < count:
            line = lines[index]
            index += 1
            if not line or line[0] == ";":
                continue
            lineno = index
            if "(" in line or '"' in line or "\\" in line or ";" in line:
                tokens, index = _tokenize(lines, index - 1, path)
            else:
                tokens = line.split()
                lines[index - 1] = ""       # read: its text is not kept twice (the file's size at 1M delegations)
            if not tokens:
                continue
            if line[0] == " " or line[0] == "\t":
                if last_node is None:
                    raise TestbedError("record without an owner name", file=path, line=lineno)
                node = last_node
                pos = 0
            else:
                first = tokens[0]
                if first[0] == "$":
                    current = self._directive(tokens, current, path, lineno)
                    last_token = None
                    continue
                if first != last_token:
                    last_node = self.owner(first, current, path, lineno)
                    last_token = first
                assert last_node is not None
                node = last_node
                pos = 1
            try:
                field = tokens[pos]
                ttl = None
                if field[0] in digits:
                    ttl = ttls.get(field)
                    if ttl is None:
                        ttl = self.ttl(field, path, lineno)
                    pos += 1
                    field = tokens[pos]
                    if field == "IN" or field.upper() == "IN":
                        pos += 1
                        field = tokens[pos]
                elif field == "IN" or field.upper() == "IN":
                    pos += 1
                    field = tokens[pos]
                    if field[0] in digits:
                        ttl = self.ttl(field, path, lineno)
                        pos += 1
                        field = tokens[pos]
            except IndexError:
                raise TestbedError("record without a type", file=path, line=lineno) from None
            rdtype = types.get(field)
            if rdtype is None:
                rdtype = self.rdtype(field, path, lineno)
            if ttl is None:
                ttl = self.default_ttl if self.default_ttl is not None else self.last_ttl
                if ttl is None:
                    if rdtype != dns.rdatatype.SOA:
                        raise TestbedError("no TTL and no $TTL before this record", file=path, line=lineno,
                                           fix="add a $TTL line at the top")
                    ttl = self.ttl(tokens[-1], path, lineno)   # RFC 1035: an SOA without TTL uses its minimum
            else:
                self.last_ttl = ttl
            if rdtype in generated:
                continue
            rdata = " ".join(tokens[pos + 1:])
            if current != zone_origin:
                rdata = _absolute_rdata(rdtype, rdata, current, path, lineno)
            if rdtype == ns_type:
                rdata = shared.setdefault(rdata, rdata)   # one string per name server: a TLD has few, used often
            rr = node.rrsets.get(rdtype)
            if rr is None:
                node.rrsets[rdtype] = RRData(ttl, [rdata])
            else:
                rr.items.append(rdata)
                if ttl < rr.ttl:
                    rr.ttl = ttl

    def _origin(self, token: str, current: str) -> str:
        text = dns.name.from_text(token, dns.name.from_text(current)).canonicalize().to_text()
        return self.origin_text if text == self.origin_text else text    # the same object keeps the fast path

    def _directive(self, tokens: list[str], current: str, path: Path, lineno: int) -> str:
        word = tokens[0].upper()
        try:
            if word == "$ORIGIN" and len(tokens) == 2:
                return self._origin(tokens[1], current)
            if word == "$TTL" and len(tokens) == 2:
                self.default_ttl = self.ttl(tokens[1], path, lineno)
                return current
            if word == "$INCLUDE" and len(tokens) in (2, 3):
                included = Path(tokens[1])
                if not included.is_absolute():
                    included = path.parent / included
                origin = current
                if len(tokens) == 3:
                    origin = self._origin(tokens[2], current)
                self.read(included, origin)
                return current
        except dns.exception.DNSException as exc:
            raise TestbedError(f"bad {word}: {exc}", file=path, line=lineno) from None
        if word == "$GENERATE":
            raise _Unsupported(word)
        raise TestbedError(f"unknown or malformed directive {tokens[0]}", file=path, line=lineno)

    # -- canonical rdata for the engine ----------------------------------------------------------------------------
    def canon_function(self) -> Callable[[int, list], list[bytes]]:
        origin = self.origin
        origin_text = self.origin_text
        fast = _fast_converters(origin_text)

        def canon(rdtype: int, items: list) -> list[bytes]:
            convert = fast.get(rdtype)
            out = []
            for item in items:
                if type(item) is str:
                    wire = None
                    if convert is not None:
                        try:
                            wire = convert(item)
                        except (ValueError, OSError, struct.error, BadNameError, IndexError):
                            wire = None
                    if wire is None:
                        try:
                            wire = dns.rdata.from_text(IN, dns.rdatatype.RdataType(rdtype), item,
                                                       origin).to_digestable(origin)
                        except dns.exception.DNSException as exc:
                            raise TestbedError(f"bad {type_name(rdtype)} record data {item!r} in zone "
                                               f"{origin_text}: {exc}") from None
                    out.append(wire)
                else:
                    out.append(item.to_digestable(origin))
            return out

        return canon


def _tokenize(lines: list[str], index: int, path: Path) -> tuple[list[str], int]:
    """Tokens of the record starting at ``lines[index]``, across parentheses; comments dropped, quoted strings and
    escapes kept as written. Returns the tokens and the index of the next line."""
    tokens: list[str] = []
    depth = 0
    start = index
    while True:
        if index >= len(lines):
            raise TestbedError("unbalanced parentheses", file=f"{path}:{start + 1}")
        line = lines[index]
        index += 1
        current: list[str] = []
        pos, size = 0, len(line)
        while pos < size:
            char = line[pos]
            if char in " \t\r":
                if current:
                    tokens.append("".join(current))
                    current = []
                pos += 1
            elif char == ";":
                break
            elif char == "(" or char == ")":
                if current:
                    tokens.append("".join(current))
                    current = []
                depth += 1 if char == "(" else -1
                if depth < 0:
                    raise TestbedError("unbalanced parentheses", file=f"{path}:{index}")
                pos += 1
            elif char == '"':
                end = pos + 1
                while end < size and line[end] != '"':
                    end += 2 if line[end] == "\\" else 1
                if end >= size:
                    raise TestbedError("unterminated quoted string", file=f"{path}:{index}")
                current.append(line[pos:end + 1])
                pos = end + 1
            elif char == "\\":
                current.append(line[pos:pos + 2])
                pos += 2
            else:
                current.append(char)
                pos += 1
        if current:
            tokens.append("".join(current))
        if depth == 0:
            return tokens, index


def type_name(rdtype: int) -> str:
    return dns.rdatatype.to_text(dns.rdatatype.RdataType(rdtype))


def _absolute_rdata(rdtype: int, text: str, origin_text: str, path: Path, lineno: int) -> str:
    """Rdata text with every name made absolute (for records read under a different ``$ORIGIN``)."""
    try:
        rdata = dns.rdata.from_text(IN, dns.rdatatype.RdataType(rdtype), text, dns.name.from_text(origin_text))
    except dns.exception.DNSException as exc:
        raise TestbedError(f"bad {type_name(rdtype)} record data {text!r}: {exc}", file=path,
                           line=lineno) from None
    return rdata.to_text(origin=None, relativize=False)


def _fast_converters(origin_text: str) -> dict[int, Callable[[str], bytes]]:
    """Text -> canonical wire for the types a delegation-heavy zone signs most. Anything odd raises and goes to
    dnspython instead."""

    def name_wire(text: str) -> bytes:
        if text == "@":
            absolute = origin_text
        elif PLAIN_NAME.fullmatch(text):
            absolute = absolute_text(text.lower(), origin_text)
        else:
            raise ValueError(text)
        return plain_info(absolute)[0]

    def a(text: str) -> bytes:
        return socket.inet_pton(socket.AF_INET, text)

    def aaaa(text: str) -> bytes:
        return socket.inet_pton(socket.AF_INET6, text)

    def ds(text: str) -> bytes:
        parts = text.split()
        if len(parts) < 4 or not parts[3].isalnum():
            raise ValueError(text)
        return _DS_HEAD.pack(int(parts[0]), int(parts[1]), int(parts[2])) + bytes.fromhex("".join(parts[3:]))

    def mx(text: str) -> bytes:
        preference, target = text.split()
        return struct.pack("!H", int(preference)) + name_wire(target)

    return {dns.rdatatype.A: a, dns.rdatatype.AAAA: aaaa, dns.rdatatype.DS: ds, dns.rdatatype.CDS: ds,
            dns.rdatatype.NS: name_wire, dns.rdatatype.CNAME: name_wire, dns.rdatatype.PTR: name_wire,
            dns.rdatatype.DNAME: name_wire, dns.rdatatype.MX: mx}


def _write(engine: Engine, signatures: list[bytes], origin_text: str, path_out: Path) -> int:
    """Write the signed zone as text; returns the number of records written."""
    with open(path_out, "w", encoding="utf-8", errors="surrogateescape", newline="\n") as handle:
        return _write_to(handle, engine, signatures, origin_text)


def _write_to(handle: TextIO, engine: Engine, signatures: list[bytes], origin_text: str) -> int:
    type_text: dict[int, str] = {}
    prefixes: dict[tuple[int, int, int, int], str] = {}
    ctxs: list[KeyCtx] = engine.keys
    signer_text = {ctx.index: ctx.key.zone.to_text() for ctx in ctxs}
    b64 = base64.b64encode
    records = 0
    negative_ttl = engine.negative_ttl

    def tname(rdtype: int) -> str:
        name = type_text.get(rdtype)
        if name is None:
            name = type_text[rdtype] = type_name(rdtype)
        return name

    def rrsig_lines(owner: str, entries: Sequence[tuple[int, int, int, int, int]], out: list[str]) -> None:
        for rdtype, ttl, labels, index, job in entries:
            prefix = prefixes.get((rdtype, labels, ttl, index))
            if prefix is None:
                prefix = prefixes[(rdtype, labels, ttl, index)] = rrsig_text_prefix(
                    ctxs[index], rdtype, labels, ttl, signer_text[index])
            out.append(f"{owner}\t{ttl}\tIN\tRRSIG\t{prefix}{b64(signatures[job]).decode()}\n")

    out: list[str] = [f"$ORIGIN {origin_text}\n"]
    for node in engine.order:
        owner = node.ref if isinstance(node.ref, str) else node.ref.to_text()
        for rdtype, rr in node.rrsets.items():
            head = f"{owner}\t{rr.ttl}\tIN\t{tname(rdtype)}\t"
            items = rr.items
            if len(items) > 1:
                items = list(dict.fromkeys(items))
            for item in items:
                out.append(head + (item if type(item) is str else item.to_text()) + "\n")
            records += len(items)
        if node.nsec is not None:
            _, next_ref, bm_text = node.nsec
            next_text = next_ref if isinstance(next_ref, str) else str(next_ref)
            out.append(f"{owner}\t{negative_ttl}\tIN\tNSEC\t{next_text} {bm_text}\n")
            records += 1
        if node.sigs:
            rrsig_lines(owner, node.sigs, out)
            records += len(node.sigs)
        if len(out) > 20000:
            handle.write("".join(out))
            out.clear()
    for record in engine.nsec3:
        owner = f"{record.label}.{origin_text}"
        out.append(f"{owner}\t{negative_ttl}\tIN\tNSEC3\t{record.text}\n")
        rrsig_lines(owner, record.sigs, out)
        records += 1 + len(record.sigs)
        if len(out) > 20000:
            handle.write("".join(out))
            out.clear()
    handle.write("".join(out))
    return records


def read_zone_file(path: Path, origin: str | dns.name.Name,
                   text: str | None = None) -> tuple[bytes, dict[bytes, Node], Callable]:
    """Engine input for a zone file (or its ``text``): origin wire, nodes, and the canonical-rdata function."""
    origin_name = origin if isinstance(origin, dns.name.Name) else dns.name.from_text(origin)
    reader = _Reader(origin_name)
    try:
        reader.read(Path(path), reader.origin_text, text)
    except _Unsupported:
        if text is None:
            zone = dns.zone.from_file(str(path), origin_name, relativize=False)
        else:
            zone = dns.zone.from_text(text, origin_name, relativize=False, check_origin=False)
        origin_wire, nodes = zone_nodes(zone)
        for node in nodes.values():
            node.ref = node.ref.canonicalize().to_text() if isinstance(node.ref, dns.name.Name) else node.ref
        zone_origin = zone.origin
        assert zone_origin is not None

        def canon(rdtype: int, items: list) -> list[bytes]:
            return [item.to_digestable(zone_origin) for item in items]

        return origin_wire, nodes, canon
    nodes = {wire: node for wire, node in reader.nodes.items() if node.rrsets}
    return reader.origin_wire, nodes, reader.canon_function()


def sign_zone_file(path_in: Path, origin: str, keys: list[Key], options: SignOptions, path_out: Path, *,
                   workers: int | None = None) -> SignStats:
    """Sign the zone file ``path_in`` for ``origin`` and write the signed zone to ``path_out`` as text.

    Same signing rules as ``sign_zone``. ``workers`` is the number of signing processes (None: every CPU this process
    may use; small zones are always signed in this process).
    """
    started = time.perf_counter()
    path_in = Path(path_in)
    origin_name = dns.name.from_text(origin) if isinstance(origin, str) else origin
    count = available_cpus() if workers is None else max(1, workers)
    key_specs = [(key.algorithm, key.private) for key in keys]
    helpers = None
    try:
        if count > 1 and path_in.stat().st_size >= EARLY_HELPERS_BYTES:
            helpers = Helpers(key_specs, count - 1)     # they start up while we parse
    except OSError:
        pass                                            # read_zone_file reports a missing file
    try:
        with gc_paused():
            origin_wire, nodes, canon = read_zone_file(path_in, origin_name)
            engine = Engine(origin_wire, nodes, keys, options, canon)
            del nodes           # plan() drops the engine's reference, and with it the name table
            try:
                engine.plan()
            except SigningError as exc:
                raise TestbedError(str(exc), file=path_in) from None
            signatures, used = sign_jobs(engine.jobs, key_specs, count, helpers)
            if helpers is not None:
                helpers.close()
            records = _write(engine, signatures, origin_name.canonicalize().to_text(), Path(path_out))
    finally:
        if helpers is not None:
            helpers.close()
    return SignStats(records=records, signatures=len(signatures), seconds=time.perf_counter() - started,
                     workers=used)


def sign_zone_text(text: str, origin: str | dns.name.Name, keys: list[Key], options: SignOptions, *,
                   workers: int | None = None, source: str = "<zone>") -> tuple[str, SignStats]:
    """``sign_zone_file`` from text to text: the path of every zone the test-bed builds (labs, ``testbed build``).

    ``source`` names the text in error messages. Big zones use helper processes as ``sign_zone_file`` does.
    """
    started = time.perf_counter()
    origin_name = dns.name.from_text(origin) if isinstance(origin, str) else origin
    count = available_cpus() if workers is None else max(1, workers)
    key_specs = [(key.algorithm, key.private) for key in keys]
    helpers = Helpers(key_specs, count - 1) if count > 1 and len(text) >= EARLY_HELPERS_BYTES else None
    try:
        with gc_paused():
            origin_wire, nodes, canon = read_zone_file(Path(source), origin_name, text)
            engine = Engine(origin_wire, nodes, keys, options, canon)
            del nodes
            try:
                engine.plan()
            except SigningError as exc:
                raise TestbedError(str(exc), file=source) from None
            signatures, used = sign_jobs(engine.jobs, key_specs, count, helpers)
            out = io.StringIO()
            records = _write_to(out, engine, signatures, origin_name.canonicalize().to_text())
    finally:
        if helpers is not None:
            helpers.close()
    return out.getvalue(), SignStats(records=records, signatures=len(signatures),
                                     seconds=time.perf_counter() - started, workers=used)
