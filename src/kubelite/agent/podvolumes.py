"""A pod's volumes as the runtime prepares them: the agent resolves data, the runtime writes it.

configMap, secret, downwardAPI and projected volumes become ``FilesVolume`` records holding the
files' bytes (``items`` applied, modes decided); emptyDir and hostPath pass through. Pure, like
``envvars``: the referenced objects are fetched beforehand.
"""

from __future__ import annotations

from typing import Any

from kubelite.agent.envvars import (
    ConfigError,
    NodeFacts,
    Objects,
    configmap_data,
    field_ref_value,
    resource_field_value,
    secret_data,
)
from kubelite.model.quantity import to_int
from kubelite.runtime.interface import (
    EmptyDirVolume,
    FilesVolume,
    HostPathVolume,
    ProjectedFile,
    VolumeSpec,
)

DEFAULT_MODE = 0o644


def pod_volumes(pod: dict[str, Any], objects: Objects, node: NodeFacts) -> list[VolumeSpec]:
    out: list[VolumeSpec] = []
    for vol in pod.get("spec", {}).get("volumes") or []:
        spec = _volume(pod, vol, objects, node)
        if spec is not None:
            out.append(spec)
    return out


def _volume(
    pod: dict[str, Any], vol: dict[str, Any], objects: Objects, node: NodeFacts
) -> VolumeSpec | None:
    name = vol.get("name", "")
    if "emptyDir" in vol:
        ed = vol["emptyDir"] or {}
        limit = ed.get("sizeLimit")
        return EmptyDirVolume(name, ed.get("medium", ""), to_int(limit) if limit else None)
    if "hostPath" in vol:
        hp = vol["hostPath"]
        return HostPathVolume(name, hp.get("path", ""), hp.get("type", "") or "")
    if "configMap" in vol:
        src = vol["configMap"]
        files = _from_object(src, objects.configmaps, "configmap", src.get("name", ""))
        return FilesVolume(name, tuple(files), src.get("defaultMode", DEFAULT_MODE))
    if "secret" in vol:
        src = vol["secret"]
        files = _from_object(src, objects.secrets, "secret", src.get("secretName", ""))
        return FilesVolume(name, tuple(files), src.get("defaultMode", DEFAULT_MODE))
    if "downwardAPI" in vol:
        src = vol["downwardAPI"]
        files = _downward(pod, src.get("items") or [], node)
        return FilesVolume(name, tuple(files), src.get("defaultMode", DEFAULT_MODE))
    if "projected" in vol:
        src = vol["projected"]
        return FilesVolume(
            name, tuple(_projected(pod, src, objects, node)), src.get("defaultMode", DEFAULT_MODE)
        )
    return None  # unsupported sources are rejected by validation; nothing to prepare here


def _from_object(src: dict[str, Any], pool: Any, kind: str, obj_name: str) -> list[ProjectedFile]:
    obj = pool.get(obj_name)
    if obj is None:
        if src.get("optional"):
            return []
        raise ConfigError(f'{kind} "{obj_name}" not found')
    data = configmap_data(obj) if kind == "configmap" else secret_data(obj)
    items = src.get("items")
    if not items:
        return [ProjectedFile(k, v) for k, v in sorted(data.items())]
    files = []
    for item in items:
        key = item.get("key", "")
        if key not in data:
            if src.get("optional"):
                continue
            raise ConfigError(
                f"configmap references non-existent config key: {key}"
                if kind == "configmap"
                else f"references non-existent secret key: {key}"
            )
        files.append(ProjectedFile(item.get("path", key), data[key], item.get("mode")))
    return files


def _downward(
    pod: dict[str, Any], items: list[dict[str, Any]], node: NodeFacts
) -> list[ProjectedFile]:
    files = []
    containers = {c.get("name"): c for c in pod.get("spec", {}).get("containers", [])}
    for item in items:
        if "fieldRef" in item:
            text = field_ref_value(pod, item["fieldRef"].get("fieldPath", ""), node)
        else:
            ref = item.get("resourceFieldRef") or {}
            container = containers.get(ref.get("containerName", ""), {})
            text = resource_field_value(container, ref, node)
        files.append(ProjectedFile(item.get("path", ""), text.encode(), item.get("mode")))
    return files


def _projected(
    pod: dict[str, Any], src: dict[str, Any], objects: Objects, node: NodeFacts
) -> list[ProjectedFile]:
    files: list[ProjectedFile] = []
    for source in src.get("sources") or []:
        if "configMap" in source:
            s = source["configMap"]
            files += _from_object(s, objects.configmaps, "configmap", s.get("name", ""))
        elif "secret" in source:
            s = source["secret"]
            files += _from_object(s, objects.secrets, "secret", s.get("name", ""))
        elif "downwardAPI" in source:
            files += _downward(pod, source["downwardAPI"].get("items") or [], node)
    return files
