"""Pinning a cluster's CA by the hash of its public key (``--discovery-token-ca-cert-hash
sha256:<hex>``), as kubeadm's ``pubkeypin``: the SHA-256 of the certificate's DER-encoded
SubjectPublicKeyInfo, in lower-case hex. A joining node trusts the CA it discovered only if
its key hashes to a pin it was given. Pure.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography import x509
from cryptography.hazmat.primitives import serialization

FORMAT = "sha256"


class PinError(ValueError):
    """A pin that cannot be read, or a CA that matches none of the pins."""


def ca_cert_hash(cert: x509.Certificate) -> str:
    """``sha256:<hex>`` of the certificate's public key."""
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return f"{FORMAT}:{hashlib.sha256(spki).hexdigest()}"


def ca_cert_hash_of_pem(pem: bytes) -> str:
    return ca_cert_hash(x509.load_pem_x509_certificate(pem))


def parse_pin(text: str) -> str:
    """A pin in its normal form (``sha256:`` and 64 lower-case hex digits)."""
    fmt, sep, value = text.strip().partition(":")
    if not sep:
        raise PinError(f'invalid hash {text!r}, expected "format:hex-value"')
    if fmt.lower() != FORMAT:
        raise PinError(f"unknown hash format {fmt!r}. Known format(s) are: {FORMAT}")
    value = value.lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise PinError(f"invalid hash {text!r}, expected a SHA-256 hash of 64 hex digits")
    return f"{FORMAT}:{value}"


def check_any(pins: tuple[str, ...], certs: list[x509.Certificate]) -> None:
    """Pass if one of ``certs`` has a pinned key; ``PinError`` otherwise."""
    hashes = [ca_cert_hash(c) for c in certs]
    for h in hashes:
        if any(hmac.compare_digest(h, p) for p in pins):
            return
    raise PinError(f"none of the public keys {':'.join(repr(h) for h in hashes)} are pinned")


def certificates_of_pem(pem: bytes) -> list[x509.Certificate]:
    try:
        certs = x509.load_pem_x509_certificates(pem)
    except ValueError as err:
        raise PinError(f"failed to parse cluster CA: {err}") from err
    if not certs:
        raise PinError("failed to parse cluster CA: no certificate")
    return certs
