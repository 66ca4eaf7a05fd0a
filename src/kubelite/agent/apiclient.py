"""The node agent's control plane over HTTPS: any Kubernetes API server, ``kubelite up``'s
included, spoken to exactly as a kubelet speaks to it.

* pods: list + watch ``/api/v1/pods?fieldSelector=spec.nodeName=<node>`` (relist on 410);
  SYNCED once the first listing has been delivered;
* status: JSON merge patch of ``pods/<name>/status``;
* final delete: ``DELETE`` with grace 0 and a uid precondition (TERM-4);
* events: core/v1 Events, repeats counted by patching ``count`` and ``lastTimestamp``;
* the node: registered with its capacity (condition transition times kept from the Node
  already there; NotReady until its pod network is made, ``report_ready``), heartbeat
  through a Lease in ``kube-node-lease`` every 10 s, and its status reported again every
  5 min (the kubelet's nodeStatusReportFrequency), which moves the conditions'
  ``lastHeartbeatTime``;
* Services: a watched cache (the kubelet's service lister), for the service variables;
* claims: a pod's PersistentVolumeClaims and their PersistentVolumes, read when its volumes
  are set up (the kubelet's volume manager reads them from the API the same way);
* tokens: TokenRequests bound to the pod for projected serviceAccountToken sources, kept per
  pod and request and given again until they need refreshing (``needs_refresh``: past 80% of
  their lifetime or older than a day, the kubelet token manager's rule without its jitter), or
  while still valid when a refresh fails; forgotten when the pod's deletion is finished;
* lifecycle records: each pod's ``PodLifecycle`` (kubelite.dev/v1alpha1), kept in ``lifecycle``
  and written by ``lifecyclepublish``; deleted when the pod is gone.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp

from kubelite.agent import noderecord
from kubelite.agent.envvars import ConfigError, NodeFacts
from kubelite.agent.eventtext import Event
from kubelite.agent.lifecycle import LifecycleBook
from kubelite.agent.lifecyclepublish import LifecycleApiError, LifecyclePublisher
from kubelite.agent.sources import (
    ClaimFetchError,
    Pod,
    PodUpdate,
    ServiceAccountToken,
    UpdateKind,
    synced,
)
from kubelite.client.informer import Informer
from kubelite.client.rest import SERVICES, ApiClient, ApiError, Credentials
from kubelite.clock import Clock, parse_rfc3339, rfc3339, rfc3339_micro
from kubelite.model.eventname import EventNamer
from kubelite.model.objects import Obj
from kubelite.timeline import record as lifecycle_record

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0
TOKEN_MAX_AGE = 24 * 3600.0  # a token older than this is refreshed whatever its lifetime
SERVICES_WAIT = 10.0  # how long a container start waits for the first Service listing
LEASE_SECONDS = 40
RENEW_SECONDS = 10.0
NODE_STATUS_REPORT_SECONDS = 300.0  # an unchanged node status is reported this often
MERGE = "application/merge-patch+json"


TokenCacheKey = tuple[str, str, tuple[str, ...], int, str, str]


def needs_refresh(token: ServiceAccountToken, now: float) -> bool:
    """The kubelet's rule: refresh within the last 20% of the asked lifetime, or a day after
    issue, whichever comes first."""
    issued = token.expires - token.lifetime
    return now > issued + TOKEN_MAX_AGE or now > token.expires - token.lifetime * 0.2


class ApiFailure(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"{status}: {body[:300]}")
        self.status = status


@dataclass(frozen=True, slots=True)
class Endpoint:
    url: str
    ca_cert: Path
    token: str  # "" for none: a joined node presents its client certificate (``tls``)
    tls: ssl.SSLContext | None = None


class ApiNodeClient:
    """``NodeClient`` over the Kubernetes REST API."""

    def __init__(self, *, endpoint: Endpoint, node: NodeFacts, clock: Clock) -> None:
        self._ep = endpoint
        self._node = node
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None
        self._events: dict[tuple[str, str, str, str, str], tuple[str, int]] = {}
        self._event_names = EventNamer()  # <object>.<hex ns>, as the kubelet's recorder
        creds = Credentials(endpoint.url, endpoint.ca_cert, endpoint.token, endpoint.tls)
        self._rest = ApiClient(creds, user_agent="kubelite-agent")
        self._services = Informer(self._rest, SERVICES)
        self._tokens: dict[TokenCacheKey, ServiceAccountToken] = {}
        self._node_status: dict[str, Any] | None = None  # as last reported
        self._reported_at = 0.0
        self.lifecycle = LifecycleBook(clock=clock, node_name=node.node_name)  # KeepsLifecycles
        self._lifecycles = LifecyclePublisher(book=self.lifecycle, api=self, clock=clock)

    # ------------------------------------------------------------------ plumbing

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            ctx = self._ep.tls or ssl.create_default_context(cafile=str(self._ep.ca_cert))
            headers = {"User-Agent": "kubelite-agent"}
            if self._ep.token:
                headers["Authorization"] = f"Bearer {self._ep.token}"
            self._session = aiohttp.ClientSession(
                base_url=self._ep.url,
                headers=headers,
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
        await self._lifecycles.close()
        if self._session is not None:
            await self._session.close()
            self._session = None
        await self._rest.close()

    async def watch_services(self) -> None:
        """Keep the Service cache current, for as long as the agent runs."""
        await self._services.run()

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
                        self._lifecycles.removed(uid)
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
                        self._lifecycles.removed(uid)
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

    async def get_claim(self, namespace: str, name: str) -> dict[str, Any] | None:
        return await self._get_storage(
            f"/api/v1/namespaces/{namespace}/persistentvolumeclaims/{name}"
        )

    async def get_volume(self, name: str) -> dict[str, Any] | None:
        return await self._get_storage(f"/api/v1/persistentvolumes/{name}")

    async def _get_storage(self, path: str) -> dict[str, Any] | None:
        try:
            return await self._call("GET", path)
        except (ApiFailure, aiohttp.ClientError, OSError) as err:
            raise ClaimFetchError(str(err)) from err

    async def services(self, namespace: str) -> list[dict[str, Any]]:
        try:
            async with asyncio.timeout(SERVICES_WAIT):
                await self._services.synced.wait()
        except TimeoutError:
            raise ConfigError(
                "services have not yet been read at least once, cannot construct envvars"
            ) from None
        wanted = (namespace, "default")
        return [s for s in self._services.items() if s["metadata"].get("namespace") in wanted]

    async def request_token(
        self,
        namespace: str,
        service_account: str,
        *,
        audiences: tuple[str, ...],
        expiration_seconds: int,
        pod_name: str,
        pod_uid: str,
    ) -> ServiceAccountToken:
        key = (namespace, service_account, audiences, expiration_seconds, pod_name, pod_uid)
        now = self._clock.now()
        self._tokens = {k: t for k, t in self._tokens.items() if t.expires > now}
        cached = self._tokens.get(key)
        if cached is not None and not needs_refresh(cached, now):
            return cached
        spec: dict[str, Any] = {
            "expirationSeconds": expiration_seconds,
            "boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": pod_name, "uid": pod_uid},
        }
        if audiences:
            spec["audiences"] = list(audiences)
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec}
        path = f"/api/v1/namespaces/{namespace}/serviceaccounts/{service_account}/token"
        try:
            answer = await self._rest.request("POST", path, body)
            status = answer.get("status") or {}
            token = ServiceAccountToken(
                token=str(status["token"]),
                expires=parse_rfc3339(str(status["expirationTimestamp"])),
                lifetime=expiration_seconds,
            )
        except (ApiError, KeyError, ValueError) as err:
            if cached is not None:  # the kubelet keeps using a token that is still valid
                log.warning("token for %s/%s not refreshed: %s", namespace, pod_name, err)
                return cached
            detail = err.message if isinstance(err, ApiError) else f"bad answer: {err}"
            raise ConfigError(f"failed to fetch token: {detail}") from err
        self._tokens[key] = token
        return token

    def _forget_tokens(self, pod_uid: str) -> None:
        self._tokens = {k: t for k, t in self._tokens.items() if k[5] != pod_uid}

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
        self._forget_tokens(str(meta.get("uid") or ""))
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0,
                "preconditions": {"uid": meta["uid"]}}  # fmt: skip
        path = f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}"
        try:
            await self._call("DELETE", path, body)
        except ApiFailure as err:
            if err.status != 409:  # 409: a new pod of that name already (uid precondition)
                log.warning("final delete of %s/%s: %s", meta["namespace"], meta["name"], err)

    # ------------------------------------------------------------------ LifecycleApi

    def _lifecycle_path(self, namespace: str, name: str = "") -> str:
        r = lifecycle_record
        path = f"/apis/{r.GROUP}/{r.VERSION}/namespaces/{namespace}/{r.PLURAL}"
        return f"{path}/{name}" if name else path

    async def _lifecycle_call(self, method: str, path: str, body: Any = None) -> Obj | None:
        try:
            return await self._call(method, path, body)
        except ApiFailure as err:
            raise LifecycleApiError(err.status, str(err)) from err
        except (aiohttp.ClientError, OSError) as err:
            raise LifecycleApiError(0, str(err)) from err

    async def read_lifecycle(self, namespace: str, name: str) -> Obj | None:
        return await self._lifecycle_call("GET", self._lifecycle_path(namespace, name))

    async def write_lifecycle(self, obj: Obj, *, create: bool) -> None:
        ns, name = obj["metadata"]["namespace"], obj["metadata"]["name"]
        if create:
            await self._lifecycle_call("POST", self._lifecycle_path(ns), obj)
        elif await self._lifecycle_call("PUT", self._lifecycle_path(ns, name), obj) is None:
            raise LifecycleApiError(404, f"podlifecycle {ns}/{name} is gone")

    async def delete_lifecycle(self, namespace: str, name: str, pod_uid: str) -> None:
        """Only the record of that pod: a pod made again under the name has its own."""
        path = self._lifecycle_path(namespace, name)
        found = await self._lifecycle_call("GET", path)
        if found is None or found.get("podUID") != pod_uid:
            return
        meta = found.get("metadata") or {}
        body = {"kind": "DeleteOptions", "apiVersion": "v1",
                "preconditions": {"uid": meta.get("uid"),
                                  "resourceVersion": meta.get("resourceVersion")}}  # fmt: skip
        try:
            await self._lifecycle_call("DELETE", path, body)
        except LifecycleApiError as err:
            if err.status != 409:  # 409: written again meanwhile, by a newer pod's worker
                raise

    # ------------------------------------------------------------------ EventSink

    async def emit(self, pod: Pod, event: Event) -> None:
        meta = pod["metadata"]
        ns = meta.get("namespace", "default")
        key = (meta.get("uid", ""), event.field_path, event.reason, event.message, event.type)
        at = self._clock.now()
        now = rfc3339(at)
        try:
            seen = self._events.get(key)
            if seen is not None:
                name, count = seen
                patch = {"count": count + 1, "lastTimestamp": now}
                path = f"/api/v1/namespaces/{ns}/events/{name}"
                if await self._call("PATCH", path, patch, ctype=MERGE) is not None:
                    self._events[key] = (name, count + 1)
                    return
            name = self._event_names.name(str(meta.get("name", "")), at)
            body = self._event_body(pod, event, name, now)
            await self._call("POST", f"/api/v1/namespaces/{ns}/events", body)
            self._events[key] = (name, 1)
        except (ApiFailure, aiohttp.ClientError, OSError) as err:
            log.info("event %s for %s not posted: %s", event.reason, meta.get("name"), err)

    async def emit_node(self, event: Event) -> None:
        """An event about this Node, as the kubelet posts them: in ``default``, the involved
        object named and identified by the node's name."""
        node = self._node.node_name
        at = self._clock.now()
        now = rfc3339(at)
        body = {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": self._event_names.name(node, at), "namespace": "default"},
            "involvedObject": {"kind": "Node", "name": node, "uid": node, "apiVersion": "v1"},
            "reason": event.reason, "message": event.message, "type": event.type, "count": 1,
            "firstTimestamp": now, "lastTimestamp": now,
            "source": {"component": event.source, "host": node},
            "reportingComponent": event.source, "reportingInstance": node,
        }  # fmt: skip
        try:
            await self._call("POST", "/api/v1/namespaces/default/events", body)
        except (ApiFailure, aiohttp.ClientError, OSError) as err:
            log.info("node event %s not posted: %s", event.reason, err)

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
        """Create the Node, or refresh its status if it exists (the kubelet's registration):
        a condition whose status is unchanged keeps its ``lastTransitionTime``."""
        name = self._node.node_name
        now = self._clock.now()
        status = dict(node_object["status"])
        existing = await self._call("GET", f"/api/v1/nodes/{name}")
        if existing is None:
            await self._call("POST", "/api/v1/nodes", node_object)
        else:
            previous = (existing.get("status") or {}).get("conditions") or ()
            status["conditions"] = noderecord.stamp(status.get("conditions") or (), now, previous)
            patch = {"status": status}
            await self._call("PATCH", f"/api/v1/nodes/{name}/status", patch, ctype=MERGE)
        self._node_status, self._reported_at = status, now

    async def report_node_status(self) -> None:
        """Report the node's status again: every condition's ``lastHeartbeatTime`` moves to
        now, its ``lastTransitionTime`` stays (nothing about this node changes on its own)."""
        if self._node_status is None:
            return  # not registered
        now = self._clock.now()
        conds = self._node_status.get("conditions") or ()
        status = {**self._node_status, "conditions": noderecord.stamp(conds, now, conds)}
        patch = {"status": {"conditions": status["conditions"]}}
        name = self._node.node_name
        await self._call("PATCH", f"/api/v1/nodes/{name}/status", patch, ctype=MERGE)
        self._node_status, self._reported_at = status, now

    async def report_ready(self) -> None:
        """The node can run pods now (its pod network is made): its conditions as the agent
        reports them when nothing presses on it, written at once (if the write fails, the
        heartbeat finds the API's copy different and writes it)."""
        if self._node_status is None:
            return
        now = self._clock.now()
        previous = self._node_status.get("conditions") or ()
        self._node_status = {
            **self._node_status,
            "conditions": noderecord.conditions(now, previous),
        }
        try:
            await self.report_node_status()
        except (ApiFailure, aiohttp.ClientError, OSError) as err:
            log.info("node status not reported: %s", err)

    async def _status_differs(self) -> bool:
        """Whether the Node's conditions in the API are not what this agent reported (the node
        lifecycle controller marked them Unknown while the agent was away): the kubelet compares
        on every 10 s status check and reports at once when they differ."""
        if self._node_status is None:
            return False
        node = await self._call("GET", f"/api/v1/nodes/{self._node.node_name}")
        if node is None:
            return False
        theirs = (node.get("status") or {}).get("conditions") or ()
        ours = self._node_status.get("conditions") or ()
        return _condition_states(theirs) != _condition_states(ours)

    async def heartbeat(self) -> None:
        """Renew the node's Lease every 10 s; report the node's status every 5 min, or at once
        when the API's copy differs from it; for as long as the agent runs."""
        name = self._node.node_name
        path = f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{name}"
        while True:
            try:
                due = self._clock.now() - self._reported_at >= NODE_STATUS_REPORT_SECONDS
                if due or await self._status_differs():
                    await self.report_node_status()
            except (ApiFailure, aiohttp.ClientError, OSError) as err:
                log.info("node status not reported: %s", err)
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


def _condition_states(conditions: Any) -> set[tuple[str, str, str, str]]:
    return {
        (str(c.get("type")), str(c.get("status")), str(c.get("reason", "")),
         str(c.get("message", "")))
        for c in conditions
    }  # fmt: skip
