"""Schemas with field descriptions, in our own words, for ``kubectl explain``.

Written compactly: each type maps field names to ``(type, description)`` where type is a
primitive (``string``, ``integer``, ``boolean``, ``object``), ``[]T``, ``map[string]T`` or
another type's name. ``expand`` turns that into OpenAPI v3 component schemas. Kinds without an
entry get a schema with just the common fields.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubelite.registry.resource import Kind

T = dict[str, tuple[str, str]]

META: T = {
    "name": ("string", "Unique name of the object within its namespace (or the cluster)."),
    "generateName": (
        "string",
        "A prefix from which the server makes a unique name when no name is given.",
    ),
    "namespace": ("string", "The namespace the object lives in; empty for cluster objects."),
    "uid": ("string", "Identifier the server assigns; it never repeats for another object."),
    "resourceVersion": (
        "string",
        "Opaque version of this object, used for optimistic concurrency and watches.",
    ),
    "generation": ("integer", "Sequence number of changes to the desired state."),
    "creationTimestamp": ("string", "When the server created the object (RFC 3339, UTC)."),
    "deletionTimestamp": (
        "string",
        "When the object will be deleted; set once deletion has been requested.",
    ),
    "deletionGracePeriodSeconds": (
        "integer",
        "Seconds allowed for graceful termination before the object is removed.",
    ),
    "labels": ("map[string]string", "Key/value pairs used to select and group objects."),
    "annotations": ("map[string]string", "Non-identifying key/value data for tools."),
    "finalizers": (
        "[]string",
        "Names of pending tasks that must finish before the object is removed from storage.",
    ),
    "ownerReferences": ("[]object", "Objects this one depends on."),
}

CONTAINER: T = {
    "name": ("string", "Name of the container, a DNS label unique within the pod."),
    "image": ("string", "Container image reference, e.g. busybox:1.36."),
    "command": ("[]string", "Entrypoint to run instead of the image's ENTRYPOINT."),
    "args": ("[]string", "Arguments to the entrypoint, replacing the image's CMD."),
    "workingDir": ("string", "Working directory of the process."),
    "env": ("[]EnvVar", "Environment variables to set in the container."),
    "envFrom": ("[]object", "Sources (config maps, secrets) to fill environment variables from."),
    "ports": ("[]ContainerPort", "Ports the container exposes; informational."),
    "resources": ("ResourceRequirements", "Compute resources requested and limited."),
    "volumeMounts": ("[]VolumeMount", "Pod volumes to mount into the container's filesystem."),
    "livenessProbe": ("Probe", "Periodic check; the container is restarted when it fails."),
    "readinessProbe": ("Probe", "Periodic check deciding whether the container is ready."),
    "startupProbe": ("Probe", "Check that holds back the other probes until it succeeds."),
    "lifecycle": ("Lifecycle", "Actions run right after start and right before stop."),
    "restartPolicy": (
        "string",
        "For init containers only: Always makes it a sidecar that "
        "keeps running beside the regular containers.",
    ),
    "terminationMessagePath": ("string", "File whose contents become the termination message."),
    "terminationMessagePolicy": ("string", "File, or FallbackToLogsOnError to use the log tail."),
    "imagePullPolicy": ("string", "Always, IfNotPresent or Never."),
    "securityContext": ("object", "Security options of the container's process."),
    "stdin": ("boolean", "Keep a stdin buffer open for the container."),
    "tty": ("boolean", "Allocate a terminal for the container."),
}

TYPES: dict[str, tuple[str, T, list[str]]] = {
    "ObjectMeta": ("Standard metadata every persisted object has.", META, []),
    "Pod": (
        "A group of containers that share network and storage and run together on a node.",
        {
            "apiVersion": ("string", "The versioned schema of this object: v1."),
            "kind": ("string", "The type of this object: Pod."),
            "metadata": ("ObjectMeta", "Standard object metadata."),
            "spec": ("PodSpec", "The desired state of the pod."),
            "status": ("PodStatus", "The most recently observed state of the pod; read-only."),
        },
        [],
    ),
    "PodSpec": (
        "What the pod should run and how.",
        {
            "containers": ("[]Container", "The regular containers of the pod; at least one."),
            "initContainers": (
                "[]Container",
                "Containers run in order before the regular ones start. Each must finish "
                "successfully before the next starts; one with restartPolicy Always is a "
                "sidecar that starts in order and then keeps running.",
            ),
            "volumes": ("[]Volume", "Storage the containers of the pod may mount."),
            "restartPolicy": (
                "string",
                "Always, OnFailure or Never: when exited containers are restarted.",
            ),
            "terminationGracePeriodSeconds": (
                "integer",
                "Seconds between the stop signal and the forced kill on deletion. Defaults to 30.",
            ),
            "activeDeadlineSeconds": ("integer", "Seconds the pod may run before it is failed."),
            "nodeName": ("string", "The node the pod is bound to."),
            "nodeSelector": ("map[string]string", "Labels a node must have to run the pod."),
            "serviceAccountName": ("string", "The service account the pod runs as."),
            "hostNetwork": ("boolean", "Use the node's network namespace."),
            "shareProcessNamespace": ("boolean", "Let containers see each other's processes."),
            "hostname": ("string", "The pod's hostname; defaults to the pod name."),
            "tolerations": ("[]object", "Taints the pod tolerates."),
            "readinessGates": ("[]object", "Extra conditions that must be true for readiness."),
            "securityContext": ("object", "Security options for all containers of the pod."),
            "imagePullSecrets": ("[]object", "Secrets with registry credentials."),
        },
        ["containers"],
    ),
    "Container": ("One container: an image and how to run it.", CONTAINER, ["name"]),
    "EnvVar": (
        "One environment variable.",
        {
            "name": ("string", "Name of the variable."),
            "value": ("string", "Literal value; $(VAR) references are expanded."),
            "valueFrom": ("object", "Where to read the value from instead of a literal."),
        },
        ["name"],
    ),
    "ContainerPort": (
        "A network port of a container.",
        {
            "containerPort": ("integer", "Port number on the pod's IP address."),
            "name": ("string", "Optional IANA service name for the port."),
            "protocol": ("string", "TCP, UDP or SCTP. Defaults to TCP."),
            "hostPort": ("integer", "Port to expose on the node."),
        },
        ["containerPort"],
    ),
    "VolumeMount": (
        "Where a volume appears in a container.",
        {
            "name": ("string", "Name of the pod volume."),
            "mountPath": ("string", "Path inside the container."),
            "readOnly": ("boolean", "Mount read-only."),
            "subPath": ("string", "Path within the volume to mount instead of its root."),
        },
        ["name", "mountPath"],
    ),
    "Volume": (
        "A named volume; exactly one source must be set.",
        {
            "name": ("string", "Name of the volume, referenced by volume mounts."),
            "emptyDir": ("object", "A scratch directory that lives as long as the pod."),
            "configMap": ("object", "Files from the keys of a config map."),
            "secret": ("object", "Files from the keys of a secret."),
            "hostPath": ("object", "A directory of the node."),
            "projected": ("object", "Several sources merged into one directory."),
            "downwardAPI": ("object", "Files holding fields of the pod itself."),
        },
        ["name"],
    ),
    "ResourceRequirements": (
        "Compute resources of a container.",
        {
            "requests": ("map[string]string", "Minimum resources (cpu, memory) to reserve."),
            "limits": ("map[string]string", "Maximum resources the container may use."),
        },
        [],
    ),
    "Probe": (
        "A periodic health check with exactly one handler.",
        {
            "exec": ("object", "Run a command in the container; exit 0 is success."),
            "httpGet": ("object", "An HTTP GET; a 2xx or 3xx answer is success."),
            "tcpSocket": ("object", "Open a TCP connection; connecting is success."),
            "grpc": ("object", "A gRPC health check."),
            "initialDelaySeconds": ("integer", "Seconds after start before the first check."),
            "periodSeconds": ("integer", "Seconds between checks. Defaults to 10."),
            "timeoutSeconds": ("integer", "Seconds before a check times out. Defaults to 1."),
            "successThreshold": ("integer", "Successes in a row to count as passing."),
            "failureThreshold": ("integer", "Failures in a row to count as failing."),
            "terminationGracePeriodSeconds": (
                "integer",
                "Grace period used when this probe fails and the container is killed.",
            ),
        },
        [],
    ),
    "Lifecycle": (
        "Hooks run around a container's start and stop.",
        {
            "postStart": ("object", "Runs right after the container is created."),
            "preStop": (
                "object",
                "Runs before the container is stopped; counts against the grace period.",
            ),
        },
        [],
    ),
    "PodStatus": (
        "The observed state of a pod.",
        {
            "phase": ("string", "Pending, Running, Succeeded, Failed or Unknown."),
            "conditions": ("[]object", "PodScheduled, Initialized, ContainersReady, Ready …"),
            "podIP": ("string", "The pod's IP address."),
            "hostIP": ("string", "The node's IP address."),
            "startTime": ("string", "When the node accepted the pod."),
            "containerStatuses": ("[]object", "One entry per regular container."),
            "initContainerStatuses": ("[]object", "One entry per init container."),
            "qosClass": ("string", "Guaranteed, Burstable or BestEffort."),
            "reason": ("string", "A short reason for the pod's state, e.g. Evicted."),
            "message": ("string", "A human-readable explanation of the state."),
        },
        [],
    ),
}

_COMMON: T = {
    "apiVersion": ("string", "The versioned schema of this object."),
    "kind": ("string", "The type of this object."),
    "metadata": ("ObjectMeta", "Standard object metadata."),
}


def _type(spec: str, ref: Callable[[str], str]) -> dict[str, Any]:
    if spec.startswith("[]"):
        return {"type": "array", "items": _type(spec[2:], ref)}
    if spec.startswith("map[string]"):
        return {"type": "object", "additionalProperties": _type(spec[11:], ref)}
    if spec in ("string", "integer", "boolean", "object", "number"):
        return {"type": spec}
    return {"allOf": [{"$ref": f"#/components/schemas/{ref(spec)}"}]}


def _schema(desc: str, fields: T, required: list[str], ref: Callable[[str], str]) -> dict:
    props = {}
    for name, (spec, text) in fields.items():
        prop = _type(spec, ref)
        prop["description"] = text
        if "items" in prop and "allOf" in prop["items"]:
            prop["items"] = {"allOf": prop["items"]["allOf"]}
        props[name] = prop
    out: dict[str, Any] = {"type": "object", "description": desc, "properties": props}
    if required:
        out["required"] = required
    return out


def schemas_for(kinds: list[Kind], name_of: Callable[[Kind], str]) -> dict[str, Any]:
    def ref(t: str) -> str:
        return (
            f"io.k8s.api.core.v1.{t}"
            if t != "ObjectMeta"
            else ("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
        )

    out: dict[str, Any] = {}
    for t, (desc, fields, required) in TYPES.items():
        out[ref(t)] = _schema(desc, fields, required, ref)
    for k in kinds:
        name = name_of(k)
        if k.kind in TYPES and k.group == "":
            schema = out[name]
        else:
            schema = _schema(k.description or k.kind, _COMMON, [], ref)
            out[name] = schema
        schema["x-kubernetes-group-version-kind"] = [
            {"group": k.group, "kind": k.kind, "version": k.version}
        ]
    return out
