"""The web view through HTTP, in process (the memory store, aiohttp's test client): its public
pages, the login exchange, the session cookie as a read-only credential under RBAC, the
``/ui/api/`` reads, logout, and new links for the admin."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer

from kubelite.api.server import ApiServer
from kubelite.registry.bootstrap import bootstrap
from kubelite.registry.pods import PODS
from kubelite.registry.rbac import CLUSTERROLEBINDINGS, CLUSTERROLES
from kubelite.store.memory import MemoryStore
from kubelite.ui import timelineview
from kubelite.ui.front import LINK_USED
from kubelite.ui.sessionauth import COOKIE, READ_ONLY

ADMIN = {"Authorization": "Bearer admin"}
UI = {"X-Kubelite-UI": "1"}
JSON = {**UI, "Content-Type": "application/json"}
POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web"},
    "spec": {"containers": [{"name": "app", "image": "busybox"}]},
}


@pytest.fixture
async def api() -> AsyncIterator[ApiServer]:
    server = ApiServer(store=MemoryStore(), token="admin")
    await bootstrap(server.registry)
    await server.registry.create(PODS, "default", dict(POD))
    server.ui.enable()
    yield server


@pytest.fixture
async def client(api: ApiServer) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(api.app)) as c:
        yield c


async def log_in(client: TestClient, api: ApiServer) -> dict[str, str]:
    """Redeems a fresh link; the headers the web view's scripts then send."""
    token = api.ui.login_path().rsplit("#", 1)[1]
    resp = await client.post("/ui/session", json={"token": token}, headers=UI)
    assert resp.status == 204, await resp.text()
    session_id = resp.cookies[COOKIE].value
    return {**UI, "Cookie": f"{COOKIE}={session_id}"}


async def status_of(resp: Any) -> tuple[int, str]:
    body = await resp.json()
    return resp.status, body["message"]


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/ui/", "text/html; charset=utf-8"),
        ("/ui/login", "text/html; charset=utf-8"),
        ("/ui/pods/default/web", "text/html; charset=utf-8"),
        ("/ui/static/pods.js", "text/javascript; charset=utf-8"),
        ("/ui/static/app.css", "text/css; charset=utf-8"),
    ],
)
async def test_pages_and_files_are_served_without_a_session(
    client: TestClient, path: str, content_type: str
) -> None:
    resp = await client.get(path)
    assert resp.status == 200
    assert resp.headers["Content-Type"] == content_type
    assert resp.headers["Content-Security-Policy"].startswith("default-src 'self'")


async def test_ui_redirects_to_its_folder(client: TestClient) -> None:
    resp = await client.get("/ui", allow_redirects=False)
    assert (resp.status, resp.headers["Location"]) == (308, "/ui/")


@pytest.mark.parametrize(
    "path", ["/ui/static/nothing.js", "/ui/static/index.html", "/ui/static/../webview.py"]
)
async def test_only_shipped_files_are_served(client: TestClient, path: str) -> None:
    assert (await client.get(path)).status == 404


async def test_a_file_the_browser_has_is_not_sent_again(client: TestClient) -> None:
    first = await client.get("/ui/static/api.js")
    again = await client.get("/ui/static/api.js", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status == 304


@pytest.mark.parametrize(
    "path",
    ["/ui/api/timeline/default/web.svg", "/ui/api/manifest/default/web.yaml", "/api/v1/pods"],
)
async def test_without_a_session_the_api_answers_401(client: TestClient, path: str) -> None:
    resp = await client.get(path, headers=UI)
    assert resp.status == 401


async def test_a_login_sets_a_strict_session_cookie(client: TestClient, api: ApiServer) -> None:
    token = api.ui.login_path().rsplit("#", 1)[1]
    resp = await client.post("/ui/session", json={"token": token}, headers=UI)
    assert resp.status == 204
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for attribute in ("Path=/", "Secure", "HttpOnly", "SameSite=Strict", "Max-Age=43200"):
        assert attribute in cookie.split("; ")
    assert resp.headers["Cache-Control"] == "no-store"


async def test_a_used_login_token_cannot_be_used_again(client: TestClient, api: ApiServer) -> None:
    token = api.ui.login_path().rsplit("#", 1)[1]
    first = await client.post("/ui/session", json={"token": token}, headers=UI)
    second = await client.post("/ui/session", json={"token": token}, headers=UI)
    assert first.status == 204
    assert await status_of(second) == (401, LINK_USED)
    assert COOKIE not in second.cookies


@pytest.mark.parametrize(
    ("headers", "body", "code"),
    [
        ({}, '{"token": "x"}', 403),  # no X-Kubelite-UI header: a plain form or image
        ({**JSON, "Origin": "https://evil.example"}, '{"token": "x"}', 403),
        ({**JSON, "Sec-Fetch-Site": "cross-site"}, '{"token": "x"}', 403),
        ({**UI, "Content-Type": "application/x-www-form-urlencoded"}, "token=x", 415),
        (JSON, "not json", 400),
    ],
    ids=["no header", "another origin", "another site", "a form", "not json"],
)
async def test_a_login_from_elsewhere_than_the_login_page_is_refused(
    client: TestClient, api: ApiServer, headers: Mapping[str, str], body: str, code: int
) -> None:
    token = api.ui.login_path().rsplit("#", 1)[1]
    resp = await client.post("/ui/session", data=body.replace("x", token), headers=headers)
    assert resp.status == code
    assert COOKIE not in resp.cookies


async def test_the_session_reads_through_the_api_as_the_web_view_user(
    client: TestClient, api: ApiServer
) -> None:
    session = await log_in(client, api)
    resp = await client.get("/api/v1/namespaces/default/pods", headers=session)
    assert resp.status == 200
    assert [p["metadata"]["name"] for p in (await resp.json())["items"]] == ["web"]
    review = await client.get("/apis/authentication.k8s.io/v1", headers=session)
    assert review.status == 200


async def test_the_session_gets_only_what_rbac_grants_its_user(
    client: TestClient, api: ApiServer
) -> None:
    session = await log_in(client, api)
    code, message = await status_of(
        await client.get("/api/v1/namespaces/default/secrets", headers=session)
    )
    assert code == 403
    assert message == (
        'secrets is forbidden: User "kubelite:ui" cannot list resource "secrets" in API group '
        '"" in the namespace "default"'
    )


async def test_the_cookie_without_the_header_is_no_credential(
    client: TestClient, api: ApiServer
) -> None:
    session = await log_in(client, api)
    cookie_only = {"Cookie": session["Cookie"]}
    assert (await client.get("/api/v1/pods", headers=cookie_only)).status == 401


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_a_mutation_through_the_session_is_refused(
    client: TestClient, api: ApiServer, method: str
) -> None:
    session = await log_in(client, api)
    path = "/api/v1/namespaces/default/pods" + ("" if method == "POST" else "/web")
    resp = await client.request(method, path, json=POD, headers=session)
    assert await status_of(resp) == (403, READ_ONLY)
    pod = await api.registry.get(PODS, "default", "web")
    assert pod["metadata"].get("deletionTimestamp") is None


async def test_the_first_login_grants_the_web_view_user_reads_only(
    client: TestClient, api: ApiServer
) -> None:
    await log_in(client, api)
    role = await api.registry.get(CLUSTERROLES, "", "kubelite:ui")
    binding = await api.registry.get(CLUSTERROLEBINDINGS, "", "kubelite:ui")
    verbs = {v for rule in role["rules"] for v in rule["verbs"]}
    assert verbs == {"get", "list", "watch"}
    assert binding["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "kubelite:ui"}
    ]


async def test_the_manifest_is_the_pod_as_yaml_without_managed_fields(
    client: TestClient, api: ApiServer
) -> None:
    session = await log_in(client, api)
    resp = await client.get("/ui/api/manifest/default/web.yaml", headers=session)
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "application/yaml; charset=utf-8"
    pod = yaml.safe_load(await resp.text())
    assert pod["metadata"]["name"] == "web" and "managedFields" not in pod["metadata"]


async def test_the_manifest_of_a_missing_pod_is_a_404(client: TestClient, api: ApiServer) -> None:
    session = await log_in(client, api)
    resp = await client.get("/ui/api/manifest/default/nope.yaml", headers=session)
    assert await status_of(resp) == (404, 'pods "nope" not found')


async def test_without_lifecycle_records_the_timeline_says_so(
    client: TestClient, api: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(timelineview.catalog, "find", lambda *a: None)
    session = await log_in(client, api)
    code, message = await status_of(
        await client.get("/ui/api/timeline/default/web.svg", headers=session)
    )
    assert code == 404 and message.startswith("no lifecycle record yet")


async def test_the_timeline_is_drawn_once_per_version_of_the_record(
    client: TestClient, api: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[str] = []

    def render(record: Mapping[str, Any], fmt: str) -> bytes:
        drawn.append(record["metadata"]["resourceVersion"])
        return b'<svg xmlns="http://www.w3.org/2000/svg"><g id="lane-app"/></svg>'

    # The pod stands in for its record: the route reads whatever kind the catalog names.
    monkeypatch.setattr(timelineview.catalog, "find", lambda *a: PODS)
    monkeypatch.setattr(timelineview, "default_render", lambda: render)
    session = await log_in(client, api)
    for _ in range(2):
        resp = await client.get("/ui/api/timeline/default/web.svg", headers=session)
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "image/svg+xml"
        assert "sandbox" in resp.headers["Content-Security-Policy"]
        assert b'id="lane-app"' in await resp.read()
    assert len(drawn) == 1


async def test_logout_ends_the_session(client: TestClient, api: ApiServer) -> None:
    session = await log_in(client, api)
    resp = await client.post("/ui/logout", json={}, headers=session)
    assert resp.status == 204
    assert "Max-Age=0" in resp.headers["Set-Cookie"]
    assert (await client.get("/api/v1/pods", headers=session)).status == 401


async def test_the_admin_gets_a_new_link_and_a_session_does_not(
    client: TestClient, api: ApiServer
) -> None:
    resp = await client.post("/ui/api/links", headers=ADMIN)
    assert resp.status == 200
    body = await resp.json()
    assert body["path"].startswith("/ui/login#") and body["expiresInSeconds"] == 600
    token = body["path"].rsplit("#", 1)[1]
    login = await client.post("/ui/session", json={"token": token}, headers=UI)
    assert login.status == 204
    session = {**UI, "Cookie": f"{COOKIE}={login.cookies[COOKIE].value}"}
    assert await status_of(await client.post("/ui/api/links", headers=session)) == (403, READ_ONLY)


async def test_while_off_the_web_view_serves_nothing_and_takes_no_cookie(
    client: TestClient, api: ApiServer
) -> None:
    session = await log_in(client, api)
    api.ui.authenticator.enabled = False
    assert (await client.get("/ui/")).status in (401, 404)
    assert (await client.get("/api/v1/pods", headers=session)).status == 401
    assert (await client.post("/ui/api/links", headers=ADMIN)).status == 404
