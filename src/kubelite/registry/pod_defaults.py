"""Defaulting of v1 Pods, as the API server does it on every decode, plus what its admission
plugins add at create time (priority, default tolerations, and — through ``admit_service_account``
— the ServiceAccount plugin's name, token volume and image pull secrets).

Everything here is pure: ``default_pod`` takes a Pod dict and returns a defaulted deep copy.
``prepare_pod_for_create`` additionally resets ``status`` the way the pod strategy does on create.
``admit_service_account`` mutates a pod given the ServiceAccount it runs as (the registry's
``PodKind.admit`` reads that object and picks the volume's random name).

``spec.serviceAccount`` (deprecated) mirrors ``spec.serviceAccountName`` on every decode, as
the v1 conversion does; the name defaults to ``default`` only at create, in admission, so mirror
pods keep none.

Deliberately left out: canonical re-spelling of quantities (``0.5`` → ``500m``), which is a
serialization concern; the ServiceAccount plugin's mountable-secrets enforcement and its
refusal of mirror pods that reference service accounts or secrets.
"""

from __future__ import annotations

import copy
from typing import Any

from kubelite.model.pod import Phase
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


# What the API server writes on a pod created with scheduling gates: the scheduler will not
# look at it until every gate is gone (kubectl's STATUS shows SchedulingGated).
SCHEDULING_GATED_CONDITION = {
    "type": "PodScheduled",
    "status": "False",
    "lastProbeTime": None,
    "lastTransitionTime": None,
    "reason": "SchedulingGated",
    "message": "Scheduling is blocked due to non-empty scheduling gates",
}


def prepare_pod_for_create(pod: dict[str, Any]) -> dict[str, Any]:
    """``default_pod`` plus the create-time status: ``Pending``, with the QoS class (QOS-1),
    which the API server computes once and keeps, and ``PodScheduled=False/SchedulingGated``
    for a pod with scheduling gates. A quantity too broken to classify leaves
    ``qosClass`` out; validation then rejects the pod anyway."""
    out = default_pod(pod)
    status: dict[str, Any] = {"phase": Phase.PENDING.value}
    spec = out.get("spec")
    if isinstance(spec, dict):
        try:
            status["qosClass"] = qos_class(spec)
        except (QuantityError, TypeError, AttributeError):
            pass
    if isinstance(spec, dict) and spec.get("schedulingGates"):
        status["conditions"] = [SCHEDULING_GATED_CONDITION]
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
    # The deprecated field is an alias: the name wins when both are set (v1 conversion).
    account = spec.get("serviceAccountName") or spec.get("serviceAccount")
    if account:
        spec["serviceAccountName"] = account
        spec["serviceAccount"] = account
    # What the Priority and DefaultTolerationSeconds admission plugins add.
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


# -- the ServiceAccount admission plugin (create only) ------------------------------------------

DEFAULT_SERVICE_ACCOUNT = "default"
MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"
TOKEN_VOLUME_PREFIX = "kube-api-access-"
TOKEN_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
ROOT_CA_CONFIGMAP = "kube-root-ca.crt"
# The plugin asks for 3607 s: the API server recognises that request as the kubelet's for this
# volume and extends the token's life (see ``kubelite.api.tokens``).
TOKEN_VOLUME_SECONDS = 3607


def is_mirror_pod(pod: dict[str, Any]) -> bool:
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    return isinstance(annotations, dict) and MIRROR_POD_ANNOTATION in annotations


def default_service_account(spec: dict[str, Any]) -> str:
    """Set ``serviceAccountName`` (and its deprecated alias) to ``default`` when empty; the
    name the pod runs as."""
    account = str(spec.get("serviceAccountName") or spec.get("serviceAccount") or "")
    account = account or DEFAULT_SERVICE_ACCOUNT
    spec["serviceAccountName"] = spec["serviceAccount"] = account
    return account


def token_volume(name: str) -> dict[str, Any]:
    """The projected volume the plugin adds: a bound token, the cluster CA and the namespace."""
    return {
        "name": name,
        "projected": {
            "defaultMode": DEFAULT_FILE_MODE,
            "sources": [
                {
                    "serviceAccountToken": {
                        "expirationSeconds": TOKEN_VOLUME_SECONDS,
                        "path": "token",
                    }
                },
                {
                    "configMap": {
                        "name": ROOT_CA_CONFIGMAP,
                        "items": [{"key": "ca.crt", "path": "ca.crt"}],
                    }
                },
                {
                    "downwardAPI": {
                        "items": [
                            {
                                "path": "namespace",
                                "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                            }
                        ]
                    }
                },
            ],
        },
    }


def should_automount(spec: dict[str, Any], account: dict[str, Any]) -> bool:
    """The pod's ``automountServiceAccountToken`` wins, then the ServiceAccount's; else true."""
    for choice in (
        spec.get("automountServiceAccountToken"),
        account.get("automountServiceAccountToken"),
    ):
        if isinstance(choice, bool):
            return choice
    return True


def mount_token(spec: dict[str, Any], new_volume: str) -> None:
    """Mount the token volume read-only at the well-known path in every init and app container
    that has nothing mounted there yet, adding the volume if any container needed it. A volume
    already named ``kube-api-access-*`` is reused (its name, not re-added); ``new_volume`` is
    the name otherwise. Ephemeral containers are left alone."""
    given = spec.get("volumes")
    volumes: list[Any] = given if isinstance(given, list) else []
    existing = next(
        (
            str(v["name"])
            for v in _dicts(volumes)
            if str(v.get("name") or "").startswith(TOKEN_VOLUME_PREFIX)
        ),
        None,
    )
    name = existing or new_volume
    needed = False
    for key in ("initContainers", "containers"):
        for container in _dicts(spec.get(key)):
            mounts = container.get("volumeMounts")
            mounts = mounts if isinstance(mounts, list) else []
            if any(m.get("mountPath") == TOKEN_MOUNT_PATH for m in _dicts(mounts)):
                continue
            mounts.append({"name": name, "readOnly": True, "mountPath": TOKEN_MOUNT_PATH})
            container["volumeMounts"] = mounts
            needed = True
    if needed and existing is None:
        spec["volumes"] = [*volumes, token_volume(name)]


def admit_service_account(pod: dict[str, Any], account: dict[str, Any], new_volume: str) -> None:
    """What the ServiceAccount admission plugin adds to a new, non-mirror pod once the account
    it runs as (``account``) is found: the token volume and its mounts unless automounting is
    off, and the account's ``imagePullSecrets`` when the pod names none."""
    spec = pod.get("spec")
    if not isinstance(spec, dict):
        return
    if should_automount(spec, account):
        mount_token(spec, new_volume)
    pull = [s for s in _dicts(account.get("imagePullSecrets")) if s.get("name")]
    if not spec.get("imagePullSecrets") and pull:
        spec["imagePullSecrets"] = [{"name": s["name"]} for s in pull]


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
