"""The server's JSON config: which addresses listen, which zones each serves, and how each misbehaves.

```
{"listen": [{"address": "10.53.0.1", "port": 53, "zones": ["."], "behaviour": {"strip_rrsigs": true}}],
 "zones": {".": "root.zone", "jp.": "jp.zone"}}
```
Zone file paths are relative to the config file's folder. Every zone file is read once, even when several addresses
serve it, and all errors are ``TestbedError``s naming the file (and line) to fix.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dns.exception
import dns.name

from testbed.auth.behaviour import Behaviour
from testbed.auth.zonedata import ServedZone
from testbed.auth.zoneset import ZoneSet
from testbed.auth.zonetext import load_served_zone
from testbed.errors import TestbedError

_WHERE = re.compile(r"^(?P<file>.*):(?P<line>\d+): (?P<detail>.*)$", re.DOTALL)


@dataclass(frozen=True)
class Endpoint:
    """One listening address: UDP and TCP on (address, port), answering only from its own zones."""

    address: str
    port: int
    zones: ZoneSet
    behaviour: Behaviour = field(default_factory=Behaviour)

    @property
    def key(self) -> tuple[str, int]:
        return (self.address, self.port)


@dataclass(frozen=True)
class AuthConfig:
    endpoints: tuple[Endpoint, ...]


def load_config(path: str | Path) -> AuthConfig:
    """Read CONFIG.json and every zone file it names."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TestbedError(f"cannot read config: {exc.strerror}", file=path) from None
    except json.JSONDecodeError as exc:
        raise TestbedError(f"invalid JSON: {exc.msg}", file=path, line=exc.lineno) from None
    if not isinstance(data, Mapping):
        raise TestbedError("the config must be a JSON object with 'listen' and 'zones'", file=path)
    return parse_config(data, base=path.parent, file=str(path))


def parse_config(data: Mapping[str, Any], *, base: Path, file: str | None = None) -> AuthConfig:
    unknown = set(data) - {"listen", "zones"}
    if unknown:
        raise TestbedError(f"unknown config keys: {', '.join(sorted(unknown))}", file=file,
                           fix="only 'listen' and 'zones' are allowed")
    zone_files = data.get("zones", {})
    if not isinstance(zone_files, Mapping):
        raise TestbedError("'zones' must map zone names to zone file paths", file=file)
    served = {origin: _load_zone(origin, base / str(rel), file) for origin, rel in zone_files.items()}
    listen = data.get("listen")
    if not isinstance(listen, list) or not listen:
        raise TestbedError("'listen' must be a non-empty list of addresses", file=file)
    endpoints = tuple(_endpoint(item, served, file) for item in listen)
    keys = [e.key for e in endpoints]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise TestbedError(f"address listed twice: {', '.join(_hostport(*k) for k in duplicates)}", file=file)
    return AuthConfig(endpoints)


def _load_zone(origin: str, path: Path, file: str | None) -> ServedZone:
    try:
        name = dns.name.from_text(origin)
    except dns.exception.DNSException as exc:
        raise TestbedError(f"bad zone name {origin!r}: {exc}", file=file) from None
    try:
        return load_served_zone(path, name)
    except OSError as exc:
        raise TestbedError(f"cannot read zone file for {name}: {exc.strerror}", file=path) from None
    except dns.exception.SyntaxError as exc:
        where = _WHERE.match(str(exc))
        if where:
            raise TestbedError(where["detail"], file=where["file"], line=int(where["line"])) from None
        raise TestbedError(str(exc), file=path) from None
    except dns.exception.DNSException as exc:
        raise TestbedError(f"zone {name}: {exc}", file=path) from None


def _endpoint(item: Any, served: Mapping[str, ServedZone], file: str | None) -> Endpoint:
    if not isinstance(item, Mapping):
        raise TestbedError("each 'listen' entry must be an object with address, port and zones", file=file)
    unknown = set(item) - {"address", "port", "zones", "behaviour"}
    if unknown:
        raise TestbedError(f"unknown listen keys: {', '.join(sorted(unknown))}", file=file)
    address = item.get("address")
    try:
        if not isinstance(address, str):
            raise ValueError(address)
        ipaddress.ip_address(address)
    except ValueError:
        raise TestbedError(f"listen address {address!r} is not an IP address", file=file) from None
    port = item.get("port", 53)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise TestbedError(f"listen port {port!r} of {address} is not a port number", file=file)
    names = item.get("zones", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise TestbedError(f"zones of {_hostport(address, port)} must be a list of zone names", file=file)
    missing = [n for n in names if n not in served]
    if missing:
        raise TestbedError(f"{_hostport(address, port)} serves {', '.join(missing)}, not in 'zones'", file=file,
                           fix="add the zone file under 'zones' or fix the name (with its trailing dot)")
    behaviour = item.get("behaviour", {})
    if not isinstance(behaviour, Mapping):
        raise TestbedError("'behaviour' must be an object of switches", file=file)
    zones = ZoneSet({served[n].origin: served[n] for n in names})
    return Endpoint(address, port, zones, Behaviour.from_mapping(behaviour, file=file))


def _hostport(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
