"""A zone file a scenario brings (``file:``), read on its own: the plan needs its NS names before anything is built
(testbed/build/topology.py), the build needs its records (testbed/build/byo.py). Imports nothing else of build/.
"""

from __future__ import annotations

import functools
from pathlib import Path

import dns.exception
import dns.name
import dns.rdatatype
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


def file_name_servers(path: Path, origin: str, servers: tuple[str, ...],
                      where: Where | None = None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The file's apex NS names and, for each, the lab host that serves it (one host may answer for them all)."""
    zone = read_zone_source(path, origin, where)
    assert zone.origin is not None
    ns_rdataset = zone.get_rdataset(zone.origin, dns.rdatatype.NS)
    assert ns_rdataset is not None       # from_text checks the NS RRset exists
    names = tuple(sorted(rr.target.to_text() for rr in ns_rdataset))
    outside = [n for n in names if not dns.name.from_text(n).is_subdomain(zone.origin)]
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
