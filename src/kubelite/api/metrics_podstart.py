"""Pod start latency and running pods for ``/metrics``, from the watch of pods.

A pod's start is the first time it is seen ``Running``: the time since its creation is
observed once into ``kubelet_pod_start_duration_seconds`` (pods already running when the
watch begins are not: their start was not seen). ``kubelet_running_pods`` counts the pods
that are ``Running`` now. ``PodStarts`` decides (PURE); ``PodStartWatch`` feeds it from the
registry's list and watch, listing again when the watch's history is gone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from contextlib import aclosing

from kubelite.api.metrics_prom import ServerMetrics
from kubelite.clock import parse_rfc3339
from kubelite.model.objects import JSON
from kubelite.registry.pods import PODS
from kubelite.registry.service import Registry
from kubelite.store.interface import Compacted

log = logging.getLogger(__name__)


class PodStarts:
    """Which pods run, and which have been seen starting."""

    def __init__(self) -> None:
        self._running: set[str] = set()
        self._started: set[str] = set()

    @property
    def running(self) -> int:
        return len(self._running)

    def seed(self, pods: Sequence[JSON]) -> None:
        """The pods there already: those running are counted, but their start was not seen."""
        self._running.clear()
        self._started.clear()
        for pod in pods:
            uid = _uid(pod)
            if _phase(pod) != "Pending":
                self._started.add(uid)
            if _phase(pod) == "Running":
                self._running.add(uid)

    def observe(self, pod: JSON, now: float) -> float | None:
        """A pod as it is now; the seconds it took to start if this is its start."""
        uid = _uid(pod)
        if _phase(pod) != "Running":
            self._running.discard(uid)
            if _phase(pod) != "Pending":
                self._started.add(uid)
            return None
        self._running.add(uid)
        if uid in self._started:
            return None
        self._started.add(uid)
        created = (pod.get("metadata") or {}).get("creationTimestamp")
        try:
            return max(0.0, now - parse_rfc3339(str(created))) if created else None
        except ValueError:
            return None

    def forget(self, pod: JSON) -> None:
        uid = _uid(pod)
        self._running.discard(uid)
        self._started.discard(uid)


def _uid(pod: JSON) -> str:
    return str((pod.get("metadata") or {}).get("uid", ""))


def _phase(pod: JSON) -> str:
    return str((pod.get("status") or {}).get("phase") or "Pending")


class PodStartWatch:
    def __init__(self, *, registry: Registry, metrics: ServerMetrics) -> None:
        self._registry = registry
        self._metrics = metrics
        self._starts = PodStarts()

    async def run(self) -> None:
        """Follow the pods until cancelled; a failure is logged and the pods listed again."""
        while True:
            try:
                await self._follow()
            except Exception:  # metrics must never take the API server down
                log.exception("pod start metrics: following pods failed; listing again")
                await asyncio.sleep(1.0)

    async def _follow(self) -> None:
        while True:
            pods, since = await self._registry.list(PODS, None)
            self._starts.seed(pods)
            self._metrics.running_pods.set(self._starts.running)
            try:
                async with aclosing(self._registry.watch(PODS, None, since)) as events:
                    async for ev in events:
                        self._apply(ev.type, ev.object)
            except Compacted:
                log.debug("pod watch for metrics compacted; listing again")

    def _apply(self, type_: str, pod: JSON) -> None:
        if type_ == "DELETED":
            self._starts.forget(pod)
        else:
            took = self._starts.observe(pod, self._registry.clock.now())
            if took is not None:
                self._metrics.pod_start.observe(took)
        self._metrics.running_pods.set(self._starts.running)
