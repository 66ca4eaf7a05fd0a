"""A container's environment, worked out as the kubelet does when it creates the container.

Pure: the ConfigMaps and Secrets a pod refers to are fetched first (``referenced_objects``) and
passed in, so the rules here are unit-tested without an API. Env values are fixed for the life
of the container instance (VOL-9). ``$(VAR)`` references in values are expanded from the
variables defined before them (VOL-10).
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubelite.errors import KubeliteError
from kubelite.model.expansion import expand
from kubelite.model.quantity import parse_quantity


class ConfigError(KubeliteError):
    """The container cannot be configured: its waiting reason is CreateContainerConfigError."""

    reason = "CreateContainerConfigError"


@dataclass(frozen=True, slots=True)
class Objects:
    """ConfigMaps and Secrets of the pod's namespace, by name (missing ones are absent), and
    the Services whose variables the pod's containers get (``service_env``)."""

    configmaps: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    secrets: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    services: tuple[dict[str, Any], ...] = ()


MASTER_SERVICES = ("kubernetes",)  # in ``default``: every pod gets their variables


def _env_name(name: str) -> str:
    return name.replace("-", "_").upper()


def _has_cluster_ip(spec: Mapping[str, Any]) -> bool:
    return str(spec.get("clusterIP") or "") not in ("", "None")


def _one_service_env(service: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``<NAME>_SERVICE_HOST``, ``_SERVICE_PORT`` (the first port), ``_SERVICE_PORT_<PORT
    NAME>`` for named ports, and Docker's link variables (``<NAME>_PORT``,
    ``<NAME>_PORT_<port>_<PROTO>`` with ``_PROTO``, ``_PORT``, ``_ADDR``)."""
    spec = service.get("spec") or {}
    ports = spec.get("ports") or []
    if not ports:
        return []
    prefix = _env_name(str((service.get("metadata") or {}).get("name") or ""))
    ip = str(spec.get("clusterIP"))
    out = [(f"{prefix}_SERVICE_HOST", ip), (f"{prefix}_SERVICE_PORT", str(ports[0]["port"]))]
    out += [
        (f"{prefix}_SERVICE_PORT_{_env_name(str(p['name']))}", str(p["port"]))
        for p in ports
        if p.get("name")
    ]
    host = f"[{ip}]" if ":" in ip else ip
    for i, p in enumerate(ports):
        proto = str(p.get("protocol") or "TCP")
        url = f"{proto.lower()}://{host}:{p['port']}"
        if i == 0:
            out.append((f"{prefix}_PORT", url))
        base = f"{prefix}_PORT_{p['port']}_{proto.upper()}"
        out += [
            (base, url),
            (f"{base}_PROTO", proto.lower()),
            (f"{base}_PORT", str(p["port"])),
            (f"{base}_ADDR", ip),
        ]
    return out


def service_env(
    services: Sequence[Mapping[str, Any]], namespace: str, enable_links: bool
) -> dict[str, str]:
    """The variables the kubelet derives from Services: those of ``default/kubernetes``
    always, and with ``enableServiceLinks`` those of every Service of the pod's namespace that
    has a cluster IP (a same-named one there wins over ``default``'s)."""
    chosen: dict[str, Mapping[str, Any]] = {}
    for svc in services:
        meta = svc.get("metadata") or {}
        if not _has_cluster_ip(svc.get("spec") or {}):
            continue
        name, ns = str(meta.get("name") or ""), str(meta.get("namespace") or "")
        if ns == "default" and name in MASTER_SERVICES:
            chosen.setdefault(name, svc)
        elif ns == namespace and enable_links:
            chosen[name] = svc
    out: dict[str, str] = {}
    for name in sorted(chosen):
        out.update(_one_service_env(chosen[name]))
    return out


@dataclass(frozen=True, slots=True)
class NodeFacts:
    node_name: str = ""
    host_ip: str = ""
    pod_ip: str = ""
    # Allocatable amounts, used when a resourceFieldRef names a limit that is not set.
    cpu: str = "1"
    memory: str = "1Gi"
    ephemeral_storage: str = "10Gi"


def referenced_objects(pod: dict[str, Any]) -> tuple[set[str], set[str]]:
    """Names of the ConfigMaps and Secrets the pod's env, envFrom and volumes refer to."""
    cms: set[str] = set()
    secrets: set[str] = set()
    spec = pod.get("spec", {})
    for c in [*spec.get("initContainers", []), *spec.get("containers", [])]:
        for e in c.get("env") or []:
            vf = e.get("valueFrom") or {}
            if "configMapKeyRef" in vf:
                cms.add(vf["configMapKeyRef"].get("name", ""))
            if "secretKeyRef" in vf:
                secrets.add(vf["secretKeyRef"].get("name", ""))
        for ef in c.get("envFrom") or []:
            if "configMapRef" in ef:
                cms.add(ef["configMapRef"].get("name", ""))
            if "secretRef" in ef:
                secrets.add(ef["secretRef"].get("name", ""))
    for v in spec.get("volumes") or []:
        if "configMap" in v:
            cms.add(v["configMap"].get("name", ""))
        if "secret" in v:
            secrets.add(v["secret"].get("secretName", ""))
        for src in (v.get("projected") or {}).get("sources") or []:
            if "configMap" in src:
                cms.add(src["configMap"].get("name", ""))
            if "secret" in src:
                secrets.add(src["secret"].get("name", ""))
    return cms, secrets


def configmap_data(cm: dict[str, Any]) -> dict[str, bytes]:
    out = {k: str(v).encode() for k, v in (cm.get("data") or {}).items()}
    out.update({k: base64.b64decode(v) for k, v in (cm.get("binaryData") or {}).items()})
    return out


def secret_data(secret: dict[str, Any]) -> dict[str, bytes]:
    out = {k: base64.b64decode(v) for k, v in (secret.get("data") or {}).items()}
    out.update({k: str(v).encode() for k, v in (secret.get("stringData") or {}).items()})
    return out


def field_ref_value(pod: Mapping[str, Any], path: str, node: NodeFacts) -> str:
    """The downward API's fieldRef (VOL-9)."""
    meta = pod.get("metadata", {})
    spec = pod.get("spec", {})
    simple = {
        "metadata.name": meta.get("name", ""),
        "metadata.namespace": meta.get("namespace", "default"),
        "metadata.uid": meta.get("uid", ""),
        "spec.nodeName": spec.get("nodeName") or node.node_name,
        "spec.serviceAccountName": spec.get("serviceAccountName", "default"),
        "status.hostIP": node.host_ip,
        "status.hostIPs": node.host_ip,
        "status.podIP": node.pod_ip,
        "status.podIPs": node.pod_ip,
    }
    if path in simple:
        return str(simple[path])
    for prefix, key in (("metadata.labels", "labels"), ("metadata.annotations", "annotations")):
        if path.startswith(prefix + "['") and path.endswith("']"):
            return str((meta.get(key) or {}).get(path[len(prefix) + 2 : -2], ""))
        if path == prefix:
            items = sorted((meta.get(key) or {}).items())
            return "\n".join(f'{k}="{v}"' for k, v in items)
    raise ConfigError(f"unsupported fieldPath: {path}")


def resource_field_value(
    container: Mapping[str, Any], ref: Mapping[str, Any], node: NodeFacts
) -> str:
    """resourceFieldRef: the quantity divided by the divisor, rounded up (VOL-9)."""
    resource = ref.get("resource", "")
    kind, _, name = resource.partition(".")
    value = ((container.get("resources") or {}).get(kind) or {}).get(name)
    if value is None:
        fallback = {"cpu": node.cpu, "memory": node.memory}
        value = fallback.get(name, node.ephemeral_storage)
    divisor = parse_quantity(ref.get("divisor") or "1")
    if divisor == 0:
        divisor = parse_quantity("1")
    return str(math.ceil(parse_quantity(value) / divisor))


def resolve_env(
    pod: Mapping[str, Any],
    container: Mapping[str, Any],
    objects: Objects,
    node: NodeFacts,
) -> list[tuple[str, str]]:
    """envFrom first (in order, later sources win), then env (which wins over envFrom);
    ``$(VAR)`` in env values expands from what is defined so far, then from the Service
    variables (VOL-10); last, every Service variable the container does not define itself."""
    ns = pod.get("metadata", {}).get("namespace", "default")
    links = (pod.get("spec") or {}).get("enableServiceLinks") is not False
    services = service_env(objects.services, ns, links)
    values: dict[str, str] = {}

    def lookup(name: str) -> str | None:
        return values.get(name, services.get(name))

    for ef in container.get("envFrom") or []:
        prefix = ef.get("prefix", "")
        if "configMapRef" in ef:
            ref = ef["configMapRef"]
            cm = objects.configmaps.get(ref.get("name", ""))
            if cm is None:
                if ref.get("optional"):
                    continue
                raise ConfigError(f'configmap "{ref.get("name", "")}" not found')
            data = configmap_data(cm)
        else:
            ref = ef.get("secretRef") or {}
            secret = objects.secrets.get(ref.get("name", ""))
            if secret is None:
                if ref.get("optional"):
                    continue
                raise ConfigError(f'secret "{ref.get("name", "")}" not found')
            data = secret_data(secret)
        for k, v in data.items():
            values[prefix + k] = v.decode(errors="replace")
    for e in container.get("env") or []:
        name = e.get("name", "")
        if "valueFrom" not in e:
            values[name] = expand(str(e.get("value", "")), lookup)
            continue
        vf = e["valueFrom"]
        if "fieldRef" in vf:
            values[name] = field_ref_value(pod, vf["fieldRef"].get("fieldPath", ""), node)
        elif "resourceFieldRef" in vf:
            values[name] = resource_field_value(container, vf["resourceFieldRef"], node)
        elif "configMapKeyRef" in vf:
            value = _key_ref(vf["configMapKeyRef"], objects.configmaps, ns, "ConfigMap")
            if value is not None:
                values[name] = value
        elif "secretKeyRef" in vf:
            value = _key_ref(vf["secretKeyRef"], objects.secrets, ns, "Secret")
            if value is not None:
                values[name] = value
    return list(values.items()) + [(k, v) for k, v in services.items() if k not in values]


def _key_ref(
    ref: dict[str, Any], pool: Mapping[str, dict[str, Any]], ns: str, kind: str
) -> str | None:
    name, key = ref.get("name", ""), ref.get("key", "")
    obj = pool.get(name)
    if obj is None:
        if ref.get("optional"):
            return None
        raise ConfigError(f'{kind.lower()} "{name}" not found')
    data = configmap_data(obj) if kind == "ConfigMap" else secret_data(obj)
    if key not in data:
        if ref.get("optional"):
            return None
        raise ConfigError(f"couldn't find key {key} in {kind} {ns}/{name}")
    return data[key].decode(errors="replace")
