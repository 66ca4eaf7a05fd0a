"""Query parameters of resource requests, parsed once with the API server's rules."""

from __future__ import annotations

from collections.abc import Mapping

from kubelite.api.errors import bad_request
from kubelite.registry.resource import Kind
from kubelite.registry.selectors import parse_field_selector, parse_label_selector
from kubelite.registry.service import Selection


def flag(query: Mapping[str, str], name: str) -> bool:
    return query.get(name, "").lower() in ("1", "true", "yes")


def integer(query: Mapping[str, str], name: str) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise bad_request(f"invalid value for {name}: {raw!r}") from exc


def selection(query: Mapping[str, str], kind: Kind) -> Selection:
    labels = parse_label_selector(query.get("labelSelector"))
    fields = parse_field_selector(query.get("fieldSelector"), kind.field_getters())
    return Selection(tuple(labels), tuple(fields))


def dry_run(query: Mapping[str, str]) -> bool:
    value = query.get("dryRun")
    if value is None:
        return False
    if value != "All":
        raise bad_request(f'Invalid dryRun: "{value}": supported values: "All"')
    return True


def include_object(query: Mapping[str, str]) -> str:
    value = query.get("includeObject") or "Metadata"
    if value not in ("Metadata", "Object", "None"):
        raise bad_request(f"includeObject: unsupported value {value!r}")
    return value
