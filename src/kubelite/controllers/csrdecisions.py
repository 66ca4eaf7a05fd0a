"""What the CSR approving and signing controllers do with one CertificateSigningRequest. Pure.

Approving (``csrapproving``, the controller manager's sarapprove): a request not yet approved,
denied or issued that is recognized as a kubelet's client certificate request is approved if
its requester may ``create`` ``certificatesigningrequests/selfnodeclient`` (a node renewing its
own certificate) or ``.../nodeclient`` (a bootstrapping node), as a SubjectAccessReview says;
the condition is ``Approved``/``AutoApproved`` with upstream's message.

A kubelet's serving certificate request (``kubernetes.io/kubelet-serving``, a node's
``serverTLSBootstrap``) is one upstream never approves by itself; kubelite does, but only when
``serving_refusal`` finds nothing wrong: a well-formed request (the signer's rules), made by
the node it names (``system:node:<name>`` in ``system:nodes``), whose every alternative name is
one of that Node's own addresses (IPs among its InternalIP/ExternalIP, DNS names among its
Hostname/InternalDNS/ExternalDNS), so a node cannot get a certificate for another's address.

Signing (``csrsigning``): an approved request, not failed nor issued, for a signer kubelite
runs is checked against that signer's rules and either signed (``Sign``) or marked
``Failed``/``SignerValidationFailure`` with the reason.
"""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from kubelite.model import csr as c
from kubelite.model.objects import JSON, Obj

SELF_NODE_CLIENT = "selfnodeclient"
NODE_CLIENT = "nodeclient"
NODE_SERVING = "nodeserving"  # kubelite's own: no permission is reviewed for it
MESSAGES = {
    SELF_NODE_CLIENT: "Auto approving self kubelet client certificate after SubjectAccessReview.",
    NODE_CLIENT: "Auto approving kubelet client certificate after SubjectAccessReview.",
    NODE_SERVING: "Auto approving kubelet serving certificate: requested by the node itself "
    "for its own addresses.",
}
AUTO_APPROVED = "AutoApproved"
SIGNER_VALIDATION_FAILURE = "SignerValidationFailure"
CLIENT_USAGES = frozenset({"digital signature", "key encipherment", "client auth"})
SIGNERS = (c.KUBELET_CLIENT_SIGNER, c.APISERVER_CLIENT_SIGNER, c.KUBELET_SERVING_SIGNER)
SERVING_USAGES = frozenset({"digital signature", "key encipherment", "server auth"})
SERVING_USAGES_NO_RSA = frozenset({"digital signature", "server auth"})
IP_ADDRESS_TYPES = frozenset({"InternalIP", "ExternalIP"})
DNS_ADDRESS_TYPES = frozenset({"Hostname", "InternalDNS", "ExternalDNS"})


def undecided(csr: JSON) -> bool:
    """Neither approved, denied nor issued: something for the approver to look at."""
    a = c.approval(csr)
    return not (a.approved or a.denied or c.issued(csr))


def recognized_as(csr: JSON, req: x509.CertificateSigningRequest) -> list[str]:
    """The ``certificatesigningrequests/<sub>`` permissions to check, in the order tried."""
    out = []
    if c.is_self_node_client(csr, req):
        out.append(SELF_NODE_CLIENT)
    if c.is_node_client(csr, req):
        out.append(NODE_CLIENT)
    return out


def subject_access_review(csr: JSON, subresource: str) -> Obj:
    """The review asking whether the requester may ``create`` the recognized subresource."""
    spec = csr.get("spec") or {}
    review: Obj = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": spec.get("username") or "",
            "groups": list(spec.get("groups") or []),
            "resourceAttributes": {
                "group": c.GROUP,
                "resource": "certificatesigningrequests",
                "verb": "create",
                "subresource": subresource,
            },
        },
    }
    if spec.get("uid"):
        review["spec"]["uid"] = spec["uid"]
    if spec.get("extra"):
        review["spec"]["extra"] = copy.deepcopy(spec["extra"])
    return review


def with_condition(csr: JSON, kind: str, reason: str, message: str, stamp: str) -> Obj:
    """``csr`` with one more condition, stamped ``stamp``."""
    out = copy.deepcopy(dict(csr))
    status = out.setdefault("status", {})
    conds = list(status.get("conditions") or [])
    conds.append({"type": kind, "status": "True", "reason": reason, "message": message,
                  "lastUpdateTime": stamp, "lastTransitionTime": stamp})  # fmt: skip
    status["conditions"] = conds
    return out


def approved(csr: JSON, subresource: str, stamp: str) -> Obj:
    return with_condition(csr, c.APPROVED, AUTO_APPROVED, MESSAGES[subresource], stamp)


@dataclass(frozen=True, slots=True)
class Sign:
    request_pem: bytes
    usages: tuple[str, ...]
    seconds: float


@dataclass(frozen=True, slots=True)
class Fail:
    message: str


def signing_step(csr: JSON, cap: float = c.DEFAULT_SIGNING_SECONDS) -> Sign | Fail | None:
    """What the signer does with ``csr`` (None: nothing, it is not its to sign yet)."""
    a = c.approval(csr)
    if not a.approved or a.denied or c.has_condition(csr, c.FAILED) or c.issued(csr):
        return None
    signer = c.signer_of(csr)
    if signer not in SIGNERS:
        return None
    pem = c.request_bytes(csr)
    try:
        req = c.parse_request(pem)
    except c.CsrError as err:
        return Fail(f"unable to parse csr: {err}")
    usages = c.usages_of(csr)
    problem = _problem(signer, req, usages)
    if problem:
        return Fail(problem)
    spec: dict[str, Any] = dict(csr.get("spec") or {})
    return Sign(pem, tuple(usages), c.signing_seconds(spec.get("expirationSeconds"), cap))


def _problem(signer: str, req: x509.CertificateSigningRequest, usages: list[str]) -> str:
    if signer == c.KUBELET_CLIENT_SIGNER:
        return c.kubelet_client_problem(req, usages)
    if signer == c.KUBELET_SERVING_SIGNER:
        return serving_problem(req, usages)
    if "client auth" not in usages or not set(usages) <= CLIENT_USAGES:
        return f"invalid usage for client certificate: {', '.join(sorted(set(usages)))}"
    return ""


# ---------------------------------------------------------------------------- serving


def _sans(req: x509.CertificateSigningRequest) -> x509.SubjectAlternativeName | None:
    try:
        return req.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None


def serving_names(req: x509.CertificateSigningRequest) -> tuple[list[str], list[str]]:
    """The request's DNS names and IP addresses (as text)."""
    san = _sans(req)
    if san is None:
        return [], []
    ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    return list(san.get_values_for_type(x509.DNSName)), ips


def serving_problem(req: x509.CertificateSigningRequest, usages: Iterable[str]) -> str:
    """Why ``req`` is not a kubelet serving certificate request ("" if it is), in the order and
    words of upstream's ``ValidateKubeletServingCSR``."""
    if c.organizations(req) != [c.NODES_GROUP]:
        return "subject organization is not system:nodes"
    dns, ips = serving_names(req)
    if not dns and not ips:
        return "DNS or IP subjectAltName is required"
    san = _sans(req)
    if san is not None and san.get_values_for_type(x509.RFC822Name):
        return "Email subjectAltNames are not allowed"
    if san is not None and san.get_values_for_type(x509.UniformResourceIdentifier):
        return "URI subjectAltNames are not allowed"
    wanted = frozenset(usages)
    if wanted not in (SERVING_USAGES, SERVING_USAGES_NO_RSA):
        return f"usages did not match [{' '.join(sorted(SERVING_USAGES))}]"
    if not c.common_name(req).startswith(c.NODE_USER_PREFIX):
        return "subject common name does not begin with system:node:"
    return ""


def is_serving_request(csr: JSON) -> bool:
    return c.signer_of(csr) == c.KUBELET_SERVING_SIGNER


def requesting_node(csr: JSON) -> str:
    """The node that made the request ("" if its requester is not a node)."""
    spec = csr.get("spec") or {}
    user = str(spec.get("username") or "")
    if not user.startswith(c.NODE_USER_PREFIX) or c.NODES_GROUP not in (spec.get("groups") or []):
        return ""
    return user[len(c.NODE_USER_PREFIX) :]


def _addresses(node: JSON, types: frozenset[str]) -> set[str]:
    found = set()
    for entry in (node.get("status") or {}).get("addresses") or []:
        if isinstance(entry, dict) and entry.get("type") in types and entry.get("address"):
            found.add(str(entry["address"]))
    return found


def _same_ip(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return False


def serving_refusal(csr: JSON, req: x509.CertificateSigningRequest, node: JSON | None) -> str:
    """Why kubelite's approver leaves a serving request pending ("" to approve it): it must
    be well formed, made by the node it names, and name only that Node's own addresses."""
    problem = serving_problem(req, c.usages_of(csr))
    if problem:
        return problem
    name = requesting_node(csr)
    if not name:
        return "not requested by a node"
    if c.common_name(req) != c.NODE_USER_PREFIX + name:
        return f"the subject is not the requesting node {name}"
    if node is None:
        return f"node {name} is not registered"
    dns, ips = serving_names(req)
    own_ips = _addresses(node, IP_ADDRESS_TYPES)
    for ip in ips:
        if not any(_same_ip(ip, mine) for mine in own_ips):
            return f"IP address {ip} is not an address of node {name}"
    own_names = _addresses(node, DNS_ADDRESS_TYPES)
    for dns_name in dns:
        if dns_name not in own_names:
            return f"DNS name {dns_name} is not an address of node {name}"
    return ""
