"""CertificateSigningRequests (certificates.k8s.io/v1) read as data: the PKCS#10 request they
carry, their key usages, their approval state, and the checks the CSR controllers make (the
kubelet client recognizer, the signer's duration rule). Pure.

Messages are the API server's and the controllers' (``PEM block type must be CERTIFICATE
REQUEST``, ``subject organization is not system:nodes`` …).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

GROUP = "certificates.k8s.io"
KUBELET_CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client-kubelet"
APISERVER_CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client"
KUBELET_SERVING_SIGNER = "kubernetes.io/kubelet-serving"
LEGACY_UNKNOWN_SIGNER = "kubernetes.io/legacy-unknown"
NODE_USER_PREFIX = "system:node:"
NODES_GROUP = "system:nodes"
APPROVED, DENIED, FAILED = "Approved", "Denied", "Failed"
MIN_EXPIRATION_SECONDS = 600  # validation's floor, twice the signer's 5 min backdate
DEFAULT_SIGNING_SECONDS = 365 * 24 * 3600  # --cluster-signing-duration (8760h)

# Key usages as the API spells them, and what each sets in the certificate.
KEY_USAGES: dict[str, str] = {
    "signing": "digital_signature",
    "digital signature": "digital_signature",
    "content commitment": "content_commitment",
    "key encipherment": "key_encipherment",
    "key agreement": "key_agreement",
    "data encipherment": "data_encipherment",
    "cert sign": "key_cert_sign",
    "crl sign": "crl_sign",
    "encipher only": "encipher_only",
    "decipher only": "decipher_only",
}
EXTENDED_USAGES: dict[str, x509.ObjectIdentifier] = {
    "any": ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
    "server auth": ExtendedKeyUsageOID.SERVER_AUTH,
    "client auth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "code signing": ExtendedKeyUsageOID.CODE_SIGNING,
    "email protection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "s/mime": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "ipsec end system": x509.ObjectIdentifier("1.3.6.1.5.5.7.3.5"),
    "ipsec tunnel": x509.ObjectIdentifier("1.3.6.1.5.5.7.3.6"),
    "ipsec user": x509.ObjectIdentifier("1.3.6.1.5.5.7.3.7"),
    "timestamping": ExtendedKeyUsageOID.TIME_STAMPING,
    "ocsp signing": ExtendedKeyUsageOID.OCSP_SIGNING,
    "microsoft sgc": x509.ObjectIdentifier("1.3.6.1.4.1.311.10.3.3"),
    "netscape sgc": x509.ObjectIdentifier("2.16.840.1.113730.4.1"),
}
VALID_USAGES = tuple(sorted({*KEY_USAGES, *EXTENDED_USAGES}))
KUBELET_CLIENT_USAGES = frozenset({"digital signature", "key encipherment", "client auth"})
KUBELET_CLIENT_USAGES_NO_RSA = frozenset({"digital signature", "client auth"})


class CsrError(ValueError):
    """A request that cannot be read or fails a check (the message is upstream's)."""


def request_bytes(csr: Mapping[str, Any]) -> bytes:
    """``spec.request`` decoded from base64 (b"" if missing or not base64)."""
    raw = (csr.get("spec") or {}).get("request")
    if not isinstance(raw, str):
        return b""
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return b""


def parse_request(pem: bytes) -> x509.CertificateSigningRequest:
    """The PKCS#10 request in a ``CERTIFICATE REQUEST`` PEM block, its signature checked."""
    text = pem.lstrip()
    if not text.startswith(b"-----BEGIN CERTIFICATE REQUEST-----"):
        raise CsrError("PEM block type must be CERTIFICATE REQUEST")
    try:
        req = x509.load_pem_x509_csr(pem)
    except ValueError as err:
        raise CsrError(f"x509: malformed certificate request: {err}") from err
    if not req.is_signature_valid:
        raise CsrError("x509: ECDSA verification failure")
    return req


def common_name(req: x509.CertificateSigningRequest) -> str:
    names = req.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


def organizations(req: x509.CertificateSigningRequest) -> list[str]:
    return [str(a.value) for a in req.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]


def _alt_names(req: x509.CertificateSigningRequest) -> x509.SubjectAlternativeName | None:
    try:
        return req.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None


def kubelet_client_problem(req: x509.CertificateSigningRequest, usages: Iterable[str]) -> str:
    """Why ``req`` is not a kubelet client certificate request ("" if it is), in the
    recognizer's order and words."""
    if organizations(req) != [NODES_GROUP]:
        return "subject organization is not system:nodes"
    san = _alt_names(req)
    if san is not None:
        for kind, text in (
            (x509.DNSName, "DNS"),
            (x509.RFC822Name, "Email"),
            (x509.IPAddress, "IP"),
            (x509.UniformResourceIdentifier, "URI"),
        ):
            if san.get_values_for_type(kind):
                return f"{text} subjectAltNames are not allowed"
    if not common_name(req).startswith(NODE_USER_PREFIX):
        return "subject common name does not begin with system:node:"
    wanted = frozenset(usages)
    if wanted not in (KUBELET_CLIENT_USAGES, KUBELET_CLIENT_USAGES_NO_RSA):
        return f"usages did not match [{' '.join(sorted(KUBELET_CLIENT_USAGES))}]"
    return ""


def usages_of(csr: Mapping[str, Any]) -> list[str]:
    return [str(u) for u in (csr.get("spec") or {}).get("usages") or []]


def signer_of(csr: Mapping[str, Any]) -> str:
    return str((csr.get("spec") or {}).get("signerName") or "")


def conditions_of(csr: Mapping[str, Any]) -> list[dict[str, Any]]:
    conds = (csr.get("status") or {}).get("conditions") or []
    return [c for c in conds if isinstance(c, dict)]


def has_condition(csr: Mapping[str, Any], kind: str) -> bool:
    return any(c.get("type") == kind for c in conditions_of(csr))


@dataclass(frozen=True, slots=True)
class Approval:
    approved: bool
    denied: bool


def approval(csr: Mapping[str, Any]) -> Approval:
    """Upstream's GetCertApprovalCondition: an Approved or Denied condition (any status)."""
    return Approval(has_condition(csr, APPROVED), has_condition(csr, DENIED))


def issued(csr: Mapping[str, Any]) -> bool:
    return bool((csr.get("status") or {}).get("certificate"))


def is_node_client(csr: Mapping[str, Any], req: x509.CertificateSigningRequest) -> bool:
    """The approver's recognizer for a kubelet's client certificate request."""
    return signer_of(csr) == KUBELET_CLIENT_SIGNER and not kubelet_client_problem(
        req, usages_of(csr)
    )


def is_self_node_client(csr: Mapping[str, Any], req: x509.CertificateSigningRequest) -> bool:
    """... made by the node itself (renewal: the requester is the subject)."""
    username = str((csr.get("spec") or {}).get("username") or "")
    return username == common_name(req) and is_node_client(csr, req)


def signing_seconds(expiration_seconds: Any, cap: float = DEFAULT_SIGNING_SECONDS) -> float:
    """The signer's duration: the request's ``expirationSeconds`` within [10 min, cap]."""
    if not isinstance(expiration_seconds, int) or isinstance(expiration_seconds, bool):
        return cap
    return max(float(MIN_EXPIRATION_SECONDS), min(cap, float(expiration_seconds)))


def condition_summary(csr: Mapping[str, Any]) -> str:
    """The CONDITION column: Denied, else Approved, else Pending; then Failed and Issued."""
    a = approval(csr)
    status = "Denied" if a.denied else "Approved" if a.approved else "Pending"
    if has_condition(csr, FAILED):
        status += ",Failed"
    if issued(csr):
        status += ",Issued"
    return status
