"""Small signed zones for the builtin server's tests and benchmark (not for scenarios: those use testbed.dnssec).

``example.`` holds one of each case the server must get right: a CNAME (in and out of zone), wildcards, an empty
non-terminal, a signed and an unsigned delegation with glue, an RRset too big for 512 bytes. NSEC zones are signed
with dnspython, NSEC3 zones with BIND's dnssec-signzone (dnspython cannot do NSEC3).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import dns.dnssec
import dns.name
import dns.rdataset
import dns.rdatatype
import dns.rdtypes.ANY.DNSKEY
import dns.zone
from cryptography.hazmat.primitives.asymmetric import ed25519

from testbed.auth.zonedata import load_zone_file, load_zone_text
from testbed.errors import EnvironmentProblem

_BIG_TXT = "\n".join(f'big.example. 300 IN TXT "{i:02d} {"x" * 90}"' for i in range(12))

EXAMPLE = f"""
example. 300 IN SOA ns1.example. hostmaster.example. 1 3600 600 86400 300
example. 300 IN NS ns1.example.
ns1.example. 300 IN A 192.0.2.1
www.example. 300 IN A 192.0.2.80
www.example. 300 IN AAAA 2001:db8::80
alias.example. 300 IN CNAME www.example.
outside.example. 300 IN CNAME www.example.net.
loop.example. 300 IN CNAME loop.example.
*.wild.example. 300 IN TXT "wild"
*.wc.example. 300 IN CNAME www.example.
a.b.example. 300 IN A 192.0.2.2
sub.example. 300 IN NS ns.sub.example.
ns.sub.example. 300 IN A 192.0.2.53
insecure.example. 300 IN NS ns.insecure.example.
ns.insecure.example. 300 IN A 192.0.2.54
{_BIG_TXT}
"""

SUB = """
sub.example. 300 IN SOA ns.sub.example. hostmaster.sub.example. 1 3600 600 86400 300
sub.example. 300 IN NS ns.sub.example.
ns.sub.example. 300 IN A 192.0.2.53
www.sub.example. 300 IN A 192.0.2.81
"""


def new_key() -> tuple[ed25519.Ed25519PrivateKey, dns.rdtypes.ANY.DNSKEY.DNSKEY]:
    private = ed25519.Ed25519PrivateKey.generate()
    return private, dns.dnssec.make_dnskey(private.public_key(), dns.dnssec.Algorithm.ED25519, flags=257)


def sign_nsec(text: str, origin: str, *, inception: int,
              lifetime: int = 86400) -> tuple[dns.zone.Zone, dns.rdtypes.ANY.DNSKEY.DNSKEY]:
    """Sign zone text with a fresh Ed25519 key and an NSEC chain. Returns the zone and its DNSKEY."""
    zone = load_zone_text(text, origin)
    key = new_key()
    dns.dnssec.sign_zone(zone, keys=[key], inception=inception, lifetime=lifetime)
    return zone, key[1]


def add_ds(zone: dns.zone.Zone, child: dns.name.Name | str, dnskey: dns.rdata.Rdata, ttl: int = 300) -> None:
    """Put the DS for child's DNSKEY into an unsigned parent zone (sign the parent afterwards)."""
    child = dns.name.from_text(child) if isinstance(child, str) else child
    ds = dns.dnssec.make_ds(child, dnskey, "SHA256")
    with zone.writer() as txn:
        txn.add(child, dns.rdataset.from_rdata(ttl, ds))


def signed_pair(inception: int) -> tuple[dns.zone.Zone, dns.zone.Zone]:
    """example. (NSEC) with a secure delegation to sub.example. (NSEC), whose DS is in the parent."""
    sub, sub_key = sign_nsec(SUB, "sub.example.", inception=inception)
    parent_text = load_zone_text(EXAMPLE, "example.")
    add_ds(parent_text, "sub.example.", sub_key)
    parent, _ = sign_nsec(parent_text.to_text(), "example.", inception=inception)
    return parent, sub


def sign_nsec3(text: str, origin: str, workdir: Path, *, opt_out: bool = False, salt: str = "-",
               iterations: int = 0) -> dns.zone.Zone:
    """Sign zone text with dnssec-signzone -3 (a fresh Ed25519 key in workdir) and load the result."""
    for tool in ("dnssec-keygen", "dnssec-signzone"):
        if shutil.which(tool) is None:
            raise EnvironmentProblem(f"{tool} not found", fix="apt-get install bind9-utils")
    workdir.mkdir(parents=True, exist_ok=True)
    unsigned = workdir / f"{origin}zone"
    signed = workdir / f"{origin}signed"
    unsigned.write_text(text)
    subprocess.run(["dnssec-keygen", "-q", "-a", "ED25519", "-f", "KSK", "-K", str(workdir), origin],
                   check=True, capture_output=True)
    args = ["dnssec-signzone", "-q", "-S", "-z", "-O", "full", "-K", str(workdir), "-d", str(workdir), "-o", origin,
            "-3", salt, "-H", str(iterations), "-f", str(signed)]
    subprocess.run([*args, *(["-A"] if opt_out else []), str(unsigned)], check=True, capture_output=True)
    return load_zone_file(signed, origin)
