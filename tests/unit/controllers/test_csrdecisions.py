"""The CSR controllers' decisions: which permission a kubelet's request is checked against,
the approval condition, and what the signer does with a request."""

from __future__ import annotations

import base64
import ipaddress
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubelite.controllers import csrdecisions as d
from kubelite.model import csr as c


def csr(cn: str = "system:node:n1", org: str = "system:nodes", **spec: Any) -> dict[str, Any]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)])  # fmt: skip
    req = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    pem = base64.b64encode(req.public_bytes(serialization.Encoding.PEM)).decode()
    base = {"request": pem, "signerName": c.KUBELET_CLIENT_SIGNER, "usages": ["digital signature",
            "client auth"], "username": "system:bootstrap:abcdef",
            "groups": ["system:bootstrappers"]}  # fmt: skip
    return {"metadata": {"name": "csr-1"}, "spec": {**base, **spec}, "status": {}}


def approved(obj: dict[str, Any]) -> dict[str, Any]:
    return d.with_condition(obj, "Approved", "AutoApproved", "ok", "t")


def test_a_bootstrapping_node_is_checked_for_nodeclient() -> None:
    obj = csr()
    req = c.parse_request(c.request_bytes(obj))
    assert d.recognized_as(obj, req) == ["nodeclient"]
    review = d.subject_access_review(obj, "nodeclient")
    assert review["spec"]["user"] == "system:bootstrap:abcdef"
    assert review["spec"]["resourceAttributes"] == {
        "group": "certificates.k8s.io", "resource": "certificatesigningrequests",
        "verb": "create", "subresource": "nodeclient",
    }  # fmt: skip


def test_a_node_renewing_is_checked_for_selfnodeclient_first() -> None:
    obj = csr(username="system:node:n1")
    assert d.recognized_as(obj, c.parse_request(c.request_bytes(obj))) == [
        "selfnodeclient",
        "nodeclient",
    ]


def test_the_approval_condition_reads_as_the_controller_managers() -> None:
    cond = d.approved(csr(), "nodeclient", "2024-01-01T00:00:00Z")["status"]["conditions"][0]
    assert cond["type"] == "Approved" and cond["reason"] == "AutoApproved"
    assert cond["message"] == "Auto approving kubelet client certificate after SubjectAccessReview."


def test_only_undecided_requests_are_looked_at() -> None:
    assert d.undecided(csr())
    assert not d.undecided(approved(csr()))


def test_the_signer_signs_an_approved_kubelet_request_for_its_duration() -> None:
    step = d.signing_step(approved(csr(expirationSeconds=3600)))
    assert isinstance(step, d.Sign)
    assert step.seconds == 3600 and step.usages == ("digital signature", "client auth")
    assert d.signing_step(csr()) is None  # not approved yet
    assert d.signing_step(approved(csr(signerName="example.com/other"))) is None


def test_the_signer_fails_a_request_its_rules_refuse() -> None:
    step = d.signing_step(approved(csr(cn="alice")))
    assert step == d.Fail("subject common name does not begin with system:node:")


# ---------------------------------------------------------------------------- serving


def serving_csr(
    cn: str = "system:node:n1",
    org: str = "system:nodes",
    *,
    ips: tuple[str, ...] = ("10.0.0.2",),
    dns: tuple[str, ...] = ("n1",),
    emails: tuple[str, ...] = (),
    **spec: Any,
) -> dict[str, Any]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)])  # fmt: skip
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
    names += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    names += [x509.RFC822Name(e) for e in emails]
    builder = x509.CertificateSigningRequestBuilder().subject_name(name)
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    req = builder.sign(key, hashes.SHA256())
    pem = base64.b64encode(req.public_bytes(serialization.Encoding.PEM)).decode()
    base = {"request": pem, "signerName": c.KUBELET_SERVING_SIGNER,
            "usages": ["digital signature", "key encipherment", "server auth"],
            "username": "system:node:n1",
            "groups": ["system:nodes", "system:authenticated"]}  # fmt: skip
    return {"metadata": {"name": "csr-s"}, "spec": {**base, **spec}, "status": {}}


NODE_N1 = {
    "metadata": {"name": "n1"},
    "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.2"},
                             {"type": "Hostname", "address": "n1"}]},
}  # fmt: skip

SERVING_CASES = [
    ("a node asking for its own addresses", serving_csr(), NODE_N1, ""),
    ("an IP only", serving_csr(dns=()), NODE_N1, ""),
    ("another node's address", serving_csr(ips=("10.0.0.3",)), NODE_N1,
     "IP address 10.0.0.3 is not an address of node n1"),
    ("a name the node does not have", serving_csr(dns=("kubernetes",)), NODE_N1,
     "DNS name kubernetes is not an address of node n1"),
    ("a subject that is another node", serving_csr(cn="system:node:n2"), NODE_N1,
     "the subject is not the requesting node n1"),
    ("a requester that is not a node", serving_csr(username="alice", groups=["dev"]), NODE_N1,
     "not requested by a node"),
    ("a node not registered yet", serving_csr(), None, "node n1 is not registered"),
    ("no alternative names", serving_csr(ips=(), dns=()), NODE_N1,
     "DNS or IP subjectAltName is required"),
    ("an email address", serving_csr(emails=("a@b.c",)), NODE_N1,
     "Email subjectAltNames are not allowed"),
    ("client usages", serving_csr(usages=["digital signature", "client auth"]), NODE_N1,
     "usages did not match [digital signature key encipherment server auth]"),
    ("another organization", serving_csr(org="dev"), NODE_N1,
     "subject organization is not system:nodes"),
    ("a common name outside system:node:", serving_csr(cn="n1"), NODE_N1,
     "subject common name does not begin with system:node:"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "obj", "node", "refusal"), SERVING_CASES,
                         ids=[c[0] for c in SERVING_CASES])  # fmt: skip
def test_a_serving_request_is_approved_only_for_the_nodes_own_addresses(
    case: str, obj: dict[str, Any], node: dict[str, Any] | None, refusal: str
) -> None:
    req = c.parse_request(c.request_bytes(obj))
    assert d.serving_refusal(obj, req, node) == refusal


def test_the_serving_approval_says_why_and_the_signer_signs_it_for_server_auth() -> None:
    obj = serving_csr()
    cond = d.approved(obj, d.NODE_SERVING, "t")["status"]["conditions"][0]
    assert cond["reason"] == "AutoApproved"
    assert cond["message"].startswith("Auto approving kubelet serving certificate")
    step = d.signing_step(approved(obj))
    assert isinstance(step, d.Sign)
    assert step.usages == ("digital signature", "key encipherment", "server auth")
    failed = d.signing_step(approved(serving_csr(ips=(), dns=())))
    assert failed == d.Fail("DNS or IP subjectAltName is required")
