"""Raw signing through ``cryptography``: one function per DNSSEC algorithm, no dnspython on the hot path.

``make_signer`` turns a private key into ``sign(data) -> signature bytes`` in the RRSIG wire format of RFC 3110 /
5702 (RSA PKCS#1 v1.5), RFC 6605 (ECDSA: fixed-size r||s, not DER) and RFC 8080 (Ed25519/Ed448: raw).
``private_to_pkcs8`` / ``private_from_pkcs8`` carry key material to worker processes.
"""

from __future__ import annotations

from collections.abc import Callable

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey
Signer = Callable[[bytes], bytes]

RSA_ALGORITHMS = frozenset({5, 7, 8, 10})
ECDSA_ALGORITHMS = frozenset({13, 14})
SUPPORTED_ALGORITHMS = frozenset({5, 7, 8, 10, 13, 14, 15, 16})

_RSA_HASH: dict[int, type[hashes.HashAlgorithm]] = {5: hashes.SHA1, 7: hashes.SHA1, 8: hashes.SHA256,
                                                     10: hashes.SHA512}
_ECDSA: dict[int, tuple[type[ec.EllipticCurve], type[hashes.HashAlgorithm], int]] = {
    13: (ec.SECP256R1, hashes.SHA256, 32),
    14: (ec.SECP384R1, hashes.SHA384, 48),
}


def make_signer(algorithm: int, private: object) -> Signer:
    """Return a function that signs ``data`` (the RFC 4034 3.1.8.1 signed data) with ``private``.

    Raises ``TypeError`` when the key type does not fit the algorithm number, ``ValueError`` for an unknown algorithm.
    """
    if algorithm in RSA_ALGORITHMS:
        if not isinstance(private, rsa.RSAPrivateKey):
            raise TypeError(f"algorithm {algorithm} needs an RSA key, got {type(private).__name__}")
        rsa_key = private
        pad = padding.PKCS1v15()
        rsa_hash = _RSA_HASH[algorithm]()

        def sign_rsa(data: bytes) -> bytes:
            return rsa_key.sign(data, pad, rsa_hash)

        return sign_rsa
    if algorithm in ECDSA_ALGORITHMS:
        curve, hash_cls, size = _ECDSA[algorithm]
        if not isinstance(private, ec.EllipticCurvePrivateKey) or not isinstance(private.curve, curve):
            raise TypeError(f"algorithm {algorithm} needs an EC key on {curve.name}, got {type(private).__name__}")
        ec_key = private
        ecdsa = ec.ECDSA(hash_cls())

        def sign_ecdsa(data: bytes) -> bytes:
            r, s = decode_dss_signature(ec_key.sign(data, ecdsa))
            return r.to_bytes(size, "big") + s.to_bytes(size, "big")

        return sign_ecdsa
    if algorithm == 15:
        if not isinstance(private, ed25519.Ed25519PrivateKey):
            raise TypeError(f"algorithm 15 needs an Ed25519 key, got {type(private).__name__}")
        return private.sign
    if algorithm == 16:
        if not isinstance(private, ed448.Ed448PrivateKey):
            raise TypeError(f"algorithm 16 needs an Ed448 key, got {type(private).__name__}")
        return private.sign
    raise ValueError(f"unsupported DNSSEC algorithm {algorithm}; supported: {sorted(SUPPORTED_ALGORITHMS)}")


def generate_private(algorithm: int, rsa_bits: int = 2048) -> PrivateKey:
    """A fresh private key of the type ``algorithm`` needs."""
    if algorithm in RSA_ALGORITHMS:
        return rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
    if algorithm in ECDSA_ALGORITHMS:
        return ec.generate_private_key(_ECDSA[algorithm][0]())
    if algorithm == 15:
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm == 16:
        return ed448.Ed448PrivateKey.generate()
    raise ValueError(f"unsupported DNSSEC algorithm {algorithm}; supported: {sorted(SUPPORTED_ALGORITHMS)}")


def private_to_pkcs8(private: object) -> bytes:
    """Unencrypted PKCS#8 DER, to hand a key to another process."""
    if not isinstance(private, PrivateKey):
        raise TypeError(f"not a supported private key: {type(private).__name__}")
    return private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())


def private_from_pkcs8(der: bytes) -> PrivateKey:
    key = serialization.load_der_private_key(der, password=None)
    if not isinstance(key, PrivateKey):
        raise TypeError(f"not a DNSSEC private key: {type(key).__name__}")
    return key
