"""Validation of one container: name, image, ports, env, resources, probes and hooks (VAL-3..19).

Called by ``pod_validation`` for app, init and sidecar containers with the context it needs
(the pod's volumes, its grace period). Paths and messages follow the API server's (VAL-1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubelite.model.fielderrors import (
    FieldError,
    duplicate,
    forbidden,
    invalid,
    not_supported,
    required,
)
from kubelite.model.quantity import QuantityError, parse_quantity
from kubelite.registry.meta_validation import (
    check,
    config_key_errors,
    dns1123_label_errors,
    dns1123_subdomain_errors,
    env_var_name_errors,
    http_header_name_errors,
    port_name_errors,
    qualified_name_errors,
)
from kubelite.registry.volume_validation import (
    ENV_FIELD_PATHS,
    validate_field_ref,
    validate_resource_field_ref,
    validate_volume_mounts,
)

PORT_RANGE_MESSAGE = "must be between 1 and 65535, inclusive"
NON_NEGATIVE = "must be greater than or equal to 0"
PROTOCOLS = ["SCTP", "TCP", "UDP"]
PULL_POLICIES = ["Always", "IfNotPresent", "Never"]
SCHEMES = ["HTTP", "HTTPS"]
STANDARD_CONTAINER_RESOURCES = frozenset({"cpu", "memory", "ephemeral-storage"})
_PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
_HOOK_HANDLERS = ("exec", "httpGet", "tcpSocket", "sleep")


@dataclass(frozen=True, slots=True)
class ValidationOptions:
    """Which Kubernetes minor version's gated rules apply (VER-1). Default: v1.33."""

    kube_minor: int = 33

    @property
    def relaxed_env_names(self) -> bool:  # VAL-16
        return self.kube_minor >= 32

    @property
    def sleep_allows_zero(self) -> bool:  # VAL-11
        return self.kube_minor >= 33


@dataclass(frozen=True, slots=True)
class PodContext:
    """What container rules need to know about the pod around them."""

    volumes: frozenset[str]
    grace_period: int | None
    options: ValidationOptions


def validate_container_common(c: dict[str, Any], path: str, ctx: PodContext) -> list[FieldError]:
    """Rules shared by app, init, sidecar and ephemeral containers."""
    errs: list[FieldError] = []
    name = c.get("name") or ""
    if not name:
        errs.append(required(f"{path}.name"))  # VAL-3
    else:
        errs += check(f"{path}.name", name, dns1123_label_errors(name))
    image = c.get("image") or ""
    if not image:
        errs.append(required(f"{path}.image"))  # VAL-4
    elif image != image.strip():
        errs.append(invalid(f"{path}.image", image, "must not have leading or trailing whitespace"))
    errs += validate_ports(c.get("ports"), f"{path}.ports")
    errs += validate_env(c.get("env"), f"{path}.env", ctx.options)
    errs += validate_env_from(c.get("envFrom"), f"{path}.envFrom", ctx.options)
    errs += validate_volume_mounts(c.get("volumeMounts"), f"{path}.volumeMounts", ctx.volumes)
    errs += _validate_pull_policy(c.get("imagePullPolicy"), f"{path}.imagePullPolicy")
    errs += validate_resources(c.get("resources"), f"{path}.resources")
    errs += _validate_termination_message_policy(c.get("terminationMessagePolicy"), path)
    if c.get("restartPolicyRules") is not None:
        # ContainerRestartRules (v1.34+) is off: such a pod is rejected (acceptance README).
        errs.append(
            forbidden(
                f"{path}.restartPolicyRules",
                "may not be set: the ContainerRestartRules feature is not enabled",
            )
        )
    return errs


def validate_probes_and_lifecycle(
    c: dict[str, Any], path: str, ctx: PodContext
) -> list[FieldError]:
    """PR-1, VAL-9, VAL-10, VAL-11: for app containers and sidecars."""
    errs: list[FieldError] = []
    if c.get("lifecycle") is not None:
        errs += validate_lifecycle(c["lifecycle"], f"{path}.lifecycle", ctx)
    for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = c.get(kind)
        if probe is not None:
            errs += validate_probe(probe, f"{path}.{kind}", kind, ctx)
    return errs


# --- ports (VAL-12) ---------------------------------------------------------------------------


def validate_ports(ports: Any, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    names: set[str] = set()
    for i, port in enumerate(_dicts(ports)):
        at = f"{path}[{i}]"
        name = port.get("name") or ""
        if name:
            messages = port_name_errors(name)
            if messages:
                errs += check(f"{at}.name", name, messages)
            elif name in names:
                errs.append(duplicate(f"{at}.name", name))
            names.add(name)
        container_port = port.get("containerPort") or 0
        if not container_port:
            errs.append(required(f"{at}.containerPort"))
        else:
            errs += port_number_errors(container_port, f"{at}.containerPort")
        if port.get("hostPort"):
            errs += port_number_errors(port["hostPort"], f"{at}.hostPort")
        protocol = port.get("protocol") or ""
        if not protocol:
            errs.append(required(f"{at}.protocol"))
        elif protocol not in PROTOCOLS:
            errs.append(not_supported(f"{at}.protocol", protocol, PROTOCOLS))
    return errs


def port_number_errors(value: Any, path: str) -> list[FieldError]:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535:
        return []
    return [invalid(path, value, PORT_RANGE_MESSAGE)]


def port_num_or_name_errors(value: Any, path: str) -> list[FieldError]:
    if isinstance(value, str):
        return check(path, value, port_name_errors(value))
    return port_number_errors(value, path)


def host_port_key(port: dict[str, Any]) -> str:
    """``<PROTO>/<hostIP>/<port>``, the identity of a host port (VAL-12)."""
    return f"{port.get('protocol', 'TCP')}/{port.get('hostIP', '')}/{port['hostPort']}"


# --- env (VAL-16) -----------------------------------------------------------------------------


def validate_env(env: Any, path: str, options: ValidationOptions) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, var in enumerate(_dicts(env)):
        at = f"{path}[{i}]"
        name = var.get("name") or ""
        if not name:
            errs.append(required(f"{at}.name"))
        if name or not options.relaxed_env_names:
            messages = env_var_name_errors(name, relaxed=options.relaxed_env_names)
            errs += check(f"{at}.name", name, messages)
        errs += _validate_value_from(var, f"{at}.valueFrom")
    return errs


def _validate_value_from(var: dict[str, Any], path: str) -> list[FieldError]:
    source = var.get("valueFrom")
    if source is None:
        return []
    if not isinstance(source, dict):
        return [invalid(path, "", "must be an object")]
    errs: list[FieldError] = []
    count = 0
    if source.get("fieldRef") is not None:
        count += 1
        errs += validate_field_ref(source["fieldRef"], f"{path}.fieldRef", ENV_FIELD_PATHS)
    if source.get("resourceFieldRef") is not None:
        count += 1
        errs += validate_resource_field_ref(
            source["resourceFieldRef"], f"{path}.resourceFieldRef", volume=False
        )
    for kind in ("configMapKeyRef", "secretKeyRef"):
        if source.get(kind) is not None:
            count += 1
            errs += _validate_key_selector(source[kind], f"{path}.{kind}")
    if count == 0:
        errs.append(
            invalid(
                path,
                "",
                "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or "
                "`secretKeyRef`",
            )
        )
    elif var.get("value"):
        errs.append(invalid(path, "", "may not be specified when `value` is not empty"))
    elif count > 1:
        errs.append(invalid(path, "", "may not have more than one field specified at a time"))
    return errs


def _validate_key_selector(ref: Any, path: str) -> list[FieldError]:
    if not isinstance(ref, dict):
        return [required(path)]
    errs: list[FieldError] = []
    name = ref.get("name") or ""
    if not name:
        errs.append(required(f"{path}.name"))
    else:
        errs += check(f"{path}.name", name, dns1123_subdomain_errors(name))
    key = ref.get("key") or ""
    if not key:
        errs.append(required(f"{path}.key"))
    else:
        errs += check(f"{path}.key", key, config_key_errors(key))
    return errs


def validate_env_from(env_from: Any, path: str, options: ValidationOptions) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, source in enumerate(_dicts(env_from)):
        at = f"{path}[{i}]"
        prefix = source.get("prefix") or ""
        if prefix:
            messages = env_var_name_errors(prefix, relaxed=options.relaxed_env_names)
            errs += check(f"{at}.prefix", prefix, messages)
        count = 0
        for kind in ("configMapRef", "secretRef"):
            ref = source.get(kind)
            if ref is None:
                continue
            count += 1
            name = ref.get("name") if isinstance(ref, dict) else None
            if not name:
                errs.append(required(f"{at}.{kind}.name"))
            else:
                errs += check(f"{at}.{kind}.name", name, dns1123_subdomain_errors(name))
        if count == 0:
            errs.append(invalid(at, "", "must specify one of: `configMapRef` or `secretRef`"))
        elif count > 1:
            errs.append(invalid(at, "", "may not have more than one field specified at a time"))
    return errs


# --- resources (VAL-13) -----------------------------------------------------------------------


def validate_resources(resources: Any, path: str) -> list[FieldError]:
    if not isinstance(resources, dict):
        return []
    errs: list[FieldError] = []
    parsed: dict[str, dict[str, Any]] = {"limits": {}, "requests": {}}
    for section in ("limits", "requests"):
        for name, quantity in (resources.get(section) or {}).items():
            at = f"{path}.{section}[{name}]"
            errs += _resource_name_errors(name, at)
            try:
                value = parse_quantity(quantity)
            except QuantityError as e:
                errs.append(invalid(at, quantity, str(e)))
                continue
            if value < 0:
                errs.append(invalid(at, str(quantity), NON_NEGATIVE))
            parsed[section][name] = value
    for name, request in parsed["requests"].items():
        limit = parsed["limits"].get(name)
        if limit is not None and request > limit:
            shown = str(resources["requests"][name])
            detail = f"must be less than or equal to {name} limit of {resources['limits'][name]}"
            errs.append(invalid(f"{path}.requests[{name}]", shown, detail))
    return errs


def _resource_name_errors(name: str, path: str) -> list[FieldError]:
    if name in STANDARD_CONTAINER_RESOURCES or name.startswith("hugepages-"):
        return []
    if "/" in name:
        return check(path, name, qualified_name_errors(name))
    return [invalid(path, name, "must be a standard resource for containers")]


# --- probes and hooks (VAL-9, VAL-10, VAL-11) -------------------------------------------------


def validate_probe(probe: Any, path: str, kind: str, ctx: PodContext) -> list[FieldError]:
    if not isinstance(probe, dict):
        return [required(path, "must specify a handler type")]
    errs = _validate_handler(probe, path, _PROBE_HANDLERS, ctx)
    for field in (
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ):
        value = probe.get(field)
        if isinstance(value, int) and value < 0:
            errs.append(invalid(f"{path}.{field}", value, NON_NEGATIVE))
    grace = probe.get("terminationGracePeriodSeconds")
    if grace is not None and grace <= 0:
        errs.append(
            invalid(f"{path}.terminationGracePeriodSeconds", grace, "must be greater than 0")
        )
    success = probe.get("successThreshold", 1)
    if kind in ("livenessProbe", "startupProbe") and success != 1:
        errs.append(invalid(f"{path}.successThreshold", success, "must be 1"))
    if kind == "readinessProbe" and grace is not None:
        detail = "must not be set for readinessProbes"
        errs.append(invalid(f"{path}.terminationGracePeriodSeconds", grace, detail))
    return errs


def validate_lifecycle(lifecycle: Any, path: str, ctx: PodContext) -> list[FieldError]:
    if not isinstance(lifecycle, dict):
        return []
    errs: list[FieldError] = []
    for hook in ("postStart", "preStop"):
        handler = lifecycle.get(hook)
        if handler is not None:
            if not isinstance(handler, dict):
                errs.append(required(f"{path}.{hook}", "must specify a handler type"))
            else:
                errs += _validate_handler(handler, f"{path}.{hook}", _HOOK_HANDLERS, ctx)
    return errs


def _validate_handler(
    handler: dict[str, Any], path: str, kinds: tuple[str, ...], ctx: PodContext
) -> list[FieldError]:
    errs: list[FieldError] = []
    seen = 0
    for kind in kinds:  # VAL-9: exec, httpGet, tcpSocket, grpc, sleep
        body = handler.get(kind)
        if body is None:
            continue
        if seen:
            errs.append(forbidden(f"{path}.{kind}", "may not specify more than 1 handler type"))
            continue
        seen += 1
        body = body if isinstance(body, dict) else {}
        errs += _ACTIONS[kind](body, f"{path}.{kind}", ctx)
    if not seen:
        errs.append(required(path, "must specify a handler type"))
    return errs


def _exec_errors(action: dict[str, Any], path: str, ctx: PodContext) -> list[FieldError]:
    return [] if action.get("command") else [required(f"{path}.command")]


def _http_get_errors(action: dict[str, Any], path: str, ctx: PodContext) -> list[FieldError]:
    errs: list[FieldError] = []
    if not action.get("path"):
        errs.append(required(f"{path}.path"))
    errs += port_num_or_name_errors(action.get("port"), f"{path}.port")
    scheme = action.get("scheme") or ""
    if scheme not in SCHEMES:
        errs.append(not_supported(f"{path}.scheme", scheme, SCHEMES))
    for header in _dicts(action.get("httpHeaders")):
        name = header.get("name") or ""
        errs += check(f"{path}.httpHeaders", name, http_header_name_errors(name))
    return errs


def _tcp_socket_errors(action: dict[str, Any], path: str, ctx: PodContext) -> list[FieldError]:
    return port_num_or_name_errors(action.get("port"), f"{path}.port")


def _grpc_errors(action: dict[str, Any], path: str, ctx: PodContext) -> list[FieldError]:
    return port_number_errors(action.get("port"), f"{path}.port")


def _sleep_errors(action: dict[str, Any], path: str, ctx: PodContext) -> list[FieldError]:
    """VAL-11: 0..TGPS from v1.33 (1..TGPS before), reported at ``<hook>.sleep``."""
    seconds = action.get("seconds")
    grace = ctx.grace_period
    if not isinstance(seconds, int) or grace is None:
        return []
    if ctx.options.sleep_allows_zero:
        if 0 <= seconds <= grace:
            return []
        detail = f"must be non-negative and less than terminationGracePeriodSeconds ({grace})"
        return [invalid(path, seconds, detail)]
    if 0 < seconds <= grace:
        return []
    detail = f"must be greater than 0 and less than terminationGracePeriodSeconds ({grace})"
    if ctx.options.kube_minor == 32:
        detail += (
            ". Please enable PodLifecycleSleepActionAllowZero feature gate if you need a sleep "
            "of zero duration."
        )
    return [invalid(path, seconds, detail)]


_ACTIONS = {
    "exec": _exec_errors,
    "httpGet": _http_get_errors,
    "tcpSocket": _tcp_socket_errors,
    "grpc": _grpc_errors,
    "sleep": _sleep_errors,
}


# --- enums (VAL-19) ---------------------------------------------------------------------------


def _validate_pull_policy(policy: Any, path: str) -> list[FieldError]:
    if not policy:
        return [required(path)]
    if policy not in PULL_POLICIES:
        return [not_supported(path, policy, PULL_POLICIES)]
    return []


def _validate_termination_message_policy(policy: Any, path: str) -> list[FieldError]:
    at = f"{path}.terminationMessagePolicy"
    detail = "must be 'File' or 'FallbackToLogsOnError'"
    if not policy:
        return [required(at, detail)]
    if policy not in ("File", "FallbackToLogsOnError"):
        return [invalid(at, policy, detail)]
    return []


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
