"""JSON merge patch, JSON patch and strategic merge patch on Pod-shaped data."""

from __future__ import annotations

import pytest

from kubelite.api.patching import PatchError, json_patch, merge_patch, strategic_merge

POD = {
    "metadata": {"name": "web", "labels": {"app": "web"}, "finalizers": ["a"]},
    "spec": {
        "containers": [
            {
                "name": "app",
                "image": "x:1",
                "env": [{"name": "A", "value": "1"}],
                "ports": [{"containerPort": 80}],
            },
            {"name": "side", "image": "y:1"},
        ],
        "tolerations": [{"key": "k"}],
    },
}


def test_merge_patch_sets_and_null_deletes() -> None:
    out = merge_patch(POD, {"metadata": {"labels": {"app": None, "x": "y"}}})
    assert out["metadata"]["labels"] == {"x": "y"}
    assert POD["metadata"]["labels"] == {"app": "web"}  # input untouched


def test_merge_patch_replaces_lists_whole() -> None:
    out = merge_patch(POD, {"spec": {"containers": [{"name": "only"}]}})
    assert out["spec"]["containers"] == [{"name": "only"}]


@pytest.mark.parametrize(
    ("ops", "check"),
    [
        (
            [{"op": "replace", "path": "/spec/containers/0/image", "value": "x:2"}],
            lambda o: o["spec"]["containers"][0]["image"] == "x:2",
        ),
        (
            [{"op": "add", "path": "/metadata/labels/new", "value": "v"}],
            lambda o: o["metadata"]["labels"]["new"] == "v",
        ),
        (
            [{"op": "add", "path": "/metadata/finalizers/-", "value": "b"}],
            lambda o: o["metadata"]["finalizers"] == ["a", "b"],
        ),
        (
            [{"op": "remove", "path": "/metadata/finalizers"}],
            lambda o: "finalizers" not in o["metadata"],
        ),
        (
            [{"op": "remove", "path": "/metadata/finalizers/0"}],
            lambda o: o["metadata"]["finalizers"] == [],
        ),
        (
            [{"op": "copy", "from": "/metadata/name", "path": "/metadata/labels/n"}],
            lambda o: o["metadata"]["labels"]["n"] == "web",
        ),
        (
            [{"op": "move", "from": "/metadata/labels/app", "path": "/metadata/labels/b"}],
            lambda o: o["metadata"]["labels"] == {"b": "web"},
        ),
        ([{"op": "test", "path": "/metadata/name", "value": "web"}], lambda o: o == POD),
        (
            [
                {"op": "add", "path": "/metadata/annotations", "value": {"a~b/c": "1"}},
                {"op": "replace", "path": "/metadata/annotations/a~0b~1c", "value": "2"},
            ],
            lambda o: o["metadata"]["annotations"] == {"a~b/c": "2"},
        ),
    ],
)
def test_json_patch_operations(ops: list, check) -> None:
    assert check(json_patch(POD, ops))


@pytest.mark.parametrize(
    "ops",
    [
        [{"op": "remove", "path": "/metadata/nope"}],
        [{"op": "replace", "path": "/spec/containers/9/image", "value": "x"}],
        [{"op": "test", "path": "/metadata/name", "value": "other"}],
        [{"op": "frobnicate", "path": "/x"}],
        {"op": "add"},
    ],
)
def test_json_patch_failures_raise(ops) -> None:
    with pytest.raises(PatchError):
        json_patch(POD, ops)


def test_strategic_merge_merges_containers_by_name() -> None:
    out = strategic_merge(POD, {"spec": {"containers": [{"name": "side", "image": "y:2"}]}})
    assert [c["image"] for c in out["spec"]["containers"]] == ["x:1", "y:2"]


def test_strategic_merge_delete_directive_and_null_field() -> None:
    patch = {
        "spec": {
            "$setElementOrder/containers": [{"name": "app"}],
            "containers": [{"name": "app", "env": None}, {"$patch": "delete", "name": "side"}],
        }
    }
    out = strategic_merge(POD, patch)
    assert out["spec"]["containers"] == [
        {"name": "app", "image": "x:1", "ports": [{"containerPort": 80}]}
    ]


def test_strategic_merge_env_and_ports_by_key() -> None:
    patch = {
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "env": [{"name": "B", "value": "2"}],
                    "ports": [{"containerPort": 80, "name": "http"}],
                }
            ]
        }
    }
    app = strategic_merge(POD, patch)["spec"]["containers"][0]
    assert app["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert app["ports"] == [{"containerPort": 80, "name": "http"}]


def test_strategic_merge_set_element_order_reorders() -> None:
    patch = {"spec": {"$setElementOrder/containers": [{"name": "side"}, {"name": "app"}]}}
    out = strategic_merge(POD, patch)
    assert [c["name"] for c in out["spec"]["containers"]] == ["side", "app"]


def test_strategic_merge_replaces_lists_without_merge_key() -> None:
    out = strategic_merge(POD, {"spec": {"tolerations": [{"key": "z"}]}})
    assert out["spec"]["tolerations"] == [{"key": "z"}]


def test_strategic_merge_finalizers_merge_as_a_set() -> None:
    out = strategic_merge(POD, {"metadata": {"finalizers": ["a", "b"]}})
    assert out["metadata"]["finalizers"] == ["a", "b"]
    out = strategic_merge(POD, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}})
    assert out["metadata"]["finalizers"] == []


def test_strategic_merge_replace_directive_on_a_map() -> None:
    out = strategic_merge(POD, {"metadata": {"labels": {"$patch": "replace", "only": "1"}}})
    assert out["metadata"]["labels"] == {"only": "1"}


def test_strategic_merge_retain_keys() -> None:
    out = strategic_merge({"spec": {"a": 1, "b": 2}}, {"spec": {"$retainKeys": ["b"], "b": 3}})
    assert out == {"spec": {"b": 3}}


def test_strategic_merge_status_lists_by_key() -> None:
    node = {
        "status": {
            "addresses": [
                {"type": "Hostname", "address": "h"},
                {"type": "InternalIP", "address": "1"},
            ]
        }
    }
    patch = {"status": {"addresses": [{"type": "InternalIP", "address": "2"}]}}
    assert strategic_merge(node, patch)["status"]["addresses"] == [
        {"type": "Hostname", "address": "h"},
        {"type": "InternalIP", "address": "2"},
    ]


def test_merge_keys_agree_with_the_core_v1_schema() -> None:
    from kubelite.api.patching import MERGE_KEYS
    from kubelite.registry import pod_schema

    for path, key in pod_schema.merge_keys().items():
        assert MERGE_KEYS.get(path.rsplit(".", 1)[-1]) == key, path


def test_a_services_ports_merge_by_port_number_not_by_container_port() -> None:
    current = {
        "spec": {
            "ports": [
                {"name": "http", "port": 80, "targetPort": 8080},
                {"name": "https", "port": 443, "targetPort": 8443},
            ]
        }
    }
    patch = {"spec": {"ports": [{"port": 80, "targetPort": 9090}]}}
    merged = strategic_merge(current, patch, "Service")
    assert merged["spec"]["ports"] == [
        {"name": "http", "port": 80, "targetPort": 9090},
        {"name": "https", "port": 443, "targetPort": 8443},
    ]


def test_an_endpoint_slices_endpoints_are_replaced_whole() -> None:
    current = {"endpoints": [{"addresses": ["10.0.0.1"]}, {"addresses": ["10.0.0.2"]}]}
    patch = {"endpoints": [{"addresses": ["10.0.0.3"]}]}
    assert strategic_merge(current, patch, "EndpointSlice")["endpoints"] == [
        {"addresses": ["10.0.0.3"]}
    ]
