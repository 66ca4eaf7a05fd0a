"""This API server's identity Lease and the lease endpoint reconciler, on a shared store.

Every renew interval (10 s) ``ApiServerLeases`` does one round:

1. renew (or create) this server's identity Lease, with where pods reach it;
2. read every API server's identity Lease and keep ``default/kubernetes`` (Endpoints and
   EndpointSlices) listing the live ones (``apiserverendpoints``): a server killed without
   notice drops out once its Lease is older than the endpoint TTL; every server writes the
   same answer, so whichever writes first, the others find nothing to change;
3. once per GC period (from the first round on), delete the Leases of servers gone for longer
   than their lease duration (an hour).

Cancelled (``kubelite up`` stopping), it deletes its own Lease and writes the endpoints without
itself, as the API server's reconciler removes its own endpoint on shutdown.

Only for several servers on one etcd: with SQLite the one server's bootstrap writes the
endpoints (``registry.bootstrap``) and none of this runs. A failed request is logged and tried
again the next round.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Mapping
from typing import Any, Protocol, TypeVar

from kubelite.client.rest import ENDPOINT_SLICES, ENDPOINTS, ApiError, Obj, Resource
from kubelite.clock import Clock, rfc3339_micro
from kubelite.controllers import apiserverendpoints as ae
from kubelite.controllers.leaderelection import LEASES
from kubelite.controllers.serveridentity import ServerIdentity
from kubelite.model.objects import JSON

log = logging.getLogger(__name__)

T = TypeVar("T")
DEFAULT_TIMING = ae.IdentityTiming()
LEAVE_TIMEOUT = 3.0  # seconds a stopping server spends taking itself out


class Client(Protocol):
    """The part of ``client.rest.ApiClient`` used here."""

    async def get(self, res: Resource, namespace: str | None, name: str) -> Obj: ...

    async def list(
        self, res: Resource, namespace: str | None = None, *, label_selector: str = ""
    ) -> Obj: ...

    async def create(self, res: Resource, namespace: str | None, obj: Mapping[str, Any]) -> Obj: ...

    async def replace(self, res: Resource, obj: Mapping[str, Any], *, sub: str = "") -> Obj: ...

    async def delete(self, res: Resource, namespace: str | None, name: str) -> None: ...

    async def request(
        self, method: str, path: str, body: Mapping[str, Any] | None = None
    ) -> Obj: ...


class ApiServerLeases:
    def __init__(
        self,
        client: Client,
        *,
        identity: ServerIdentity,
        address: ae.ServerAddress | None,
        clock: Clock,
        timing: ae.IdentityTiming = DEFAULT_TIMING,
    ) -> None:
        """``address``: where pods reach this server (None: it is no endpoint)."""
        self._client = client
        self._identity = identity
        self._address = address
        self._clock = clock
        self._timing = timing
        self._next_gc = 0.0

    async def run(self) -> None:
        self._next_gc = self._clock.monotonic()
        try:
            while True:
                await self.round()
                await self._clock.sleep(self._timing.renew_interval)
        finally:
            try:
                async with asyncio.timeout(LEAVE_TIMEOUT):
                    await self.leave()
            except (ApiError, TimeoutError) as err:
                log.info("API server %s could not take itself out: %s", self._name, err)

    @property
    def _name(self) -> str:
        return self._identity.lease_name

    async def round(self) -> None:
        """Steps 1-3 of the module; each one's failure is logged, not raised."""
        await self._quietly("renew its identity lease", self._heartbeat())
        leases = await self._quietly("list the identity leases", self._leases())
        if leases is not None:
            own = self._address
            await self._quietly("reconcile the kubernetes endpoints", self._reconcile(leases, own))
            if self._clock.monotonic() >= self._next_gc:
                self._next_gc = self._clock.monotonic() + self._timing.gc_period
                await self._quietly("collect expired identity leases", self._collect(leases))

    async def leave(self) -> None:
        """Delete our Lease, then write the endpoints without us."""
        await self._client.delete(LEASES, ae.NAMESPACE, self._name)
        leases = await self._leases()
        await self._reconcile(leases, None)

    # -- steps ------------------------------------------------------------------------------------
    async def _heartbeat(self) -> None:
        try:
            current: Obj | None = await self._client.get(LEASES, ae.NAMESPACE, self._name)
        except ApiError as err:
            if not err.not_found:
                raise
            current = None
        lease = ae.identity_lease(
            name=self._name, holder=self._identity.lease_holder, hostname=self._identity.hostname,
            address=self._address, duration=self._timing.lease_duration,
            stamp=rfc3339_micro(self._clock.now()), current=current,
        )  # fmt: skip
        if current is None:
            await self._client.create(LEASES, ae.NAMESPACE, lease)
        else:
            await self._client.replace(LEASES, lease)

    async def _leases(self) -> list[JSON]:
        selector = f"{ae.IDENTITY_LABEL}={ae.IDENTITY_VALUE}"
        found = await self._client.list(LEASES, ae.NAMESPACE, label_selector=selector)
        return list(found.get("items") or [])

    async def _reconcile(self, leases: list[JSON], own: ae.ServerAddress | None) -> None:
        servers = ae.live_servers(
            leases, now=self._clock.now(), ttl=self._timing.endpoint_ttl, own_lease=self._name,
            own=own,
        )  # fmt: skip
        await self._ensure(ENDPOINTS, ae.endpoints_object(servers), ae.ENDPOINTS_FIELDS)
        wanted = ae.endpoint_slices(servers)
        for s in wanted:
            await self._ensure(ENDPOINT_SLICES, s, ae.SLICE_FIELDS)
        selector = f"kubernetes.io/service-name={ae.SERVICE}"
        current = await self._client.list(
            ENDPOINT_SLICES, ae.SERVICE_NAMESPACE, label_selector=selector
        )
        for name in ae.stale_slices(list(current.get("items") or []), wanted):
            await self._client.delete(ENDPOINT_SLICES, ae.SERVICE_NAMESPACE, name)

    async def _ensure(self, res: Resource, wanted: Obj, fields: tuple[str, ...]) -> None:
        name = wanted["metadata"]["name"]
        try:
            current = await self._client.get(res, ae.SERVICE_NAMESPACE, name)
        except ApiError as err:
            if not err.not_found:
                raise
            await self._client.create(res, ae.SERVICE_NAMESPACE, wanted)
            return
        if ae.differs(current, wanted, fields):
            await self._client.replace(res, ae.brought_in_line(current, wanted, fields))

    async def _collect(self, leases: list[JSON]) -> None:
        now = self._clock.now()
        for lease in leases:
            meta = lease.get("metadata") or {}
            name = str(meta.get("name") or "")
            if name == self._name or not ae.expired(lease, now):
                continue
            body = {"preconditions": {"resourceVersion": str(meta.get("resourceVersion") or "")}}
            try:  # only the version we judged: a server back meanwhile keeps its Lease
                await self._client.request("DELETE", LEASES.path(ae.NAMESPACE, name), body)
                log.info("deleted the expired identity lease %s", name)
            except ApiError as err:
                if not (err.not_found or err.conflict):
                    raise

    async def _quietly(self, what: str, step: Awaitable[T]) -> T | None:
        try:
            return await step
        except ApiError as err:
            log.info("API server %s could not %s: %s", self._name, what, err)
            return None
