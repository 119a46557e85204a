"""How to sign a zone: its own module, so the signing engine and the zone signer both use it without importing
each other."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SignOptions:
    """How to sign a zone. Times are unix seconds (take them from the lab clock)."""

    inception: int
    expiration: int
    denial: str = "nsec"            # "nsec" | "nsec3"
    nsec3_iterations: int = 0
    nsec3_salt: bytes = b""
    nsec3_opt_out: bool = False
    dnskey_ttl: int | None = None   # None: the TTL of DNSKEYs already in the zone, else the SOA TTL
