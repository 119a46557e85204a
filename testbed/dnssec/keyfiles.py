"""Bring your own keys: read BIND-format key files (``K<zone>+<alg>+<tag>.key`` and ``.private``, "Private-key-format
v1.2/v1.3", as dnssec-keygen writes them and ldns-keygen too) into ``Key`` objects our signer uses.

A key's role comes from its DNSKEY flags: 257 (SEP) is a KSK, 256 a ZSK; a zone whose keys are all SEP keys has
CSKs. The timing metadata (Publish, Activate...) is not read: every key in the folder is published and signs.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.DNSKEY
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from testbed.dnssec.crypto import PrivateKey
from testbed.dnssec.keys import SEP_FLAG, Key, key_from_private
from testbed.errors import ScenarioError

_FILE_RE = re.compile(r"^K(?P<zone>.+?)\+(?P<alg>\d{3})\+(?P<tag>\d{5})\.private$")
_CURVES: dict[int, ec.EllipticCurve] = {13: ec.SECP256R1(), 14: ec.SECP384R1()}


def _fail(message: str, path: Path, fix: str) -> ScenarioError:
    return ScenarioError(message, file=path, fix=fix)


def _int(fields: dict[str, str], name: str) -> int:
    return int.from_bytes(base64.b64decode(fields[name]), "big")


def _private_key(algorithm: int, fields: dict[str, str], path: Path) -> PrivateKey:
    try:
        if algorithm in (5, 7, 8, 10):
            public = rsa.RSAPublicNumbers(_int(fields, "PublicExponent"), _int(fields, "Modulus"))
            numbers = rsa.RSAPrivateNumbers(_int(fields, "Prime1"), _int(fields, "Prime2"),
                                            _int(fields, "PrivateExponent"), _int(fields, "Exponent1"),
                                            _int(fields, "Exponent2"), _int(fields, "Coefficient"), public)
            return numbers.private_key()
        if algorithm in _CURVES:
            return ec.derive_private_key(_int(fields, "PrivateKey"), _CURVES[algorithm])
        raw = base64.b64decode(fields["PrivateKey"])
        if algorithm == 15:
            return ed25519.Ed25519PrivateKey.from_private_bytes(raw)
        if algorithm == 16:
            return ed448.Ed448PrivateKey.from_private_bytes(raw)
    except KeyError as exc:
        raise _fail(f"the key file {path} lacks the field {exc.args[0]}", path, "export the key again") from exc
    except ValueError as exc:
        raise _fail(f"the key file {path} holds no valid algorithm {algorithm} key: {exc}", path,
                    "export the key again") from exc
    raise _fail(f"the key file {path} is for algorithm {algorithm}, which the signer does not support", path,
                "use RSASHA256 (8), RSASHA512 (10), ECDSAP256SHA256 (13), ECDSAP384SHA384 (14), ED25519 (15) "
                "or ED448 (16)")


def _fields(path: Path) -> dict[str, str]:
    fields = {}
    for line in path.read_text(encoding="ascii", errors="replace").splitlines():
        if ":" in line:
            name, value = line.split(":", 1)
            fields[name.strip()] = value.strip()
    return fields


def _dnskey(path: Path, zone: dns.name.Name) -> dns.rdtypes.ANY.DNSKEY.DNSKEY:
    """The DNSKEY record of a .key file (comments and an optional TTL allowed)."""
    for line in path.read_text(encoding="ascii", errors="replace").splitlines():
        tokens = line.split(";", 1)[0].split()
        upper = [t.upper() for t in tokens]
        if "DNSKEY" not in upper:
            continue
        owner = dns.name.from_text(tokens[0])
        if owner != zone:
            raise _fail(f"the key file {path} is a key of {owner}, not of {zone}", path,
                        "keep only this zone's keys under its name, K<zone>+<alg>+<tag>")
        try:
            rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DNSKEY,
                                        " ".join(tokens[upper.index("DNSKEY") + 1:]))
        except (dns.exception.DNSException, ValueError) as exc:
            raise _fail(f"the key file {path} has no valid DNSKEY: {exc}", path, "export the key again") from exc
        assert isinstance(rdata, dns.rdtypes.ANY.DNSKEY.DNSKEY)
        return rdata
    raise _fail(f"the key file {path} has no DNSKEY record", path, "export the key again")


def load_key_file(private_path: Path, zone: str) -> Key:
    """One key from its ``.private`` file and the ``.key`` file beside it; the role is set by ``load_key_folder``."""
    origin = dns.name.from_text(zone)
    fields = _fields(private_path)
    match = re.match(r"\s*(\d+)", fields.get("Algorithm", ""))
    if match is None:
        raise _fail(f"the key file {private_path} has no 'Algorithm:' line", private_path,
                    "is it a BIND-format .private file (dnssec-keygen, or keymgr's BIND export)?")
    algorithm = int(match.group(1))
    name_alg = _FILE_RE.match(private_path.name)
    if name_alg is not None and int(name_alg.group("alg")) != algorithm:
        raise _fail(f"the key file {private_path} says algorithm {algorithm}, its name {name_alg.group('alg')}",
                    private_path, "rename the file or export the key again")
    public_path = private_path.with_suffix(".key")
    if not public_path.is_file():
        raise _fail(f"the key {private_path} has no public half {public_path.name} beside it", private_path,
                    "copy both files of the key into the folder")
    dnskey = _dnskey(public_path, origin)
    if dnskey.algorithm != algorithm:
        raise _fail(f"{public_path.name} is an algorithm {int(dnskey.algorithm)} key, {private_path.name} one of "
                    f"algorithm {algorithm}", private_path, "the two files must be the same key")
    key = key_from_private(origin, algorithm, "zsk", _private_key(algorithm, fields, private_path), flags=dnskey.flags)
    if key.dnskey.key != dnskey.key:
        raise _fail(f"{private_path.name} and {public_path.name} are not the same key (the public keys differ)",
                    private_path, "the two files must be the same key")
    return key


def load_key_folder(folder: Path, zone: str, *, file: Path | str | None = None, line: int | None = None) -> list[Key]:
    """Every key of ``zone`` in ``folder``: KSKs (flags 257) and ZSKs (256), or CSKs when all are SEP keys.
    ``file``/``line`` is where the scenario names the folder, for errors."""
    origin = dns.name.from_text(zone)
    stem = origin.canonicalize().to_text()
    paths = sorted(p for p in folder.glob("K*.private") if (m := _FILE_RE.match(p.name)) and
                   dns.name.from_text(m.group("zone")) == origin)
    if not paths:
        others = sorted({m.group("zone") for p in folder.glob("K*.private") if (m := _FILE_RE.match(p.name))})
        held = f"; it holds keys of {', '.join(others)}" if others else ""
        raise ScenarioError(f"the key folder {folder} has no key of {zone} (K{stem}+<alg>+<tag>.private){held}",
                            file=file, line=line,
                            fix="put the zone's .key and .private files there (dnssec-keygen writes them)")
    keys = [load_key_file(p, zone) for p in paths]
    algorithms = sorted({k.algorithm for k in keys})
    if len(algorithms) > 1:
        raise ScenarioError(f"the keys of {zone} in {folder} mix algorithms {algorithms}",
                            file=file, line=line,
                            fix="bring the keys of one algorithm (an algorithm roll is a timeline of its own)")
    sep = [k for k in keys if k.flags & SEP_FLAG]
    if not sep:
        raise ScenarioError(f"the keys of {zone} in {folder} have no SEP key (flags 257) for the DS",
                            file=file, line=line,
                            fix="add a KSK (dnssec-keygen -f KSK)")
    all_sep = len(sep) == len(keys)
    return [_with_role(k, ("csk" if all_sep else "ksk") if k.flags & SEP_FLAG else "zsk") for k in keys]


def _with_role(key: Key, role: str) -> Key:
    from dataclasses import replace

    return replace(key, role=role)

