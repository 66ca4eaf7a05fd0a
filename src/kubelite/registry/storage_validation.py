"""Validation of PersistentVolumes and PersistentVolumeClaims (and of the claim spec inside a
StatefulSet's ``volumeClaimTemplates``), with the API server's field paths and messages.

A volume needs access modes, a ``storage`` capacity and exactly one source (kubelite mounts
``hostPath`` and ``local``, the others are accepted as data); a ``local`` source needs node
affinity. A claim needs access modes and a ``storage`` request. After creation a volume's
source and a claim's spec are immutable, except what binding sets (a claim's ``volumeName``,
once) and a bound claim's storage request, which may only grow.
"""

from __future__ import annotations

import json
from typing import Any

from kubelite.model import storage as st
from kubelite.model.fielderrors import (
    NOT_SUPPORTED,
    FieldError,
    forbidden,
    invalid,
    not_supported,
    required,
)
from kubelite.model.quantity import QuantityError, parse_quantity
from kubelite.registry.meta_validation import (
    check,
    dns1123_subdomain_errors,
    qualified_name_errors,
    validate_labels,
)

RECLAIM_POLICIES = [st.DELETE, st.RECYCLE, st.RETAIN]
VOLUME_MODES = [st.BLOCK, st.FILESYSTEM]
HOST_PATH_TYPES = [
    "",
    "BlockDevice",
    "CharDevice",
    "Directory",
    "DirectoryOrCreate",
    "File",
    "FileOrCreate",
    "Socket",
]
# The persistent volume sources of the v1 API, in the order the API server counts them.
PV_SOURCES = (
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "glusterfs",
    "flocker",
    "nfs",
    "rbd",
    "quobyte",
    "cephfs",
    "iscsi",
    "cinder",
    "fc",
    "flexVolume",
    "azureFile",
    "vsphereVolume",
    "photonPersistentDisk",
    "portworxVolume",
    "azureDisk",
    "scaleIO",
    "local",
    "storageos",
    "csi",
)
SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
NOT_POSITIVE = "must be greater than zero"
CLAIM_SPEC_IMMUTABLE = (
    "spec is immutable after creation except resources.requests and volumeAttributesClassName "
    "for bound claims"
)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _no_backsteps(value: str, path: str) -> list[FieldError]:
    if ".." in value.replace("\\", "/").split("/"):
        return [invalid(path, value, "must not contain '..'")]
    return []


def access_mode_errors(modes: Any, path: str, *, claim: bool) -> list[FieldError]:
    listed = modes if isinstance(modes, list) else []
    errs: list[FieldError] = []
    if not listed:
        errs.append(required(path, "at least 1 access mode is required" if claim else ""))
    once_pod = other = False
    for mode in listed:
        if mode not in st.ACCESS_MODES:
            errs.append(not_supported(path, mode, st.ACCESS_MODES))
        elif mode == st.READ_WRITE_ONCE_POD:
            once_pod = True
        else:
            other = True
    if once_pod and other:
        errs.append(forbidden(path, "may not use ReadWriteOncePod with other access modes"))
    return errs


def _positive_quantity(value: Any, path: str) -> list[FieldError]:
    try:
        amount = parse_quantity(value)
    except (QuantityError, TypeError) as err:
        return [invalid(path, value, str(err))]
    if amount <= 0:
        return [invalid(path, value, NOT_POSITIVE)]
    return []


def _class_name_errors(value: Any, path: str) -> list[FieldError]:
    if not value:
        return []
    return check(path, str(value), dns1123_subdomain_errors(str(value)))


def _selector_requirement_errors(req: Any, path: str) -> list[FieldError]:
    req = _dict(req)
    errs: list[FieldError] = []
    key = str(req.get("key") or "")
    errs += check(f"{path}.key", key, qualified_name_errors(key))
    op, values = req.get("operator"), req.get("values") or []
    if op in ("In", "NotIn") and not values:
        errs.append(
            required(f"{path}.values", "must be specified when `operator` is 'In' or 'NotIn'")
        )
    elif op in ("Exists", "DoesNotExist") and values:
        errs.append(
            forbidden(
                f"{path}.values",
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            )
        )
    elif op in ("Gt", "Lt") and len(values) != 1:
        errs.append(
            required(
                f"{path}.values", "must be specified single value when `operator` is 'Lt' or 'Gt'"
            )
        )
    elif op not in SELECTOR_OPERATORS:
        errs.append(invalid(f"{path}.operator", op, "not a valid selector operator"))
    return errs


def node_affinity_errors(affinity: Any, path: str) -> list[FieldError]:
    req = _dict(affinity).get("required")
    if req is None:
        return [required(f"{path}.required", "must specify required node constraints")]
    terms = _dict(req).get("nodeSelectorTerms")
    at = f"{path}.required.nodeSelectorTerms"
    if not isinstance(terms, list) or not terms:
        return [required(at, "must have at least one node selector term")]
    errs: list[FieldError] = []
    for i, term in enumerate(terms):
        for j, expr in enumerate(_dict(term).get("matchExpressions") or []):
            errs += _selector_requirement_errors(expr, f"{at}[{i}].matchExpressions[{j}]")
        for j, expr in enumerate(_dict(term).get("matchFields") or []):
            errs += _selector_requirement_errors(expr, f"{at}[{i}].matchFields[{j}]")
    return errs


def _source_errors(spec: dict[str, Any], has_affinity: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    seen = 0
    for kind in PV_SOURCES:
        body = spec.get(kind)
        if body is None:
            continue
        if seen:
            errs.append(forbidden(f"spec.{kind}", "may not specify more than 1 volume type"))
            continue
        seen += 1
        source = _dict(body)
        if kind in ("hostPath", "local"):
            host = str(source.get("path") or "")
            if not host:
                errs.append(required(f"spec.{kind}.path"))
            else:
                errs += _no_backsteps(host, f"spec.{kind}.path")
        if kind == "hostPath" and source.get("type", "") not in HOST_PATH_TYPES:
            errs.append(not_supported("spec.hostPath.type", source.get("type"), HOST_PATH_TYPES))
        if kind == "local" and not has_affinity:
            errs.append(required("spec.nodeAffinity", "Local volume requires node affinity"))
    if not seen:
        errs.append(required("spec", "must specify a volume type"))
    return errs


def validate_volume(pv: dict[str, Any]) -> list[FieldError]:
    spec = _dict(pv.get("spec"))
    errs = access_mode_errors(spec.get("accessModes"), "spec.accessModes", claim=False)
    cap = spec.get("capacity")
    if not cap:
        errs.append(required("spec.capacity"))
    if not isinstance(cap, dict) or "storage" not in cap or len(cap) > 1:
        shown = json.dumps(cap) if isinstance(cap, dict) and cap else "core.ResourceList(nil)"
        errs.append(
            FieldError(
                NOT_SUPPORTED,
                "spec.capacity",
                f'Unsupported value: {shown}: supported values: "storage"',
            )
        )
    for name, qty in _dict(cap).items():
        errs += _positive_quantity(qty, f"spec.capacity[{name}]")
    policy = spec.get("persistentVolumeReclaimPolicy")
    if policy and policy not in RECLAIM_POLICIES:
        errs.append(not_supported("spec.persistentVolumeReclaimPolicy", policy, RECLAIM_POLICIES))
    affinity = spec.get("nodeAffinity")
    if affinity is not None:
        errs += node_affinity_errors(affinity, "spec.nodeAffinity")
    errs += _source_errors(spec, _dict(affinity).get("required") is not None)
    host = _dict(spec.get("hostPath")).get("path")
    if host and policy == st.RECYCLE and host.rstrip("/") == "":
        errs.append(
            forbidden(
                "spec.persistentVolumeReclaimPolicy",
                "may not be 'recycle' for a hostPath mount of '/'",
            )
        )
    errs += _class_name_errors(spec.get("storageClassName"), "spec.storageClassName")
    mode = spec.get("volumeMode")
    if mode is not None and mode not in VOLUME_MODES:
        errs.append(not_supported("spec.volumeMode", mode, VOLUME_MODES))
    return errs


def validate_volume_update(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    errs = validate_volume(new)
    new_spec, old_spec = _dict(new.get("spec")), _dict(old.get("spec"))
    new_src = {k: new_spec.get(k) for k in PV_SOURCES if k in new_spec}
    old_src = {k: old_spec.get(k) for k in PV_SOURCES if k in old_spec}
    if new_src != old_src:
        diff = "\n".join(spec_diff("", old_src, new_src))
        errs.append(
            forbidden(
                "spec.persistentvolumesource",
                f"spec.persistentvolumesource is immutable after creation\n{diff}",
            )
        )
    if new_spec.get("volumeMode") != old_spec.get("volumeMode"):
        errs.append(invalid("volumeMode", new_spec.get("volumeMode"), "field is immutable"))
    if old_spec.get("nodeAffinity") is not None and new_spec.get("nodeAffinity") != old_spec.get(
        "nodeAffinity"
    ):
        errs.append(invalid("nodeAffinity", new_spec.get("nodeAffinity"), "field is immutable"))
    return errs


def validate_claim_spec(spec: Any, path: str) -> list[FieldError]:
    spec = _dict(spec)
    errs = access_mode_errors(spec.get("accessModes"), f"{path}.accessModes", claim=True)
    selector = spec.get("selector")
    if selector is not None:
        errs += validate_labels(_dict(selector).get("matchLabels"), f"{path}.selector.matchLabels")
        for i, expr in enumerate(_dict(selector).get("matchExpressions") or []):
            errs += _selector_requirement_errors(expr, f"{path}.selector.matchExpressions[{i}]")
    requests = _dict(_dict(spec.get("resources")).get("requests"))
    at = f"{path}.resources[storage]"
    if "storage" not in requests:
        errs.append(required(at))
    else:
        errs += _positive_quantity(requests["storage"], at)
    errs += _class_name_errors(spec.get("storageClassName"), f"{path}.storageClassName")
    mode = spec.get("volumeMode")
    if mode is not None and mode not in VOLUME_MODES:
        errs.append(not_supported(f"{path}.volumeMode", mode, VOLUME_MODES))
    return errs


def validate_claim(pvc: dict[str, Any]) -> list[FieldError]:
    return validate_claim_spec(pvc.get("spec"), "spec")


def validate_claim_update(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    errs = validate_claim(new)
    new_spec, old_spec = _dict(new.get("spec")), dict(_dict(old.get("spec")))
    if not old_spec.get("volumeName"):  # binding may set it once
        old_spec["volumeName"] = new_spec.get("volumeName")
    compare_new = json.loads(json.dumps(new_spec))
    if old_spec.get("storageClassName") is None and new_spec.get("storageClassName") is not None:
        old_ann = _dict(_dict(old.get("metadata")).get("annotations"))
        wanted = old_ann.get(st.BETA_CLASS_ANNOTATION)
        if wanted is None or wanted == new_spec.get("storageClassName"):
            old_spec["storageClassName"] = new_spec.get("storageClassName")
    bound = st.phase_of(new) == st.BOUND or st.phase_of(old) == st.BOUND
    old_req = _dict(_dict(old_spec.get("resources")).get("requests")).get("storage")
    new_req = _dict(_dict(new_spec.get("resources")).get("requests")).get("storage")
    if bound and "storage" in _dict(_dict(compare_new.get("resources")).get("requests")):
        compare_new["resources"]["requests"]["storage"] = old_req
    if _present(compare_new) != _present(old_spec):
        diff = "\n".join(spec_diff("", _present(old_spec), _present(compare_new)))
        errs.append(forbidden("spec", f"{CLAIM_SPEC_IMMUTABLE}\n{diff}"))
    if _smaller(new_req, old_req):
        errs.append(
            forbidden(
                "spec.resources.requests.storage", "field can not be less than previous value"
            )
        )
    if new_spec.get("volumeMode") != _dict(old.get("spec")).get("volumeMode"):
        errs.append(invalid("volumeMode", new_spec.get("volumeMode"), "field is immutable"))
    return errs


def _present(spec: dict[str, Any]) -> dict[str, Any]:
    """A spec without its unset fields (null and absent are the same)."""
    return {k: v for k, v in spec.items() if v is not None}


def _smaller(new: Any, old: Any) -> bool:
    try:
        return parse_quantity(new) < parse_quantity(old)
    except (QuantityError, TypeError):
        return False


def spec_diff(path: str, old: Any, new: Any) -> list[str]:
    """Changed leaves as ``- path: old`` / ``+ path: new`` lines (kubelite's compact form of
    the diff the API server appends)."""
    if isinstance(old, dict) and isinstance(new, dict):
        lines: list[str] = []
        for key in sorted(set(old) | set(new)):
            lines += spec_diff(f"{path}.{key}" if path else key, old.get(key), new.get(key))
        return lines
    if old == new:
        return []
    return [f"  - {path}: {_json(old)}", f"  + {path}: {_json(new)}"]


def _json(value: Any) -> str:
    return "<unset>" if value is None else json.dumps(value, separators=(",", ":"), sort_keys=True)
