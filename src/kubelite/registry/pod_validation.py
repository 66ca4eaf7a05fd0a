"""Validation of v1 Pods on create and update (spec §11, VAL-*).

``validate_pod`` checks a defaulted Pod's ``spec``; ``metadata`` is left to the caller's
``validate_object_meta`` (``meta_validation``) so that every kind shares it, unless
``include_metadata=True``. ``validate_pod_update`` re-checks the new spec and adds the update
rules (VAL-20). Both expect objects that went through ``default_pod`` (VAL-10: zero never reaches
validation for defaulted fields). Container-level rules live in ``container_validation``,
volume rules in ``volume_validation``.
"""

from __future__ import annotations

import copy
from typing import Any

from kubelite.model.fielderrors import (
    FieldError,
    duplicate,
    forbidden,
    invalid,
    not_supported,
    required,
)
from kubelite.registry.container_validation import (
    PodContext,
    ValidationOptions,
    host_port_key,
    validate_container_common,
    validate_probes_and_lifecycle,
)
from kubelite.registry.ephemeral_validation import (
    STATIC_POD_FORBIDDEN,
    diff_lines,
    ephemeral_changes,
    validate_ephemeral_containers,
)
from kubelite.registry.meta_validation import (
    check,
    dns1123_label_errors,
    dns1123_subdomain_errors,
    label_value_errors,
    qualified_name_errors,
    validate_labels,
    validate_object_meta,
    validate_object_meta_update,
)
from kubelite.registry.pod_defaults import default_pod, is_mirror_pod
from kubelite.registry.securitycontext_validation import validate_security_context_ids
from kubelite.registry.volume_validation import validate_volumes

__all__ = [
    "ValidationOptions",
    "validate_ephemeral_containers_update",
    "validate_pod",
    "validate_pod_update",
]

RESTART_POLICIES = ["Always", "OnFailure", "Never"]  # VAL-7, in the API server's order
DNS_POLICIES = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"]
TOLERATION_OPERATORS = ["Equal", "Exists"]
TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"]
MAX_INT32 = 2**31 - 1
REGULAR_INIT_FORBIDDEN = "may not be set for init containers without restartPolicy=Always"
UPDATABLE_FIELDS_MESSAGE = (  # VAL-20
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
    "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
    "(allow it to be set to 1 if it was previously negative)"
)
_DEFAULT_OPTIONS = ValidationOptions()


def validate_pod(
    pod: dict[str, Any],
    *,
    options: ValidationOptions = _DEFAULT_OPTIONS,
    include_metadata: bool = False,
) -> list[FieldError]:
    """Create-time validation of a defaulted Pod."""
    errs: list[FieldError] = []
    if include_metadata:
        errs += validate_object_meta(pod.get("metadata"), namespaced=True)
    spec = pod.get("spec")
    if not isinstance(spec, dict):
        return [*errs, required("spec")]
    errs += _validate_spec(spec, options)
    if spec.get("ephemeralContainers"):
        errs.append(forbidden("spec.ephemeralContainers", "cannot be set on create"))  # VAL-21
    return errs


def validate_pod_update(
    new: dict[str, Any],
    old: dict[str, Any],
    *,
    options: ValidationOptions = _DEFAULT_OPTIONS,
    include_metadata: bool = False,
) -> list[FieldError]:
    """Update validation: the new spec must be valid and differ only where VAL-20 allows.

    Both objects are compared in defaulted form (``default_pod`` is idempotent), as the API
    server defaults every request body on decode; a PUT that leaves out defaulted fields is
    therefore not a change. The caller should still store ``default_pod(new)``.
    """
    new, old = default_pod(new), default_pod(old)
    errs: list[FieldError] = []
    if include_metadata:
        errs += validate_object_meta(new.get("metadata"), namespaced=True)
        errs += validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    new_spec, old_spec = new.get("spec"), old.get("spec")
    if not isinstance(new_spec, dict) or not isinstance(old_spec, dict):
        return [*errs, required("spec")]
    errs += _validate_spec(new_spec, options)
    errs += _validate_spec_update(new_spec, old_spec)
    return errs


def validate_ephemeral_containers_update(
    new: dict[str, Any],
    old: dict[str, Any],
    *,
    options: ValidationOptions = _DEFAULT_OPTIONS,
) -> list[FieldError]:
    """The ``ephemeralcontainers`` subresource (VAL-21, the API server's
    ValidatePodEphemeralContainersUpdate): the new spec must be valid, and ephemeral containers
    already there may be neither removed nor changed. A static pod takes none. The two pods
    differ only in their ephemeral containers (``PodKind.prepare_update`` made sure of it)."""
    new, old = default_pod(new), default_pod(old)
    if is_mirror_pod(old):
        return [forbidden("", STATIC_POD_FORBIDDEN)]
    new_spec, old_spec = new.get("spec"), old.get("spec")
    if not isinstance(new_spec, dict) or not isinstance(old_spec, dict):
        return [required("spec")]
    return _validate_spec(new_spec, options) + ephemeral_changes(new_spec, old_spec)


# --- spec -------------------------------------------------------------------------------------


def _validate_spec(spec: dict[str, Any], options: ValidationOptions) -> list[FieldError]:
    volumes, errs = validate_volumes(spec.get("volumes"))
    ctx = PodContext(
        volumes=volumes,
        grace_period=_int_or_none(spec.get("terminationGracePeriodSeconds")),
        options=options,
    )
    errs += _validate_app_containers(spec.get("containers"), ctx)
    app_names = {str(c["name"]) for c in _dicts(spec.get("containers")) if c.get("name")}
    errs += _validate_init_containers(spec.get("initContainers"), app_names, ctx)
    errs += validate_ephemeral_containers(spec, ctx)  # VAL-21
    errs += _validate_restart_policy(spec.get("restartPolicy"))
    errs += _validate_dns_policy(spec)
    errs += validate_labels(spec.get("nodeSelector"), "spec.nodeSelector")
    errs += _validate_names(spec)
    errs += _validate_deadline(spec.get("activeDeadlineSeconds"))
    errs += _validate_host_network(spec)
    errs += _validate_process_namespace(spec)
    errs += validate_tolerations(spec.get("tolerations"), "spec.tolerations")
    errs += validate_security_context_ids(spec)
    for i, secret in enumerate(_dicts(spec.get("imagePullSecrets"))):
        if not secret.get("name"):
            errs.append(required(f"spec.imagePullSecrets[{i}].name"))
    return errs


def _validate_app_containers(containers: Any, ctx: PodContext) -> list[FieldError]:
    if not containers:
        return [required("spec.containers")]  # VAL-2
    errs: list[FieldError] = []
    names: set[str] = set()
    for i, c in enumerate(containers if isinstance(containers, list) else []):
        path = f"spec.containers[{i}]"
        if not isinstance(c, dict):
            errs.append(required(f"{path}.name"))
            continue
        errs += validate_container_common(c, path, ctx)
        name = c.get("name") or ""
        if name in names:
            errs.append(duplicate(f"{path}.name", name))  # VAL-3
        names.add(name)
        errs += validate_probes_and_lifecycle(c, path, ctx)
        if c.get("restartPolicy") is not None:  # VAL-5
            errs.append(
                forbidden(f"{path}.restartPolicy", "may not be set for non-init containers")
            )
    errs += _host_port_conflicts(containers, "spec.containers")  # VAL-12: across app containers
    return errs


def _validate_init_containers(
    containers: Any, app_names: set[str], ctx: PodContext
) -> list[FieldError]:
    errs: list[FieldError] = []
    names = set(app_names)  # VAL-3: clashes land on the init container
    for i, c in enumerate(containers if isinstance(containers, list) else []):
        path = f"spec.initContainers[{i}]"
        if not isinstance(c, dict):
            errs.append(required(f"{path}.name"))
            continue
        errs += validate_container_common(c, path, ctx)
        policy = c.get("restartPolicy")
        if policy is not None and policy != "Always":  # VAL-5
            errs.append(not_supported(f"{path}.restartPolicy", policy, ["Always"]))
        name = c.get("name") or ""
        if name in names:
            errs.append(duplicate(f"{path}.name", name))
        elif name:
            names.add(name)
        errs += _host_port_conflicts([c], "spec.initContainers", first_index=i)  # one at a time
        if policy == "Always":  # a sidecar: validated like an app container (VAL-6)
            errs += validate_probes_and_lifecycle(c, path, ctx)
        else:
            for field in ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe"):
                if c.get(field) is not None:
                    errs.append(forbidden(f"{path}.{field}", REGULAR_INIT_FORBIDDEN))  # VAL-6
        if c.get("resizePolicy") and ctx.options.kube_minor <= 32:  # VAL-13
            errs.append(
                invalid(
                    f"{path}.resizePolicy", c["resizePolicy"], "must not be set for init containers"
                )
            )
    return errs


def _host_port_conflicts(containers: Any, path: str, first_index: int = 0) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[str] = set()
    for offset, c in enumerate(_dicts(containers)):
        for k, port in enumerate(_dicts(c.get("ports"))):
            if not port.get("hostPort"):
                continue
            key = host_port_key(port)
            if key in seen:
                at = f"{path}[{first_index + offset}].ports[{k}].hostPort"
                errs.append(duplicate(at, key))
            seen.add(key)
    return errs


def _validate_restart_policy(policy: Any) -> list[FieldError]:
    if not policy:
        return [required("spec.restartPolicy")]
    if policy not in RESTART_POLICIES:
        return [not_supported("spec.restartPolicy", policy, RESTART_POLICIES)]  # VAL-7
    return []


def _validate_dns_policy(spec: dict[str, Any]) -> list[FieldError]:
    policy = spec.get("dnsPolicy")
    if not policy:
        return [required("spec.dnsPolicy")]
    if policy not in DNS_POLICIES:
        return [not_supported("spec.dnsPolicy", policy, DNS_POLICIES)]
    if policy == "None" and spec.get("dnsConfig") is None:
        return [required("spec.dnsConfig", "must provide `dnsConfig` when `dnsPolicy` is None")]
    return []


def _validate_names(spec: dict[str, Any]) -> list[FieldError]:
    errs: list[FieldError] = []
    for field in ("hostname", "subdomain"):
        if spec.get(field):
            errs += check(f"spec.{field}", spec[field], dns1123_label_errors(spec[field]))
    for field in ("serviceAccountName", "nodeName", "priorityClassName"):
        if spec.get(field):
            errs += check(f"spec.{field}", spec[field], dns1123_subdomain_errors(spec[field]))
    return errs


def _validate_deadline(deadline: Any) -> list[FieldError]:
    if deadline is None:
        return []
    if not isinstance(deadline, int) or not 1 <= deadline <= MAX_INT32:  # VAL-17
        return [
            invalid(
                "spec.activeDeadlineSeconds",
                deadline,
                f"must be between 1 and {MAX_INT32}, inclusive",
            )
        ]
    return []


def _validate_host_network(spec: dict[str, Any]) -> list[FieldError]:
    """VAL-12: with hostNetwork, an app container's hostPort (defaulted from containerPort) must
    equal its containerPort. Reported at ``hostPort``, as the API server does since v1.28."""
    if spec.get("hostNetwork") is not True:
        return []
    errs: list[FieldError] = []
    for i, c in enumerate(_dicts(spec.get("containers"))):
        for k, port in enumerate(_dicts(c.get("ports"))):
            if port.get("hostPort") != port.get("containerPort"):
                errs.append(
                    invalid(
                        f"spec.containers[{i}].ports[{k}].hostPort",
                        port.get("hostPort", 0),
                        "must match `containerPort` when `hostNetwork` is true",
                    )
                )
    return errs


def _validate_process_namespace(spec: dict[str, Any]) -> list[FieldError]:
    # VAL-18. The API server keeps both flags in its internal securityContext and reports the
    # error there: spec.securityContext.shareProcessNamespace (the spec text omits that level).
    if spec.get("shareProcessNamespace") is True and spec.get("hostPID") is True:
        detail = "ShareProcessNamespace and HostPID cannot both be enabled"
        return [invalid("spec.securityContext.shareProcessNamespace", True, detail)]
    return []


def validate_tolerations(tolerations: Any, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, t in enumerate(_dicts(tolerations)):
        at = f"{path}[{i}]"
        key = t.get("key") or ""
        operator = t.get("operator") or ""
        if key:
            errs += check(f"{at}.key", key, qualified_name_errors(key))
        elif operator != "Exists":
            detail = (
                "operator must be Exists when `key` is empty, which means "
                '"match all values and all keys"'
            )
            errs.append(invalid(f"{at}.operator", operator, detail))
        if t.get("tolerationSeconds") is not None and t.get("effect") != "NoExecute":
            detail = "effect must be 'NoExecute' when `tolerationSeconds` is set"
            errs.append(invalid(f"{at}.effect", t.get("effect") or "", detail))
        value = t.get("value") or ""
        if operator in ("", "Equal"):
            errs += check(f"{at}.value", value, label_value_errors(value))
        elif operator == "Exists":
            if value:
                detail = "value must be empty when `operator` is 'Exists'"
                errs.append(invalid(f"{at}.operator", value, detail))
        else:
            errs.append(not_supported(f"{at}.operator", operator, TOLERATION_OPERATORS))
        effect = t.get("effect") or ""
        if effect and effect not in TAINT_EFFECTS:
            errs.append(not_supported(f"{at}.effect", effect, TAINT_EFFECTS))
    return errs


# --- update (VAL-20) --------------------------------------------------------------------------


def _validate_spec_update(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    errs: list[FieldError] = []
    for key in ("containers", "initContainers"):
        new_list, old_list = _dicts(new.get(key)), _dicts(old.get(key))
        if len(new_list) != len(old_list):
            errs.append(forbidden(f"spec.{key}", "pod updates may not add or remove containers"))
            return errs
    deadline_errs = _deadline_update(
        new.get("activeDeadlineSeconds"), old.get("activeDeadlineSeconds")
    )
    if deadline_errs:
        return errs + deadline_errs
    errs += _tolerations_update(new.get("tolerations"), old.get("tolerations"))
    errs += _scheduling_gates_update(new.get("schedulingGates"), old.get("schedulingGates"))
    # Overlay the fields that may change onto the old spec; anything left over is forbidden.
    munged = copy.deepcopy(old)
    for key in ("containers", "initContainers"):
        for mc, nc in zip(_dicts(munged.get(key)), _dicts(new.get(key)), strict=True):
            mc["image"] = nc.get("image")
    for key in ("activeDeadlineSeconds", "tolerations", "schedulingGates"):
        _copy_key(new, munged, key)
    if _dicts(old.get("schedulingGates")):  # a gated pod's placement may still be narrowed
        errs += _gated_placement_update(new, old)
        _copy_key(new, munged, "nodeSelector")
        _overlay_node_affinity(new, munged)
    old_grace = old.get("terminationGracePeriodSeconds")
    if (
        isinstance(old_grace, int)
        and old_grace < 0
        and new.get("terminationGracePeriodSeconds") == 1
    ):
        munged["terminationGracePeriodSeconds"] = 1
    if munged != new:
        diff = "\n".join(diff_lines("spec", munged, new))
        errs.append(forbidden("spec", f"{UPDATABLE_FIELDS_MESSAGE}\n{diff}"))
    return errs


def _deadline_update(new: Any, old: Any) -> list[FieldError]:
    path = "spec.activeDeadlineSeconds"
    if new is None:
        if old is not None:
            return [invalid(path, "null", "must not update from a positive integer to nil value")]
        return []
    if not isinstance(new, int) or not 0 <= new <= MAX_INT32:
        return [invalid(path, new, f"must be between 0 and {MAX_INT32}, inclusive")]
    if isinstance(old, int) and old < new:
        return [invalid(path, new, "must be less than or equal to previous value")]
    return []


def _tolerations_update(new: Any, old: Any) -> list[FieldError]:
    """Existing tolerations must stay; only their ``tolerationSeconds`` may change."""
    new_list = _dicts(new)
    for kept in _dicts(old):
        base = {k: v for k, v in kept.items() if k != "tolerationSeconds"}
        if not any(
            {k: v for k, v in t.items() if k != "tolerationSeconds"} == base for t in new_list
        ):
            detail = "existing toleration can not be modified except its tolerationSeconds"
            return [forbidden("spec.tolerations", detail)]
    return []


def _scheduling_gates_update(new: Any, old: Any) -> list[FieldError]:
    """Gates may only be removed, never added (the pod would go back to waiting)."""
    kept = {g.get("name") for g in _dicts(old)}
    return [
        forbidden(
            f"spec.schedulingGates[{i}].name",
            f"only deletion is allowed, but found new scheduling gate '{g.get('name')}'",
        )
        for i, g in enumerate(_dicts(new))
        if g.get("name") not in kept
    ]


def _gated_placement_update(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    """While a pod is gated, its nodeSelector may gain keys and its required node affinity
    may gain requirements (as a queueing controller narrows where a job runs); nothing
    already there may change or go."""
    errs: list[FieldError] = []
    new_selector = _mapping(new.get("nodeSelector"))
    old_selector = _mapping(old.get("nodeSelector"))
    if any(new_selector.get(k) != v for k, v in old_selector.items()):
        detail = "only additions to spec.nodeSelector are allowed (no mutations or deletions)"
        errs.append(invalid("spec.nodeSelector", new_selector, detail))
    old_terms = _node_selector_terms(old)
    if not old_terms:
        return errs
    at = "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
    new_terms = _node_selector_terms(new)
    if len(new_terms) != len(old_terms):
        detail = "no additions/deletions to non-empty NodeSelectorTerms list are allowed"
        return [*errs, invalid(f"{at}.nodeSelectorTerms", new_terms, detail)]
    for i, (was, now) in enumerate(zip(old_terms, new_terms, strict=True)):
        if not _only_additions(was, now):
            detail = "only additions are allowed (no mutations or deletions)"
            errs.append(invalid(f"{at}.nodeSelectorTerms[{i}]", now, detail))
    return errs


def _node_selector_terms(spec: dict[str, Any]) -> list[dict[str, Any]]:
    affinity = _mapping(spec.get("affinity"))
    node = _mapping(affinity.get("nodeAffinity"))
    required = node.get("requiredDuringSchedulingIgnoredDuringExecution")
    return _dicts(required.get("nodeSelectorTerms")) if isinstance(required, dict) else []


def _only_additions(was: dict[str, Any], now: dict[str, Any]) -> bool:
    """Every requirement of the old term is still there, at the same place."""
    for key in ("matchExpressions", "matchFields"):
        before, after = _dicts(was.get(key)), _dicts(now.get(key))
        if len(before) > len(after) or before != after[: len(before)]:
            return False
    return True


def _overlay_node_affinity(new: dict[str, Any], munged: dict[str, Any]) -> None:
    """``munged`` takes ``new``'s node affinity, keeping its own pod (anti-)affinity."""
    affinity = _mapping(munged.get("affinity"))
    new_affinity = _mapping(new.get("affinity"))
    _copy_key(new_affinity, affinity, "nodeAffinity")
    if affinity or "affinity" in new:
        munged["affinity"] = affinity
    else:
        munged.pop("affinity", None)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _copy_key(src: dict[str, Any], dst: dict[str, Any], key: str) -> None:
    if key in src:
        dst[key] = copy.deepcopy(src[key])
    else:
        dst.pop(key, None)


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
