"""Service accounts through the HTTP API on the memory store: TokenRequest round trips (JSON
and kubectl's protobuf) and their errors, the volume admission gives a pod, requests that
authenticate with a service-account token, discovery of ``serviceaccounts/token``, and the
root CA publisher filling a new namespace."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from kubelite.api.auth import user_of
from kubelite.api.discovery import AGGREGATED_V2
from kubelite.api.pki import ensure_pki
from kubelite.api.server import ApiServer
from kubelite.client.rest import ApiClient, Credentials
from kubelite.clock import ManualClock, parse_rfc3339
from kubelite.controllers.rootca import RootCAPublisher
from kubelite.registry.bootstrap import bootstrap
from kubelite.registry.rbac import CLUSTERROLEBINDINGS
from kubelite.store.memory import MemoryStore
from tests.component.api.conftest import pod
from tests.unit.api.test_tokenrequest_body import body as protobuf_body

NS = "/api/v1/namespaces/default"
TOKEN = f"{NS}/serviceaccounts/default/token"
ISSUER = "https://kubernetes.default.svc.cluster.local"
T0 = 1_700_000_000.0


async def post(client: TestClient, path: str, body: Any) -> tuple[int, dict[str, Any]]:
    r = await client.post(path, json=body)
    return r.status, await r.json()


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})  # type: ignore[no-any-return]


# -- TokenRequest --------------------------------------------------------------------------------


async def test_a_token_request_answers_a_signed_token_for_the_apis_audience(
    client: TestClient, api: ApiServer
) -> None:
    status, answer = await post(client, TOKEN, {"spec": {}})
    assert status == 201
    assert (answer["kind"], answer["apiVersion"]) == ("TokenRequest", "authentication.k8s.io/v1")
    assert answer["metadata"]["name"] == "default" and answer["metadata"]["namespace"] == "default"
    assert answer["spec"] == {"audiences": [ISSUER], "expirationSeconds": 3600,
                              "boundObjectRef": None}  # fmt: skip
    created = parse_rfc3339(answer["metadata"]["creationTimestamp"])
    expires = parse_rfc3339(answer["status"]["expirationTimestamp"])
    assert expires - created == 3600
    claims = claims_of(answer["status"]["token"])
    account = await (await client.get(f"{NS}/serviceaccounts/default")).json()
    assert claims["sub"] == "system:serviceaccount:default:default"
    assert claims["iss"] == ISSUER and claims["aud"] == [ISSUER]
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["kubernetes.io"] == {
        "namespace": "default",
        "serviceaccount": {"name": "default", "uid": account["metadata"]["uid"]},
    }
    assert api.issuer.verify(answer["status"]["token"], now=created).subject.namespace == "default"


async def test_kubectls_protobuf_token_request_is_understood(client: TestClient) -> None:
    spec = bytes.fromhex("0a0261610a026262209c0e")  # --audience=aa --audience=bb --duration=30m
    r = await client.post(
        TOKEN,
        data=protobuf_body(spec),
        headers={"Content-Type": "application/vnd.kubernetes.protobuf",
                 "Accept": "application/vnd.kubernetes.protobuf,application/json"},
    )  # fmt: skip
    answer = await r.json()
    assert r.status == 201
    assert answer["spec"]["audiences"] == ["aa", "bb"]
    assert answer["spec"]["expirationSeconds"] == 1820
    assert claims_of(answer["status"]["token"])["aud"] == ["aa", "bb"]


async def bound_pod(client: TestClient, node: bool = True) -> dict[str, Any]:
    if node:
        await post(client, "/api/v1/nodes", {"metadata": {"name": "node-1"}})
    status, created = await post(client, f"{NS}/pods", pod())
    assert status == 201
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "web"},
               "target": {"kind": "Node", "name": "node-1"}}  # fmt: skip
    await post(client, f"{NS}/pods/web/binding", binding)
    return created


async def test_the_kubelets_request_for_its_volume_gets_a_year_long_token_bound_to_pod_and_node(
    client: TestClient,
) -> None:
    created = await bound_pod(client)
    node = await (await client.get("/api/v1/nodes/node-1")).json()
    ref = {"apiVersion": "v1", "kind": "Pod", "name": "web", "uid": created["metadata"]["uid"]}
    status, answer = await post(
        client, TOKEN, {"spec": {"expirationSeconds": 3607, "boundObjectRef": ref}}
    )
    assert status == 201
    assert answer["spec"]["boundObjectRef"] == ref
    issued = parse_rfc3339(answer["metadata"]["creationTimestamp"])
    assert parse_rfc3339(answer["status"]["expirationTimestamp"]) - issued == 3607
    claims = claims_of(answer["status"]["token"])
    assert claims["exp"] - claims["iat"] == 365 * 24 * 3600
    private = claims["kubernetes.io"]
    assert private["warnafter"] - claims["iat"] == 3607
    assert private["pod"] == {"name": "web", "uid": created["metadata"]["uid"]}
    assert private["node"] == {"name": "node-1", "uid": node["metadata"]["uid"]}


@pytest.mark.parametrize(
    ("path", "spec", "code", "message"),
    [
        (f"{NS}/serviceaccounts/ghost/token", {}, 404, 'serviceaccounts "ghost" not found'),
        (TOKEN, {"expirationSeconds": 60}, 422,
         'TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid '
         "value: 60: may not specify a duration less than 10 minutes"),
        (TOKEN, {"boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "nope"}}, 404,
         'pods "nope" not found'),
        (TOKEN, {"boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "web",
                                    "uid": "stale"}}, 409,
         'Operation cannot be fulfilled on Pod "web": the UID in the bound object reference '
         "(stale) does not match the UID in record. The object might have been deleted and "
         "then recreated"),
        (TOKEN, {"boundObjectRef": {"kind": "Deployment", "apiVersion": "apps/v1",
                                    "name": "web"}}, 400,
         'cannot bind token for serviceaccount "default" to object of type apps/v1, '
         "Kind=Deployment"),
    ],
)  # fmt: skip
async def test_token_requests_are_refused_with_the_api_servers_texts(
    client: TestClient, path: str, spec: dict[str, Any], code: int, message: str
) -> None:
    await bound_pod(client, node=False)
    status, answer = await post(client, path, {"spec": spec})
    assert (status, answer["message"]) == (code, message)


async def test_a_token_for_another_accounts_pod_is_a_bad_request(client: TestClient) -> None:
    await bound_pod(client, node=False)
    await post(client, f"{NS}/serviceaccounts", {"metadata": {"name": "robot"}})
    ref = {"kind": "Pod", "apiVersion": "v1", "name": "web"}
    status, answer = await post(
        client, f"{NS}/serviceaccounts/robot/token", {"spec": {"boundObjectRef": ref}}
    )
    assert (status, answer["message"]) == (
        400,
        'cannot bind token for serviceaccount "robot" to pod running with different '
        "serviceaccount name.",
    )


async def test_a_body_naming_another_account_is_invalid(client: TestClient) -> None:
    status, answer = await post(client, TOKEN, {"metadata": {"name": "other"}, "spec": {}})
    assert (status, answer["message"]) == (
        422,
        'TokenRequest.authentication.k8s.io "default" is invalid: metadata.name: Invalid '
        'value: "other": must match the service account name if specified',
    )


# -- the pod side of admission -------------------------------------------------------------------


@pytest.mark.parametrize("dry_run", [False, True])
async def test_a_pod_created_through_the_api_gets_the_token_volume_and_mounts(
    client: TestClient, dry_run: bool
) -> None:
    path = f"{NS}/pods" + ("?dryRun=All" if dry_run else "")
    status, created = await post(client, path, pod())
    assert status == 201
    spec = created["spec"]
    (volume,) = spec["volumes"]
    assert volume["name"].startswith("kube-api-access-")
    assert spec["containers"][0]["volumeMounts"] == [
        {"name": volume["name"], "readOnly": True,
         "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}
    ]  # fmt: skip
    assert (spec["serviceAccountName"], spec["serviceAccount"]) == ("default", "default")


async def test_a_pod_of_a_missing_account_is_forbidden(client: TestClient) -> None:
    status, answer = await post(client, f"{NS}/pods", pod(serviceAccountName="ghost"))
    assert (status, answer["reason"], answer["message"]) == (
        403,
        "Forbidden",
        'pods "web" is forbidden: error looking up service account default/ghost: '
        'serviceaccount "ghost" not found',
    )


async def test_an_account_that_opts_out_gives_no_volume(client: TestClient) -> None:
    account = {"metadata": {"name": "quiet"}, "automountServiceAccountToken": False}
    await post(client, f"{NS}/serviceaccounts", account)
    status, created = await post(client, f"{NS}/pods", pod(serviceAccountName="quiet"))
    assert status == 201 and "volumes" not in created["spec"]


# -- authenticating with a token -----------------------------------------------------------------


async def whoami(request: web.Request) -> web.Response:
    user = user_of(request)
    return web.json_response({"name": user.name, "groups": list(user.groups)})


@pytest.fixture
async def secured() -> AsyncIterator[tuple[TestClient, ManualClock]]:
    """A server that requires authentication (admin token ``admin``), on a manual clock. RBAC
    applies, so the default account is bound to ``cluster-admin``: these tests are about who a
    token authenticates as, not about what it may do."""
    clock = ManualClock(T0)
    server = ApiServer(store=MemoryStore(), token="admin", clock=clock)
    await bootstrap(server.registry)
    await server.registry.create(CLUSTERROLEBINDINGS, "", {
        "metadata": {"name": "accounts-may-do-anything"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": "cluster-admin"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "default"}],
    })  # fmt: skip
    server.app.router.add_get("/test/whoami", whoami)
    async with TestClient(TestServer(server.app)) as c:
        yield c, clock


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_service_account_token_authenticates_as_its_account(
    secured: tuple[TestClient, ManualClock],
) -> None:
    client, _ = secured
    admin = bearer("admin")
    r = await client.post(TOKEN, json={"spec": {}}, headers=admin)
    token = (await r.json())["status"]["token"]
    r = await client.get(f"{NS}/pods", headers=bearer(token))
    assert r.status == 200
    who = await (await client.get("/test/whoami", headers=bearer(token))).json()
    assert who == {
        "name": "system:serviceaccount:default:default",
        "groups": ["system:serviceaccounts", "system:serviceaccounts:default",
                   "system:authenticated"],
    }  # fmt: skip
    admin_who = await (await client.get("/test/whoami", headers=admin)).json()
    assert admin_who["name"] == "kubelite-admin"
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    r = await client.get(f"{NS}/pods", headers=bearer(tampered))
    assert (r.status, (await r.json())["message"]) == (401, "Unauthorized")


async def test_a_pod_bound_token_stops_working_once_its_pod_is_deleted(
    secured: tuple[TestClient, ManualClock],
) -> None:
    client, clock = secured
    admin = bearer("admin")
    created = await (await client.post(f"{NS}/pods", json=pod(), headers=admin)).json()
    ref = {"kind": "Pod", "apiVersion": "v1", "name": "web", "uid": created["metadata"]["uid"]}
    r = await client.post(TOKEN, json={"spec": {"boundObjectRef": ref}}, headers=admin)
    token = (await r.json())["status"]["token"]
    assert (await client.get(f"{NS}/pods", headers=bearer(token))).status == 200
    await client.delete(f"{NS}/pods/web", headers=admin)  # unscheduled: gone at once
    await clock.advance(11)  # past the authenticator's 10 s cache
    assert (await client.get(f"{NS}/pods", headers=bearer(token))).status == 401


async def test_an_expired_token_is_unauthorized(secured: tuple[TestClient, ManualClock]) -> None:
    client, clock = secured
    r = await client.post(TOKEN, json={"spec": {"expirationSeconds": 600}}, headers=bearer("admin"))
    token = (await r.json())["status"]["token"]
    await clock.advance(600 + 61)
    assert (await client.get(f"{NS}/pods", headers=bearer(token))).status == 401


# -- discovery -----------------------------------------------------------------------------------


async def test_discovery_lists_the_token_subresource(client: TestClient) -> None:
    legacy = await (await client.get("/api/v1")).json()
    token = next(r for r in legacy["resources"] if r["name"] == "serviceaccounts/token")
    assert token == {
        "name": "serviceaccounts/token",
        "singularName": "",
        "namespaced": True,
        "group": "authentication.k8s.io",
        "version": "v1",
        "kind": "TokenRequest",
        "verbs": ["create"],
    }
    r = await client.get("/api", headers={"Accept": AGGREGATED_V2})
    resources = (await r.json())["items"][0]["versions"][0]["resources"]
    sa = next(x for x in resources if x["resource"] == "serviceaccounts")
    assert sa["subresources"] == [
        {
            "subresource": "token",
            "responseKind": {"group": "authentication.k8s.io", "version": "v1",
                             "kind": "TokenRequest"},
            "verbs": ["create"],
        }
    ]  # fmt: skip


# -- the root CA publisher -----------------------------------------------------------------------


async def until(check: Any, within: float = 10.0) -> Any:
    async with asyncio.timeout(within):
        while True:
            got = await check()
            if got:
                return got
            await asyncio.sleep(0.02)


async def test_the_root_ca_publisher_fills_new_namespaces_and_repairs_edits(
    tmp_path: Path,
) -> None:
    server = ApiServer(store=MemoryStore(), require_auth=False)
    await bootstrap(server.registry)
    pki = ensure_pki(tmp_path / "pki")
    ca = pki.ca_cert.read_text()
    async with TestServer(server.app) as http, TestClient(http) as client:
        rest = ApiClient(Credentials(str(http.make_url("")), pki.ca_cert, "unused"))
        publisher = asyncio.create_task(RootCAPublisher(rest, ca=ca).run())

        async def published(ns: str) -> dict[str, Any] | None:
            r = await client.get(f"/api/v1/namespaces/{ns}/configmaps/kube-root-ca.crt")
            got = await r.json()
            return got if r.status == 200 and got.get("data") == {"ca.crt": ca} else None

        try:
            first = await until(lambda: published("kube-system"))
            assert first["metadata"]["annotations"]["kubernetes.io/description"].startswith(
                "Contains a CA bundle"
            )
            await client.post("/api/v1/namespaces", json={"metadata": {"name": "fresh"}})
            await until(lambda: published("fresh"))
            cm = "/api/v1/namespaces/fresh/configmaps/kube-root-ca.crt"
            await client.patch(
                cm,
                json={"data": {"ca.crt": "tampered"}},
                headers={"Content-Type": "application/merge-patch+json"},
            )
            await until(lambda: published("fresh"))
            before = (await published("fresh") or {})["metadata"]["uid"]
            await client.delete(cm)
            again = await until(lambda: published("fresh"))
            assert again["metadata"]["uid"] != before
        finally:
            publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await publisher
            await rest.close()
