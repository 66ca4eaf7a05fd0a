"""What the authorizer is asked for each request (the API server's request info), the 403
texts it answers with, the impersonation checks a request needs, the protobuf bodies kubectl
sends for the RBAC kinds and reviews, and the kubeconfig of a new user."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.x509.oid import NameOID
from multidict import CIMultiDict, CIMultiDictProxy

from kubelite.api.auth import UserInfo
from kubelite.api.authz import forbidden_message
from kubelite.api.authz_impersonate import _checks
from kubelite.api.authz_request import request_attributes
from kubelite.api.errors import ApiError
from kubelite.api.pki import ensure_pki
from kubelite.api.protobuf import MAGIC, decode
from kubelite.commands.kubeconfig import render
from kubelite.registry.rbac_rules import Attributes

NS = "/api/v1/namespaces/default"


def a(verb: str, resource: str = "", **kw: str) -> Attributes:
    return Attributes(verb=verb, resource=resource, **kw)


def url(verb: str, path: str) -> Attributes:
    return Attributes(verb=verb, resource_request=False, path=path)


REQUESTS = [
    ("GET of a named object is get", "GET", f"{NS}/pods/web", {},
     a("get", "pods", name="web", namespace="default", api_version="v1")),
    ("GET of a collection is list", "GET", f"{NS}/pods", {},
     a("list", "pods", namespace="default", api_version="v1")),
    ("watch=true makes it a watch", "GET", f"{NS}/pods", {"watch": "true"},
     a("watch", "pods", namespace="default", api_version="v1")),
    ("watch=false does not", "GET", f"{NS}/pods", {"watch": "false"},
     a("list", "pods", namespace="default", api_version="v1")),
    ("a field selector on the name names the object", "GET", f"{NS}/pods",
     {"fieldSelector": "metadata.name=web", "watch": "1"},
     a("watch", "pods", name="web", namespace="default", api_version="v1")),
    ("every namespace is a cluster-wide list", "GET", "/api/v1/pods", {},
     a("list", "pods", api_version="v1")),
    ("the legacy watch prefix", "GET", "/api/v1/watch/namespaces/default/pods", {},
     a("watch", "pods", namespace="default", api_version="v1")),
    ("POST is create", "POST", f"{NS}/pods", {},
     a("create", "pods", namespace="default", api_version="v1")),
    ("PUT is update, with the subresource", "PUT", f"{NS}/pods/web/status", {},
     a("update", "pods", subresource="status", name="web", namespace="default",
       api_version="v1")),
    ("PATCH is patch", "PATCH", "/api/v1/nodes/n1", {}, a("patch", "nodes", name="n1",
                                                          api_version="v1")),
    ("DELETE of a collection is deletecollection", "DELETE", f"{NS}/pods", {},
     a("deletecollection", "pods", namespace="default", api_version="v1")),
    ("exec over a websocket is a get of pods/exec", "GET", f"{NS}/pods/web/exec", {},
     a("get", "pods", subresource="exec", name="web", namespace="default", api_version="v1")),
    ("a namespace is in its own namespace", "GET", "/api/v1/namespaces/team", {},
     a("get", "namespaces", name="team", namespace="team", api_version="v1")),
    ("a namespace's status is its subresource", "PUT", "/api/v1/namespaces/team/status", {},
     a("update", "namespaces", subresource="status", name="team", namespace="team",
       api_version="v1")),
    ("a group's resource", "GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles/view", {},
     a("get", "clusterroles", name="view", api_group="rbac.authorization.k8s.io",
       api_version="v1")),
    ("discovery of a version is no resource", "GET", "/api/v1", {}, url("get", "/api/v1")),
    ("nor of a group version", "GET", "/apis/apps/v1", {}, url("get", "/apis/apps/v1")),
    ("health checks are paths", "GET", "/healthz", {}, url("get", "/healthz")),
    ("the verb of a path is its method", "POST", "/openapi/v3", {}, url("post", "/openapi/v3")),
]  # fmt: skip


@pytest.mark.parametrize(("case", "method", "path", "query", "want"), REQUESTS,
                         ids=[c[0] for c in REQUESTS])  # fmt: skip
def test_request_attributes(case: str, method: str, path: str, query: dict[str, str],
                            want: Attributes) -> None:  # fmt: skip
    assert request_attributes(method, path, query) == want


BOB = UserInfo("bob")

MESSAGES = [
    ("namespaced", a("list", "pods", namespace="default"),
     'User "bob" cannot list resource "pods" in API group "" in the namespace "default"'),
    ("cluster-wide", a("list", "nodes"),
     'User "bob" cannot list resource "nodes" in API group "" at the cluster scope'),
    ("a subresource", a("create", "pods", subresource="exec", namespace="d"),
     'User "bob" cannot create resource "pods/exec" in API group "" in the namespace "d"'),
    ("another group", a("get", "deployments", api_group="apps"),
     'User "bob" cannot get resource "deployments" in API group "apps" at the cluster scope'),
    ("a path", url("get", "/metrics"), 'User "bob" cannot get path "/metrics"'),
]  # fmt: skip


@pytest.mark.parametrize(("case", "attrs", "want"), MESSAGES, ids=[c[0] for c in MESSAGES])
def test_forbidden_messages(case: str, attrs: Attributes, want: str) -> None:
    assert forbidden_message(BOB, attrs) == want


def headers(*pairs: tuple[str, str]) -> CIMultiDictProxy[str]:
    return CIMultiDictProxy(CIMultiDict(pairs))


def test_no_impersonation_headers_ask_for_nothing() -> None:
    assert _checks(headers(("Accept", "*/*"))) == ([], None)


def test_impersonating_a_user_and_groups_checks_each() -> None:
    checks, user = _checks(headers(("Impersonate-User", "amy"), ("Impersonate-Group", "dev"),
                                   ("Impersonate-Extra-Scopes", "view")))  # fmt: skip
    assert [(c.resource, c.subresource, c.name) for c in checks] == [
        ("users", "", "amy"), ("groups", "", "dev"), ("userextras", "scopes", "view")
    ]  # fmt: skip
    assert user == UserInfo("amy", groups=("dev", "system:authenticated"),
                            extra={"scopes": ("view",)})  # fmt: skip


def test_impersonating_a_service_account_gives_its_groups() -> None:
    checks, user = _checks(headers(("Impersonate-User", "system:serviceaccount:team:ci")))
    assert (checks[0].resource, checks[0].namespace, checks[0].name) == (
        "serviceaccounts", "team", "ci"
    )  # fmt: skip
    assert user is not None and user.groups == (
        "system:serviceaccounts", "system:serviceaccounts:team", "system:authenticated"
    )  # fmt: skip


def test_anonymous_stays_unauthenticated_and_groups_need_a_user() -> None:
    _, anon = _checks(headers(("Impersonate-User", "system:anonymous")))
    assert anon is not None and anon.groups == ("system:unauthenticated",)
    with pytest.raises(ApiError, match="without impersonating a user"):
        _checks(headers(("Impersonate-Group", "dev")))


# -- protobuf bodies -------------------------------------------------------------------------------


def field(number: int, payload: bytes) -> bytes:
    assert len(payload) < 128
    return bytes([(number << 3) | 2, len(payload)]) + payload


def envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    type_meta = field(1, api_version.encode()) + field(2, kind.encode())
    return MAGIC + field(1, type_meta) + field(2, raw)


def test_a_protobuf_role_keeps_the_core_groups_empty_string() -> None:
    meta = field(1, field(1, b"reader") + field(3, b"team"))
    rule = field(1, b"get") + field(1, b"list") + field(2, b"") + field(3, b"pods")
    obj = decode(envelope("rbac.authorization.k8s.io/v1", "Role", meta + field(2, rule)))
    assert obj == {
        "metadata": {"name": "reader", "namespace": "team"},
        "rules": [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}],
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
    }  # fmt: skip


def test_a_protobuf_binding_drops_empty_scalars() -> None:
    user = field(1, b"User") + field(2, b"rbac.authorization.k8s.io") + field(3, b"bob")
    sa = field(1, b"ServiceAccount") + field(2, b"") + field(3, b"ci") + field(4, b"team")
    ref = field(1, b"rbac.authorization.k8s.io") + field(2, b"ClusterRole") + field(3, b"view")
    raw = field(1, field(1, b"b")) + field(2, user) + field(2, sa) + field(3, ref)
    obj = decode(envelope("rbac.authorization.k8s.io/v1", "RoleBinding", raw))
    assert obj["subjects"] == [
        {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "bob"},
        {"kind": "ServiceAccount", "name": "ci", "namespace": "team"},
    ]
    assert obj["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                              "name": "view"}  # fmt: skip


def test_a_protobuf_access_review_keeps_empty_attributes_as_set() -> None:
    spec = field(2, field(1, b"/healthz") + field(2, b"get"))
    obj = decode(envelope("authorization.k8s.io/v1", "SelfSubjectAccessReview", field(2, spec)))
    assert obj["spec"] == {"nonResourceAttributes": {"path": "/healthz", "verb": "get"}}
    empty = decode(envelope("authorization.k8s.io/v1", "SubjectAccessReview",
                            field(2, field(1, b"") + field(3, b"amy"))))  # fmt: skip
    assert empty["spec"] == {"resourceAttributes": {}, "user": "amy"}


def test_a_protobuf_whoami_has_no_spec() -> None:
    obj = decode(envelope("authentication.k8s.io/v1", "SelfSubjectReview", field(1, b"")))
    assert obj == {"spec": {}, "metadata": {}, "apiVersion": "authentication.k8s.io/v1",
                   "kind": "SelfSubjectReview"}  # fmt: skip


# -- kubeconfig --user -----------------------------------------------------------------------------


def test_a_users_kubeconfig_carries_a_certificate_for_that_user_and_groups(
    tmp_path: Path,
) -> None:
    pki = ensure_pki(tmp_path / "pki")
    config = yaml.safe_load(render(pki, host="127.0.0.1", port=6443, user_name="bob",
                                   groups=["dev", "ops"]))  # fmt: skip
    assert config["users"][0]["name"] == "bob"
    assert config["contexts"][0]["context"]["user"] == "bob"
    pem = base64.b64decode(config["users"][0]["user"]["client-certificate-data"])
    cert = x509.load_pem_x509_certificate(pem)
    subject = cert.subject
    assert [a.value for a in subject.get_attributes_for_oid(NameOID.COMMON_NAME)] == ["bob"]
    assert [a.value for a in subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == [
        "dev", "ops"
    ]  # fmt: skip
    ca = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    assert cert.issuer == ca.subject
    cert.verify_directly_issued_by(ca)
