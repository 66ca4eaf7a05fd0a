"""The NodeAffinity and NodeName plugins: ``nodeSelector``, required and preferred node
affinity, ``spec.nodeName``.

A node matches a pod when it carries every ``nodeSelector`` label and, if the pod has
required node affinity, one of its terms (terms are ORed; a term's expressions and fields are
ANDed; an empty term, or one that cannot be read, matches nothing). Expressions read the node's
labels with ``In``, ``NotIn`` (true when the label is absent), ``Exists``, ``DoesNotExist``,
``Gt`` and ``Lt`` (integers); fields read ``metadata.name`` with ``In`` and ``NotIn``.

PreFilter narrows the nodes to those named by ``metadata.name In`` fields when every term
has them (a DaemonSet's pods look like that); when the terms' names cannot meet, the pod
conflicts with itself. The score adds the weights of the preferred terms a node matches.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubelite.model.objects import JSON
from kubelite.scheduler.nodeinfo import NodeInfo
from kubelite.scheduler.podinfo import PodInfo
from kubelite.scheduler.status import NODE_AFFINITY, NODE_NAME, Status, unresolvable

REASON_POD = "node(s) didn't match Pod's node affinity/selector"
REASON_CONFLICT = "pod affinity terms conflict"
REASON_NODE_NAME = "node(s) didn't match the requested node name"
NAME_FIELD = "metadata.name"


class _Unreadable(ValueError):
    """A requirement the API would not have let through; its term matches nothing."""


def _label_requirement(req: JSON, labels: Mapping[str, str]) -> bool:
    key, op = str(req.get("key") or ""), req.get("operator")
    values = [str(v) for v in req.get("values") or ()]
    present = key in labels
    if op == "In":
        return present and labels[key] in values
    if op == "NotIn":
        return not present or labels[key] not in values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt"):
        if len(values) != 1:
            raise _Unreadable(op)
        try:
            want = int(values[0])
        except ValueError as exc:
            raise _Unreadable(op) from exc
        if not present:
            return False
        try:
            have = int(labels[key])
        except ValueError:
            return False
        return have > want if op == "Gt" else have < want
    raise _Unreadable(str(op))


def _field_requirement(req: JSON, node_name: str) -> bool:
    key, op = req.get("key"), req.get("operator")
    values = [str(v) for v in req.get("values") or ()]
    if key != NAME_FIELD or op not in ("In", "NotIn") or len(values) != 1:
        raise _Unreadable(str(key))
    return bool((node_name in values) == (op == "In"))


def term_matches(term: Any, node: NodeInfo) -> bool:
    """One ``NodeSelectorTerm``."""
    if not isinstance(term, Mapping):
        return False
    exprs = term.get("matchExpressions") or ()
    fields = term.get("matchFields") or ()
    if not exprs and not fields:
        return False
    try:
        return all(_label_requirement(e, node.labels) for e in exprs) and all(
            _field_requirement(f, node.name) for f in fields
        )
    except (_Unreadable, AttributeError):
        return False


def _node_affinity(pod: PodInfo) -> JSON:
    affinity = pod.spec.get("affinity")
    section = affinity.get("nodeAffinity") if isinstance(affinity, Mapping) else None
    return section if isinstance(section, Mapping) else {}


def _required(pod: PodInfo) -> JSON | None:
    required = _node_affinity(pod).get("requiredDuringSchedulingIgnoredDuringExecution")
    return required if isinstance(required, Mapping) else None


def required_matches(pod: PodInfo, node: NodeInfo) -> bool:
    """``RequiredNodeAffinity.Match``: the node selector and the required terms."""
    selector = pod.spec.get("nodeSelector") or {}
    if isinstance(selector, Mapping):
        for key, value in selector.items():
            if node.labels.get(str(key)) != str(value):
                return False
    required = _required(pod)
    if required is None:
        return True
    return any(term_matches(t, node) for t in required.get("nodeSelectorTerms") or ())


def prefilter(pod: PodInfo) -> Status | frozenset[str] | None:
    """The node names every term pins the pod to (None: any node), or the conflict."""
    required = _required(pod)
    terms = (required or {}).get("nodeSelectorTerms") or ()
    if not terms:
        return None
    names: set[str] = set()
    for term in terms:
        pinned: set[str] | None = None
        for req in (term.get("matchFields") or ()) if isinstance(term, Mapping) else ():
            if req.get("key") == NAME_FIELD and req.get("operator") == "In":
                values = {str(v) for v in req.get("values") or ()}
                pinned = values if pinned is None else pinned & values
        if pinned is None:
            return None  # this term reaches any node, and terms are ORed
        names |= pinned
    if not names:
        return unresolvable(NODE_AFFINITY, REASON_CONFLICT)
    return frozenset(names)


def node_affinity(pod: PodInfo, node: NodeInfo) -> Status | None:
    if required_matches(pod, node):
        return None
    return unresolvable(NODE_AFFINITY, REASON_POD)


def node_name(pod: PodInfo, node: NodeInfo) -> Status | None:
    wanted = str(pod.spec.get("nodeName") or "")
    if wanted and wanted != node.name:
        return unresolvable(NODE_NAME, REASON_NODE_NAME)
    return None


def preferred_terms(pod: PodInfo) -> list[tuple[int, JSON]]:
    out = []
    for item in _node_affinity(pod).get("preferredDuringSchedulingIgnoredDuringExecution") or ():
        if not isinstance(item, Mapping):
            continue
        weight = item.get("weight")
        if isinstance(weight, int) and weight != 0:
            out.append((weight, item.get("preference") or {}))
    return out


def preferred_score(terms: list[tuple[int, JSON]], node: NodeInfo) -> int:
    """The sum of the weights of the preferred terms the node matches."""
    return sum(weight for weight, term in terms if term_matches(term, node))
