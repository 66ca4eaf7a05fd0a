"""The ``ephemeralcontainers`` subresource through HTTP, as ``kubectl debug`` drives it
(VAL-21): discovery, the strategic merge patch kubectl 1.32 sends, the API server's 422 with
field causes for forbidden fields, only the ephemeral containers taken from a write, and the
protobuf Pod of ``kubectl debug --copy-to``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.component.api.conftest import pod
from tests.unit.api.test_protobuf_tables import COPY_TO

PODS = "/api/v1/namespaces/default/pods"
SUB = f"{PODS}/web/ephemeralcontainers"
SMP = {"Content-Type": "application/strategic-merge-patch+json"}
FORBIDDEN = "Forbidden: cannot be set for an Ephemeral Container"


def debugger(**extra: Any) -> dict[str, Any]:
    """The container kubectl debug -it --target=app --image=busybox:1.36 -- sh adds."""
    return {
        "name": "debugger-x1", "image": "busybox:1.36", "command": ["sh"], "resources": {},
        "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent", "stdin": True,
        "tty": True, "targetContainerName": "app", **extra,
    }  # fmt: skip


def patch_of(*containers: dict[str, Any]) -> str:
    return json.dumps({"spec": {"ephemeralContainers": list(containers)}})


@pytest.fixture
async def web(client: TestClient) -> dict[str, Any]:
    r = await client.post(PODS, json=pod("web"))
    assert r.status == 201
    return dict(await r.json())


async def test_discovery_lists_the_subresource_with_the_api_servers_verbs(
    client: TestClient,
) -> None:
    resources = (await (await client.get("/api/v1")).json())["resources"]
    entry = next(r for r in resources if r["name"] == "pods/ephemeralcontainers")
    assert (entry["kind"], sorted(entry["verbs"])) == ("Pod", ["get", "patch", "update"])


async def test_kubectl_debugs_patch_adds_a_defaulted_ephemeral_container(
    client: TestClient, web: dict[str, Any]
) -> None:
    r = await client.patch(SUB, data=patch_of(debugger()), headers=SMP)
    assert r.status == 200
    body = await r.json()
    (added,) = body["spec"]["ephemeralContainers"]
    assert added["terminationMessagePath"] == "/dev/termination-log"
    assert added["targetContainerName"] == "app" and added["stdin"] is True
    again = await (await client.get(SUB)).json()
    assert again["kind"] == "Pod" and again["spec"]["ephemeralContainers"] == [added]
    assert again["metadata"]["resourceVersion"] != web["metadata"]["resourceVersion"]


async def test_a_second_debug_container_joins_the_first(
    client: TestClient, web: dict[str, Any]
) -> None:
    await client.patch(SUB, data=patch_of(debugger()), headers=SMP)
    r = await client.patch(SUB, data=patch_of(debugger(name="debugger-x2")), headers=SMP)
    names = [c["name"] for c in (await r.json())["spec"]["ephemeralContainers"]]
    assert r.status == 200 and names == ["debugger-x1", "debugger-x2"]


async def test_forbidden_fields_get_the_api_servers_422_and_the_server_keeps_serving(
    client: TestClient, web: dict[str, Any]
) -> None:
    bad = debugger(ports=[{"containerPort": 80}], readinessProbe={"tcpSocket": {"port": 80}},
                   resources={"limits": {"cpu": "1"}})  # fmt: skip
    r = await client.patch(SUB, data=patch_of(bad), headers=SMP)
    body = await r.json()
    assert r.status == 422 and body["reason"] == "Invalid"
    assert body["details"]["name"] == "web" and body["details"]["kind"] == "Pod"
    causes = [(c["reason"], c["field"], c["message"]) for c in body["details"]["causes"]]
    at = "spec.ephemeralContainers[0]"
    assert causes == [
        ("FieldValueForbidden", f"{at}.ports", FORBIDDEN),
        ("FieldValueForbidden", f"{at}.resources", FORBIDDEN),
        ("FieldValueForbidden", f"{at}.readinessProbe", FORBIDDEN),
    ]
    assert body["message"].startswith('Pod "web" is invalid: [spec.ephemeralContainers[0].ports')
    r = await client.get(f"{PODS}/web")
    assert r.status == 200 and "ephemeralContainers" not in (await r.json())["spec"]


async def test_an_unknown_target_is_not_found(client: TestClient, web: dict[str, Any]) -> None:
    r = await client.patch(SUB, data=patch_of(debugger(targetContainerName="nginx")), headers=SMP)
    cause = (await r.json())["details"]["causes"][0]
    assert r.status == 422
    assert (cause["field"], cause["message"]) == (
        "spec.ephemeralContainers[0].targetContainerName",
        'Not found: "nginx"',
    )


async def test_a_put_takes_only_the_ephemeral_containers_of_its_body(
    client: TestClient, web: dict[str, Any]
) -> None:
    sent = json.loads(json.dumps(web))
    sent["spec"]["containers"][0]["image"] = "busybox:1.37"
    sent["metadata"]["labels"] = {"changed": "yes"}
    sent["spec"]["ephemeralContainers"] = [debugger()]
    r = await client.put(SUB, json=sent)
    assert r.status == 200
    body = await r.json()
    assert body["spec"]["containers"][0]["image"] == "busybox:1.36"
    assert body["metadata"]["labels"] == {"app": "web"}
    assert [c["name"] for c in body["spec"]["ephemeralContainers"]] == ["debugger-x1"]


async def test_an_existing_one_may_not_be_removed(client: TestClient, web: dict[str, Any]) -> None:
    current = await (await client.patch(SUB, data=patch_of(debugger()), headers=SMP)).json()
    current["spec"]["ephemeralContainers"] = []
    r = await client.put(SUB, json=current)
    cause = (await r.json())["details"]["causes"][0]
    assert r.status == 422
    assert cause["message"] == (
        'Forbidden: existing ephemeral containers "debugger-x1" may not be removed\n'
    )


async def test_a_missing_pod_is_a_404_that_names_it(
    client: TestClient, web: dict[str, Any]
) -> None:
    """kubectl reads an unnamed 404 as "ephemeral containers are disabled" (and 1.32 panics on
    a 404 without details); a missing pod's 404 names the pod."""
    r = await client.patch(f"{PODS}/gone/ephemeralcontainers", data=patch_of(debugger()),
                           headers=SMP)  # fmt: skip
    body = await r.json()
    assert r.status == 404 and body["details"]["name"] == "gone"


@pytest.mark.parametrize("method", ["POST", "DELETE"])
async def test_only_get_patch_and_update_are_allowed(
    client: TestClient, web: dict[str, Any], method: str
) -> None:
    r = await client.request(method, SUB, json={})
    assert r.status == 405


async def test_a_regular_update_cannot_add_one(client: TestClient, web: dict[str, Any]) -> None:
    r = await client.patch(f"{PODS}/web", data=patch_of(debugger()), headers=SMP)
    cause = (await r.json())["details"]["causes"][0]
    assert r.status == 422 and cause["field"] == "spec"
    assert cause["message"].startswith("Forbidden: pod updates may not change fields")


async def test_a_create_cannot_carry_one(client: TestClient) -> None:
    r = await client.post(PODS, json=pod("p2", ephemeralContainers=[debugger()]))
    causes = [c["field"] for c in (await r.json())["details"]["causes"]]
    assert r.status == 422 and causes == ["spec.ephemeralContainers"]


async def test_kubectl_debug_copy_to_creates_its_pod_from_protobuf(client: TestClient) -> None:
    r = await client.post(
        PODS + "?fieldManager=kubectl-debug",
        data=COPY_TO,
        headers={"Content-Type": "application/vnd.kubernetes.protobuf",
                 "Accept": "application/vnd.kubernetes.protobuf,application/json"},
    )  # fmt: skip
    body = await r.json()
    assert r.status == 201, body
    assert body["metadata"]["name"] == "web-debug" and body["spec"]["shareProcessNamespace"]
    sc = body["spec"]["containers"][1]["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False and sc["runAsNonRoot"] is True
