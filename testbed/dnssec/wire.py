"""Canonical wire helpers (RFC 4034 section 6) built with plain bytes and struct, for the signer's hot path.

Names are handled as lists of lowercase label bytes, without the root label. Two derived forms matter:
* the canonical wire form (length-prefixed labels, lowercase, ending in the root byte), used in signed data and
  NSEC3 hashing;
* a sort key: a ``str`` whose ordinary comparison is RFC 4034 6.1 canonical name order (labels from the right,
  compared as octet strings; an ancestor before all of its descendants).
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Iterable

import dns.rdatatype

ROOT_WIRE = b"\x00"

# Owner and target names we can turn into wire form without dnspython: letters, digits, '-', '_' and '*'.
PLAIN_NAME = re.compile(r"[A-Za-z0-9_*-]+(?:\.[A-Za-z0-9_*-]+)*\.?")


class BadNameError(ValueError):
    """A name that cannot be put on the wire (empty label, label over 63 or name over 255 octets)."""


def wire_from_labels(labels: Iterable[bytes]) -> bytes:
    """Canonical wire form of lowercase ``labels`` (most specific first, no root label)."""
    out = bytearray()
    for label in labels:
        size = len(label)
        if not 0 < size <= 63:
            raise BadNameError(f"label of {size} octets")
        out.append(size)
        out += label
    out.append(0)
    if len(out) > 255:
        raise BadNameError(f"name of {len(out)} octets")
    return bytes(out)


def key_from_labels(labels: list[bytes]) -> str:
    """Sort key of lowercase ``labels`` for RFC 4034 canonical order.

    Labels are joined right to left with NUL, which sorts below every octet. Octets 0 and 1 inside a label are escaped
    (0 -> 1 1, 1 -> 1 2) so the separator stays the smallest symbol and label order is kept.
    """
    parts = []
    for label in reversed(labels):
        text = label.decode("latin-1")
        if "\x00" in text or "\x01" in text:
            text = text.replace("\x01", "\x01\x02").replace("\x00", "\x01\x01")
        parts.append(text)
    return "\x00".join(parts)


def absolute_text(name: str, origin: str) -> str:
    """``name`` (escape-free text) made absolute against ``origin`` (absolute text, "." for the root)."""
    if name[-1] == ".":
        return name
    return name + "." + origin if origin != "." else name + "."


def plain_info(absolute: str) -> tuple[bytes, str, int]:
    """(wire, sort key, label count) for an absolute, lowercase name in text form ("www.jp.") that matches
    ``PLAIN_NAME`` (so: ASCII, no escapes, no empty label)."""
    if absolute == ".":
        return ROOT_WIRE, "", 0
    parts = absolute[:-1].split(".")
    if len(absolute) > 254 or max(map(len, parts)) > 63:
        raise BadNameError(f"name or label too long: {absolute}")
    wire = ("".join([chr(len(part)) + part for part in parts]) + "\x00").encode("latin-1")
    parts.reverse()
    return wire, "\x00".join(parts), len(parts)


def labels_from_wire(wire: bytes) -> list[bytes]:
    labels = []
    pos = 0
    while wire[pos]:
        size = wire[pos]
        labels.append(wire[pos + 1:pos + 1 + size])
        pos += size + 1
    return labels


def parent_wire(wire: bytes) -> bytes:
    """The wire form of the parent name (the root is its own parent)."""
    return wire[wire[0] + 1:] if wire[0] else wire


def count_labels(wire: bytes) -> int:
    return len(labels_from_wire(wire))


def rrsig_labels(wire: bytes) -> int:
    """RRSIG labels field for an owner: its label count, not counting a leading '*' (RFC 4034 3.1.3)."""
    count = count_labels(wire)
    return count - 1 if wire[:2] == b"\x01*" else count


def bitmap_wire(types: Iterable[int]) -> bytes:
    """RFC 4034 4.1.2 type bit maps."""
    windows: dict[int, bytearray] = {}
    for rdtype in types:
        window, bit = divmod(rdtype, 256)
        octets = windows.setdefault(window, bytearray(32))
        octets[bit >> 3] |= 0x80 >> (bit & 7)
    out = bytearray()
    for window in sorted(windows):
        octets = windows[window].rstrip(b"\x00")
        out.append(window)
        out.append(len(octets))
        out += octets
    return bytes(out)


def bitmap_text(types: Iterable[int]) -> str:
    return " ".join(dns.rdatatype.to_text(dns.rdatatype.RdataType(rdtype)) for rdtype in sorted(set(types)))


def sigtime_text(value: int) -> str:
    """RRSIG time field in YYYYMMDDHHmmSS form (RFC 4034 3.2)."""
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(value))


def nsec3_digest(wire: bytes, salt: bytes, iterations: int) -> bytes:
    """RFC 5155 section 5 hash (SHA-1) of a canonical wire-form name."""
    sha1 = hashlib.sha1
    digest = sha1(wire + salt).digest()
    for _ in range(iterations):
        digest = sha1(digest + salt).digest()
    return digest


_B32HEX = "0123456789abcdefghijklmnopqrstuv"
_B32HEX_PAIRS = [first + second for first in _B32HEX for second in _B32HEX]


def b32hex(digest: bytes) -> str:
    """Base 32 with extended hex alphabet, lowercase, no padding (RFC 4648 section 7; RFC 5155 section 3.3)."""
    if len(digest) % 5:
        return base64.b32hexencode(digest).decode("ascii").rstrip("=").lower()
    value = int.from_bytes(digest, "big")
    pairs = _B32HEX_PAIRS
    return "".join([pairs[(value >> shift) & 0x3FF] for shift in range(len(digest) * 8 - 10, -1, -10)])
