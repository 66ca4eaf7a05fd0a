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


def _svc(ns: str, name: str, ip: str, ports: list[dict[str, object]]) -> dict[str, object]:
    return {
        "metadata": {"namespace": ns, "name": name},
        "spec": {"clusterIP": ip, "ports": ports},
    }


KUBERNETES = _svc("default", "kubernetes", "10.96.0.1", [{"name": "https", "port": 443}])
POSTGRES = _svc(
    "shop",
    "postgres-svc",
    "10.96.3.4",
    [{"name": "sql", "port": 5432, "protocol": "TCP"}, {"name": "metrics", "port": 9187}],
)
HEADLESS = _svc("shop", "db", "None", [{"port": 5432}])
OTHER_NS = _svc("other", "web", "10.96.9.9", [{"port": 80}])


def test_service_variables_follow_the_kubelets_names_and_docker_links() -> None:
    pod = {"metadata": {"namespace": "shop"}, "spec": {}}
    objects = Objects(services=(KUBERNETES, POSTGRES, HEADLESS, OTHER_NS))
    env = dict(resolve_env(pod, {"name": "c"}, objects, NodeFacts()))
    assert env["KUBERNETES_SERVICE_HOST"] == "10.96.0.1"
    assert env["KUBERNETES_SERVICE_PORT"] == "443"
    assert env["KUBERNETES_SERVICE_PORT_HTTPS"] == "443"
    assert env["KUBERNETES_PORT"] == "tcp://10.96.0.1:443"
    assert env["POSTGRES_SVC_SERVICE_HOST"] == "10.96.3.4"
    assert env["POSTGRES_SVC_SERVICE_PORT"] == "5432"
    assert env["POSTGRES_SVC_SERVICE_PORT_METRICS"] == "9187"
    assert env["POSTGRES_SVC_PORT_5432_TCP"] == "tcp://10.96.3.4:5432"
    assert env["POSTGRES_SVC_PORT_5432_TCP_PROTO"] == "tcp"
    assert env["POSTGRES_SVC_PORT_5432_TCP_PORT"] == "5432"
    assert env["POSTGRES_SVC_PORT_5432_TCP_ADDR"] == "10.96.3.4"
    assert not any(k.startswith(("DB_", "WEB_")) for k in env), "headless / other namespace"


def test_without_service_links_only_the_kubernetes_service_is_there() -> None:
    pod = {"metadata": {"namespace": "shop"}, "spec": {"enableServiceLinks": False}}
    env = dict(
        resolve_env(pod, {"name": "c"}, Objects(services=(KUBERNETES, POSTGRES)), NodeFacts())
    )
    assert "KUBERNETES_SERVICE_HOST" in env
    assert not any(k.startswith("POSTGRES") for k in env)


def test_the_containers_own_variables_win_and_may_refer_to_service_variables() -> None:
    pod = {"metadata": {"namespace": "shop"}, "spec": {}}
    container = {
        "name": "c",
        "env": [
            {"name": "POSTGRES_SVC_SERVICE_PORT", "value": "1"},
            {"name": "DSN", "value": "pg://$(POSTGRES_SVC_SERVICE_HOST):5432"},
        ],
    }
    env = resolve_env(pod, container, Objects(services=(POSTGRES,)), NodeFacts())
    names = [k for k, _ in env]
    assert names[:2] == ["POSTGRES_SVC_SERVICE_PORT", "DSN"]  # declared first, in order
    assert dict(env)["POSTGRES_SVC_SERVICE_PORT"] == "1"
    assert dict(env)["DSN"] == "pg://10.96.3.4:5432"
    assert names.count("POSTGRES_SVC_SERVICE_PORT") == 1
