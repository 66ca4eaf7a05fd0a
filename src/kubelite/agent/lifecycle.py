"""Each pod's lifecycle record, kept by the agent while the pod lives on the node.

The pod worker and the executor's capabilities tell a ``LifecycleRecorder`` what happens, in
small calls at the places it happens (the worker's observe, status, plan and event steps; the
runtime, hook and probe wrappers of ``lifecyclewrap``). ``PodRecord`` turns them into facts
(``lifecyclefacts``, pure), keeps them in time order and bounded (``lifecyclebound``), and
makes the ``PodLifecycle`` object the API serves (``timeline.record``). A ``LifecycleBook``
holds the records of every pod of the node and says when one changed (the publisher listens,
``lifecyclepublish``); a record is forgotten when its pod is gone from the source.

A pod source that keeps records offers its book as ``lifecycle`` (``KeepsLifecycles``); the
worker of a pod from any other source records nothing (``NO_RECORDER``).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from kubelite.agent import lifecyclefacts as lf
from kubelite.agent.actions import PodPlan
from kubelite.agent.eventtext import Event
from kubelite.agent.lifecyclebound import bound
from kubelite.agent.observed import ObservedPod
from kubelite.clock import Clock
from kubelite.model.objects import JSON, Obj
from kubelite.model.pod import ProbeType
from kubelite.timeline import record as rec

# How soon a change should reach the API: at once (the pod has finished), soon (a transition),
# or later (only a folded probe result's count moved).
NOW, SOON, LATER = "now", "soon", "later"
Listener = Callable[[str, str], None]  # (pod uid, NOW | SOON | LATER)
TRIM_TO = 0.9  # of the limit: a record over it is cut to this, so trimming is rare


class LifecycleRecorder(Protocol):
    """What the pod worker and its wrappers tell one pod's record."""

    def pod_updated(self, pod: JSON) -> None: ...
    def observed(self, observed: ObservedPod) -> None: ...
    def status(self, status: JSON) -> None: ...
    def planned(self, plan: PodPlan, *, deleting: bool, evicted: bool) -> None: ...
    def event(self, event: Event) -> None: ...
    def probe_result(
        self, container: str, probe: ProbeType, attempt: int, result: str, message: str
    ) -> None: ...
    def hook_started(self, container: str, hook: str) -> None: ...
    def hook_finished(self, container: str, hook: str, outcome: str, message: str) -> None: ...
    def sandbox_creating(self, attempt: int) -> None: ...
    def sandbox_ready(self, attempt: int) -> None: ...
    def sandbox_stopped(self) -> None: ...
    def signal_sent(self, container_id: str, signal: str, at: int | None = None) -> None: ...
    def finished(self) -> None: ...
    def now(self) -> int:
        """Microseconds since the epoch, on the record's clock."""
        ...

    @property
    def enabled(self) -> bool: ...


class _NoRecorder:
    """Records nothing: the worker of a pod whose source keeps no records."""

    enabled = False

    def pod_updated(self, pod: JSON) -> None: ...
    def observed(self, observed: ObservedPod) -> None: ...
    def status(self, status: JSON) -> None: ...
    def planned(self, plan: PodPlan, *, deleting: bool, evicted: bool) -> None: ...
    def event(self, event: Event) -> None: ...
    def probe_result(
        self, container: str, probe: ProbeType, attempt: int, result: str, message: str
    ) -> None: ...
    def hook_started(self, container: str, hook: str) -> None: ...
    def hook_finished(self, container: str, hook: str, outcome: str, message: str) -> None: ...
    def sandbox_creating(self, attempt: int) -> None: ...
    def sandbox_ready(self, attempt: int) -> None: ...
    def sandbox_stopped(self) -> None: ...
    def signal_sent(self, container_id: str, signal: str, at: int | None = None) -> None: ...
    def finished(self) -> None: ...
    def now(self) -> int:
        return 0


NO_RECORDER: LifecycleRecorder = _NoRecorder()


class PodRecord:
    """One pod's record: its facts in time order, and what the next facts are worked out
    from (the runtime view, open pulls, back-offs and kills already recorded)."""

    enabled = True

    def __init__(
        self, *, pod: JSON, node_name: str, now: Callable[[], int], changed: Callable[[str], None],
        limit: int = rec.MAX_FACTS,
    ) -> None:  # fmt: skip
        meta = pod.get("metadata") or {}
        self.uid = str(meta.get("uid", ""))
        self.name = str(meta.get("name", ""))
        self.namespace = str(meta.get("namespace") or "default")
        self.node_name = str((pod.get("spec") or {}).get("nodeName") or node_name)
        self.containers: list[Obj] = lf.container_table(pod)
        self.facts: list[Obj] = []
        self.dropped = 0
        self.version = 0  # moves on every change (the publisher writes when it moved)
        self._now = now
        self._changed = changed
        self._limit = limit
        self._pod: JSON | None = None
        self._status: JSON | None = None
        self._view = lf.RuntimeView()
        self._pulling: frozenset[str] = frozenset()
        self._backing_off: frozenset[str] = frozenset()
        self._killing: frozenset[str] = frozenset()
        self._probes: dict[tuple[str, str], Obj] = {}  # the last result of each probe
        self._stop_signals: dict[str, str] = {}
        self._signalled: dict[str, int] = {}  # container id -> when it was first signalled

    # ------------------------------------------------------------------ keeping facts

    def now(self) -> int:
        return self._now()

    def _add(self, facts: list[Obj], *, urgency: str = SOON) -> None:
        if not facts:
            return
        for f in facts:
            if self.facts and int(f["at"]) < int(self.facts[-1]["at"]):
                keys = [int(x["at"]) for x in self.facts]
                self.facts.insert(bisect.bisect_right(keys, int(f["at"])), f)
            else:
                self.facts.append(f)
            if f["type"] == rec.PROBE:
                self._probes[lf.probe_key(f)] = f
        if len(self.facts) > self._limit:
            kept, dropped = bound(self.facts, self._limit, int(self._limit * TRIM_TO))
            self.facts = [dict(f) for f in kept]
            self.dropped += dropped
            self._probes = {lf.probe_key(f): f for f in self.facts if f["type"] == rec.PROBE}
        self._touch(urgency)

    def _touch(self, urgency: str = SOON) -> None:
        self.version += 1
        self._changed(urgency)

    def merge(self, older: list[Any]) -> None:
        """Facts of an earlier record of this pod (kept in the API across an agent restart):
        those not already here are added, in time order."""
        have = {_identity(f) for f in self.facts}
        new = [dict(f) for f in older if isinstance(f, dict) and _identity(f) not in have]
        new = [f for f in new if isinstance(f.get("at"), int) and isinstance(f.get("type"), str)]
        if new:
            self.facts = lf.ordered([*new, *self.facts])
            self._probes = {lf.probe_key(f): f for f in self.facts if f["type"] == rec.PROBE}
            self._touch()

    # ------------------------------------------------------------------ the pod worker

    def pod_updated(self, pod: JSON) -> None:
        before, self._pod = self._pod, pod
        facts: list[Obj] = []
        if before is None:
            facts += lf.first_facts(pod)
            status = pod.get("status") or {}
            if status.get("startTime"):  # an agent published it before (this one restarted):
                self._status = status  # only what changes from now on is news
        table = lf.container_table(pod)
        if table != self.containers:  # an ephemeral container was added
            self.containers = table
            self._touch()
        deletion = lf.deletion_fact(before, pod, self.now())
        if deletion is not None:
            facts.append(deletion)
        self._add(facts)

    def observed(self, observed: ObservedPod) -> None:
        facts, self._view = lf.runtime_facts(self._view, observed.containers, self._signalled)
        created = {f["container"] for f in facts if f["type"] == rec.CONTAINER_CREATED}
        self._backing_off -= created  # a new instance ends its container's back-off
        self._add(facts)

    def status(self, status: JSON) -> None:
        if status == self._status:
            return
        facts = lf.status_facts(self._status, status, self.now())
        self._status = status
        self._add(facts, urgency=NOW if lf.terminal(status) else SOON)

    def planned(self, plan: PodPlan, *, deleting: bool, evicted: bool) -> None:
        facts, self._backing_off, self._killing = lf.plan_facts(
            plan, self.now(), deleting=deleting, evicted=evicted,
            backing_off=self._backing_off, killing=self._killing,
        )  # fmt: skip
        self._add(facts)

    def event(self, event: Event) -> None:
        facts, self._pulling = lf.event_facts(event, self.now(), self._pulling)
        self._add(facts)

    def finished(self) -> None:
        self._add([lf.fact(self.now(), rec.POD_FINISHED)], urgency=NOW)

    # ------------------------------------------------------------------ the wrappers

    def probe_result(
        self, container: str, probe: ProbeType, attempt: int, result: str, message: str
    ) -> None:
        new = lf.probe_fact(self.now(), container, probe, attempt, result, message)
        previous = self._probes.get(lf.probe_key(new))
        folded = lf.fold_probe(previous, new)
        if previous is not None and folded is not None:
            previous.update(folded)
            self._touch(LATER)
            return
        self._add([new])

    def hook_started(self, container: str, hook: str) -> None:
        self._add([lf.fact(self.now(), rec.HOOK_STARTED, container, hook=hook)])

    def hook_finished(self, container: str, hook: str, outcome: str, message: str) -> None:
        self._add(
            [
                lf.fact(
                    self.now(),
                    rec.HOOK_FINISHED,
                    container,
                    hook=hook,
                    outcome=outcome,
                    message=message or None,
                )
            ]
        )

    def sandbox_creating(self, attempt: int) -> None:
        self._add([lf.fact(self.now(), rec.SANDBOX_CREATING, attempt=attempt)])

    def sandbox_ready(self, attempt: int) -> None:
        self._add([lf.fact(self.now(), rec.SANDBOX_READY, attempt=attempt)])

    def sandbox_stopped(self) -> None:
        self._add([lf.fact(self.now(), rec.SANDBOX_STOPPED)])

    def signal_sent(self, container_id: str, signal: str, at: int | None = None) -> None:
        name = self._view.name_of(container_id)
        if name:
            at = self.now() if at is None else at
            self._signalled.setdefault(container_id, at)
            self._add([lf.fact(at, rec.SIGNAL_SENT, name, signal=signal)])

    # ------------------------------------------------------------------ the object

    def object(self) -> Obj:
        """The PodLifecycle object of this record (its facts copied)."""
        owner = {"apiVersion": "v1", "kind": "Pod", "name": self.name, "uid": self.uid}
        return {
            "apiVersion": rec.API_VERSION,
            "kind": rec.KIND,
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "ownerReferences": [owner],
            },
            "podUID": self.uid,
            "nodeName": self.node_name,
            "containers": [dict(c) for c in self.containers],
            "facts": [dict(f) for f in self.facts],
            "droppedFacts": self.dropped,
        }


def _identity(f: Any) -> tuple[Any, ...]:
    """What makes two facts the same fact (a folded probe result's count aside)."""
    if not isinstance(f, dict):
        return ()
    return tuple(sorted((k, repr(v)) for k, v in f.items() if k not in ("count", "last")))


class LifecycleBook:
    """The records of every pod on the node, by pod uid."""

    def __init__(self, *, clock: Clock, node_name: str = "", limit: int = rec.MAX_FACTS) -> None:
        self._clock = clock
        self._last = 0  # the latest stamp given: stamps never go back when the wall clock does
        self._node = node_name
        self._limit = limit
        self._records: dict[str, PodRecord] = {}
        self._listeners: list[Listener] = []

    def now(self) -> int:
        """The wall clock, as the runtime's own times (a container's start, its exit file's
        time) are: one time base for every fact. A clock anchored on the monotonic clock drifts
        from the wall clock as NTP slews it, by a millisecond a minute and more, enough to put
        a sidecar's SIGTERM before the exit of the app it waited for."""
        self._last = max(self._last, lf.micros(self._clock.now()))
        return self._last

    def listen(self, listener: Listener) -> None:
        """Call ``listener(uid, urgency)`` whenever a record changes: NOW once its pod has
        finished (or reached a terminal phase), LATER when only a repeated probe result was
        counted, else SOON."""
        self._listeners.append(listener)

    def recorder(self, pod: JSON) -> PodRecord:
        """The pod's record (made on first sight), told about this version of the pod."""
        uid = str((pod.get("metadata") or {}).get("uid", ""))
        record = self._records.get(uid)
        if record is None:
            record = PodRecord(
                pod=pod, node_name=self._node, now=self.now, limit=self._limit,
                changed=lambda urgency: self._notify(uid, urgency),
            )  # fmt: skip
            self._records[uid] = record
        record.pod_updated(pod)
        return record

    def get(self, uid: str) -> PodRecord | None:
        return self._records.get(uid)

    def records(self) -> list[PodRecord]:
        return list(self._records.values())

    def forget(self, uid: str) -> PodRecord | None:
        """The pod is gone: drop its record (returned, if there was one)."""
        return self._records.pop(uid, None)

    def _notify(self, uid: str, urgency: str) -> None:
        for listener in self._listeners:
            listener(uid, urgency)


@runtime_checkable
class KeepsLifecycles(Protocol):
    """A pod source that keeps its pods' lifecycle records."""

    @property
    def lifecycle(self) -> LifecycleBook: ...


def recorder_for(client: object, pod: JSON) -> LifecycleRecorder:
    """The recorder of this pod: its record in the client's book, or none."""
    if isinstance(client, KeepsLifecycles):
        return client.lifecycle.recorder(pod)
    return NO_RECORDER
