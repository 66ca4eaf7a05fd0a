"""VAL-21: ephemeral containers as the API server validates them, through the subresource
(``validate_ephemeral_containers_update``) and on every other write of the pod (``_validate_spec``
via ``validate_pod_update``), with exact paths and texts."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubelite.model.fielderrors import FieldError
from kubelite.registry.ephemeral_validation import EPHEMERAL_FORBIDDEN, FORBIDDEN_FIELDS
from kubelite.registry.pod_defaults import default_pod
from kubelite.registry.pod_validation import (
    validate_ephemeral_containers_update,
    validate_pod_update,
)

Pod = dict[str, Any]
FORBIDDEN = f"Forbidden: {EPHEMERAL_FORBIDDEN}"


def stored() -> Pod:
    return default_pod(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web", "namespace": "default", "uid": "u1"},
            "spec": {
                "initContainers": [{"name": "setup", "image": "busybox:1.36"}],
                "containers": [{"name": "nginx", "image": "nginx:1.27"}],
                "volumes": [{"name": "data", "emptyDir": {}}],
            },
        }
    )


def with_debug(pod: Pod, **fields: Any) -> Pod:
    new = copy.deepcopy(pod)
    debug = {"name": "debugger", "image": "busybox:1.36", **fields}
    new["spec"].setdefault("ephemeralContainers", []).append(debug)
    return default_pod(new)


def messages(errs: list[FieldError]) -> list[str]:
    return [str(e) for e in errs]


def check(new: Pod, old: Pod) -> list[str]:
    return messages(validate_ephemeral_containers_update(new, old))


AT = "spec.ephemeralContainers[0]"

CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("a debug container as kubectl sends it is accepted",
     {"resources": {}, "stdin": True, "tty": True, "targetContainerName": "nginx",
      "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent"}, []),
    ("a target may be an init container", {"targetContainerName": "setup"}, []),
    ("a security context and volume mounts are allowed",
     {"securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}},
      "volumeMounts": [{"name": "data", "mountPath": "/data"}]}, []),
    ("a target that names no container is not found",
     {"targetContainerName": "nope"}, [f'{AT}.targetContainerName: Not found: "nope"']),
    ("a target may not be another ephemeral container",
     {"targetContainerName": "debugger"}, [f'{AT}.targetContainerName: Not found: "debugger"']),
    ("a name taken by an app container is a duplicate",
     {"name": "nginx"}, [f'{AT}.name: Duplicate value: "nginx"']),
    ("a name taken by an init container is a duplicate",
     {"name": "setup"}, [f'{AT}.name: Duplicate value: "setup"']),
    ("ports are forbidden", {"ports": [{"containerPort": 80}]}, [f"{AT}.ports: {FORBIDDEN}"]),
    ("an empty ports list still counts as set", {"ports": []}, [f"{AT}.ports: {FORBIDDEN}"]),
    ("resources with requests are forbidden",
     {"resources": {"requests": {"cpu": "100m"}}}, [f"{AT}.resources: {FORBIDDEN}"]),
    ("probes are forbidden, even empty ones",
     {"readinessProbe": {"exec": {"command": ["true"]}}, "livenessProbe": {}},
     [f"{AT}.livenessProbe: {FORBIDDEN}", f"{AT}.readinessProbe: {FORBIDDEN}"]),
    ("lifecycle and restartPolicy are forbidden",
     {"lifecycle": {"preStop": {"sleep": {"seconds": 1}}}, "restartPolicy": "Always"},
     [f"{AT}.restartPolicy: {FORBIDDEN}", f"{AT}.lifecycle: {FORBIDDEN}"]),
    ("forbidden fields are reported in the API's field order, not alphabetically",
     {"startupProbe": {"exec": {"command": ["true"]}}, "resizePolicy": [], "ports": []},
     [f"{AT}.ports: {FORBIDDEN}", f"{AT}.resizePolicy: {FORBIDDEN}",
      f"{AT}.startupProbe: {FORBIDDEN}"]),
    ("subPath and subPathExpr mounts are forbidden",
     {"volumeMounts": [{"name": "data", "mountPath": "/a", "subPath": "x"},
                       {"name": "data", "mountPath": "/b", "subPathExpr": "$(X)"}]},
     [f"{AT}.volumeMounts[0].subPath: {FORBIDDEN}",
      f"{AT}.volumeMounts[1].subPathExpr: {FORBIDDEN}"]),
    ("the common container rules apply", {"image": ""}, [f"{AT}.image: Required value"]),
    ("a mount of an unknown volume is not found",
     {"volumeMounts": [{"name": "nope", "mountPath": "/x"}]},
     [f'{AT}.volumeMounts[0].name: Not found: "nope"']),
]  # fmt: skip


@pytest.mark.parametrize(("change", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_val_21_a_new_ephemeral_container(change: dict[str, Any], expected: list[str]) -> None:
    old = stored()
    assert check(with_debug(old, **change), old) == expected


def test_val_21_the_allowlist_forbids_exactly_the_fields_the_api_server_does() -> None:
    assert FORBIDDEN_FIELDS == (
        "ports", "resources", "resizePolicy", "restartPolicy", "livenessProbe",
        "readinessProbe", "startupProbe", "lifecycle",
    )  # fmt: skip


def test_val_21_an_existing_ephemeral_container_may_not_be_removed() -> None:
    old = with_debug(stored())
    new = copy.deepcopy(old)
    new["spec"]["ephemeralContainers"] = []
    assert check(new, old) == [
        'spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger" may not '
        "be removed\n"
    ]


def test_val_21_an_existing_ephemeral_container_may_not_be_changed() -> None:
    old = with_debug(stored())
    new = copy.deepcopy(old)
    new["spec"]["ephemeralContainers"][0]["image"] = "busybox:1.37"
    assert check(new, old) == [
        'spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger" may not '
        "be changed\n"
        '  - spec.ephemeralContainers["debugger"].image: "busybox:1.36"\n'
        '  + spec.ephemeralContainers["debugger"].image: "busybox:1.37"'
    ]


def test_val_21_order_and_empty_fields_do_not_count_as_changes() -> None:
    old = with_debug(with_debug(stored()), name="second")
    new = copy.deepcopy(old)
    new["spec"]["ephemeralContainers"].reverse()
    new["spec"]["ephemeralContainers"][0]["env"] = []
    new["spec"]["ephemeralContainers"][1]["resources"] = {}
    assert check(new, old) == []


def test_val_21_a_second_container_is_added_beside_the_first() -> None:
    old = with_debug(stored())
    assert check(with_debug(old, name="second", targetContainerName="nginx"), old) == []


def test_val_21_a_static_pod_takes_no_ephemeral_containers() -> None:
    old = stored()
    old["metadata"]["annotations"] = {"kubernetes.io/config.mirror": "abc"}
    old["spec"]["nodeName"] = "node"
    assert check(with_debug(old, ports=[{"containerPort": 1}]), old) == [
        ": Forbidden: static pods do not support ephemeral containers"
    ]


def test_val_21_a_regular_update_may_not_add_one() -> None:
    old = stored()
    errs = messages(validate_pod_update(with_debug(old), old))
    assert len(errs) == 1 and errs[0].startswith("spec: Forbidden: pod updates may not change")


def test_val_21_a_regular_update_keeps_the_ones_already_there() -> None:
    old = with_debug(stored(), targetContainerName="nginx")
    new = copy.deepcopy(old)
    new["spec"]["containers"][0]["image"] = "nginx:1.28"
    assert messages(validate_pod_update(new, old)) == []
