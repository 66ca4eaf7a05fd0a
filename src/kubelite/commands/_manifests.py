"""Reading manifest files for ``kubelite run``: multi-document YAML (or JSON) into objects,
with Pods defaulted and validated exactly as the API server would (so a manifest that runs
here is one the API would accept)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kubelite.errors import KubeliteError
from kubelite.model.fielderrors import FieldError
from kubelite.registry.configmaps import CONFIGMAPS
from kubelite.registry.meta_validation import validate_object_meta
from kubelite.registry.pod_defaults import default_pod
from kubelite.registry.pod_schema import unknown_fields
from kubelite.registry.pod_validation import validate_pod
from kubelite.registry.secrets import SECRETS

SUPPORTED_KINDS = ("Pod", "ConfigMap", "Secret", "Service")


class ManifestError(KubeliteError):
    """A manifest that cannot be run; the message is what kubectl would print."""


def load_objects(paths: list[str]) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str | None]] = set()
    for path in paths:
        text = _read(path)
        try:
            docs = list(yaml.safe_load_all(text))
        except yaml.YAMLError as err:
            raise ManifestError(f"error parsing {path}: {err}") from None
        for doc in docs:
            if doc is None:
                continue
            if isinstance(doc, dict) and doc.get("kind") == "List":
                docs.extend(doc.get("items") or [])
                continue
            obj = _checked(path, doc)
            key = (obj["kind"], obj["metadata"]["namespace"], obj["metadata"].get("name"))
            if key in seen:
                plural = obj["kind"].lower() + "s"
                raise ManifestError(
                    f'Error from server (AlreadyExists): error when creating "{path}": '
                    f'{plural} "{key[2]}" already exists'
                )
            seen.add(key)
            objects.append(obj)
    if not any(o["kind"] == "Pod" for o in objects):
        raise ManifestError("error: no Pod found in " + ", ".join(paths))
    return objects


def _read(path: str) -> str:
    try:
        return Path(path).read_text() if path != "-" else __import__("sys").stdin.read()
    except OSError as err:
        raise ManifestError(f'error: the path "{path}" does not exist ({err.strerror})') from None


def _checked(path: str, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict) or "kind" not in raw or "apiVersion" not in raw:
        raise ManifestError(f"error: unable to decode \"{path}\": Object 'Kind' is missing")
    doc: dict[str, Any] = raw
    kind = doc["kind"]
    if kind not in SUPPORTED_KINDS or doc["apiVersion"] != "v1":
        raise ManifestError(
            f"error: {path}: kubelite run handles v1 Pod, ConfigMap, Secret and Service, "
            f"not {doc['apiVersion']} {kind}"
        )
    unknown = unknown_fields(kind, doc)
    if unknown:  # kubectl validates strictly by default
        fields = ", ".join(f'unknown field "{u}"' for u in unknown)
        raise ManifestError(
            f'Error from server (BadRequest): error when creating "{path}": {kind} in version '
            f'"v1" cannot be handled as a {kind}: strict decoding error: {fields}'
        )
    meta = doc.setdefault("metadata", {})
    meta.setdefault("namespace", "default")
    errors: list[FieldError] = []
    if kind == "Pod":
        doc = default_pod(doc)
        errors = validate_pod(doc, include_metadata=True)
    elif kind == "Service":  # defaulted, allocated and validated when the network is up
        errors = validate_object_meta(meta, namespaced=True)
    else:
        registry_kind = SECRETS if kind == "Secret" else CONFIGMAPS
        registry_kind.prepare_create(doc)  # a Secret's stringData folds into data
        errors = validate_object_meta(meta, namespaced=True) + registry_kind.validate(doc)
    if errors:
        raise ManifestError(_invalid(kind, meta.get("name", ""), errors))
    return doc


def _invalid(kind: str, name: str, errors: list[FieldError]) -> str:
    """kubectl's words: one cause on the headline, several as ``* `` lines below it."""
    if len(errors) == 1:
        return f'The {kind} "{name}" is invalid: {errors[0]}'
    return f'The {kind} "{name}" is invalid: \n' + "\n".join(f"* {e}" for e in errors)
