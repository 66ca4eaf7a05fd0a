"""CertificateSigningRequests in the registry: the requester recorded at create, the object
and its /approval and /status subresources each changing only what they may, validation in
the API server's words, and approval or signing refused without ``approve``/``sign``."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubelite.clock import ManualClock
from kubelite.registry.catalog import ALL_KINDS
from kubelite.registry.certificatesigningrequests import CERTIFICATESIGNINGREQUESTS as CSRS
from kubelite.registry.errors import Forbidden, Invalid
from kubelite.registry.rbac_escalation import REQUESTER, Requester
from kubelite.registry.rbac_policy import EMPTY_POLICY
from kubelite.registry.requestinfo import REQUEST, RequestInfo, RequestUser
from kubelite.registry.service import Registry
from kubelite.store.memory import MemoryStore

BOOTSTRAP = RequestUser(
    "system:bootstrap:abcdef", groups=("system:bootstrappers", "system:authenticated")
)


def pem(cn: str = "system:node:n1", org: str = "system:nodes") -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)])  # fmt: skip
    req = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    return base64.b64encode(req.public_bytes(serialization.Encoding.PEM)).decode()


def csr(name: str = "node-csr", **spec: Any) -> dict[str, Any]:
    base = {"request": pem(), "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
            "usages": ["digital signature", "client auth"]}  # fmt: skip
    return {"metadata": {"name": name}, "spec": {**base, **spec}}


@pytest.fixture
def reg() -> Registry:
    return Registry(store=MemoryStore(), clock=ManualClock(1000.0), kinds=ALL_KINDS)


@pytest.fixture
def as_bootstrapper() -> Iterator[None]:
    token = REQUEST.set(RequestInfo(BOOTSTRAP, 1000.0))
    yield
    REQUEST.reset(token)


async def test_create_records_the_requester_and_no_one_creates_an_approved_request(
    reg: Registry, as_bootstrapper: None
) -> None:
    obj = csr(username="system:admin", groups=["system:masters"])
    obj["status"] = {"conditions": [{"type": "Approved", "status": "True"}]}
    created = await reg.create(CSRS, "", obj)
    assert created["spec"]["username"] == "system:bootstrap:abcdef"
    assert created["spec"]["groups"] == ["system:bootstrappers", "system:authenticated"]
    assert created["status"] == {}


@pytest.mark.parametrize(
    ("case", "spec", "message"),
    [
        ("a request that is not a CSR", {"request": base64.b64encode(b"hi").decode()},
         "spec.request: Invalid value: []byte{0x68, 0x69}: PEM block type must be "
         "CERTIFICATE REQUEST"),
        ("no usages", {"usages": []}, "spec.usages: Required value: usages must be provided"),
        ("an unknown usage", {"usages": ["client auth", "flying"]},
         'spec.usages[1]: Unsupported value: "flying": supported values: "any"'),
        ("a repeated usage", {"usages": ["client auth", "client auth"]},
         'spec.usages[1]: Duplicate value: "client auth"'),
        ("no signer", {"signerName": ""},
         "spec.signerName: Required value: signerName must be provided"),
        ("the legacy signer", {"signerName": "kubernetes.io/legacy-unknown"},
         "the legacy signerName is not allowed via this API version"),
        ("an unqualified signer", {"signerName": "signer"},
         "must be a fully qualified domain and path of the form 'example.com/signer-name'"),
        ("a short duration", {"expirationSeconds": 599},
         "spec.expirationSeconds: Invalid value: 599: may not specify a duration less than "
         "600 seconds (10 minutes)"),
    ],
)  # fmt: skip
async def test_an_invalid_request_is_refused_with_the_api_servers_cause(
    reg: Registry, case: str, spec: dict[str, Any], message: str
) -> None:
    with pytest.raises(Invalid) as err:
        await reg.create(CSRS, "", csr(**spec))
    assert message in str(err.value)


async def test_approval_changes_only_the_conditions_and_stamps_their_times(
    reg: Registry, as_bootstrapper: None
) -> None:
    created = await reg.create(CSRS, "", csr())
    body = {**created, "spec": {**created["spec"], "signerName": "example.com/other"},
            "status": {"certificate": "Zm9v",
                       "conditions": [{"type": "Approved", "status": "True",
                                       "reason": "KubectlApprove", "message": "ok"}]}}  # fmt: skip
    approved = await reg.update(CSRS, "", "node-csr", body, subresource="approval")
    assert approved["spec"] == created["spec"]
    assert "certificate" not in approved["status"]
    [cond] = approved["status"]["conditions"]
    assert cond["lastUpdateTime"] == cond["lastTransitionTime"] == "1970-01-01T00:16:40Z"


async def test_the_object_itself_cannot_approve_and_status_cannot_touch_approval(
    reg: Registry,
) -> None:
    created = await reg.create(CSRS, "", csr())
    approving = {**created, "status": {"conditions": [{"type": "Approved", "status": "True"}]}}
    through_object = await reg.update(CSRS, "", "node-csr", approving)
    assert through_object["status"] == {}
    through_status = await reg.update(CSRS, "", "node-csr", approving, subresource="status")
    assert through_status["status"]["conditions"] == []


async def test_approved_and_denied_are_mutually_exclusive_and_never_removed(
    reg: Registry,
) -> None:
    created = await reg.create(CSRS, "", csr())
    both = [{"type": "Approved", "status": "True"}, {"type": "Denied", "status": "True"}]
    with pytest.raises(Invalid, match="mutually exclusive"):
        await reg.update(CSRS, "", "node-csr", {**created, "status": {"conditions": both}},
                         subresource="approval")  # fmt: skip
    approved = await reg.update(
        CSRS, "", "node-csr", {**created, "status": {"conditions": both[:1]}},
        subresource="approval",
    )  # fmt: skip
    with pytest.raises(Invalid, match='may not remove a condition of type "Approved"'):
        await reg.update(CSRS, "", "node-csr", {**approved, "status": {"conditions": []}},
                         subresource="approval")  # fmt: skip


async def test_a_certificate_is_set_once_through_status(reg: Registry) -> None:
    created = await reg.create(CSRS, "", csr())
    with pytest.raises(Invalid, match="must contain at least one CERTIFICATE PEM block"):
        await reg.update(CSRS, "", "node-csr", {**created, "status": {"certificate": "Zm9v"}},
                         subresource="status")  # fmt: skip


async def test_approving_needs_approve_on_the_signer(reg: Registry) -> None:
    created = await reg.create(CSRS, "", csr())
    token = REQUESTER.set(Requester(BOOTSTRAP, EMPTY_POLICY))
    try:
        with pytest.raises(Forbidden) as err:
            await reg.update(
                CSRS, "", "node-csr",
                {**created, "status": {"conditions": [{"type": "Approved", "status": "True"}]}},
                subresource="approval",
            )  # fmt: skip
    finally:
        REQUESTER.reset(token)
    assert str(err.value) == (
        'certificatesigningrequests.certificates.k8s.io "node-csr" is forbidden: user not '
        "permitted to approve requests with signerName "
        '"kubernetes.io/kube-apiserver-client-kubelet"'
    )


async def test_the_api_client_signer_never_issues_system_masters(reg: Registry) -> None:
    obj = csr(
        request=pem("eve", "system:masters"), signerName="kubernetes.io/kube-apiserver-client"
    )
    with pytest.raises(Forbidden, match="with system:masters group is not allowed"):
        await reg.create(CSRS, "", obj)


def test_the_table_shows_signer_requestor_duration_and_condition() -> None:
    obj = {"metadata": {"name": "csr-1", "creationTimestamp": "1970-01-01T00:00:00Z"},
           "spec": {"signerName": "kubernetes.io/kube-apiserver-client-kubelet",
                    "username": "system:bootstrap:abcdef", "expirationSeconds": 3600},
           "status": {"conditions": [{"type": "Approved", "status": "True"}],
                      "certificate": "Zm9v"}}  # fmt: skip
    assert [col.name for col in CSRS.columns()] == [
        "Name", "Age", "SignerName", "Requestor", "RequestedDuration", "Condition",
    ]  # fmt: skip
    assert CSRS.cells(obj, 30.0) == [
        "csr-1", "30s", "kubernetes.io/kube-apiserver-client-kubelet",
        "system:bootstrap:abcdef", "60m", "Approved,Issued",
    ]  # fmt: skip
