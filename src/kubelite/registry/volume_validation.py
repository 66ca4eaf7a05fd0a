"""Validation of ``spec.volumes`` (VAL-14) and of container ``volumeMounts`` (VAL-15)."""

from __future__ import annotations

from typing import Any

from kubelite.model.fielderrors import FieldError, forbidden, invalid, not_supported, required
from kubelite.model.quantity import QuantityError, parse_quantity
from kubelite.registry.meta_validation import (
    check,
    dns1123_label_errors,
    dns1123_subdomain_errors,
    qualified_name_errors,
)

NOT_FOUND = "FieldValueNotFound"
FILE_MODE_MESSAGE = "must be a number between 0 and 0777 (octal), both inclusive"
# VOL-9: env fieldRef paths (labels/annotations only with a subscript).
ENV_FIELD_PATHS = [
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
]
# Paths the v1 field-label conversion knows at all; others fail before the allow-list check.
_CONVERTIBLE_FIELD_PATHS = frozenset(
    [
        *ENV_FIELD_PATHS,
        "metadata.annotations",
        "metadata.labels",
        "spec.restartPolicy",
        "spec.schedulerName",
        "status.phase",
    ]
)
RESOURCE_FIELD_PATHS = [
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
]
_MEMORY_DIVISORS = "1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei"
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
PROPAGATION_MODES = ["Bidirectional", "HostToContainer", "None"]
RECURSIVE_READ_ONLY = ["Disabled", "Enabled", "IfPossible"]
# VOL-9: downwardAPI volume files may also expose the whole label and annotation maps.
VOLUME_FIELD_PATHS = [
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
]
# Every volume source the v1 API knows, in the order the API server counts them (VAL-14).
VOLUME_SOURCES = (
    "hostPath",
    "emptyDir",
    "gitRepo",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "flocker",
    "persistentVolumeClaim",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "downwardAPI",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "projected",
    "scaleIO",
    "storageos",
    "csi",
    "configMap",
    "ephemeral",
    "image",
)


def not_found(path: str, value: str) -> FieldError:
    return FieldError(NOT_FOUND, path, f'Not found: "{value}"')


def validate_volumes(
    volumes: Any, path: str = "spec.volumes"
) -> tuple[frozenset[str], list[FieldError]]:
    """VAL-14. Returns the names of the valid volumes (mounts may refer only to those)."""
    errs: list[FieldError] = []
    names: set[str] = set()
    for i, volume in enumerate(volumes if isinstance(volumes, list) else []):
        at = f"{path}[{i}]"
        if not isinstance(volume, dict):
            errs.append(required(at, "must specify a volume type"))
            continue
        own = _validate_source(volume, at)
        name = volume.get("name") or ""
        if not name:
            own.append(required(f"{at}.name"))
        else:
            own += check(f"{at}.name", name, dns1123_label_errors(name))
        if name in names:
            own.append(
                FieldError("FieldValueDuplicate", f"{at}.name", f'Duplicate value: "{name}"')
            )
        if own:
            errs += own
        else:
            names.add(name)
    return frozenset(names), errs


def _validate_source(volume: dict[str, Any], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    seen = 0
    for kind in VOLUME_SOURCES:
        body = volume.get(kind)
        if body is None:
            continue
        if seen:
            errs.append(forbidden(f"{path}.{kind}", "may not specify more than 1 volume type"))
            continue
        seen += 1
        check_source = _SOURCE_CHECKS.get(kind)
        if check_source is not None:
            errs += check_source(body if isinstance(body, dict) else {}, f"{path}.{kind}")
    if not seen:
        errs.append(required(path, "must specify a volume type"))
    return errs


def _empty_dir(body: dict[str, Any], path: str) -> list[FieldError]:
    size = body.get("sizeLimit")
    if size is None:
        return []
    try:
        negative = parse_quantity(size) < 0
    except QuantityError:
        negative = True
    if negative:
        detail = "SizeLimit field must be a valid resource quantity"
        return [forbidden(f"{path}.sizeLimit", detail)]
    return []


def _host_path(body: dict[str, Any], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    host = body.get("path") or ""
    if not host:
        errs.append(required(f"{path}.path"))
    else:
        errs += _no_backsteps(host, f"{path}.path")
    kind = body.get("type", "")
    if kind not in HOST_PATH_TYPES:
        errs.append(not_supported(f"{path}.type", kind, HOST_PATH_TYPES))
    return errs


def _secret(body: dict[str, Any], path: str) -> list[FieldError]:
    errs = [] if body.get("secretName") else [required(f"{path}.secretName")]
    return errs + _mode(body.get("defaultMode"), f"{path}.defaultMode") + _items(body, path)


def _config_map(body: dict[str, Any], path: str) -> list[FieldError]:
    name = body.get("name") or ""
    errs = [required(f"{path}.name")] if not name else []
    if name:
        errs += check(f"{path}.name", name, dns1123_subdomain_errors(name))
    return errs + _mode(body.get("defaultMode"), f"{path}.defaultMode") + _items(body, path)


def _pvc(body: dict[str, Any], path: str) -> list[FieldError]:
    return [] if body.get("claimName") else [required(f"{path}.claimName")]


def _downward_api(body: dict[str, Any], path: str) -> list[FieldError]:
    errs = _mode(body.get("defaultMode"), f"{path}.defaultMode")
    for i, item in enumerate(body.get("items") or []):
        at = f"{path}.items[{i}]"
        if not isinstance(item, dict):
            continue
        errs += _file_path(item.get("path") or "", f"{at}.path")
        errs += _mode(item.get("mode"), f"{at}.mode")
        field_ref, resource_ref = item.get("fieldRef"), item.get("resourceFieldRef")
        if field_ref is not None and resource_ref is not None:
            detail = "fieldRef and resourceFieldRef can not be specified simultaneously"
            errs.append(invalid(at, "resource", detail))
        elif field_ref is not None:
            errs += validate_field_ref(field_ref, f"{at}.fieldRef", VOLUME_FIELD_PATHS)
        elif resource_ref is not None:
            errs += validate_resource_field_ref(resource_ref, f"{at}.resourceFieldRef", volume=True)
    return errs


def _projected(body: dict[str, Any], path: str) -> list[FieldError]:
    errs = _mode(body.get("defaultMode"), f"{path}.defaultMode")
    for i, source in enumerate(body.get("sources") or []):
        at = f"{path}.sources[{i}]"
        if not isinstance(source, dict):
            continue
        kinds = [
            k
            for k in (
                "secret",
                "configMap",
                "downwardAPI",
                "serviceAccountToken",
                "clusterTrustBundle",
            )
            if source.get(k) is not None
        ]
        for extra in kinds[1:]:
            errs.append(forbidden(f"{at}.{extra}", "may not specify more than 1 volume type"))
        if not kinds:
            errs.append(required(at, "must specify exactly one volume type"))
            continue
        kind, inner = kinds[0], source[kinds[0]]
        inner = inner if isinstance(inner, dict) else {}
        if kind in ("secret", "configMap"):
            errs += _items(inner, f"{at}.{kind}")
        elif kind == "downwardAPI":
            errs += _downward_api(inner, f"{at}.{kind}")
        elif kind == "serviceAccountToken":
            if not inner.get("path"):
                errs.append(required(f"{at}.{kind}.path"))
            seconds = inner.get("expirationSeconds", 3600)
            if isinstance(seconds, int) and seconds < 600:
                detail = "may not specify a duration less than 10 minutes"
                errs.append(invalid(f"{at}.{kind}.expirationSeconds", seconds, detail))
    return errs


_SOURCE_CHECKS = {
    "emptyDir": _empty_dir,
    "hostPath": _host_path,
    "secret": _secret,
    "configMap": _config_map,
    "persistentVolumeClaim": _pvc,
    "downwardAPI": _downward_api,
    "projected": _projected,
}


def _items(body: dict[str, Any], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, item in enumerate(body.get("items") or []):
        at = f"{path}.items[{i}]"
        if not isinstance(item, dict):
            continue
        if not item.get("key"):
            errs.append(required(f"{at}.key"))
        errs += _file_path(item.get("path") or "", f"{at}.path")
        errs += _mode(item.get("mode"), f"{at}.mode")
    return errs


def _file_path(value: str, path: str) -> list[FieldError]:
    if not value:
        return [required(path)]
    errs = _relative(value, path)
    if value.startswith(".."):
        errs.append(invalid(path, value, "must not start with '..'"))
    return errs


def _mode(value: Any, path: str) -> list[FieldError]:
    if value is None or (isinstance(value, int) and 0 <= value <= 0o777):
        return []
    return [invalid(path, value, FILE_MODE_MESSAGE)]


def _relative(value: str, path: str) -> list[FieldError]:
    errs = []
    if value.startswith("/"):
        errs.append(invalid(path, value, "must be a relative path"))
    return errs + _no_backsteps(value, path)


def _no_backsteps(value: str, path: str) -> list[FieldError]:
    if ".." in value.replace("\\", "/").split("/"):
        return [invalid(path, value, "must not contain '..'")]
    return []


def validate_volume_mounts(mounts: Any, path: str, volumes: frozenset[str]) -> list[FieldError]:
    """VAL-15. ``volumes`` are the names ``validate_volumes`` accepted."""
    errs: list[FieldError] = []
    mount_paths: set[str] = set()
    for j, mount in enumerate(mounts if isinstance(mounts, list) else []):
        at = f"{path}[{j}]"
        if not isinstance(mount, dict):
            continue
        name = mount.get("name") or ""
        if not name:
            errs.append(required(f"{at}.name"))
        if name not in volumes:
            errs.append(not_found(f"{at}.name", name))
        mount_path = mount.get("mountPath") or ""
        if not mount_path:
            errs.append(required(f"{at}.mountPath"))
        if mount_path in mount_paths:
            errs.append(invalid(f"{at}.mountPath", mount_path, "must be unique"))
        mount_paths.add(mount_path)
        sub_path = mount.get("subPath") or ""
        sub_expr = mount.get("subPathExpr") or ""
        if sub_path:
            errs += _relative(sub_path, f"{path}.subPath")  # quirk: no index (VAL-15)
        if sub_expr:
            if sub_path:
                detail = "subPathExpr and subPath are mutually exclusive"
                errs.append(invalid(f"{at}.subPathExpr", sub_expr, detail))
            errs += _relative(sub_expr, f"{path}.subPathExpr")
        errs += _propagation(mount, at)
    return errs


def _propagation(mount: dict[str, Any], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    mode = mount.get("mountPropagation")
    if mode is not None and mode not in PROPAGATION_MODES:
        errs.append(not_supported(f"{path}.mountPropagation", mode, PROPAGATION_MODES))
    rro = mount.get("recursiveReadOnly")
    if rro is None:
        return errs
    if rro not in RECURSIVE_READ_ONLY:
        errs.append(not_supported(f"{path}.recursiveReadOnly", rro, RECURSIVE_READ_ONLY))
    elif rro != "Disabled":  # VOL-4
        if not mount.get("readOnly"):
            detail = "may only be specified when readOnly is true"
            errs.append(forbidden(f"{path}.recursiveReadOnly", detail))
        if mode not in (None, "None"):
            detail = "may only be specified when mountPropagation is None or not specified"
            errs.append(forbidden(f"{path}.recursiveReadOnly", detail))
    return errs


# --- downward API selectors (VOL-9), shared with env ------------------------------------------


def validate_field_ref(ref: Any, path: str, allowed: list[str]) -> list[FieldError]:
    """VOL-9: a downward-API ``fieldRef`` against the allowed field paths."""
    if not isinstance(ref, dict):
        return [required(path)]
    api_version = ref.get("apiVersion") or ""
    field_path = ref.get("fieldPath") or ""
    if not api_version:
        return [required(f"{path}.apiVersion")]
    if not field_path:
        return [required(f"{path}.fieldPath")]
    if api_version != "v1":
        detail = f"error converting fieldPath: unsupported pod version: {api_version}"
        return [invalid(f"{path}.fieldPath", field_path, detail)]
    base, bracket, rest = field_path.partition("[")
    if bracket:
        if base not in ("metadata.labels", "metadata.annotations"):
            detail = (
                f"error converting fieldPath: field label does not support subscript: {field_path}"
            )
            return [invalid(f"{path}.fieldPath", field_path, detail)]
        key = rest.rstrip("]").strip("'\"")
        if base == "metadata.annotations":
            key = key.lower()
        return check(path, key, qualified_name_errors(key))
    if field_path not in _CONVERTIBLE_FIELD_PATHS:
        detail = f"error converting fieldPath: field label not supported: {field_path}"
        return [invalid(f"{path}.fieldPath", field_path, detail)]
    if field_path not in allowed:
        return [not_supported(f"{path}.fieldPath", field_path, allowed)]
    return []


def validate_resource_field_ref(ref: Any, path: str, *, volume: bool) -> list[FieldError]:
    if not isinstance(ref, dict):
        return [required(path)]
    errs: list[FieldError] = []
    resource = ref.get("resource") or ""
    if volume and not ref.get("containerName"):
        errs.append(required(f"{path}.containerName"))
    elif not resource:
        errs.append(required(f"{path}.resource"))
    elif resource not in RESOURCE_FIELD_PATHS and not resource.startswith(
        ("limits.hugepages-", "requests.hugepages-")
    ):
        errs.append(not_supported(f"{path}.resource", resource, RESOURCE_FIELD_PATHS))
    divisor = ref.get("divisor")
    if divisor is not None and resource:
        errs += _divisor_errors(resource, divisor, f"{path}.divisor")
    return errs


def _divisor_errors(resource: str, divisor: Any, path: str) -> list[FieldError]:
    try:
        value = parse_quantity(divisor)
    except QuantityError as e:
        return [invalid(path, divisor, str(e))]
    if value == 0:
        return []
    if resource.endswith(".cpu"):
        if value in (1, parse_quantity("1m")):
            return []
        return [
            invalid(
                path, divisor, "only divisor's values 1m and 1 are supported with the cpu resource"
            )
        ]
    allowed = [parse_quantity(s) for s in _MEMORY_DIVISORS.split(", ")]
    if value in allowed:
        return []
    what = "memory" if resource.endswith(".memory") else "local ephemeral storage"
    detail = f"only divisor's values {_MEMORY_DIVISORS} are supported with the {what} resource"
    return [invalid(path, divisor, detail)]
