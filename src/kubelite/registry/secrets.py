"""Secrets: ``stringData`` is folded into base64 ``data`` on write, as the API server does."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from kubelite.model.fielderrors import FieldError, forbidden, invalid, too_long
from kubelite.model.objects import Obj
from kubelite.registry.configmaps import MAX_SIZE, data_key_errors, decoded_size
from kubelite.registry.resource import AGE_COLUMN, Column, Kind, age_of
from kubelite.registry.selectors import path_getter


def _fold(obj: Obj) -> None:
    string_data = obj.pop("stringData", None)
    if isinstance(string_data, dict):
        data = obj.setdefault("data", {}) or {}
        for k, v in string_data.items():
            data[k] = base64.b64encode(str(v).encode()).decode()
        obj["data"] = data


class SecretKind(Kind):
    def prepare_create(self, obj: Obj) -> None:
        _fold(obj)
        obj["type"] = obj.get("type") or "Opaque"

    def prepare_update(self, new: Obj, old: Obj, subresource: str) -> None:
        _fold(new)
        new["type"] = new.get("type") or old.get("type") or "Opaque"

    def validate(self, obj: Obj) -> list[FieldError]:
        errs = data_key_errors(obj.get("data"), "data")
        for k, v in (obj.get("data") or {}).items():
            try:
                base64.b64decode(str(v), validate=True)
            except (binascii.Error, ValueError):
                errs.append(invalid(f"data[{k}]", "<secret contents redacted>", "not base64"))
        if decoded_size(obj.get("data")) > MAX_SIZE:
            errs.append(too_long("data", "", MAX_SIZE))
        return errs

    def validate_update(self, new: Obj, old: Obj, subresource: str = "") -> list[FieldError]:
        errs = self.validate(new)
        if new.get("type") != old.get("type"):
            errs.append(invalid("type", new.get("type"), "field is immutable"))
        if old.get("immutable") and new.get("data") != old.get("data"):
            errs.append(forbidden("data", "field is immutable when `immutable` is set"))
        return errs

    def columns(self) -> list[Column]:
        return [
            Column("Name", format="name", description="Name of the secret."),
            Column("Type", description="The type of the secret."),
            Column("Data", type="integer", description="Number of keys."),
            AGE_COLUMN,
        ]

    def cells(self, obj: Obj, now: float) -> list[Any]:
        n = len(obj.get("data") or {})
        return [obj["metadata"]["name"], obj.get("type", ""), n, age_of(obj, now)]


SECRETS = SecretKind(
    group="",
    version="v1",
    kind="Secret",
    plural="secrets",
    singular="secret",
    description="Small amounts of sensitive data such as passwords, tokens or keys.",
    fields={"type": path_getter("type")},
)
