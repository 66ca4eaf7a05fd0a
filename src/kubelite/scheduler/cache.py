"""The scheduler's own view of the cluster between passes (kube-scheduler's cache): the pods
bound to nodes, read once as ``PodInfo`` from the watch of pods, and what it last saw of each
node and each pending pod — so that it can tell a change that may let an unschedulable pod fit
(a pod bound, gone, finished or relabelled; a node added, relabelled, retainted, resized,
cordoned) from the status writes that change nothing for scheduling.

A pod finished (``Succeeded``/``Failed``) holds nothing, as the scheduler's informer never
lists finished pods. A pod the scheduler has just placed (bound, or waiting on its node for its
claims to be bound) is assumed there until the watch reports it bound or gone.

Pure bookkeeping: no I/O.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubelite.model.objects import JSON
from kubelite.scheduler.podinfo import PodInfo, pod_info

TERMINAL = ("Succeeded", "Failed")
_SERIALS = itertools.count(1)


def pod_key(pod: JSON) -> str:
    meta = pod.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


def _is_bound(pod: JSON) -> bool:
    return (
        bool((pod.get("spec") or {}).get("nodeName"))
        and (pod.get("status") or {}).get("phase") not in TERMINAL
    )


def _pending_view(pod: JSON) -> tuple[Any, Any]:
    """What of a pending pod matters to its own scheduling: its labels and its spec."""
    return ((pod.get("metadata") or {}).get("labels"), pod.get("spec"))


def node_view(node: JSON) -> tuple[Any, ...]:
    """What of a node matters to scheduling (not its heartbeats)."""
    meta, spec = node.get("metadata") or {}, node.get("spec") or {}
    status = node.get("status") or {}
    return (
        meta.get("labels"),
        spec.get("taints"),
        bool(spec.get("unschedulable")),
        status.get("allocatable") or status.get("capacity"),
        status.get("images"),
    )


@dataclass(frozen=True, slots=True)
class Change:
    cluster: bool = False  # may let any unschedulable pod fit
    pending_uid: str = ""  # this pending pod itself changed
    new_pending: bool = False  # a pod to schedule appeared


class ClusterCache:
    """Also kept by node, with a generation per node that moves whenever what the node holds
    may have changed, so a pass rebuilds only the nodes that changed since the last one."""

    def __init__(self) -> None:
        self._bound: dict[str, PodInfo] = {}
        self._assumed: dict[str, PodInfo] = {}  # placed by the scheduler, not yet seen bound
        self._pending: dict[str, tuple[str, tuple[Any, Any]]] = {}  # key -> (uid, view)
        self._by_node: dict[str, dict[str, PodInfo]] = {}  # node -> key -> bound pod
        self._generations: dict[str, int] = {}
        self.serial = next(_SERIALS)  # tells this cache from one made after a relist

    def bound(self) -> list[PodInfo]:
        """The pods on nodes: those the watch reports bound, and those assumed."""
        assumed = [p for k, p in self._assumed.items() if k not in self._bound]
        return [*self._bound.values(), *assumed]

    def on_node(self, node: str) -> list[PodInfo]:
        """The pods ``bound`` lists on ``node``."""
        held = list(self._by_node.get(node, {}).values())
        held += [p for k, p in self._assumed.items() if p.node == node and k not in self._bound]
        return held

    def holds(self, key: str) -> bool:
        """Whether the pod ``key`` is on a node, bound or assumed."""
        return key in self._bound or key in self._assumed

    def generation(self, node: str) -> int:
        """Moves whenever the pods ``on_node`` lists for ``node`` may have changed."""
        return self._generations.get(node, 0)

    def _touch(self, *pods: PodInfo | None) -> None:
        for pod in pods:
            if pod is not None and pod.node:
                self._generations[pod.node] = self._generations.get(pod.node, 0) + 1

    def _set_bound(self, key: str, info: PodInfo | None) -> PodInfo | None:
        before = self._bound.get(key)
        if before is not None and (info is None or before.node != info.node):
            self._by_node.get(before.node, {}).pop(key, None)
        if info is None:
            self._bound.pop(key, None)
        else:  # in place: the order pods are listed in stays that of their first sight
            self._bound[key] = info
            self._by_node.setdefault(info.node, {})[key] = info
        if before != info:
            self._touch(before, info)
        return before

    def _drop_assumed(self, key: str) -> PodInfo | None:
        assumed = self._assumed.pop(key, None)
        self._touch(assumed)
        return assumed

    def observe(self, pod: JSON) -> Change:
        """Account for ``pod`` as it now is."""
        key = pod_key(pod)
        if _is_bound(pod):
            self._pending.pop(key, None)
            self._drop_assumed(key)
            info = pod_info(pod)
            before = self._set_bound(key, info)
            return Change(cluster=before != info)
        was_bound = self._set_bound(key, None) is not None
        if (pod.get("spec") or {}).get("nodeName"):  # finished
            self._pending.pop(key, None)
            self._drop_assumed(key)
            return Change(cluster=was_bound)
        uid = str((pod.get("metadata") or {}).get("uid") or "")
        view = _pending_view(pod)
        before_pending = self._pending.get(key)
        self._pending[key] = (uid, view)
        if before_pending is None:
            return Change(cluster=was_bound, new_pending=True)
        changed = before_pending != (uid, view)
        return Change(cluster=was_bound, pending_uid=uid if changed else "")

    def remove(self, pod: JSON) -> Change:
        key = pod_key(pod)
        self._pending.pop(key, None)
        assumed = self._drop_assumed(key) is not None
        return Change(cluster=self._set_bound(key, None) is not None or assumed)

    def assume(self, pod: PodInfo) -> None:
        """``pod`` (with its node) was just placed by the scheduler: bound, or waiting there
        for its claims. It holds its room until the watch reports it bound or gone."""
        self._touch(self._assumed.get(pod.key), pod)
        self._assumed[pod.key] = pod

    def forget(self, key: str) -> None:
        """A placement assumed earlier no longer holds."""
        self._drop_assumed(key)


class NodeViews:
    """What the scheduler last saw of each node."""

    def __init__(self) -> None:
        self._views: dict[str, tuple[Any, ...]] = {}

    def observe(self, node: JSON) -> bool:
        """Whether the node is new or changed in what scheduling reads."""
        name = str((node.get("metadata") or {}).get("name") or "")
        view = node_view(node)
        before = self._views.get(name)
        self._views[name] = view
        return before != view

    def remove(self, node: Mapping[str, Any]) -> bool:
        name = str((node.get("metadata") or {}).get("name") or "")
        return self._views.pop(name, None) is not None
