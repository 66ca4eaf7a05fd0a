"""The cluster CA signing a CSR: the request's subject and key, usages as key usages and
extended key usages, 5 minutes backdated, never past the CA; serving names added on demand."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kubelite.api.pki import CaSigner, ServingNames, SigningError, ensure_pki

NOW = 1_900_000_000.0


def request() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "system:node:n1"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:nodes")])  # fmt: skip
    req = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    return req.public_bytes(serialization.Encoding.PEM)


def test_a_node_client_certificate_is_signed_for_the_asked_time(tmp_path: Path) -> None:
    pki = ensure_pki(tmp_path)
    pem = CaSigner(pki).sign(request(), ["digital signature", "client auth"], 3600, NOW)
    cert = x509.load_pem_x509_certificate(pem)
    assert cert.subject.rfc4514_string() == "O=system:nodes,CN=system:node:n1"
    assert cert.not_valid_before_utc.timestamp() == NOW - 300
    assert cert.not_valid_after_utc.timestamp() == NOW + 3600
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and not usage.key_encipherment
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    ca = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    cert.verify_directly_issued_by(ca)


def test_a_certificate_never_outlives_its_ca(tmp_path: Path) -> None:
    pki = ensure_pki(tmp_path)
    ca = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    pem = CaSigner(pki).sign(request(), ["client auth"], 10**12, NOW)
    assert x509.load_pem_x509_certificate(pem).not_valid_after_utc == ca.not_valid_after_utc
    with pytest.raises(SigningError, match="expired in the past"):
        CaSigner(pki).sign(request(), ["client auth"], 60, ca.not_valid_after_utc.timestamp())


def test_the_serving_certificate_gains_the_addresses_asked_for(tmp_path: Path) -> None:
    ensure_pki(tmp_path)
    pki = ensure_pki(tmp_path, ServingNames().plus(ips=("10.201.0.1",)))
    cert = x509.load_pem_x509_certificate(pki.server_cert.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "10.201.0.1" in {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
