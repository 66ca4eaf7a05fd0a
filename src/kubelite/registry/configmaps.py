"""ConfigMaps: plain data; ``immutable`` ones refuse changes to data."""

from __future__ import annotations

from typing import Any

from kubelite.model.fielderrors import FieldError, forbidden, invalid
from kubelite.registry.resource import AGE_COLUMN, Column, Kind, Obj, age_of

_KEY_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
KEY_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"  # noqa: E501


def data_key_errors(data: Any, path: str) -> list[FieldError]:
    if data is None:
        return []
    if not isinstance(data, dict):
        return [invalid(path, data, "must be a map")]
    return [invalid(path, k, KEY_MSG) for k in data if not k or not set(str(k)) <= _KEY_CHARS]


class ConfigMapKind(Kind):
    def validate(self, obj: Obj) -> list[FieldError]:
        return data_key_errors(obj.get("data"), "data") + data_key_errors(
            obj.get("binaryData"), "binaryData"
        )

    def validate_update(self, new: Obj, old: Obj) -> list[FieldError]:
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
