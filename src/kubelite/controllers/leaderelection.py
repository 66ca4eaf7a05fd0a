"""Leader election on a Lease (client-go's ``leaderelection`` with a ``LeaseLock``), so that of
several ``kubelite up`` on one etcd only one runs the scheduler (Lease ``kube-system/
kube-scheduler``) and one the controllers (``kube-system/kube-controller-manager``).

``LeaderElector.run(work)`` loops for ever:

1. as a candidate, look at the Lease every retry period (jittered, as client-go's
   ``JitterUntil``) until ``leaderdecisions.decide`` lets us create, take or renew it; post the
   ``LeaderElection`` event ``<identity> became leader`` on the Lease;
2. run ``work()`` (a fresh coroutine each term) while renewing every retry period;
3. when another holder shows up in the Lease, or no renewal succeeded for the renew deadline,
   cancel the work, wait until it has ended, post ``<identity> stopped leading`` and go back
   to 1. (kube-controller-manager and kube-scheduler exit there; kubelite stays up, a
   candidate again.)

When ``run`` itself is cancelled (``kubelite up`` stopping), the work is cancelled first and
then the Lease is released (no holder, one-second term: client-go's ``ReleaseOnCancel``), so
another server takes over at its next look instead of after the lease duration.

Every write is a PUT carrying the resourceVersion last read (or a create), so of two candidates
racing for an expired Lease the API lets one win. Each attempt is bounded in time: a request
that hangs cannot keep a leader leading past its deadline.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import random
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from kubelite.client.rest import ApiError, Obj, Resource
from kubelite.clock import Clock, rfc3339_micro
from kubelite.controllers.leaderdecisions import (
    Action,
    ElectionTiming,
    LeaderRecord,
    Observation,
    decide,
    released,
    renewal_overdue,
    written,
)
from kubelite.model.objects import JSON

log = logging.getLogger(__name__)

LEASES = Resource("coordination.k8s.io", "v1", "leases", "Lease")
JITTER_FACTOR = 1.2  # client-go's JitterFactor for a candidate's retries
REASON = "LeaderElection"
DEFAULT_TIMING = ElectionTiming()
RELEASE_TIMEOUT = 2.0  # seconds a stopping leader spends giving the Lease back

Work = Callable[[], Coroutine[Any, Any, None]]


class LeaseClient(Protocol):
    async def get(self, res: Resource, namespace: str | None, name: str) -> Obj: ...

    async def create(self, res: Resource, namespace: str | None, obj: Obj) -> Obj: ...

    async def replace(self, res: Resource, obj: Obj, *, sub: str = "") -> Obj: ...


class EventSink(Protocol):
    """What posts the election's events (``eventrecorder.EventRecorder``)."""

    async def event(self, obj: JSON, type_: str, reason: str, message: str) -> None: ...


class LeaderElector:
    def __init__(
        self,
        client: LeaseClient,
        *,
        namespace: str,
        name: str,
        identity: str,
        clock: Clock,
        timing: ElectionTiming = DEFAULT_TIMING,
        events: EventSink | None = None,
        rng: random.Random | None = None,
    ) -> None:
        problems = timing.errors()
        if problems:
            raise ValueError("; ".join(problems))
        self._client = client
        self._namespace, self._name = namespace, name
        self.identity = identity
        self._clock = clock
        self._timing = timing
        self._events = events
        self._rng = rng or random.Random()
        self._lease: Obj | None = None  # last read or written: its resourceVersion guards writes
        self._observed: Observation | None = None
        self._leading = False
        self._renewed_at = 0.0  # monotonic start of the last successful renewal

    @property
    def leading(self) -> bool:
        return self._leading

    @property
    def holder(self) -> str:
        """The holder as last seen ("" if none or not looked yet)."""
        return self._observed.record.holder if self._observed is not None else ""

    def describe(self) -> str:
        return f"{self._namespace}/{self._name}"

    async def run(self, work: Work) -> None:
        """Lead whenever possible and run ``work`` only while leading (see the module)."""
        while True:
            await self._acquire()
            try:
                await self._lead(work)
            except BaseException:
                await self._stop_leading(release=True)
                raise
            await self._stop_leading(release=False)

    # -- the three phases ------------------------------------------------------------------------
    async def _acquire(self) -> None:
        log.info("attempting to acquire leader lease %s...", self.describe())
        while not await self._attempt():
            pause = self._timing.retry_period * (1 + self._rng.random() * JITTER_FACTOR)
            await self._clock.sleep(pause)
        self._leading = True
        log.info("successfully acquired lease %s", self.describe())
        await self._event("became leader")

    async def _lead(self, work: Work) -> None:
        async with asyncio.TaskGroup() as tg:
            task = tg.create_task(work(), name=f"leading-{self._name}")
            await self._keep_renewing()
            task.cancel()  # the group waits until the work has ended

    async def _keep_renewing(self) -> None:
        """Returns when leadership is lost."""
        while True:
            await self._clock.sleep(self._timing.retry_period)
            renewed = await self._attempt()
            if not self._leading:  # another holder took the Lease
                return
            if not renewed and renewal_overdue(
                self._renewed_at, self._clock.monotonic(), self._timing
            ):
                log.info(
                    "failed to renew lease %s: timed out waiting for the condition",
                    self.describe(),
                )
                self._leading = False
                return

    async def _stop_leading(self, *, release: bool) -> None:
        if release and self._leading:
            await self._release()
        self._leading = False
        await self._event("stopped leading")
        if not release:
            log.warning("leaderelection lost: %s is a candidate again", self.describe())

    # -- one look at the Lease (tryAcquireOrRenew) ----------------------------------------------
    async def _attempt(self) -> bool:
        """True when we hold the Lease after this look."""
        try:
            async with asyncio.timeout(self._attempt_limit()):
                return await self._try()
        except TimeoutError:
            log.info("leader lease %s: no answer in time", self.describe())
        except ApiError as err:
            log.info("leader lease %s: %s", self.describe(), err)
        return False

    def _attempt_limit(self) -> float:
        if not self._leading:
            return self._timing.renew_deadline
        spent = self._clock.monotonic() - self._renewed_at
        return max(0.05, self._timing.renew_deadline - spent)

    async def _try(self) -> bool:
        started = self._clock.monotonic()
        try:
            lease: Obj | None = await self._client.get(LEASES, self._namespace, self._name)
        except ApiError as err:
            if not err.not_found:
                raise
            lease = None
        self._lease = lease
        current = LeaderRecord.of(lease) if lease is not None else None
        decision = decide(
            current, identity=self.identity, observed=self._observed, leading=self._leading,
            now=started, stamp=rfc3339_micro(self._clock.now()), timing=self._timing,
        )  # fmt: skip
        self._observed = decision.observation
        if decision.action is Action.LOST:
            log.info("lock %s is held by %s now", self.describe(), decision.holder)
            self._leading = False
        if not decision.action.writes:
            return False
        assert decision.record is not None
        self._lease = await self._write(decision.record)
        self._observed = written(decision, self._clock.monotonic())
        self._renewed_at = started
        return True

    async def _write(self, record: LeaderRecord) -> Obj:
        if self._lease is None:
            body: Obj = {
                "apiVersion": LEASES.api_version,
                "kind": LEASES.kind,
                "metadata": {"name": self._name, "namespace": self._namespace},
                "spec": record.spec(),
            }
            return await self._client.create(LEASES, self._namespace, body)
        body = copy.deepcopy(self._lease)
        body["spec"] = record.spec()
        return await self._client.replace(LEASES, body)

    async def _release(self) -> None:
        """client-go's ``release``: give the Lease back, if it is still ours as last seen."""
        if self._lease is None or self.holder != self.identity:
            return
        record = released(self._observed, rfc3339_micro(self._clock.now()))
        try:
            async with asyncio.timeout(RELEASE_TIMEOUT):
                self._lease = await self._write(record)
            self._observed = Observation(record, self._clock.monotonic())
        except (ApiError, TimeoutError) as err:
            log.info("failed to release lock %s: %s", self.describe(), err)

    async def _event(self, what: str) -> None:
        if self._events is None:
            return
        meta = (self._lease or {}).get("metadata") or {
            "name": self._name,
            "namespace": self._namespace,
        }
        subject = {"apiVersion": LEASES.api_version, "kind": LEASES.kind, "metadata": meta}
        try:
            async with asyncio.timeout(RELEASE_TIMEOUT):
                await self._events.event(subject, "Normal", REASON, f"{self.identity} {what}")
        except TimeoutError:
            log.info("event %r on %s not posted in time", what, self.describe())
