"""A small Kubernetes REST client over HTTPS, for kubelite's own clients of the API: the
endpoint controllers, the Service proxy and cluster DNS. They reach the API only through it,
as they would reach any API server, so they run unchanged against a remote one.

Objects travel as plain dicts. Every failure is an ``ApiError`` carrying the HTTP status and
the Status reason, so callers branch on ``status``/``reason``, never on message text.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

from kubelite.errors import KubeliteError
from kubelite.model.objects import Obj as Obj  # re-exported: clients name objects by it

MERGE_PATCH = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
WATCH_TIMEOUT = 600  # seconds a watch request lasts before the informer renews it


class ApiError(KubeliteError):
    """An error Status from the server; ``causes`` are the reasons in its ``details.causes``."""

    def __init__(
        self, status: int, reason: str, message: str, causes: tuple[str, ...] = ()
    ) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message
        self.causes = causes

    @property
    def namespace_terminating(self) -> bool:
        """Refused because the namespace is being deleted (the API server's
        ``NamespaceTerminating`` cause): controllers stop creating there."""
        return self.status == 403 and "NamespaceTerminating" in self.causes

    @property
    def not_found(self) -> bool:
        return self.status == 404

    @property
    def conflict(self) -> bool:
        return self.status == 409

    @property
    def gone(self) -> bool:
        return self.status == 410


@dataclass(frozen=True, slots=True)
class Credentials:
    url: str  # https://host:port
    ca_cert: Path
    token: str  # "" to send no bearer token (a client certificate in ``tls`` instead)
    # The TLS context to use (a node's client certificate, reloaded when it is renewed);
    # one trusting ``ca_cert`` if None.
    tls: ssl.SSLContext | None = None


def _headers(creds: Credentials, user_agent: str) -> dict[str, str]:
    headers = {"User-Agent": user_agent, "Accept": "application/json"}
    if creds.token:
        headers["Authorization"] = f"Bearer {creds.token}"
    return headers


@dataclass(frozen=True, slots=True)
class Resource:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str | None = None, name: str = "", sub: str = "") -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name:
            base += f"/{name}"
        if sub:
            base += f"/{sub}"
        return base


SERVICES = Resource("", "v1", "services", "Service")
ENDPOINTS = Resource("", "v1", "endpoints", "Endpoints")
PODS = Resource("", "v1", "pods", "Pod")
NAMESPACES = Resource("", "v1", "namespaces", "Namespace", namespaced=False)
ENDPOINT_SLICES = Resource("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice")
JOBS = Resource("batch", "v1", "jobs", "Job")
CRONJOBS = Resource("batch", "v1", "cronjobs", "CronJob")
STORAGE_CLASSES = Resource("storage.k8s.io", "v1", "storageclasses", "StorageClass", False)
PERSISTENT_VOLUMES = Resource("", "v1", "persistentvolumes", "PersistentVolume", False)
PERSISTENT_VOLUME_CLAIMS = Resource("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim")
STATEFUL_SETS = Resource("apps", "v1", "statefulsets", "StatefulSet")
CONTROLLER_REVISIONS = Resource("apps", "v1", "controllerrevisions", "ControllerRevision")


@dataclass(frozen=True, slots=True)
class WatchEvent:
    type: str  # ADDED, MODIFIED, DELETED, BOOKMARK
    object: Obj


class ApiClient:
    def __init__(self, credentials: Credentials, *, user_agent: str = "kubelite") -> None:
        self._creds = credentials
        self._agent = user_agent
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            ctx = self._creds.tls or ssl.create_default_context(cafile=str(self._creds.ca_cert))
            self._session = aiohttp.ClientSession(
                base_url=self._creds.url,
                headers=_headers(self._creds, self._agent),
                connector=aiohttp.TCPConnector(ssl=ctx),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=10),
            )  # fmt: skip
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        params: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> Obj:
        data = json.dumps(body) if body is not None else None
        headers = {"Content-Type": content_type} if data is not None else {}
        url = path + ("?" + urlencode(params) if params else "")
        try:
            async with self._http().request(method, url, data=data, headers=headers) as resp:
                text = await resp.text()
                if resp.status >= 400:
                    raise _error(resp.status, text)
        except aiohttp.ClientError as err:
            raise ApiError(0, "ConnectionError", str(err)) from err
        return json.loads(text) if text else {}

    # -- verbs -------------------------------------------------------------------------------
    async def get(self, res: Resource, namespace: str | None, name: str) -> Obj:
        return await self.request("GET", res.path(namespace, name))

    async def list(
        self, res: Resource, namespace: str | None = None, *, label_selector: str = ""
    ) -> Obj:
        params = {"labelSelector": label_selector} if label_selector else None
        return await self.request("GET", res.path(namespace), params=params)

    async def create(self, res: Resource, namespace: str | None, obj: Mapping[str, Any]) -> Obj:
        return await self.request("POST", res.path(namespace), obj)

    async def replace(self, res: Resource, obj: Mapping[str, Any], *, sub: str = "") -> Obj:
        meta = obj["metadata"]
        path = res.path(meta.get("namespace"), meta["name"], sub)
        return await self.request("PUT", path, obj)

    async def merge_patch(
        self,
        res: Resource,
        namespace: str | None,
        name: str,
        patch: Mapping[str, Any],
        *,
        sub: str = "",
    ) -> Obj:
        return await self.request(
            "PATCH", res.path(namespace, name, sub), patch, content_type=MERGE_PATCH
        )

    async def patch_unless_gone(
        self, res: Resource, obj: Mapping[str, Any], patch: Mapping[str, Any]
    ) -> Obj | None:
        """A strategic-merge ``patch`` of ``obj`` (found by its namespace and name), as a
        controller adopts or releases what it owns; None if the object is gone already."""
        meta = obj["metadata"]
        path = res.path(meta.get("namespace"), meta["name"])
        try:
            return await self.request("PATCH", path, patch, content_type=STRATEGIC)
        except ApiError as err:
            if err.not_found:
                return None
            raise

    async def delete(self, res: Resource, namespace: str | None, name: str) -> None:
        try:
            await self.request("DELETE", res.path(namespace, name))
        except ApiError as err:
            if not err.not_found:
                raise

    async def watch(
        self, res: Resource, namespace: str | None, resource_version: str
    ) -> AsyncIterator[WatchEvent]:
        """Events after ``resource_version`` until the server ends the request. A 410 (too
        old) arrives as an ``ApiError`` with ``gone`` true, in the stream or as the answer."""
        params = {"watch": "1", "resourceVersion": resource_version,
                  "allowWatchBookmarks": "true", "timeoutSeconds": str(WATCH_TIMEOUT)}  # fmt: skip
        url = res.path(namespace) + "?" + urlencode(params)
        try:
            async with self._http().get(url) as resp:
                if resp.status >= 400:
                    raise _error(resp.status, await resp.text())
                async for line in resp.content:
                    if not line.strip():
                        continue
                    event = json.loads(line)
                    kind = str(event.get("type") or "")
                    obj = event.get("object") or {}
                    if kind == "ERROR":
                        raise _error(int(obj.get("code") or 500), json.dumps(obj))
                    yield WatchEvent(kind, obj)
        except aiohttp.ClientError as err:
            raise ApiError(0, "ConnectionError", str(err)) from err


def _error(status: int, text: str) -> ApiError:
    reason, message = "", text[:500]
    causes: tuple[str, ...] = ()
    try:
        body = json.loads(text)
        if isinstance(body, dict):
            reason = str(body.get("reason") or "")
            message = str(body.get("message") or message)
            details = body.get("details")
            found = details.get("causes") if isinstance(details, dict) else None
            if isinstance(found, list):
                causes = tuple(str(c.get("reason")) for c in found if isinstance(c, dict))
    except ValueError:
        pass
    return ApiError(status, reason, message, causes)
