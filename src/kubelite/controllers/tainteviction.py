"""The taint eviction controller (the controller manager's ``taint-eviction-controller``):
deletes the pods of a node with ``NoExecute`` taints they do not tolerate at once, and those
that tolerate them after their ``tolerationSeconds`` (``taintdecisions.eviction``); a node
whose taints go, or a pod whose tolerations change, cancels what was scheduled.

Before deleting, the pod gets the ``DisruptionTarget`` condition (``DeletionByTaintManager``),
and an event ``TaintManagerEviction`` ``Marking for deletion Pod <ns>/<name>``; a cancelled
eviction posts ``Cancelling deletion of Pod <ns>/<name>``. The deletion is an ordinary one
with the pod's grace period: a pod on a dead node stays Terminating (its agent is not there
to finish it), and its ReplicaSet, which no longer counts it, makes a new one.

Informers on Nodes and Pods, a work queue of pod keys; a scheduled eviction is the key queued
again for its time.
"""

from __future__ import annotations

import logging
from typing import Any

from kubelite.client.informer import key_of
from kubelite.client.rest import PODS, ApiClient, ApiError, Resource
from kubelite.clock import Clock, SystemClock, rfc3339
from kubelite.controllers import taintdecisions as td
from kubelite.controllers.eventrecorder import NORMAL, EventRecorder
from kubelite.controllers.informerset import InformerSet
from kubelite.controllers.workqueue import WorkQueue
from kubelite.model.objects import Obj

log = logging.getLogger(__name__)

NODES = Resource("", "v1", "nodes", "Node", namespaced=False)
COMPONENT = "taint-eviction-controller"
REASON = "TaintManagerEviction"
Key = tuple[str, str]


class TaintEvictionController:
    def __init__(
        self, client: ApiClient, *, clock: Clock | None = None, informers: InformerSet | None = None
    ) -> None:
        self._client = client
        self._informers = informers or InformerSet(client)
        self._clock = clock or SystemClock()
        self.nodes = self._informers.get(NODES)
        self.pods = self._informers.get(PODS)
        self.queue: WorkQueue[Key] = WorkQueue(clock=self._clock)
        self.events = EventRecorder(client, COMPONENT, clock=self._clock)
        self.scheduled: dict[Key, td.Eviction] = {}
        self.nodes.add_handler(self._on_node)
        self.pods.add_handler(self._on_pod)

    def _on_node(self, kind: str, obj: Obj) -> None:
        name = str((obj.get("metadata") or {}).get("name") or "")
        for pod in self.pods.items():
            if (pod.get("spec") or {}).get("nodeName") == name:
                self.queue.add(key_of(pod))

    def _on_pod(self, kind: str, obj: Obj) -> None:
        self.queue.add(key_of(obj))

    async def run(self) -> None:
        async with self._informers.running(self.nodes, self.pods):
            for pod in self.pods.items():
                self.queue.add(key_of(pod))
            await self.queue.run(self.reconcile, name=COMPONENT)

    async def reconcile(self, key: Key) -> None:
        pod = self.pods.get(*key)
        node_name = str(((pod or {}).get("spec") or {}).get("nodeName") or "")
        node = self.nodes.get("", node_name) if node_name else None
        taints = td.no_execute_taints(node) if node is not None else []
        now = self._clock.now()
        before = self.scheduled.get(key)
        plan = td.eviction(pod, taints, now, before) if pod is not None else None
        if plan is None:
            if self.scheduled.pop(key, None) is not None and pod is not None:
                await self._event(pod, f"Cancelling deletion of Pod {key[0]}/{key[1]}")
            return
        self.scheduled[key] = plan
        if plan.at > now:
            if plan != before:
                log.info("pod %s/%s is to be evicted in %.0f s", *key, plan.at - now)
            self.queue.add_after(key, plan.at - now)
            return
        assert pod is not None
        del self.scheduled[key]
        await self._evict(pod, key)

    async def _evict(self, pod: Obj, key: Key) -> None:
        log.info("deleting pod %s/%s from a node with a NoExecute taint", *key)
        await self._event(pod, f"Marking for deletion Pod {key[0]}/{key[1]}")
        try:
            await self._mark(pod)
            await self._client.delete(PODS, key[0], key[1])
        except ApiError as err:
            if not err.not_found:
                raise

    async def _mark(self, pod: Obj) -> None:
        """The DisruptionTarget condition, through the status (as utilpod.PatchPodStatus)."""
        status: dict[str, Any] = dict(pod.get("status") or {})
        conditions = [c for c in status.get("conditions") or [] if isinstance(c, dict)]
        wanted = td.DISRUPTION_TARGET
        if any(c.get("type") == wanted["type"] and c.get("status") == "True" for c in conditions):
            return
        conditions = [c for c in conditions if c.get("type") != wanted["type"]]
        conditions.append({**wanted, "lastTransitionTime": rfc3339(self._clock.now())})
        md = pod["metadata"]
        patch = {"metadata": {"uid": md.get("uid")}, "status": {"conditions": conditions}}
        await self._client.merge_patch(PODS, md["namespace"], md["name"], patch, sub="status")

    async def _event(self, pod: Obj, message: str) -> None:
        md = pod["metadata"]
        ref = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": md["name"], "namespace": md["namespace"]}}  # fmt: skip
        await self.events.event(ref, NORMAL, REASON, message)
