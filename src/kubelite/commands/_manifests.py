"""Reading manifest files for ``kubelite run``: multi-document YAML (or JSON) into objects,
with Pods defaulted and validated exactly as the API server would (so a manifest that runs
here is one the API would accept)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kubelite.errors import KubeliteError
from kubelite.registry.pod_defaults import default_pod
from kubelite.registry.pod_validation import validate_pod

SUPPORTED_KINDS = ("Pod", "ConfigMap", "Secret")


class ManifestError(KubeliteError):
    """A manifest that cannot be run; the message is what kubectl would print."""


def load_objects(paths: list[str]) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
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
            objects.append(_checked(path, doc))
    if not any(o["kind"] == "Pod" for o in objects):
        raise ManifestError("error: no Pod found in " + ", ".join(paths))
    return objects


def _read(path: str) -> str:
    try:
        return Path(path).read_text() if path != "-" else __import__("sys").stdin.read()
    except OSError as err:
        raise ManifestError(f'error: the path "{path}" does not exist ({err.strerror})') from None


def _checked(path: str, doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
        raise ManifestError(f"error: unable to decode \"{path}\": Object 'Kind' is missing")
    kind = doc["kind"]
    if kind not in SUPPORTED_KINDS or doc["apiVersion"] != "v1":
        raise ManifestError(
            f"error: {path}: kubelite run handles v1 Pod, ConfigMap and Secret, "
            f"not {doc['apiVersion']} {kind}"
        )
    meta = doc.setdefault("metadata", {})
    meta.setdefault("namespace", "default")
    if kind != "Pod":
        return doc
    pod = default_pod(doc)
    errors = validate_pod(pod)
    if errors:
        details = "\n".join(f"* {e}" for e in errors) if len(errors) > 1 else str(errors[0])
        name = meta.get("name", "")
        raise ManifestError(f'The Pod "{name}" is invalid: {details}')
    return pod
