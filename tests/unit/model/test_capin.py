"""CA pins: sha256 of the CA certificate's SubjectPublicKeyInfo, as kubeadm prints them."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubelite.model import capin


def make_ca() -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ca")])
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(1)
        .not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )  # fmt: skip


def test_the_pin_is_the_sha256_of_the_public_key_info() -> None:
    ca = make_ca()
    spki = ca.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert capin.ca_cert_hash(ca) == "sha256:" + hashlib.sha256(spki).hexdigest()
    pem = ca.public_bytes(serialization.Encoding.PEM)
    assert capin.ca_cert_hash_of_pem(pem) == capin.ca_cert_hash(ca)


def test_a_ca_matching_a_pin_passes_and_another_ca_is_refused() -> None:
    ca, other = make_ca(), make_ca()
    pin = capin.parse_pin(capin.ca_cert_hash(ca).upper().replace("SHA256", "sha256"))
    capin.check_any((pin,), [ca])
    with pytest.raises(capin.PinError, match="are pinned"):
        capin.check_any((pin,), [other])


@pytest.mark.parametrize(
    ("case", "text", "message"),
    [
        ("no format", "abcd", 'expected "format:hex-value"'),
        ("an unknown format", "md5:abcd", "Known format"),
        ("a short hash", "sha256:abcd", "64 hex digits"),
        ("not hex", "sha256:" + "g" * 64, "64 hex digits"),
    ],
)
def test_a_malformed_pin_is_refused(case: str, text: str, message: str) -> None:
    with pytest.raises(capin.PinError, match=message):
        capin.parse_pin(text)
