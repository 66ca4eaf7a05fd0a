"""RBAC through the HTTP API on the memory store: what a user may do follows the roles and
bindings (the API server's 403 bodies when not), the reviews ``kubectl auth`` sends, impersonation,
the escalation check, and AlwaysAllow when authentication is off.

Users other than the admin are reached through impersonation (the admin, in ``system:masters``,
may impersonate anyone) and through service-account tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from kubelite.api.server import ApiServer
from kubelite.registry.bootstrap import bootstrap
from kubelite.store.memory import MemoryStore
from tests.component.api.conftest import pod

NS = "/api/v1/namespaces/default"
RBAC = "/apis/rbac.authorization.k8s.io/v1"
AUTHZ = "/apis/authorization.k8s.io/v1"
AUTHN = "/apis/authentication.k8s.io/v1"
ADMIN = {"Authorization": "Bearer admin"}
G = "rbac.authorization.k8s.io"


def as_user(name: str) -> dict[str, str]:
    return {**ADMIN, "Impersonate-User": name}


def as_member(name: str, group: str) -> list[tuple[str, str]]:
    return [*ADMIN.items(), ("Impersonate-User", name), ("Impersonate-Group", group)]


@pytest.fixture
async def client() -> AsyncIterator[TestClient]:
    server = ApiServer(store=MemoryStore(), token="admin")
    await bootstrap(server.registry)
    async with TestClient(TestServer(server.app)) as c:
        yield c


async def call(
    c: TestClient, method: str, path: str, headers: Any = ADMIN, body: Any = None
) -> tuple[int, dict[str, Any]]:
    r = await c.request(method, path, headers=headers, json=body)
    return r.status, await r.json()


def binding(name: str, role: str, *subjects: dict[str, str], kind: str = "ClusterRole"):
    return {"metadata": {"name": name}, "roleRef": {"apiGroup": G, "kind": kind, "name": role},
            "subjects": list(subjects)}  # fmt: skip


def user(name: str) -> dict[str, str]:
    return {"apiGroup": G, "kind": "User", "name": name}


async def bind_view(c: TestClient, who: str = "bob") -> None:
    status, _ = await call(c, "POST", f"{NS.replace('/api/v1', RBAC)}/rolebindings",
                           body=binding(f"{who}-view", "view", user(who)))  # fmt: skip
    assert status == 201


def forbidden(message: str, **details: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": "Forbidden", "details": details, "code": 403}  # fmt: skip


# -- what a user may do --------------------------------------------------------------------------


async def test_a_user_with_a_view_binding_reads_pods_but_cannot_create_one(
    client: TestClient,
) -> None:
    await bind_view(client)
    assert (await call(client, "POST", f"{NS}/pods", body=pod()))[0] == 201
    status, listed = await call(client, "GET", f"{NS}/pods", as_user("bob"))
    assert status == 200 and [p["metadata"]["name"] for p in listed["items"]] == ["web"]
    assert await call(client, "POST", f"{NS}/pods", as_user("bob"), pod("x")) == (
        403,
        forbidden('pods is forbidden: User "bob" cannot create resource "pods" in API group "" '
                  'in the namespace "default"', kind="pods"),
    )  # fmt: skip


FORBIDDEN = [
    ("a named object", "DELETE", f"{NS}/pods/web",
     forbidden('pods "web" is forbidden: User "eve" cannot delete resource "pods" in API group '
               '"" in the namespace "default"', name="web", kind="pods")),
    ("a cluster-scoped list", "GET", "/api/v1/nodes",
     forbidden('nodes is forbidden: User "eve" cannot list resource "nodes" in API group "" at '
               "the cluster scope", kind="nodes")),
    ("a subresource", "GET", f"{NS}/pods/web/log",
     forbidden('pods "web" is forbidden: User "eve" cannot get resource "pods/log" in API '
               'group "" in the namespace "default"', name="web", kind="pods")),
    ("a resource of another group", "GET", f"{RBAC}/clusterroles/view",
     forbidden('clusterroles.rbac.authorization.k8s.io "view" is forbidden: User "eve" cannot '
               'get resource "clusterroles" in API group "rbac.authorization.k8s.io" at the '
               "cluster scope", name="view", group=G, kind="clusterroles")),
    ("a watch", "GET", f"{NS}/pods?watch=true",
     forbidden('pods is forbidden: User "eve" cannot watch resource "pods" in API group "" in '
               'the namespace "default"', kind="pods")),
    ("a list pinned to a name by its field selector", "GET",
     f"{NS}/pods?fieldSelector=metadata.name%3Dweb",
     forbidden('pods "web" is forbidden: User "eve" cannot list resource "pods" in API group '
               '"" in the namespace "default"', name="web", kind="pods")),
    ("a non-resource URL", "GET", "/metrics",
     forbidden('forbidden: User "eve" cannot get path "/metrics"')),
    ("a namespace, in its own namespace", "GET", "/api/v1/namespaces/kube-system",
     forbidden('namespaces "kube-system" is forbidden: User "eve" cannot get resource '
               '"namespaces" in API group "" in the namespace "kube-system"',
               name="kube-system", kind="namespaces")),
]  # fmt: skip


@pytest.mark.parametrize(("case", "method", "path", "want"), FORBIDDEN,
                         ids=[c[0] for c in FORBIDDEN])  # fmt: skip
async def test_the_403_texts_are_the_api_servers(
    client: TestClient, case: str, method: str, path: str, want: dict[str, Any]
) -> None:
    assert await call(client, method, path, as_user("eve")) == (403, want)


async def test_discovery_and_health_are_open_to_every_authenticated_user(
    client: TestClient,
) -> None:
    for path in ("/api", "/apis", "/api/v1", "/apis/rbac.authorization.k8s.io/v1", "/version"):
        r = await client.get(path, headers=as_user("eve"))
        assert r.status == 200, path
    assert (await client.get("/healthz")).status == 200  # anonymous: public-info-viewer


async def test_a_binding_to_a_missing_role_says_so_in_the_denial(client: TestClient) -> None:
    await call(client, "POST", f"{RBAC}/namespaces/default/rolebindings",
               body=binding("ghostly", "ghost", user("amy"), kind="Role"))  # fmt: skip
    status, body = await call(client, "GET", f"{NS}/pods", as_user("amy"))
    assert status == 403
    assert body["message"].endswith(': RBAC: role.rbac.authorization.k8s.io "ghost" not found')


async def test_a_grant_and_a_revocation_count_from_the_next_request(client: TestClient) -> None:
    assert (await call(client, "GET", f"{NS}/configmaps", as_user("bob")))[0] == 403
    await bind_view(client)
    assert (await call(client, "GET", f"{NS}/configmaps", as_user("bob")))[0] == 200
    await call(client, "DELETE", f"{RBAC}/namespaces/default/rolebindings/bob-view")
    assert (await call(client, "GET", f"{NS}/configmaps", as_user("bob")))[0] == 403


async def test_a_group_binding_applies_to_its_members(client: TestClient) -> None:
    group = {"apiGroup": G, "kind": "Group", "name": "dev"}
    await call(client, "POST", f"{RBAC}/clusterrolebindings", body=binding("devs", "view", group))
    assert (await call(client, "GET", "/api/v1/pods", as_member("amy", "dev")))[0] == 200
    assert (await call(client, "GET", "/api/v1/pods", as_user("amy")))[0] == 403


async def test_a_service_account_token_gets_what_its_account_is_bound_to(
    client: TestClient,
) -> None:
    r = await client.post(f"{NS}/serviceaccounts/default/token", json={"spec": {}}, headers=ADMIN)
    token = {"Authorization": f"Bearer {(await r.json())['status']['token']}"}
    status, body = await call(client, "GET", f"{NS}/pods", token)
    assert (status, body["message"]) == (
        403,
        'pods is forbidden: User "system:serviceaccount:default:default" cannot list resource '
        '"pods" in API group "" in the namespace "default"',
    )
    sa = {"kind": "ServiceAccount", "name": "default"}  # the binding's namespace by default
    await call(client, "POST", f"{RBAC}/namespaces/default/rolebindings",
               body=binding("sa-view", "view", sa))  # fmt: skip
    assert (await call(client, "GET", f"{NS}/pods", token))[0] == 200


# -- reviews ---------------------------------------------------------------------------------------


def access_review(**attrs: str) -> dict[str, Any]:
    return {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attrs}}  # fmt: skip


async def test_self_subject_access_review_answers_can_i(client: TestClient) -> None:
    await bind_view(client)
    path = f"{AUTHZ}/selfsubjectaccessreviews"
    review = access_review(namespace="default", verb="list", resource="pods")
    assert await call(client, "POST", path, as_user("bob"), review) == (201, {
        "kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "spec": {"resourceAttributes": {"namespace": "default", "verb": "list",
                                        "resource": "pods"}},
        "status": {"allowed": True, "reason": 'RBAC: allowed by RoleBinding "bob-view/default" '
                   'of ClusterRole "view" to User "bob"'},
    })  # fmt: skip
    no = access_review(namespace="default", verb="create", resource="pods")
    status, body = await call(client, "POST", path, as_user("bob"), no)
    assert (status, body["status"]) == (201, {"allowed": False})
    status, body = await call(client, "POST", path, ADMIN, no)
    assert body["status"] == {"allowed": True}


async def test_access_reviews_are_validated_with_the_api_servers_texts(
    client: TestClient,
) -> None:
    status, body = await call(client, "POST", f"{AUTHZ}/selfsubjectaccessreviews",
                              body={"spec": {}})  # fmt: skip
    assert (status, body["message"]) == (
        422,
        'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: '
        'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes '
        "must be specified",
    )
    no_user = {"spec": {"nonResourceAttributes": {"path": "/x", "verb": "get"}}}
    status, body = await call(client, "POST", f"{AUTHZ}/subjectaccessreviews", body=no_user)
    assert (status, body["details"]["causes"][0]["message"]) == (
        422, 'Invalid value: "": at least one of user or group must be specified'
    )  # fmt: skip


async def test_subject_access_review_asks_about_another_user(client: TestClient) -> None:
    await bind_view(client)
    spec = {"user": "bob", "resourceAttributes": {"namespace": "default", "verb": "get",
                                                  "resource": "pods"}}  # fmt: skip
    status, body = await call(client, "POST", f"{AUTHZ}/subjectaccessreviews",
                              body={"spec": spec})  # fmt: skip
    assert status == 201 and body["status"]["allowed"] is True
    local = f"{AUTHZ}/namespaces/kube-system/localsubjectaccessreviews"
    status, body = await call(client, "POST", local, body={"spec": spec})
    assert (status, body["message"]) == (
        400, "spec.resourceAttributes.namespace must match namespace: kube-system"
    )  # fmt: skip


async def test_rules_review_lists_what_the_user_holds(client: TestClient) -> None:
    await bind_view(client)
    status, body = await call(client, "POST", f"{AUTHZ}/selfsubjectrulesreviews",
                              as_user("bob"), {"spec": {"namespace": "default"}})  # fmt: skip
    assert status == 201 and body["spec"] == {"namespace": "default"}
    rules = body["status"]["resourceRules"]
    assert {
        "verbs": ["create"],
        "apiGroups": ["authorization.k8s.io"],
        "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
    } in rules
    assert any("pods" in r["resources"] and r["verbs"] == ["get", "list", "watch"]
               for r in rules)  # fmt: skip
    assert {"verbs": ["get"], "nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version",
                                                  "/version/"]} in body["status"]["nonResourceRules"]  # noqa: E501  # fmt: skip
    assert body["status"]["incomplete"] is False and "evaluationError" not in body["status"]


async def test_self_subject_review_says_who_the_token_is(client: TestClient) -> None:
    r = await client.post(f"{NS}/serviceaccounts/default/token", json={"spec": {}}, headers=ADMIN)
    token = (await r.json())["status"]["token"]
    status, body = await call(client, "POST", f"{AUTHN}/selfsubjectreviews",
                              {"Authorization": f"Bearer {token}"}, {})  # fmt: skip
    info = body["status"]["userInfo"]
    assert status == 201 and info["username"] == "system:serviceaccount:default:default"
    assert info["groups"] == ["system:serviceaccounts", "system:serviceaccounts:default",
                              "system:authenticated"]  # fmt: skip
    assert info["uid"] and "authentication.kubernetes.io/credential-id" in info["extra"]
    status, review = await call(client, "POST", f"{AUTHN}/tokenreviews",
                                body={"spec": {"token": token}})  # fmt: skip
    assert status == 201 and review["status"]["authenticated"] is True
    assert review["status"]["user"]["username"] == "system:serviceaccount:default:default"
    _, bad = await call(client, "POST", f"{AUTHN}/tokenreviews", body={"spec": {"token": "x"}})
    assert bad["status"] == {"user": {}, "error": "invalid bearer token"}


async def test_reviews_are_create_only_and_never_stored(client: TestClient) -> None:
    status, body = await call(client, "GET", f"{AUTHZ}/selfsubjectaccessreviews")
    assert (status, body["reason"]) == (405, "MethodNotAllowed")
    status, body = await call(client, "POST", f"{AUTHZ}/localsubjectaccessreviews", body={})
    assert (status, body["reason"]) == (404, "NotFound")  # only inside a namespace


# kubectl 1.32's body for ``kubectl auth can-i create pods`` (namespace "default")
CAN_I_CREATE_PODS = bytes.fromhex(
    "6b3873000a320a17617574686f72697a6174696f6e2e6b38732e696f2f763112"
    "1753656c665375626a656374416363657373526576696577123f0a100a001200"
    "1a0022002a003200380042001221 0a1f0a0764656661756c74120663726561"
    "74651a0022002a04706f647332003a001a0808001200 1a0020001a002200".replace(" ", "")
)


async def test_kubectls_protobuf_can_i_is_understood(client: TestClient) -> None:
    r = await client.post(
        f"{AUTHZ}/selfsubjectaccessreviews",
        data=CAN_I_CREATE_PODS,
        headers={**ADMIN, "Content-Type": "application/vnd.kubernetes.protobuf",
                 "Accept": "application/vnd.kubernetes.protobuf,application/json"},
    )  # fmt: skip
    answer = await r.json()
    assert r.status == 201 and answer["status"] == {"allowed": True}
    assert answer["spec"]["resourceAttributes"] == {"namespace": "default", "verb": "create",
                                                    "resource": "pods"}  # fmt: skip


# -- impersonation and escalation ----------------------------------------------------------------


async def test_impersonation_needs_the_impersonate_verb(client: TestClient) -> None:
    await bind_view(client)
    # an account without the impersonate verb may not act as alice
    r = await client.post(f"{NS}/serviceaccounts/default/token", json={"spec": {}}, headers=ADMIN)
    sa = {"Authorization": f"Bearer {(await r.json())['status']['token']}",
          "Impersonate-User": "alice"}  # fmt: skip
    assert await call(client, "GET", f"{NS}/pods", sa) == (403, forbidden(
        'users "alice" is forbidden: User "system:serviceaccount:default:default" cannot '
        'impersonate resource "users" in API group "" at the cluster scope',
        name="alice", kind="users"))  # fmt: skip
    assert (await call(client, "GET", f"{NS}/pods", as_user("bob")))[0] == 200  # the admin may
    status, body = await call(client, "GET", f"{NS}/pods",
                              {**ADMIN, "Impersonate-Group": "dev"})  # fmt: skip
    assert (status, body["reason"]) == (400, "BadRequest")


async def test_a_namespace_admin_cannot_grant_more_than_they_hold(client: TestClient) -> None:
    await call(client, "POST", f"{RBAC}/namespaces/default/rolebindings",
               body=binding("bob-admin", "admin", user("bob")))  # fmt: skip
    bindings = f"{RBAC}/namespaces/default/rolebindings"
    ok = binding("amy-view", "view", user("amy"))
    assert (await call(client, "POST", bindings, as_user("bob"), ok))[0] == 201
    status, body = await call(client, "POST", bindings, as_user("bob"),
                              binding("amy-root", "cluster-admin", user("amy")))  # fmt: skip
    assert (status, body["reason"], body["details"]) == (
        403, "Forbidden", {"name": "amy-root", "group": G, "kind": "rolebindings"}
    )  # fmt: skip
    assert body["message"] == (
        'rolebindings.rbac.authorization.k8s.io "amy-root" is forbidden: user "bob" '
        '(groups=["system:authenticated"]) is attempting to grant RBAC permissions not '
        'currently held:\n{APIGroups:["*"], Resources:["*"], Verbs:["*"]}\n'
        '{NonResourceURLs:["*"], Verbs:["*"]}'
    )


async def test_without_required_authentication_everything_is_allowed() -> None:
    server = ApiServer(store=MemoryStore(), require_auth=False)
    await bootstrap(server.registry)
    async with TestClient(TestServer(server.app)) as c:
        assert (await c.get("/api/v1/nodes")).status == 200
        r = await c.post(f"{AUTHZ}/selfsubjectaccessreviews",
                         json=access_review(verb="delete", resource="nodes"))  # fmt: skip
        assert (await r.json())["status"] == {"allowed": True}


async def test_role_names_may_hold_colons_as_the_default_roles_do(client: TestClient) -> None:
    role = {"metadata": {"name": "system:my-reader"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}  # fmt: skip
    status, body = await call(client, "POST", f"{RBAC}/clusterroles", body=role)
    assert status == 201, body
    status, body = await call(
        client, "PATCH", f"{RBAC}/clusterroles/system:discovery",
        headers={**ADMIN, "Content-Type": "application/merge-patch+json"},
        body={"metadata": {"labels": {"edited": "yes"}}},
    )  # fmt: skip
    assert status == 200, body
    status, body = await call(client, "POST", f"{RBAC}/clusterroles", body={
        "metadata": {"name": "a/b"}, "rules": []})  # fmt: skip
    assert status == 422 and "may not contain '/'" in body["message"], body
