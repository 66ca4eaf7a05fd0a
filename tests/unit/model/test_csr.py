"""CSRs as data: parsing the PKCS#10 request, the kubelet client recognizer in upstream's
words, approval state, the signer's duration and the CONDITION column."""

from __future__ import annotations

import base64
import ipaddress
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubelite.model import csr

NODE_USAGES = ["digital signature", "client auth"]


def request(
    cn: str = "system:node:n1", orgs: tuple[str, ...] = ("system:nodes",),
    san: list[x509.GeneralName] | None = None,
) -> x509.CertificateSigningRequest:  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    attrs += [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    b = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attrs))
    if san:
        b = b.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return b.sign(key, hashes.SHA256())


def obj(req: x509.CertificateSigningRequest, **spec: Any) -> dict[str, Any]:
    pem = req.public_bytes(serialization.Encoding.PEM)
    base = {"request": base64.b64encode(pem).decode(), "signerName": csr.KUBELET_CLIENT_SIGNER,
            "usages": NODE_USAGES, "username": "system:bootstrap:abcdef"}  # fmt: skip
    return {"spec": {**base, **spec}, "status": {}}


def test_a_request_is_read_back_from_its_object() -> None:
    req = request()
    parsed = csr.parse_request(csr.request_bytes(obj(req)))
    assert csr.common_name(parsed) == "system:node:n1"
    assert csr.organizations(parsed) == ["system:nodes"]


@pytest.mark.parametrize(
    ("case", "pem", "message"),
    [
        ("a certificate is not a request", b"-----BEGIN CERTIFICATE-----\nAA==\n",
         "PEM block type must be CERTIFICATE REQUEST"),
        ("nothing is not a request", b"", "PEM block type must be CERTIFICATE REQUEST"),
        ("garbage in the block", b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"
         b"-----END CERTIFICATE REQUEST-----\n", "malformed"),
    ],
)  # fmt: skip
def test_an_unreadable_request_is_refused(case: str, pem: bytes, message: str) -> None:
    with pytest.raises(csr.CsrError, match=message):
        csr.parse_request(pem)


@pytest.mark.parametrize(
    ("case", "req", "usages", "problem"),
    [
        ("a node's request with ECDSA usages", request(), NODE_USAGES, ""),
        ("a node's request with RSA usages", request(),
         ["digital signature", "key encipherment", "client auth"], ""),
        ("another organization", request(orgs=("system:masters",)), NODE_USAGES,
         "subject organization is not system:nodes"),
        ("two organizations", request(orgs=("system:nodes", "x")), NODE_USAGES,
         "subject organization is not system:nodes"),
        ("a DNS name", request(san=[x509.DNSName("n1")]), NODE_USAGES,
         "DNS subjectAltNames are not allowed"),
        ("an IP address", request(san=[x509.IPAddress(ipaddress.ip_address("10.0.0.1"))]),
         NODE_USAGES, "IP subjectAltNames are not allowed"),
        ("a user's name", request(cn="alice"), NODE_USAGES,
         "subject common name does not begin with system:node:"),
        ("server usages", request(), ["digital signature", "server auth"],
         "usages did not match [client auth digital signature key encipherment]"),
    ],
)  # fmt: skip
def test_the_kubelet_client_recognizer(
    case: str, req: x509.CertificateSigningRequest, usages: list[str], problem: str
) -> None:
    assert csr.kubelet_client_problem(req, usages) == problem


def test_a_renewal_is_a_node_asking_for_its_own_name() -> None:
    req = request()
    first = obj(req)
    renewal = obj(req, username="system:node:n1")
    assert csr.is_node_client(first, req) and not csr.is_self_node_client(first, req)
    assert csr.is_self_node_client(renewal, req)
    assert not csr.is_node_client(obj(req, signerName="example.com/x"), req)


@pytest.mark.parametrize(
    ("case", "requested", "expected"),
    [
        ("nothing asked: the signing duration", None, csr.DEFAULT_SIGNING_SECONDS),
        ("an hour is an hour", 3600, 3600),
        ("more than the cap is the cap", 10**9, csr.DEFAULT_SIGNING_SECONDS),
        ("less than ten minutes is ten minutes", 60, 600),
    ],
)
def test_the_signer_honours_expiration_seconds_within_bounds(
    case: str, requested: int | None, expected: float
) -> None:
    assert csr.signing_seconds(requested) == expected


@pytest.mark.parametrize(
    ("case", "conditions", "certificate", "expected"),
    [
        ("nothing yet", [], "", "Pending"),
        ("approved", ["Approved"], "", "Approved"),
        ("approved and issued", ["Approved"], "Y2VydA==", "Approved,Issued"),
        ("denied wins", ["Approved", "Denied"], "", "Denied"),
        ("failed is added", ["Approved", "Failed"], "", "Approved,Failed"),
    ],
)
def test_the_condition_column(
    case: str, conditions: list[str], certificate: str, expected: str
) -> None:
    o = {"status": {"conditions": [{"type": t, "status": "True"} for t in conditions],
                    "certificate": certificate}}  # fmt: skip
    assert csr.condition_summary(o) == expected
