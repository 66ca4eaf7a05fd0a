"""The storage vocabulary the registry, the scheduler, the controllers and the agent share:
the annotations and finalizers PersistentVolumes and PersistentVolumeClaims carry, the class a
claim asks for, access modes as kubectl abbreviates them, and whether a volume can serve a
claim (size, class, access modes, volume mode, selector) or a node (its ``nodeAffinity``).

Pure: objects are plain dicts, read only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

from kubelite.model.objects import JSON
from kubelite.model.quantity import QuantityError, parse_quantity

# StorageClass
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
BETA_DEFAULT_CLASS_ANNOTATION = "storageclass.beta.kubernetes.io/is-default-class"
IMMEDIATE = "Immediate"
WAIT_FOR_FIRST_CONSUMER = "WaitForFirstConsumer"
NO_PROVISIONER = "kubernetes.io/no-provisioner"
LOCAL_PATH_PROVISIONER = "rancher.io/local-path"  # k3s's, which kubelite's default class names

# PersistentVolumeClaim
BETA_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"
SELECTED_NODE = "volume.kubernetes.io/selected-node"
STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner"
BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
PVC_PROTECTION = "kubernetes.io/pvc-protection"

# PersistentVolume
PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
PV_PROTECTION = "kubernetes.io/pv-protection"

# phases (a claim's and a volume's)
PENDING = "Pending"
AVAILABLE = "Available"
BOUND = "Bound"
RELEASED = "Released"
FAILED = "Failed"
LOST = "Lost"

RETAIN = "Retain"
DELETE = "Delete"
RECYCLE = "Recycle"
FILESYSTEM = "Filesystem"
BLOCK = "Block"

READ_WRITE_ONCE = "ReadWriteOnce"
READ_ONLY_MANY = "ReadOnlyMany"
READ_WRITE_MANY = "ReadWriteMany"
READ_WRITE_ONCE_POD = "ReadWriteOncePod"
ACCESS_MODES = [READ_ONLY_MANY, READ_WRITE_MANY, READ_WRITE_ONCE, READ_WRITE_ONCE_POD]
_ABBREVIATIONS = {
    READ_WRITE_ONCE: "RWO",
    READ_ONLY_MANY: "ROX",
    READ_WRITE_MANY: "RWX",
    READ_WRITE_ONCE_POD: "RWOP",
}

HOSTNAME_LABEL = "kubernetes.io/hostname"


def _meta(obj: JSON) -> JSON:
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def _spec(obj: JSON) -> JSON:
    spec = obj.get("spec")
    return spec if isinstance(spec, Mapping) else {}


def annotations_of(obj: JSON) -> JSON:
    ann = _meta(obj).get("annotations")
    return ann if isinstance(ann, Mapping) else {}


def name_of(obj: JSON) -> str:
    return str(_meta(obj).get("name") or "")


def namespace_of(obj: JSON) -> str:
    return str(_meta(obj).get("namespace") or "")


def uid_of(obj: JSON) -> str:
    return str(_meta(obj).get("uid") or "")


def is_deleting(obj: JSON) -> bool:
    return bool(_meta(obj).get("deletionTimestamp"))


def phase_of(obj: JSON) -> str:
    status = obj.get("status")
    return str(status.get("phase") or "") if isinstance(status, Mapping) else ""


# ------------------------------------------------------------------------------ classes


def is_default_class(sc: JSON) -> bool:
    ann = annotations_of(sc)
    return ann.get(DEFAULT_CLASS_ANNOTATION) == "true" or (
        ann.get(BETA_DEFAULT_CLASS_ANNOTATION) == "true"
    )


def default_class(classes: Iterable[JSON]) -> JSON | None:
    """The class the DefaultStorageClass admission gives a claim that names none: of those
    marked default, the newest (then the first by name)."""
    marked = [c for c in classes if is_default_class(c)]
    if not marked:
        return None
    marked.sort(key=name_of)
    marked.sort(key=lambda c: str(_meta(c).get("creationTimestamp") or ""), reverse=True)
    return marked[0]


def binding_mode(sc: JSON | None) -> str:
    if sc is None:
        return IMMEDIATE
    return str(sc.get("volumeBindingMode") or IMMEDIATE)


def claim_class(pvc: JSON) -> str:
    """The class a claim asks for: the beta annotation first, then ``storageClassName``."""
    ann = annotations_of(pvc)
    if BETA_CLASS_ANNOTATION in ann:
        return str(ann[BETA_CLASS_ANNOTATION])
    return str(_spec(pvc).get("storageClassName") or "")


def volume_class(pv: JSON) -> str:
    ann = annotations_of(pv)
    if BETA_CLASS_ANNOTATION in ann:
        return str(ann[BETA_CLASS_ANNOTATION])
    return str(_spec(pv).get("storageClassName") or "")


# ------------------------------------------------------------------------------ sizes, modes


def _quantity(value: Any) -> Fraction | None:
    try:
        return parse_quantity(value)
    except (QuantityError, TypeError, ValueError):
        return None


def requested_storage(pvc: JSON) -> Fraction | None:
    resources = _spec(pvc).get("resources")
    requests = resources.get("requests") if isinstance(resources, Mapping) else None
    if not isinstance(requests, Mapping) or "storage" not in requests:
        return None
    return _quantity(requests["storage"])


def capacity(pv: JSON) -> Fraction | None:
    cap = _spec(pv).get("capacity")
    if not isinstance(cap, Mapping) or "storage" not in cap:
        return None
    return _quantity(cap["storage"])


def access_modes(obj: JSON) -> list[str]:
    modes = _spec(obj).get("accessModes")
    return [str(m) for m in modes] if isinstance(modes, list) else []


def access_modes_text(modes: Iterable[Any]) -> str:
    """kubectl's abbreviation (``RWO,ROX``): each known mode once, in a fixed order."""
    present = {str(m) for m in modes}
    order = (READ_WRITE_ONCE, READ_ONLY_MANY, READ_WRITE_MANY, READ_WRITE_ONCE_POD)
    return ",".join(_ABBREVIATIONS[m] for m in order if m in present)


def volume_mode(obj: JSON) -> str:
    return str(_spec(obj).get("volumeMode") or FILESYSTEM)


# ------------------------------------------------------------------------------ selectors


def _expression_matches(req: JSON, value: str | None) -> bool:
    op = req.get("operator")
    values = [str(v) for v in req.get("values") or []]
    if op == "In":
        return value is not None and value in values
    if op == "NotIn":
        return value is None or value not in values
    if op == "Exists":
        return value is not None
    if op == "DoesNotExist":
        return value is None
    if op in ("Gt", "Lt") and value is not None and len(values) == 1:
        try:
            have, want = int(value), int(values[0])
        except ValueError:
            return False
        return have > want if op == "Gt" else have < want
    return False


def _label(labels: JSON, key: Any) -> str | None:
    value = labels.get(key)
    return None if value is None else str(value)


def label_selector_matches(selector: JSON | None, labels: JSON) -> bool:
    """A ``metav1.LabelSelector`` (matchLabels and matchExpressions); None matches all."""
    if selector is None:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        if not _expression_matches(expr, _label(labels, expr.get("key"))):
            return False
    return True


def node_affinity_allows(pv: JSON, node: JSON) -> bool:
    """Whether the volume's ``nodeAffinity.required`` admits ``node`` (any term matches; a
    term matches when all its expressions and fields do). No affinity admits every node."""
    affinity = _spec(pv).get("nodeAffinity")
    required = affinity.get("required") if isinstance(affinity, Mapping) else None
    if not isinstance(required, Mapping):
        return True
    labels = _meta(node).get("labels") or {}
    fields = {"metadata.name": name_of(node)}
    for term in required.get("nodeSelectorTerms") or []:
        exprs = term.get("matchExpressions") or []
        by_field = term.get("matchFields") or []
        if not exprs and not by_field:
            continue  # an empty term matches nothing
        if all(_expression_matches(e, _label(labels, e.get("key"))) for e in exprs) and all(
            _expression_matches(f, fields.get(str(f.get("key")))) for f in by_field
        ):
            return True
    return False


# ------------------------------------------------------------------------------ matching


def claim_ref_matches(pv: JSON, pvc: JSON) -> bool:
    """The volume is bound (or pre-bound) to this claim: its claimRef names it, and carries
    its uid if it carries one (the persistent-volume controller's IsVolumeBoundToClaim)."""
    ref = _spec(pv).get("claimRef")
    if not isinstance(ref, Mapping):
        return False
    if ref.get("name") != name_of(pvc) or ref.get("namespace") != namespace_of(pvc):
        return False
    return not ref.get("uid") or ref.get("uid") == uid_of(pvc)


def has_access_modes(pv: JSON, pvc: JSON) -> bool:
    return set(access_modes(pvc)) <= set(access_modes(pv))


def best_volume(
    pvc: JSON, volumes: Iterable[JSON], *, node: JSON | None = None, delay_binding: bool = False
) -> JSON | None:
    """The volume the persistent-volume controller (``node`` None) or the scheduler (``node``
    given) would bind ``pvc`` to: one already pre-bound to it, else the smallest Available,
    unclaimed volume of its class that holds the request, has its access modes (those with the
    fewest modes first), its volume mode, matches its selector and, for the scheduler, the
    node. With ``delay_binding`` and no node, only a pre-bound volume is taken."""
    want = requested_storage(pvc) or Fraction(0)
    cls = claim_class(pvc)
    selector = _spec(pvc).get("selector")
    best: tuple[int, Fraction, str] | None = None
    chosen: JSON | None = None
    for pv in volumes:
        size = capacity(pv)
        if size is None or size < want or volume_mode(pv) != volume_mode(pvc) or is_deleting(pv):
            continue
        if not has_access_modes(pv, pvc):
            continue
        fits_node = node is None or node_affinity_allows(pv, node)
        if claim_ref_matches(pv, pvc):
            return pv if fits_node else None
        if node is None and delay_binding:
            continue
        if phase_of(pv) != AVAILABLE or _spec(pv).get("claimRef") is not None:
            continue
        if selector is not None and not label_selector_matches(
            selector, _meta(pv).get("labels") or {}
        ):
            continue
        if volume_class(pv) != cls or not fits_node:
            continue
        rank = (len(set(access_modes(pv))), size, name_of(pv))
        if best is None or rank < best:
            best, chosen = rank, pv
    return chosen


def claim_names(pod: JSON) -> list[str]:
    """The claims a pod's volumes name, in volume order, each once."""
    out: list[str] = []
    for vol in _spec(pod).get("volumes") or []:
        src = vol.get("persistentVolumeClaim") if isinstance(vol, Mapping) else None
        if isinstance(src, Mapping) and src.get("claimName"):
            name = str(src["claimName"])
            if name not in out:
                out.append(name)
    return out
