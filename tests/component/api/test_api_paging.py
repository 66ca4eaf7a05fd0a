"""List paging (issue 11, item 6): ``limit`` and ``continue`` as the API server serves them,
``remainingItemCount``, a consistent read across pages, and the 410 for a token whose revision
is gone, which carries a token to go on at the current revision."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from kubelite.api.server import ApiServer
from kubelite.registry.pods import PODS, bind
from tests.component.api.conftest import pod

PODS_URL = "/api/v1/namespaces/default/pods"
TABLE = {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}


async def make_pods(client: TestClient, count: int) -> None:
    for i in range(count):
        assert (await client.post(PODS_URL, json=pod(f"p{i:02d}"))).status == 201


async def page(client: TestClient, limit: int, token: str) -> dict[str, Any]:
    resp = await client.get(PODS_URL, params={"limit": str(limit), "continue": token})
    body: dict[str, Any] = await resp.json()
    return body


def names(body: dict[str, Any]) -> list[str]:
    return [o["metadata"]["name"] for o in body["items"]]


async def test_pages_of_a_list_follow_each_other_with_a_remaining_count(
    client: TestClient,
) -> None:
    await make_pods(client, 5)
    first = await (await client.get(PODS_URL, params={"limit": "2"})).json()
    assert names(first) == ["p00", "p01"]
    assert first["metadata"]["remainingItemCount"] == 3
    token = first["metadata"]["continue"]
    second = await (await client.get(PODS_URL, params={"limit": "2", "continue": token})).json()
    assert names(second) == ["p02", "p03"]
    assert second["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    third = await (
        await client.get(
            PODS_URL, params={"limit": "2", "continue": second["metadata"]["continue"]}
        )
    ).json()
    assert names(third) == ["p04"]
    assert "continue" not in third["metadata"] and "remainingItemCount" not in third["metadata"]


async def test_later_pages_show_the_list_as_it_was_when_the_first_was_read(
    client: TestClient,
) -> None:
    await make_pods(client, 4)
    first = await (await client.get(PODS_URL, params={"limit": "2"})).json()
    await client.delete(f"{PODS_URL}/p03")
    await client.post(PODS_URL, json=pod("p02b"))
    rest = await (
        await client.get(
            PODS_URL, params={"limit": "10", "continue": first["metadata"]["continue"]}
        )
    ).json()
    assert names(rest) == ["p02", "p03"]


async def test_a_token_whose_revision_is_gone_is_410_with_a_token_for_the_current_one(
    client: TestClient, api: ApiServer
) -> None:
    await make_pods(client, 3)
    first = await (await client.get(PODS_URL, params={"limit": "1"})).json()
    await client.post(PODS_URL, json=pod("p09"))
    await api.store.compact(api.store.current_revision())
    resp = await client.get(
        PODS_URL, params={"limit": "1", "continue": first["metadata"]["continue"]}
    )
    body = await resp.json()
    assert (resp.status, body["reason"]) == (410, "Expired")
    assert body["message"].startswith(
        "The provided continue parameter is too old to display a consistent list result."
    )
    again = await page(client, 10, body["metadata"]["continue"])
    assert names(again) == ["p01", "p02", "p09"]


async def test_a_bad_token_and_a_token_with_a_resource_version_are_400s(client: TestClient) -> None:
    await make_pods(client, 2)
    resp = await client.get(PODS_URL, params={"limit": "1", "continue": "%%%"})
    body = await resp.json()
    assert (resp.status, body["message"]) == (
        400,
        "invalid continue token: continue key is not valid: illegal base64 data at input byte 0",
    )
    token = (await (await client.get(PODS_URL, params={"limit": "1"})).json())["metadata"][
        "continue"
    ]
    resp = await client.get(PODS_URL, params={"continue": token, "resourceVersion": "5"})
    assert (resp.status, (await resp.json())["message"]) == (
        400,
        "specifying resource version is not allowed when using continue",
    )


async def test_a_selector_limits_what_counts_and_gives_no_remaining_count(
    client: TestClient, api: ApiServer
) -> None:
    await make_pods(client, 6)
    for i in (1, 3, 5):
        await bind(api.registry, "default", f"p{i:02d}", "node-a")
    q = {"limit": "2", "fieldSelector": "spec.nodeName=node-a"}
    first = await (await client.get(PODS_URL, params=q)).json()
    assert names(first) == ["p01", "p03"] and "remainingItemCount" not in first["metadata"]
    rest = await (
        await client.get(PODS_URL, params={**q, "continue": first["metadata"]["continue"]})
    ).json()
    assert names(rest) == ["p05"]
    everywhere = await (
        await client.get("/api/v1/pods", params={"fieldSelector": "spec.nodeName=node-a"})
    ).json()
    assert names(everywhere) == ["p01", "p03", "p05"]
    assert (await api.registry.get(PODS, "default", "p00"))["spec"].get("nodeName") is None


async def test_a_table_page_carries_the_continue_token(client: TestClient) -> None:
    await make_pods(client, 3)
    table = await (await client.get(PODS_URL, params={"limit": "2"}, headers=TABLE)).json()
    assert [r["cells"][0] for r in table["rows"]] == ["p00", "p01"]
    assert table["metadata"]["continue"] and table["metadata"]["remainingItemCount"] == 1
