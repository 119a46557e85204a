"""A zone file a scenario brings (``file:``), read on its own: the plan needs its NS names before anything is built
(testbed/build/topology.py), the build needs its records (testbed/build/byo.py). Imports nothing else of build/.
"""

from __future__ import annotations

import functools
from pathlib import Path

import dns.exception
import dns.name
import dns.rdatatype
import dns.ttl
import dns.zone

from testbed.errors import ScenarioError
from testbed.scenario.model import Where


def zone_file_error(where: Where | None, file: Path | None, message: str, fix: str) -> ScenarioError:
    return ScenarioError(message, file=where.file if where else file, line=where.line if where else None, fix=fix)


@functools.lru_cache(maxsize=32)
def _text(path: Path, mtime_ns: int) -> str:
    del mtime_ns          # part of the cache key only: an edited file is read again
    return path.read_text(encoding="utf-8")


def read_zone_source(path: Path, origin: str, where: Where | None = None) -> dns.zone.Zone:
    """A fresh parse of ``path`` as zone ``origin``. Errors name the zone file's own line."""
    def error(message: str, fix: str) -> ScenarioError:
        return zone_file_error(where, path, message, fix)

    try:
        text = _text(path, path.stat().st_mtime_ns)
    except OSError as exc:
        raise error(f"cannot read the zone file of {origin}: {exc}", "check the 'file' path") from exc
    try:
        return dns.zone.from_text(text, origin=origin, relativize=False, filename=str(path))
    except dns.exception.SyntaxError as exc:
        line, reason = failing_line(text, origin, exc)
        quoted = text.splitlines()[line - 1].strip()[:120] if 0 < line <= len(text.splitlines()) else ""
        raise zone_file_error(where, path, f"the zone file of {origin} does not parse: {path}:{line}: {reason}"
                              + (f" (the line reads: {quoted})" if quoted else ""),
                              "fix the record on that line of the zone file") from exc
    except dns.zone.NoSOA as exc:
        raise error(f"the zone file {path} has no SOA record at {origin}", "add the zone's SOA") from exc
    except dns.zone.NoNS as exc:
        raise error(f"the zone file {path} has no NS records at {origin}",
                    "add the zone's NS records (they name its servers)") from exc
    except dns.exception.DNSException as exc:
        raise error(f"the zone file {path} is not a zone for {origin}: {exc}",
                    "check $ORIGIN and the owner names of the file") from exc


def failing_line(text: str, origin: str, exc: dns.exception.SyntaxError) -> tuple[int, str]:
    """(the line of the zone text a SyntaxError is about, dnspython's reason). dnspython names the line its
    tokenizer stands on, which is the next one when an rdata fails only after its whole line was read ("Text
    input is malformed" for A 192.0.2.999): then the line before is the culprit, as reading it alone shows."""
    message = str(exc)
    head, _, reason = message.partition(": ")
    try:
        line = int(head.rsplit(":", 1)[1])
    except (IndexError, ValueError):
        return 0, message
    lines = text.splitlines()
    if line < 2:
        return line, reason
    previous = lines[line - 2] if line - 2 < len(lines) else ""
    if not previous.strip() or previous.lstrip().startswith((";", "$")) or "(" in previous or ")" in previous:
        return line, reason
    # the owner may be left out (the previous owner's): any owner will do to parse the record's own fields
    record = previous if not previous[:1].isspace() else "x" + previous
    try:
        dns.zone.from_text(f"$TTL 3600\n{record}\n", origin=origin, relativize=False, check_origin=False)
    except dns.exception.SyntaxError:
        return line - 1, reason
    except dns.exception.DNSException:
        pass
    return line, reason


_COMPLEX = ("(", ")", "$INCLUDE", "$GENERATE", "\\", '"')


def _is_ttl(field: str) -> bool:
    """A TTL field: seconds, or BIND's units (1h30m)."""
    if not field[:1].isdigit():
        return False
    try:
        dns.ttl.from_text(field)
    except dns.exception.DNSException:
        return False
    return True


def scan_apex_ns(text: str, origin: str) -> tuple[str, ...] | None:
    """The apex NS targets of a zone file in the plain form (one record a line, ``$ORIGIN``/``$TTL``, owners
    absolute, relative, ``@`` or left out), read line by line without parsing the records: a registry's file of a
    million delegations took dnspython three minutes, once for the plan and again for the build. None when the
    text has anything else (parentheses, quotes, escapes, includes), or no apex SOA or NS: the caller then parses
    the whole file, which also gives the errors with their lines."""
    apex = dns.name.from_text(origin)
    current_origin, owner = apex, None
    targets: list[str] = []
    seen_soa = False
    for line in text.splitlines():
        body = line.split(";", 1)[0]
        if not body.strip():
            continue
        if any(mark in body for mark in _COMPLEX):
            return None
        fields = body.split()
        if fields[0].upper() == "$ORIGIN":
            current_origin = dns.name.from_text(fields[1], apex)
            continue
        if fields[0].upper() == "$TTL":
            continue
        try:
            if not body[0].isspace():
                owner = apex if fields[0] == "@" else dns.name.from_text(fields[0], current_origin)
                fields = fields[1:]
            # the fields before the type: TTL and class, in either order
            while fields and (_is_ttl(fields[0]) or fields[0].upper() in ("IN", "CH", "HS")):
                fields = fields[1:]
            if owner != apex or not fields:
                continue
            kind = fields[0].upper()
            if kind == "SOA":
                seen_soa = True
            elif kind == "NS" and len(fields) == 2:
                targets.append(dns.name.from_text(fields[1], current_origin).to_text())
        except dns.exception.DNSException:
            return None
    return tuple(sorted(set(targets))) if seen_soa and targets else None


def file_name_servers(path: Path, origin: str, servers: tuple[str, ...],
                      where: Where | None = None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The file's apex NS names and, for each, the lab host that serves it (one host may answer for them all)."""
    try:
        text = _text(path, path.stat().st_mtime_ns)
    except OSError:
        text = None
    names = scan_apex_ns(text, origin) if text is not None else None
    if names is None:
        zone = read_zone_source(path, origin, where)
        assert zone.origin is not None
        ns_rdataset = zone.get_rdataset(zone.origin, dns.rdatatype.NS)
        assert ns_rdataset is not None       # from_text checks the NS RRset exists
        names = tuple(sorted(rr.target.to_text() for rr in ns_rdataset))
    apex = dns.name.from_text(origin)
    outside = [n for n in names if not dns.name.from_text(n).is_subdomain(apex)]
    if outside:
        raise zone_file_error(where, path, f"the zone file of {origin} names name servers outside the zone: "
                              f"{', '.join(outside)}; the lab gives addresses (glue) only to a zone's own name "
                              "server names", f"use name servers under {origin} (e.g. ns1.{origin}) in the file")
    if len(servers) == len(names):
        return names, servers
    if len(servers) == 1:
        return names, servers * len(names)
    raise zone_file_error(where, path, f"the zone file of {origin} names {len(names)} name servers "
                          f"({', '.join(names)}) but the scenario serves the zone on {len(servers)} hosts "
                          f"({', '.join(servers)})", f"list {len(names)} servers for the zone (servers: [...]) or "
                          "one, which then answers for every name")
