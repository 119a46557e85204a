"""DNSSEC keys: generation, DNSKEY/DS rdata, and BIND-style key files that dnssec-signzone and ldns can reuse.

A ``Key`` is plain data. Its flags are whatever it is told (fault injection publishes keys without the zone bit or with
REVOKE set); nothing here "fixes" a key.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import dns.dnssec
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.DNSKEY
import dns.rdtypes.ANY.DS
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from testbed.dnssec.crypto import SUPPORTED_ALGORITHMS, PrivateKey, generate_private
from testbed.private_files import write_private

ROLES = ("ksk", "zsk", "csk")
ZONE_FLAG = 0x0100
SEP_FLAG = 0x0001
REVOKE_FLAG = 0x0080

# Mnemonics exactly as BIND writes them in the "Algorithm:" line of a .private file.
BIND_ALGORITHM_NAMES = {5: "RSASHA1", 7: "NSEC3RSASHA1", 8: "RSASHA256", 10: "RSASHA512", 13: "ECDSAP256SHA256",
                        14: "ECDSAP384SHA384", 15: "ED25519", 16: "ED448"}


@dataclass(frozen=True)
class Key:
    """One DNSSEC key: the private half and the DNSKEY rdata published for it.

    ``flags`` and ``dnskey.flags`` always agree (``with_flags`` changes both). ``role`` says how ``sign_zone`` uses
    the key (``ksk``: DNSKEY/CDS/CDNSKEY; ``zsk``: everything else; ``csk``: both), independent of the flags.
    Equality and hashing ignore ``private`` (the DNSKEY rdata already identifies the key material).
    """

    zone: dns.name.Name
    algorithm: int
    flags: int
    private: PrivateKey = field(compare=False, repr=False)
    dnskey: dns.rdtypes.ANY.DNSKEY.DNSKEY
    role: str

    @property
    def key_tag(self) -> int:
        """RFC 4034 Appendix B key tag of the DNSKEY as published (so it changes with the REVOKE bit)."""
        return dns.dnssec.key_id(self.dnskey)

    def with_flags(self, flags: int) -> Key:
        """The same key material with new DNSKEY flags (e.g. ``flags | REVOKE_FLAG`` or ``flags & ~ZONE_FLAG``)."""
        old = self.dnskey
        dnskey = dns.rdtypes.ANY.DNSKEY.DNSKEY(old.rdclass, old.rdtype, flags, old.protocol, old.algorithm, old.key)
        return replace(self, flags=flags, dnskey=dnskey)


def _as_name(zone: str | dns.name.Name) -> dns.name.Name:
    return zone if isinstance(zone, dns.name.Name) else dns.name.from_text(zone)


def generate_key(zone: str | dns.name.Name, algorithm: int, role: str, *, rsa_bits: int = 2048) -> Key:
    """A new key for ``zone``: flags 257 for a KSK/CSK, 256 for a ZSK.

    RSA keys (algorithms 5, 7, 8, 10) are ``rsa_bits`` long (2048 by default), ECDSA uses P-256 (13) or P-384 (14),
    and 15/16 are Ed25519/Ed448.
    """
    if role not in ROLES:
        raise ValueError(f"key role must be one of {ROLES}, not {role!r}")
    if algorithm not in SUPPORTED_ALGORITHMS:
        raise ValueError(f"unsupported DNSSEC algorithm {algorithm}; supported: {sorted(SUPPORTED_ALGORITHMS)}")
    return key_from_private(zone, algorithm, role, generate_private(algorithm, rsa_bits))


def key_from_private(zone: str | dns.name.Name, algorithm: int, role: str, private: PrivateKey,
                     flags: int | None = None) -> Key:
    """A ``Key`` around existing key material (e.g. loaded from PKCS#8); flags default as in ``generate_key``."""
    if role not in ROLES:
        raise ValueError(f"key role must be one of {ROLES}, not {role!r}")
    if flags is None:
        flags = ZONE_FLAG | SEP_FLAG if role in ("ksk", "csk") else ZONE_FLAG
    dnskey = dns.dnssec.make_dnskey(private.public_key(), algorithm, flags=flags)
    return Key(zone=_as_name(zone), algorithm=algorithm, flags=flags, private=private, dnskey=dnskey, role=role)


def make_ds(key: Key, digest_type: int) -> dns.rdtypes.ANY.DS.DS:
    """The DS rdata for ``key`` as published (digest type 1 SHA-1, 2 SHA-256 or 4 SHA-384; no policy veto)."""
    ds = dns.dnssec.make_ds(key.zone, key.dnskey, dns.dnssec.DSDigest(digest_type), policy=dns.dnssec.allow_all_policy)
    assert isinstance(ds, dns.rdtypes.ANY.DS.DS)
    return ds


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _int_b64(value: int) -> str:
    return _b64(value.to_bytes((value.bit_length() + 7) // 8 or 1, "big"))


def _private_fields(key: Key) -> list[tuple[str, str]]:
    private = key.private
    if isinstance(private, rsa.RSAPrivateKey):
        numbers = private.private_numbers()
        public = numbers.public_numbers
        return [("Modulus", _int_b64(public.n)), ("PublicExponent", _int_b64(public.e)),
                ("PrivateExponent", _int_b64(numbers.d)), ("Prime1", _int_b64(numbers.p)),
                ("Prime2", _int_b64(numbers.q)), ("Exponent1", _int_b64(numbers.dmp1)),
                ("Exponent2", _int_b64(numbers.dmq1)), ("Coefficient", _int_b64(numbers.iqmp))]
    if isinstance(private, ec.EllipticCurvePrivateKey):
        size = (private.curve.key_size + 7) // 8
        return [("PrivateKey", _b64(private.private_numbers().private_value.to_bytes(size, "big")))]
    if isinstance(private, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                    serialization.NoEncryption())
        return [("PrivateKey", _b64(raw))]
    raise TypeError(f"not a supported private key: {type(private).__name__}")


def key_file_stem(key: Key) -> str:
    """``K<zone>+<alg>+<tag>``, the base name BIND and ldns use for a key's files."""
    return f"K{key.zone.canonicalize().to_text()}+{key.algorithm:03d}+{key.key_tag:05d}"


def key_to_files(key: Key, directory: Path, *, timestamp: int | None = None) -> list[Path]:
    """Write ``K<zone>+<alg>+<tag>.key`` and ``.private`` (BIND "Private-key-format: v1.3") into ``directory``.

    dnssec-signzone (also with ``-S``), dnssec-dsfromkey, ldns-signzone and Knot's ``keymgr import-bind`` read these.
    The Created, Publish and Activate times are ``timestamp`` (default: now). BIND's smart signing ignores a key
    without them, and keymgr takes a time at the epoch for "unset" and then finds no key to sign with, so they are
    real times. Returns ``[key_path, private_path]``.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    stem = key_file_stem(key)
    zone_text = key.zone.to_text()
    kind = {"ksk": "key-signing", "csk": "key-signing", "zsk": "zone-signing"}.get(key.role, "zone-signing")
    public_text = (f"; This is a {kind} key, keyid {key.key_tag}, for {zone_text}\n"
                   f"{zone_text} IN DNSKEY {key.dnskey.to_text()}\n")
    lines = ["Private-key-format: v1.3",
             f"Algorithm: {key.algorithm} ({BIND_ALGORITHM_NAMES.get(key.algorithm, str(key.algorithm))})"]
    lines += [f"{label}: {value}" for label, value in _private_fields(key)]
    when = time.strftime("%Y%m%d%H%M%S", time.gmtime(int(time.time()) if timestamp is None else timestamp))
    lines += [f"Created: {when}", f"Publish: {when}", f"Activate: {when}"]
    key_path = directory / f"{stem}.key"
    private_path = directory / f"{stem}.private"
    key_path.write_text(public_text, encoding="ascii")
    write_private(private_path, "\n".join(lines) + "\n", encoding="ascii")     # 0600 even over an older file
    return [key_path, private_path]
