"""Environment of a container (VOL-9, VOL-10) and the ConfigMap/Secret references behind it."""

import base64

import pytest

from kubelite.agent.envvars import ConfigError, NodeFacts, Objects, referenced_objects, resolve_env

POD = {
    "metadata": {"name": "web", "namespace": "shop", "uid": "u-1", "labels": {"app": "web"}},
    "spec": {"nodeName": "node-a", "serviceAccountName": "default"},
}
NODE = NodeFacts(node_name="node-a", host_ip="10.0.0.1", pod_ip="10.244.0.5")
OBJECTS = Objects(
    configmaps={"settings": {"data": {"MODE": "fast", "LEVEL": "3"}}},
    secrets={"creds": {"data": {"PASSWORD": base64.b64encode(b"s3cret").decode()}}},
)


def env(container: dict, objects: Objects = OBJECTS) -> dict[str, str]:
    return dict(resolve_env(POD, container, objects, NODE))


def test_literal_values_expand_references_to_earlier_variables_vol_10() -> None:
    got = env({"env": [{"name": "A", "value": "x"}, {"name": "B", "value": "$(A)-$(Z)-$$(A)"}]})
    assert got["B"] == "x-$(Z)-$(A)"


def test_env_wins_over_env_from_and_prefix_is_applied() -> None:
    got = env(
        {
            "envFrom": [{"configMapRef": {"name": "settings"}, "prefix": "CFG_"}],
            "env": [{"name": "CFG_MODE", "value": "slow"}],
        }
    )
    assert got == {"CFG_MODE": "slow", "CFG_LEVEL": "3"}


def test_downward_api_field_refs_vol_9() -> None:
    got = env(
        {
            "env": [
                {"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                {"name": "L", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
            ]
        }
    )
    assert got == {"N": "web", "NS": "shop", "IP": "10.244.0.5", "L": "web"}


@pytest.mark.parametrize(
    ("limit", "divisor", "expected"),
    [("250m", "1", "1"), ("250m", "1m", "250"), ("64Mi", "1Mi", "64"), ("1Gi", "1", "1073741824")],
)
def test_resource_field_refs_divide_and_round_up_vol_9(
    limit: str, divisor: str, expected: str
) -> None:
    resource = "limits.cpu" if limit.endswith("m") else "limits.memory"
    kind = "cpu" if resource == "limits.cpu" else "memory"
    got = env(
        {
            "resources": {"limits": {kind: limit}},
            "env": [
                {
                    "name": "R",
                    "valueFrom": {"resourceFieldRef": {"resource": resource, "divisor": divisor}},
                }
            ],
        }
    )
    assert got["R"] == expected


def test_secret_key_ref_is_decoded() -> None:
    got = env(
        {
            "env": [
                {"name": "P", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "PASSWORD"}}}
            ]
        }
    )
    assert got == {"P": "s3cret"}


def test_missing_configmap_fails_the_config_unless_optional() -> None:
    ref = {"configMapKeyRef": {"name": "absent", "key": "K"}}
    with pytest.raises(ConfigError, match='configmap "absent" not found'):
        env({"env": [{"name": "X", "valueFrom": ref}]})
    ref["configMapKeyRef"]["optional"] = True
    assert env({"env": [{"name": "X", "valueFrom": ref}]}) == {}


def test_missing_key_names_the_object() -> None:
    ref = {"configMapKeyRef": {"name": "settings", "key": "NOPE"}}
    with pytest.raises(ConfigError, match="couldn't find key NOPE in ConfigMap shop/settings"):
        env({"env": [{"name": "X", "valueFrom": ref}]})


def test_referenced_objects_cover_env_env_from_and_volumes() -> None:
    pod = {
        "spec": {
            "initContainers": [{"envFrom": [{"secretRef": {"name": "s1"}}]}],
            "containers": [
                {"env": [{"name": "a", "valueFrom": {"configMapKeyRef": {"name": "c1"}}}]}
            ],
            "volumes": [
                {"name": "v", "configMap": {"name": "c2"}},
                {"name": "w", "projected": {"sources": [{"secret": {"name": "s2"}}]}},
            ],
        }
    }
    assert referenced_objects(pod) == ({"c1", "c2"}, {"s1", "s2"})
