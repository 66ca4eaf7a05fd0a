"""FieldsV1 paths: what an applied document owns, and how conflicts name fields."""

from __future__ import annotations

from kubelite.api.managedfields import (
    display,
    field_set,
    from_fields_v1,
    remove_path,
    to_fields_v1,
    value_at,
)

DOC = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "p", "labels": {"a": "1"}},
    "spec": {"containers": [{"name": "app", "image": "x", "args": ["1", "2"]}]},
}


def test_field_set_uses_merge_keys_and_skips_identity() -> None:
    assert field_set(DOC) == {
        ("f:metadata", "f:labels", "f:a"),
        ("f:spec", "f:containers", 'k:{"name":"app"}', "f:name"),
        ("f:spec", "f:containers", 'k:{"name":"app"}', "f:image"),
        ("f:spec", "f:containers", 'k:{"name":"app"}', "f:args"),
    }


def test_fields_v1_round_trip() -> None:
    paths = field_set(DOC)
    tree = to_fields_v1(paths)
    assert tree["f:spec"]["f:containers"]['k:{"name":"app"}']["f:image"] == {}
    assert from_fields_v1(tree) == paths


def test_value_at_display_and_remove() -> None:
    path = ("f:spec", "f:containers", 'k:{"name":"app"}', "f:image")
    assert value_at(DOC, path) == "x"
    assert display(path) == '.spec.containers[name="app"].image'
    doc = {"metadata": {"labels": {"a": "1", "b": "2"}}}
    remove_path(doc, ("f:metadata", "f:labels", "f:a"))
    assert doc == {"metadata": {"labels": {"b": "2"}}}
