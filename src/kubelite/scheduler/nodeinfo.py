"""The cluster as one scheduling attempt sees it (kube-scheduler's ``NodeInfo`` and snapshot):
every node with the pods bound to it, what they request and the host ports they hold.

A node offers its ``status.allocatable`` (the API server defaults it from ``capacity``, so a
node without it offers its capacity); a resource it does not list is 0. A node's images
(``status.images``) feed ImageLocality. The snapshot also carries the namespaces' labels, which
pod (anti-)affinity terms with a namespace selector read.

Pure: no I/O. Records are frozen; ``with_pod``/``without`` return new snapshots (an assumed
placement within a pass, the pods a preemption would remove).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from kubelite.model.objects import JSON
from kubelite.model.quantity import QuantityError, parse_quantity
from kubelite.scheduler.podinfo import PODS, HostPort, PodInfo, amounts, total


@dataclass(frozen=True, slots=True)
class NodeInfo:
    name: str
    raw: JSON
    labels: Mapping[str, str]
    taints: tuple[JSON, ...] = ()
    unschedulable: bool = False
    allocatable: Mapping[str, int] = field(default_factory=dict)
    images: Mapping[str, int] = field(default_factory=dict)  # image name -> size in bytes
    pods: tuple[PodInfo, ...] = ()
    requested: Mapping[str, int] = field(default_factory=dict)
    nonzero_cpu: int = 0
    nonzero_memory: int = 0

    @property
    def allowed_pods(self) -> int:
        return self.allocatable.get(PODS, 0)

    @property
    def used_ports(self) -> tuple[HostPort, ...]:
        return tuple(p for pod in self.pods for p in pod.host_ports)

    def with_pods(self, pods: Iterable[PodInfo]) -> NodeInfo:
        held = tuple(pods)
        return replace(
            self,
            pods=held,
            requested=total(held),
            nonzero_cpu=sum(p.nonzero_cpu for p in held),
            nonzero_memory=sum(p.nonzero_memory for p in held),
        )

    def with_placed(self, pod: PodInfo) -> NodeInfo:
        """This node with ``pod`` added (or put in place of the pod of the same key), its
        totals moved by that pod alone: a pass places pods one at a time on nodes holding
        thousands, and adding them all up again each time was most of its cost."""
        old = next((p for p in self.pods if p.key == pod.key), None)
        if old is None:
            pods: tuple[PodInfo, ...] = (*self.pods, pod)
        else:
            pods = tuple(pod if p.key == pod.key else p for p in self.pods)
        requested = dict(self.requested)
        for name, value in old.requests.items() if old is not None else ():
            requested[name] = requested.get(name, 0) - value
        for name, value in pod.requests.items():
            requested[name] = requested.get(name, 0) + value
        return replace(
            self,
            pods=pods,
            requested=requested,
            nonzero_cpu=self.nonzero_cpu + pod.nonzero_cpu - (old.nonzero_cpu if old else 0),
            nonzero_memory=(
                self.nonzero_memory + pod.nonzero_memory - (old.nonzero_memory if old else 0)
            ),
        )


def _meta(obj: JSON) -> JSON:
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def _allocatable(node: JSON) -> dict[str, int]:
    status = node.get("status") or {}
    raw = status.get("allocatable") or status.get("capacity") or {}
    parsed = {}
    for name, value in raw.items() if isinstance(raw, Mapping) else ():
        try:
            parsed[str(name)] = parse_quantity(value)
        except (QuantityError, ValueError, TypeError):
            continue
    return amounts(parsed)


def _images(node: JSON) -> dict[str, int]:
    out: dict[str, int] = {}
    for image in (node.get("status") or {}).get("images") or ():
        if not isinstance(image, Mapping):
            continue
        size = image.get("sizeBytes")
        for name in image.get("names") or ():
            out[str(name)] = size if isinstance(size, int) else 0
    return out


def node_info(node: JSON, pods: Iterable[PodInfo] = ()) -> NodeInfo:
    meta, spec = _meta(node), node.get("spec") or {}
    labels = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
    taints = tuple(t for t in spec.get("taints") or () if isinstance(t, Mapping))
    base = NodeInfo(
        name=str(meta.get("name") or ""),
        raw=node,
        labels=labels,
        taints=taints,
        unschedulable=bool(spec.get("unschedulable")),
        allocatable=_allocatable(node),
        images=_images(node),
    )
    return base.with_pods(pods)


@dataclass(frozen=True, slots=True)
class Snapshot:
    nodes: tuple[NodeInfo, ...] = ()  # in name order
    namespace_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def get(self, name: str) -> NodeInfo | None:
        for node in self.nodes:
            if node.name == name:
                return node
        return None

    def labels_of_namespace(self, namespace: str) -> Mapping[str, str]:
        return self.namespace_labels.get(namespace, {})

    def image_nodes(self) -> dict[str, int]:
        """How many nodes have each image (``ImageStateSummary.NumNodes``)."""
        counts: dict[str, int] = {}
        for node in self.nodes:
            for name in node.images:
                counts[name] = counts.get(name, 0) + 1
        return counts

    def with_pod(self, pod: PodInfo, node: str) -> Snapshot:
        """The snapshot with ``pod`` bound to ``node`` (the scheduler's assumption, so the next
        pod of the same pass sees it)."""
        placed = pod.on(node)
        nodes = tuple(n.with_placed(placed) if n.name == node else n for n in self.nodes)
        return replace(self, nodes=nodes)

    def without(self, keys: set[str]) -> Snapshot:
        """The snapshot without the pods named (``namespace/name``)."""
        nodes = tuple(
            n.with_pods(p for p in n.pods if p.key not in keys)
            if any(p.key in keys for p in n.pods)
            else n
            for n in self.nodes
        )
        return replace(self, nodes=nodes)


def snapshot(
    nodes: Sequence[JSON],
    pods: Iterable[PodInfo],
    namespaces: Iterable[JSON] = (),
) -> Snapshot:
    """The snapshot of ``nodes`` holding the bound ``pods`` (a pod naming a node not listed is
    left out, as upstream's snapshot lists only nodes it knows)."""
    by_node: dict[str, list[PodInfo]] = {}
    for pod in pods:
        if pod.node:
            by_node.setdefault(pod.node, []).append(pod)
    infos = [node_info(n, by_node.get(node_name(n), ())) for n in nodes]
    return assemble(infos, namespaces)


def node_name(node: JSON) -> str:
    return str(_meta(node).get("name") or "")


def assemble(infos: Iterable[NodeInfo], namespaces: Iterable[JSON] = ()) -> Snapshot:
    """The snapshot of nodes read already (``node_info``), with the namespaces' labels."""
    labels: dict[str, Mapping[str, str]] = {}
    for ns in namespaces:
        meta = _meta(ns)
        labels[str(meta.get("name") or "")] = {
            str(k): str(v) for k, v in (meta.get("labels") or {}).items()
        }
    return Snapshot(tuple(sorted(infos, key=lambda n: n.name)), labels)
