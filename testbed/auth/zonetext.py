"""Fast loading of zone files into the builtin server's compact storage.

A signed registry zone has millions of records; dnspython's zone reader builds an object per record and takes
minutes for a million delegations. This reader handles the plain one-record-per-line text that signers and
dnspython write (owner, TTL, class, type, rdata; ``$ORIGIN`` and ``$TTL``) and turns the rdata of the types a TLD
is made of (NS, DS, A, AAAA, RRSIG, NSEC, NSEC3) into wire form itself; other types go through dnspython one
record at a time. Anything else (parentheses, ``$INCLUDE``, ``$GENERATE``, a record without TTL, another class, a
record that does not parse) makes the whole file go through dnspython's reader instead, so what is served and every
error message stay exactly what the literal dnspython path gives.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import gc
import socket
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.ttl

from testbed.auth.zonedata import ServedZone, ZoneBuilder, builder_from_zone, load_zone_file

IN = dns.rdataclass.IN
_RRSIG = int(dns.rdatatype.RRSIG)
_DS_HEAD = struct.Struct("!HBB")
_RRSIG_HEAD = struct.Struct("!HBBIIIH")


_CLASSES = frozenset({"IN", "CH", "HS", "NONE", "ANY"})


class _Unsupported(Exception):
    """Text the fast reader leaves to dnspython."""


def load_served_zone(path: str | Path, origin: dns.name.Name) -> ServedZone:
    """Read a zone file into a ``ServedZone``. Errors are those of ``load_zone_file`` (dns.exception.SyntaxError
    naming file and line, OSError).

    No cyclic garbage collection while loading: a big zone makes millions of long-lived tuples and no cycles, and
    every collection would walk all of them again. Afterwards they are moved out of the collector's sight for good
    (``gc.freeze``), so collections while serving do not walk the zone either.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        try:
            zone = _Reader(origin).read(Path(path)).build()
        except _Unsupported:
            zone = builder_from_zone(load_zone_file(path, origin)).build()
    finally:
        if enabled:
            gc.enable()
    gc.freeze()
    return zone


def _labels(text: str) -> tuple[bytes, ...]:
    """Labels of an absolute plain name (letters, digits, '-', '_', '*'), as written; raises for anything else."""
    if text == ".":
        return (b"",)
    labels = text.encode("ascii").split(b".")
    if labels[-1] != b"" or len(text) > 254 or any(not label or len(label) > 63 for label in labels[:-1]):
        raise _Unsupported(text)
    return tuple(labels)


def _wire(labels: tuple[bytes, ...]) -> bytes:
    return b"".join([bytes((len(label),)) + label for label in labels])


class _Reader:
    def __init__(self, origin: dns.name.Name) -> None:
        self.builder = ZoneBuilder(origin)
        self.zone_origin = origin.to_text()
        self.origin = self.zone_origin
        self.types: dict[str, int] = {}
        self.ttls: dict[str, int] = {}
        self.bitmaps: dict[str, bytes] = {}
        self.times: dict[str, int] = {}
        self.names: dict[str, bytes] = {}
        self.converters: dict[int, Callable[[str], bytes]] = {
            int(dns.rdatatype.NS): self.name_wire, int(dns.rdatatype.CNAME): self.name_wire,
            int(dns.rdatatype.A): lambda t: socket.inet_pton(socket.AF_INET, t),
            int(dns.rdatatype.AAAA): lambda t: socket.inet_pton(socket.AF_INET6, t),
            int(dns.rdatatype.DS): self.ds, int(dns.rdatatype.RRSIG): self.rrsig,
            int(dns.rdatatype.NSEC3): self.nsec3, int(dns.rdatatype.NSEC): self.nsec}

    # -- names -------------------------------------------------------------------------------------------------

    def absolute(self, text: str) -> str:
        if text == "@":
            return self.origin
        if text.endswith("."):
            return text
        return text + "." + self.origin if self.origin != "." else text + "."

    def name_wire(self, text: str) -> bytes:
        absolute = self.absolute(text)
        wire = self.names.get(absolute)
        if wire is None:
            if len(self.names) > 100_000:
                self.names.clear()
            wire = self.names[absolute] = _wire(_labels(absolute))
        return wire

    # -- rdata -------------------------------------------------------------------------------------------------

    def ttl(self, text: str) -> int:
        if not text[0].isdigit():
            raise _Unsupported("no TTL")
        value = self.ttls[text] = dns.ttl.from_text(text)
        return value

    def rdtype(self, token: str) -> int:
        value = self.types.get(token)
        if value is None:
            value = self.types[token] = int(dns.rdatatype.from_text(token))
        return value

    def bitmap(self, words: list[str]) -> bytes:
        text = " ".join(words)
        wire = self.bitmaps.get(text)
        if wire is None:
            windows: dict[int, set[int]] = {}
            for word in words:
                rdtype = self.rdtype(word)
                windows.setdefault(rdtype >> 8, set()).add(rdtype & 0xFF)
            out = bytearray()
            for window in sorted(windows):
                bits = bytearray(max(windows[window]) // 8 + 1)
                for bit in windows[window]:
                    bits[bit // 8] |= 0x80 >> (bit % 8)
                out += bytes((window, len(bits))) + bits
            wire = self.bitmaps[text] = bytes(out)
        return wire

    def when(self, text: str) -> int:
        value = self.times.get(text)
        if value is None:
            if len(text) == 14 and text.isdigit():
                value = calendar.timegm(time.strptime(text, "%Y%m%d%H%M%S"))
            else:
                value = int(text)
            self.times[text] = value
        return value

    def ds(self, text: str) -> bytes:
        tag, algorithm, digest_type, *digest = text.split()
        return _DS_HEAD.pack(int(tag), int(algorithm), int(digest_type)) + bytes.fromhex("".join(digest))

    def rrsig(self, text: str) -> bytes:
        covered, algorithm, labels, ttl, expiration, inception, tag, signer, *signature = text.split()
        return (_RRSIG_HEAD.pack(self.rdtype(covered), int(algorithm), int(labels), int(ttl), self.when(expiration),
                                 self.when(inception), int(tag))
                + self.name_wire(signer) + base64.b64decode("".join(signature), validate=True))

    def nsec3(self, text: str) -> bytes:
        algorithm, flags, iterations, salt, next_hash, *types = text.split()
        salt_wire = b"" if salt == "-" else bytes.fromhex(salt)
        upper = next_hash.upper()
        digest = base64.b32hexdecode(upper + "=" * (-len(upper) % 8))
        return (struct.pack("!BBHB", int(algorithm), int(flags), int(iterations), len(salt_wire)) + salt_wire
                + bytes((len(digest),)) + digest + self.bitmap(types))

    def nsec(self, text: str) -> bytes:
        next_name, *types = text.split()
        return self.name_wire(next_name) + self.bitmap(types)

    def rdata(self, rdtype: int, text: str, fast: bool) -> bytes:
        convert = self.converters.get(rdtype) if fast else None
        if convert is not None:
            try:
                return convert(text)
            except (ValueError, OSError, struct.error, binascii.Error, IndexError, KeyError, TypeError,
                    dns.exception.DNSException):
                pass  # unusual spelling: dnspython decides
        try:
            rdata = dns.rdata.from_text(IN, cast(Any, rdtype), text, dns.name.from_text(self.origin), relativize=False)
            return rdata.to_wire() or b""
        except dns.exception.DNSException:
            raise _Unsupported("rdata") from None

    # -- lines -------------------------------------------------------------------------------------------------

    def read(self, path: Path) -> ZoneBuilder:
        try:
            handle = open(path, encoding="ascii")  # noqa: SIM115 - closed by the with below, after the except
        except OSError:
            raise _Unsupported("open") from None  # dnspython's reader raises the error people expect
        builder = self.builder
        add, key_of_labels, okey = builder.add, builder.key, builder.okey
        rdtype_of, ttls = self.rdtype, self.ttls
        last_owner = ""
        owner_key = None
        try:
            with handle:
                for line in handle:
                    if line[0] == ";" or line.isspace():
                        continue
                    if "(" in line or ")" in line:
                        raise _Unsupported("parentheses")
                    if line[0] == "$":
                        self.directive(line.split())
                        last_owner = ""
                        continue
                    if line[0] in " \t":
                        if owner_key is None:
                            raise _Unsupported("no owner")
                        owner, rest = "", line
                    else:
                        parts = line.split(None, 4)
                        owner = parts[0]
                        if owner != last_owner:
                            if "\\" in owner:
                                raise _Unsupported("escaped owner")
                            owner_key = key_of_labels(_labels(self.absolute(owner)))
                            if owner_key[len(owner_key) - len(okey):] != okey:
                                raise _Unsupported("outside the zone")
                            last_owner = owner
                        if len(parts) == 5 and parts[2] == "IN":
                            # the usual line, as signers and dnspython write it: owner TTL IN type rdata
                            ttl = ttls.get(parts[1])
                            if ttl is None:
                                ttl = self.ttl(parts[1])
                            rdtype = rdtype_of(parts[3])
                            rest = parts[4]
                            wire = self.rdata(rdtype, rest.strip(), not ('"' in rest or "\\" in rest or ";" in rest))
                            add(owner_key, rdtype, int.from_bytes(wire[:2], "big") if rdtype == _RRSIG else 0,
                                ttl, wire)
                            continue
                        rest = line.split(None, 1)[1]
                    # TTL [class] type rdata; anything else (no TTL, class first) is left to dnspython
                    ttl_text, rest = rest.split(None, 1)
                    ttl = ttls.get(ttl_text)
                    if ttl is None:
                        ttl = self.ttl(ttl_text)
                    word, rest = rest.split(None, 1)
                    if word == "IN" or word == "in":
                        word, rest = rest.split(None, 1)
                    elif word.upper() in _CLASSES or word.upper().startswith("CLASS"):
                        raise _Unsupported("class")
                    rdtype = rdtype_of(word)
                    wire = self.rdata(rdtype, rest.strip(), not ('"' in rest or "\\" in rest or ";" in rest))
                    add(owner_key, rdtype, int.from_bytes(wire[:2], "big") if rdtype == _RRSIG else 0,  # type: ignore[arg-type]
                        ttl, wire)
        except (ValueError, IndexError, UnicodeDecodeError, dns.exception.DNSException):
            raise _Unsupported("syntax") from None
        return builder

    def directive(self, tokens: list[str]) -> None:
        word = tokens[0].upper()
        if word == "$ORIGIN" and len(tokens) == 2 and "\\" not in tokens[1]:
            self.origin = self.absolute(tokens[1])
            _labels(self.origin)
        elif word == "$TTL" and len(tokens) == 2:
            pass  # only records with their own TTL are read here, so the default is never used
        else:
            raise _Unsupported(word)
