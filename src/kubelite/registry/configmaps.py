"""ConfigMaps: plain data; ``immutable`` ones refuse changes to data."""

from __future__ import annotations

from typing import Any

from kubelite.model import gobase64
from kubelite.model.fielderrors import FieldError, forbidden, invalid, too_long
from kubelite.model.objects import Obj
from kubelite.registry.resource import AGE_COLUMN, Column, Kind, age_of

_KEY_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
KEY_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"  # noqa: E501


def data_key_errors(data: Any, path: str) -> list[FieldError]:
    if data is None:
        return []
    if not isinstance(data, dict):
        return [invalid(path, data, "must be a map")]
    return [invalid(path, k, KEY_MSG) for k in data if not k or not set(str(k)) <= _KEY_CHARS]


MAX_SIZE = 1024 * 1024  # the API server's MaxSecretSize, for ConfigMaps and Secrets alike


def decoded_size(data: Any) -> int:
    """Bytes held by a map of base64 values (undecodable ones count as nothing: they were
    refused when the body was decoded)."""
    total = 0
    for value in (data or {}).values() if isinstance(data, dict) else ():
        try:
            total += len(gobase64.decode(str(value)))
        except gobase64.CorruptInput:
            continue
    return total


def configmap_size(obj: Obj) -> int:
    """What counts against ``MAX_SIZE``: the text of ``data`` (UTF-8) and the bytes of
    ``binaryData``."""
    data = obj.get("data")
    text = sum(len(str(v).encode()) for v in data.values()) if isinstance(data, dict) else 0
    return text + decoded_size(obj.get("binaryData"))


class ConfigMapKind(Kind):
    def validate(self, obj: Obj) -> list[FieldError]:
        errs = data_key_errors(obj.get("data"), "data") + data_key_errors(
            obj.get("binaryData"), "binaryData"
        )
        if configmap_size(obj) > MAX_SIZE:  # the API server reports it at the root, "[]"
            errs.append(too_long("[]", "", MAX_SIZE))
        return errs

    def validate_update(self, new: Obj, old: Obj, subresource: str = "") -> list[FieldError]:
        errs = self.validate(new)
        if old.get("immutable"):
            for f in ("data", "binaryData"):
                if new.get(f) != old.get(f):
                    errs.append(forbidden(f, "field is immutable when `immutable` is set"))
            if not new.get("immutable"):
                errs.append(forbidden("immutable", "field is immutable when `immutable` is set"))
        return errs

    def columns(self) -> list[Column]:
        return [
            Column("Name", format="name", description="Name of the config map."),
            Column("Data", type="integer", description="Number of keys."),
            AGE_COLUMN,
        ]

    def cells(self, obj: Obj, now: float) -> list[Any]:
        n = len(obj.get("data") or {}) + len(obj.get("binaryData") or {})
        return [obj["metadata"]["name"], n, age_of(obj, now)]


CONFIGMAPS = ConfigMapKind(
    group="",
    version="v1",
    kind="ConfigMap",
    plural="configmaps",
    singular="configmap",
    short_names=("cm",),
    description="Non-secret configuration data as key-value pairs.",
)
