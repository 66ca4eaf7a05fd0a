"""The API source says when its initial state is in: SYNCED once, after the first listing's
pods, and not again when a broken watch makes it relist (housekeeping waits for it)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from kubelite.agent import apiclient
from kubelite.agent.apiclient import ApiNodeClient, Endpoint
from kubelite.agent.envvars import NodeFacts
from kubelite.agent.sources import UpdateKind
from kubelite.api.pki import ensure_pki
from kubelite.clock import ManualClock


def _pod(name: str) -> dict[str, object]:
    return {"metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"}}


class FakeApi:
    """Lists ``listings`` in turn; the first watch fails with 410 Gone, later ones hang."""

    def __init__(self, *listings: list[str]) -> None:
        self.listings = list(listings)
        self.watches = 0
        self.selectors: list[str] = []
        self.app = web.Application()
        self.app.router.add_get("/api/v1/pods", self.pods)

    async def pods(self, request: web.Request) -> web.StreamResponse:
        self.selectors.append(request.query.get("fieldSelector", ""))
        if "watch" not in request.query:
            names = self.listings.pop(0)
            body = {"metadata": {"resourceVersion": "7"}, "items": [_pod(n) for n in names]}
            return web.json_response(body)
        self.watches += 1
        resp = web.StreamResponse()
        await resp.prepare(request)
        if self.watches == 1:
            gone = {"type": "ERROR", "object": {"kind": "Status", "code": 410}}
            await resp.write(json.dumps(gone).encode() + b"\n")
            return resp
        await asyncio.Event().wait()  # a quiet watch
        return resp


async def test_synced_follows_the_first_listing_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(apiclient, "RETRY_SECONDS", 0.0)
    api = FakeApi(["a", "b"], ["b", "c"])
    pki = ensure_pki(tmp_path / "pki")
    async with TestServer(api.app) as server:
        client = ApiNodeClient(
            endpoint=Endpoint(str(server.make_url("")), pki.ca_cert, "token"),
            node=NodeFacts(node_name="node-1", host_ip="10.0.0.1", cpu="1", memory="1Gi"),
            clock=ManualClock(),
        )
        seen: list[tuple[str, str]] = []
        updates = client.updates()
        try:
            async with asyncio.timeout(10):
                async for u in updates:
                    seen.append((u.kind.value, u.pod.get("metadata", {}).get("name", "")))
                    if u.kind is UpdateKind.SET and u.pod["metadata"]["name"] == "c":
                        break
        finally:
            await updates.aclose()
            await client.close()
    assert seen == [
        ("set", "a"),
        ("set", "b"),
        ("synced", ""),
        ("removed", "a"),
        ("set", "b"),
        ("set", "c"),
    ]
    assert api.selectors[0] == "spec.nodeName=node-1"
