"""Defaulting of v1 Pods, as the API server does it on every decode, plus what its admission
plugins add at create time (service account name, priority, default tolerations).

Everything here is pure: ``default_pod`` takes a Pod dict and returns a defaulted deep copy.
``prepare_pod_for_create`` additionally resets ``status`` the way the pod strategy does on create.

Deliberately left out (notes for the API and agent engineers):

* the service-account token volume (``kube-api-access-*`` projected volume and its mounts) that the
  ServiceAccount admission plugin injects: kubelite has no token issuer, so adding it would only
  produce mounts that cannot be served;
* canonical re-spelling of quantities (``0.5`` → ``500m``), which is a serialization concern.
"""

from __future__ import annotations

import copy
from typing import Any

from kubelite.model.quantity import QuantityError
from kubelite.model.resources import qos_class

# PR-3: probe numbers; 0 or unset becomes the default.
PROBE_DEFAULTS: dict[str, int] = {
    "timeoutSeconds": 1,
    "periodSeconds": 10,
    "successThreshold": 1,
    "failureThreshold": 3,
}
DEFAULT_FILE_MODE = 0o644  # 420: secret, configMap, downwardAPI and projected volumes
DEFAULT_TOLERATION_SECONDS = 300
NOT_READY_TAINT = "node.kubernetes.io/not-ready"
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"
TERMINATION_MESSAGE_PATH = "/dev/termination-log"  # TM-1
DEFAULT_GRACE_SECONDS = 30  # VAL-8, TERM-1

_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")


def default_pod(pod: dict[str, Any]) -> dict[str, Any]:
    """Return a deep copy of ``pod`` with every v1 default filled in. Idempotent."""
    out = copy.deepcopy(pod)
    spec = out.get("spec")
    if not isinstance(spec, dict):
        return out
    _default_pod_spec(spec)
    return out


def prepare_pod_for_create(pod: dict[str, Any]) -> dict[str, Any]:
    """``default_pod`` plus the create-time status: ``Pending``, with the QoS class (QOS-1),
    which the API server computes once and keeps. A quantity too broken to classify leaves
    ``qosClass`` out; validation then rejects the pod anyway."""
    out = default_pod(pod)
    status: dict[str, Any] = {"phase": "Pending"}
    spec = out.get("spec")
    if isinstance(spec, dict):
        try:
            status["qosClass"] = qos_class(spec)
        except (QuantityError, TypeError, AttributeError):
            pass
    out["status"] = status
    return out


def image_pull_policy_for(image: str) -> str:
    """VAL-19: ``Always`` for a ``latest`` tag or no tag and no digest, else ``IfNotPresent``."""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]  # a registry port (host:5000/x) is not a tag
    tag = last.rpartition(":")[2] if ":" in last else ""
    if not tag and not digest:
        tag = "latest"
    return "Always" if tag == "latest" else "IfNotPresent"


def _default_pod_spec(spec: dict[str, Any]) -> None:
    spec.setdefault("restartPolicy", "Always")  # VAL-7
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    if spec.get("securityContext") is None:
        spec["securityContext"] = {}
    tgps = spec.get("terminationGracePeriodSeconds")
    if tgps is None:
        spec["terminationGracePeriodSeconds"] = DEFAULT_GRACE_SECONDS  # VAL-8
    elif isinstance(tgps, int) and tgps < 0:
        spec["terminationGracePeriodSeconds"] = 1  # negative grace is treated as 1 (v1.27+)
    spec.setdefault("enableServiceLinks", True)
    # What the ServiceAccount, Priority and DefaultTolerationSeconds admission plugins add.
    account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    spec["serviceAccountName"] = account
    spec["serviceAccount"] = account
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    spec["tolerations"] = _default_tolerations(spec.get("tolerations"))

    host_network = spec.get("hostNetwork") is True
    for key in _CONTAINER_LISTS:
        for container in _dicts(spec.get(key)):
            _default_container(container, host_network=host_network)
    for volume in _dicts(spec.get("volumes")):
        _default_volume(volume)


def _default_tolerations(tolerations: Any) -> list[Any]:
    result = list(tolerations) if isinstance(tolerations, list) else []
    for taint in (NOT_READY_TAINT, UNREACHABLE_TAINT):
        if not any(_tolerates_no_execute(t, taint) for t in result):
            result.append(
                {
                    "key": taint,
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": DEFAULT_TOLERATION_SECONDS,
                }
            )
    return result


def _tolerates_no_execute(toleration: Any, taint: str) -> bool:
    if not isinstance(toleration, dict):
        return False
    if toleration.get("effect", "") not in ("", "NoExecute"):
        return False
    key = toleration.get("key", "")
    return key == taint or (key == "" and toleration.get("operator") == "Exists")


def _default_container(container: dict[str, Any], *, host_network: bool) -> None:
    image = container.get("image")
    if not container.get("imagePullPolicy") and isinstance(image, str):
        container["imagePullPolicy"] = image_pull_policy_for(image)  # VAL-19
    container.setdefault("terminationMessagePath", TERMINATION_MESSAGE_PATH)  # TM-1
    container.setdefault("terminationMessagePolicy", "File")  # TM-1
    resources = container.get("resources")
    if not isinstance(resources, dict):
        resources = container["resources"] = {}
    _default_requests_from_limits(resources)  # RES-1
    for port in _dicts(container.get("ports")):
        port.setdefault("protocol", "TCP")  # VAL-12
        if host_network and not port.get("hostPort") and port.get("containerPort"):
            port["hostPort"] = port["containerPort"]  # VAL-12: hostNetwork
    for probe_name in _PROBES:
        probe = container.get(probe_name)
        if isinstance(probe, dict):
            _default_probe(probe)
    lifecycle = container.get("lifecycle")
    if isinstance(lifecycle, dict):
        for hook in ("postStart", "preStop"):
            handler = lifecycle.get(hook)
            if isinstance(handler, dict) and isinstance(handler.get("httpGet"), dict):
                _default_http_get(handler["httpGet"])  # HK-6
    for env in _dicts(container.get("env")):
        _default_env_source(env.get("valueFrom"))


def _default_requests_from_limits(resources: dict[str, Any]) -> None:
    limits = resources.get("limits")
    if not isinstance(limits, dict) or not limits:
        return
    requests = resources.get("requests")
    if not isinstance(requests, dict):
        requests = resources["requests"] = {}
    for name, quantity in limits.items():
        requests.setdefault(name, quantity)


def _default_probe(probe: dict[str, Any]) -> None:
    for field, value in PROBE_DEFAULTS.items():
        if not probe.get(field):  # PR-3: 0 or unset
            probe[field] = value
    if isinstance(probe.get("httpGet"), dict):
        _default_http_get(probe["httpGet"])
    if isinstance(probe.get("grpc"), dict):
        probe["grpc"].setdefault("service", "")  # PR-3: unset means the whole server


def _default_http_get(action: dict[str, Any]) -> None:
    if not action.get("path"):
        action["path"] = "/"  # PR-3
    if not action.get("scheme"):
        action["scheme"] = "HTTP"  # PR-3, HK-6


def _default_env_source(source: Any) -> None:
    if not isinstance(source, dict):
        return
    field_ref = source.get("fieldRef")
    if isinstance(field_ref, dict) and not field_ref.get("apiVersion"):
        field_ref["apiVersion"] = "v1"  # VOL-9
    resource_ref = source.get("resourceFieldRef")
    if isinstance(resource_ref, dict):
        resource_ref.setdefault("divisor", "0")  # a zero quantity is always serialized


def _default_volume(volume: dict[str, Any]) -> None:
    if not any(k for k in volume if k != "name"):
        volume["emptyDir"] = {}
    for source in ("secret", "configMap", "downwardAPI", "projected"):
        body = volume.get(source)
        if isinstance(body, dict) and body.get("defaultMode") is None:
            body["defaultMode"] = DEFAULT_FILE_MODE
    host_path = volume.get("hostPath")
    if isinstance(host_path, dict):
        host_path.setdefault("type", "")
    downward = volume.get("downwardAPI")
    if isinstance(downward, dict):
        _default_downward_items(downward.get("items"))
    projected = volume.get("projected")
    if isinstance(projected, dict):
        for projection in _dicts(projected.get("sources")):
            if isinstance(projection.get("downwardAPI"), dict):
                _default_downward_items(projection["downwardAPI"].get("items"))
            token = projection.get("serviceAccountToken")
            if isinstance(token, dict):
                token.setdefault("expirationSeconds", 3600)


def _default_downward_items(items: Any) -> None:
    for item in _dicts(items):
        _default_env_source(item)


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
