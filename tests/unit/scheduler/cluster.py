"""Pods and nodes as plain objects, built in one line each, for the scheduler's table tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kubelite.scheduler.nodeinfo import Snapshot, snapshot
from kubelite.scheduler.podinfo import PodInfo, pod_info

Obj = dict[str, Any]


def node(
    name: str,
    *,
    cpu: str = "4",
    memory: str = "8Gi",
    pods: str = "110",
    labels: dict[str, str] | None = None,
    taints: Sequence[Obj] = (),
    unschedulable: bool = False,
    images: Sequence[Obj] = (),
    **allocatable: str,
) -> Obj:
    alloc = {"cpu": cpu, "memory": memory, "pods": pods, **allocatable}
    spec: Obj = {}
    if taints:
        spec["taints"] = list(taints)
    if unschedulable:
        spec["unschedulable"] = True
    status: Obj = {"allocatable": alloc}
    if images:
        status["images"] = list(images)
    return {
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
        "spec": spec,
        "status": status,
    }


def taint(key: str, effect: str = "NoSchedule", value: str = "") -> Obj:
    out = {"key": key, "effect": effect}
    if value:
        out["value"] = value
    return out


def pod(
    name: str = "p",
    *,
    namespace: str = "default",
    cpu: str = "",
    memory: str = "",
    labels: dict[str, str] | None = None,
    on: str = "",
    priority: int = 0,
    **spec: Any,
) -> Obj:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    container: Obj = {"name": "c", "image": "busybox:1.36"}
    if requests:
        container["resources"] = {"requests": requests}
    body: Obj = {"containers": [container], "priority": priority, **spec}
    if on:
        body["nodeName"] = on
    return {
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-{namespace}-{name}",
            "labels": dict(labels or {}),
        },
        "spec": body,
    }


def info(obj: Obj) -> PodInfo:
    return pod_info(obj)


def cluster(
    nodes: Sequence[Obj], pods: Sequence[Obj] = (), namespaces: Sequence[Obj] = ()
) -> Snapshot:
    return snapshot(nodes, [pod_info(p) for p in pods], namespaces)


def anti_affinity(labels: dict[str, str], key: str = "kubernetes.io/hostname") -> Obj:
    term = {"labelSelector": {"matchLabels": labels}, "topologyKey": key}
    return {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}


def affinity(labels: dict[str, str], key: str = "kubernetes.io/hostname") -> Obj:
    term = {"labelSelector": {"matchLabels": labels}, "topologyKey": key}
    return {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}


def spread(
    labels: dict[str, str],
    key: str = "kubernetes.io/hostname",
    max_skew: int = 1,
    when: str = "DoNotSchedule",
    **extra: Any,
) -> Obj:
    return {
        "maxSkew": max_skew,
        "topologyKey": key,
        "whenUnsatisfiable": when,
        "labelSelector": {"matchLabels": labels},
        **extra,
    }
