"""The node agent's control plane over HTTPS: any Kubernetes API server, ``kubelite up``'s
included, spoken to exactly as a kubelet speaks to it.

* pods: list + watch ``/api/v1/pods?fieldSelector=spec.nodeName=<node>`` (relist on 410);
  SYNCED once the first listing has been delivered;
* status: JSON merge patch of ``pods/<name>/status``;
* final delete: ``DELETE`` with grace 0 and a uid precondition (TERM-4);
* events: core/v1 Events, repeats counted by patching ``count`` and ``lastTimestamp``;
* the node: registered with its capacity, heartbeat through a Lease in ``kube-node-lease``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp

from kubelite.agent.envvars import NodeFacts
from kubelite.agent.eventtext import Event
from kubelite.agent.sources import Pod, PodUpdate, UpdateKind, synced
from kubelite.clock import Clock, rfc3339, rfc3339_micro

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0
LEASE_SECONDS = 40
RENEW_SECONDS = 10.0
MERGE = "application/merge-patch+json"


class ApiFailure(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"{status}: {body[:300]}")
        self.status = status


@dataclass(frozen=True, slots=True)
class Endpoint:
    url: str
    ca_cert: Path
    token: str


class ApiNodeClient:
    """``NodeClient`` over the Kubernetes REST API."""

    def __init__(self, *, endpoint: Endpoint, node: NodeFacts, clock: Clock) -> None:
        self._ep = endpoint
        self._node = node
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None
        self._events: dict[tuple[str, str, str, str, str], tuple[str, int]] = {}

    # ------------------------------------------------------------------ plumbing

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            ctx = ssl.create_default_context(cafile=str(self._ep.ca_cert))
            self._session = aiohttp.ClientSession(
                base_url=self._ep.url,
                headers={"Authorization": f"Bearer {self._ep.token}",
                         "User-Agent": "kubelite-agent"},
                connector=aiohttp.TCPConnector(ssl=ctx),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=10),
            )  # fmt: skip
        return self._session

    async def _call(
        self, method: str, path: str, body: Any = None, *, ctype: str = "application/json"
    ) -> dict[str, Any] | None:
        """One request; None for 404; ApiFailure for any other error status."""
        data = json.dumps(body) if body is not None else None
        headers = {"Content-Type": ctype} if data is not None else {}
        async with self._http().request(method, path, data=data, headers=headers) as resp:
            text = await resp.text()
            if resp.status == 404:
                return None
            if resp.status >= 400:
                raise ApiFailure(resp.status, text)
            return json.loads(text) if text else {}

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ------------------------------------------------------------------ PodSource

    async def updates(self) -> AsyncIterator[PodUpdate]:
        selector = quote(f"spec.nodeName={self._node.node_name}")
        known: dict[str, Pod] = {}
        listed = False
        while True:
            try:
                listing = await self._call("GET", f"/api/v1/pods?fieldSelector={selector}")
                assert listing is not None
                current = {p["metadata"]["uid"]: p for p in listing.get("items") or []}
                for uid, pod in known.items():
                    if uid not in current:
                        yield PodUpdate(UpdateKind.REMOVED, pod)
                for pod in current.values():
                    yield PodUpdate(UpdateKind.SET, pod)
                known = current
                if not listed:  # the node's pods as the API had them at start: all delivered
                    listed = True
                    yield synced()
                rv = listing.get("metadata", {}).get("resourceVersion", "")
                async for kind, pod in self._watch(selector, rv):
                    uid = pod["metadata"]["uid"]
                    if kind == "DELETED":
                        known.pop(uid, None)
                        yield PodUpdate(UpdateKind.REMOVED, pod)
                    else:
                        known[uid] = pod
                        yield PodUpdate(UpdateKind.SET, pod)
            except (aiohttp.ClientError, ApiFailure, OSError, TimeoutError) as err:
                log.info("pod watch interrupted (%s); relisting", err)
                await asyncio.sleep(RETRY_SECONDS)

    async def _watch(self, selector: str, rv: str) -> AsyncIterator[tuple[str, Pod]]:
        path = (f"/api/v1/pods?watch=1&fieldSelector={selector}&resourceVersion={rv}"
                "&allowWatchBookmarks=true&timeoutSeconds=600")  # fmt: skip
        async with self._http().get(path) as resp:
            if resp.status >= 400:
                raise ApiFailure(resp.status, await resp.text())
            async for line in resp.content:
                if not line.strip():
                    continue
                event = json.loads(line)
                kind = event.get("type")
                if kind == "ERROR":  # 410 Gone and friends: relist
                    raise ApiFailure(int(event["object"].get("code") or 500), str(event))
                if kind in ("ADDED", "MODIFIED", "DELETED"):
                    yield kind, event["object"]

    # ------------------------------------------------------------------ ObjectLookup

    async def get_configmap(self, namespace: str, name: str) -> dict[str, Any] | None:
        return await self._call("GET", f"/api/v1/namespaces/{namespace}/configmaps/{name}")

    async def get_secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        return await self._call("GET", f"/api/v1/namespaces/{namespace}/secrets/{name}")

    # ------------------------------------------------------------------ StatusWriter

    async def write_status(self, pod: Pod, status: dict[str, Any]) -> None:
        meta = pod["metadata"]
        old = pod.get("status") or {}
        patch = {"status": {**{k: None for k in old if k not in status}, **status}}
        path = f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}/status"
        try:
            await self._call("PATCH", path, patch, ctype=MERGE)
        except ApiFailure as err:
            log.warning("status of %s/%s not written: %s", meta["namespace"], meta["name"], err)
        pod["status"] = status

    async def finish_deletion(self, pod: Pod) -> None:
        meta = pod["metadata"]
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0,
                "preconditions": {"uid": meta["uid"]}}  # fmt: skip
        path = f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}"
        try:
            await self._call("DELETE", path, body)
        except ApiFailure as err:
            if err.status != 409:  # 409: a new pod of that name already (uid precondition)
                log.warning("final delete of %s/%s: %s", meta["namespace"], meta["name"], err)

    # ------------------------------------------------------------------ EventSink

    async def emit(self, pod: Pod, event: Event) -> None:
        meta = pod["metadata"]
        ns = meta.get("namespace", "default")
        key = (meta.get("uid", ""), event.field_path, event.reason, event.message, event.type)
        now = rfc3339(self._clock.now())
        try:
            seen = self._events.get(key)
            if seen is not None:
                name, count = seen
                patch = {"count": count + 1, "lastTimestamp": now}
                path = f"/api/v1/namespaces/{ns}/events/{name}"
                if await self._call("PATCH", path, patch, ctype=MERGE) is not None:
                    self._events[key] = (name, count + 1)
                    return
            name = f"{meta.get('name', '')}.{secrets.token_hex(8)}"
            body = self._event_body(pod, event, name, now)
            await self._call("POST", f"/api/v1/namespaces/{ns}/events", body)
            self._events[key] = (name, 1)
        except (ApiFailure, aiohttp.ClientError, OSError) as err:
            log.info("event %s for %s not posted: %s", event.reason, meta.get("name"), err)

    def _event_body(self, pod: Pod, event: Event, name: str, now: str) -> dict[str, Any]:
        meta = pod["metadata"]
        involved: dict[str, Any] = {
            "kind": "Pod", "namespace": meta.get("namespace", "default"),
            "name": meta.get("name", ""), "uid": meta.get("uid", ""), "apiVersion": "v1",
            "resourceVersion": meta.get("resourceVersion", ""),
        }  # fmt: skip
        if event.field_path:
            involved["fieldPath"] = event.field_path
        return {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": involved["namespace"]},
            "involvedObject": involved, "reason": event.reason, "message": event.message,
            "type": event.type, "count": 1, "firstTimestamp": now, "lastTimestamp": now,
            "source": {"component": event.source, "host": self._node.node_name},
            "reportingComponent": event.source, "reportingInstance": self._node.node_name,
        }  # fmt: skip

    # ------------------------------------------------------------------ the node

    async def register_node(self, node_object: dict[str, Any]) -> None:
        """Create the Node, or refresh its status if it exists (the kubelet's registration)."""
        name = self._node.node_name
        existing = await self._call("GET", f"/api/v1/nodes/{name}")
        if existing is None:
            await self._call("POST", "/api/v1/nodes", node_object)
        else:
            patch = {"status": node_object["status"]}
            await self._call("PATCH", f"/api/v1/nodes/{name}/status", patch, ctype=MERGE)

    async def heartbeat(self) -> None:
        """Renew the node's Lease every 10 s for as long as the agent runs."""
        name = self._node.node_name
        path = f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{name}"
        while True:
            spec = {"holderIdentity": name, "leaseDurationSeconds": LEASE_SECONDS,
                    "renewTime": rfc3339_micro(self._clock.now())}  # fmt: skip
            try:
                if await self._call("PATCH", path, {"spec": spec}, ctype=MERGE) is None:
                    body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                            "metadata": {"name": name, "namespace": "kube-node-lease"},
                            "spec": spec}  # fmt: skip
                    await self._call(
                        "POST",
                        "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
                        body,
                    )
            except (ApiFailure, aiohttp.ClientError, OSError) as err:
                log.info("lease not renewed: %s", err)
            await self._clock.sleep(RENEW_SECONDS)
