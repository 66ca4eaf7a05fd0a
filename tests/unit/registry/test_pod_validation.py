"""validate_pod / validate_pod_update: one or more cases per VAL-* rule, exact paths and texts.

Every case starts from a valid pod, applies one change, defaults it (as the API server does
before validating) and compares the full error strings.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from kubelite.model.fielderrors import FieldError
from kubelite.registry.pod_defaults import default_pod
from kubelite.registry.pod_validation import (
    ValidationOptions,
    validate_pod,
    validate_pod_update,
)

LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
INIT_FORBIDDEN = "Forbidden: may not be set for init containers without restartPolicy=Always"

Pod = dict[str, Any]


def base() -> Pod:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default"},
        "spec": {
            "containers": [{"name": "app", "image": "busybox:1.36"}],
            "volumes": [{"name": "data", "emptyDir": {}}],
        },
    }


def app(pod: Pod) -> dict[str, Any]:
    return pod["spec"]["containers"][0]


def init(pod: Pod, **fields: Any) -> dict[str, Any]:
    c = {"name": "init", "image": "busybox:1.36", **fields}
    pod["spec"].setdefault("initContainers", []).append(c)
    return c


def messages(errs: list[FieldError]) -> list[str]:
    return [str(e) for e in errs]


def run(change: Callable[[Pod], Any], options: ValidationOptions | None = None) -> list[str]:
    pod = base()
    change(pod)
    pod = default_pod(pod)
    if options is None:
        return messages(validate_pod(pod))
    return messages(validate_pod(pod, options=options))


def setp(path: str, value: Any) -> Callable[[Pod], None]:
    """A change that sets ``spec.<a>.<b>`` (``c0`` = first app container)."""

    def change(pod: Pod) -> None:
        target: Any = pod["spec"]
        parts = path.split(".")
        for part in parts[:-1]:
            target = app(pod) if part == "c0" else target.setdefault(part, {})
        target[parts[-1]] = value

    return change


CASES: list[tuple[str, Callable[[Pod], Any], list[str]]] = [
    # VAL-2
    ("VAL-2 a pod needs a container", setp("containers", []), ["spec.containers: Required value"]),
    # VAL-3
    (
        "VAL-3 container name required",
        setp("c0.name", ""),
        ["spec.containers[0].name: Required value"],
    ),
    (
        "VAL-3 container name must be a DNS label",
        setp("c0.name", "My_App"),
        [f'spec.containers[0].name: Invalid value: "My_App": {LABEL_MSG}'],
    ),
    (
        "VAL-3 container name at most 63 characters",
        setp("c0.name", "a" * 64),
        [
            f'spec.containers[0].name: Invalid value: "{"a" * 64}": '
            "must be no more than 63 characters"
        ],
    ),
    (
        "VAL-3 duplicate app containers are reported on the second",
        lambda p: p["spec"]["containers"].append({"name": "app", "image": "x"}),
        ['spec.containers[1].name: Duplicate value: "app"'],
    ),
    (
        "VAL-3 an init container clashing with an app container is reported on the init",
        lambda p: init(p, name="app"),
        ['spec.initContainers[0].name: Duplicate value: "app"'],
    ),
    (
        "VAL-3 two init containers with one name",
        lambda p: (init(p), init(p)),
        ['spec.initContainers[1].name: Duplicate value: "init"'],
    ),
    # VAL-4
    ("VAL-4 image required", setp("c0.image", ""), ["spec.containers[0].image: Required value"]),
    (
        "VAL-4 image without surrounding whitespace",
        setp("c0.image", " busybox"),
        [
            'spec.containers[0].image: Invalid value: " busybox": '
            "must not have leading or trailing whitespace"
        ],
    ),
    # VAL-5
    (
        "VAL-5 restartPolicy on an app container",
        setp("c0.restartPolicy", "Always"),
        ["spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers"],
    ),
    (
        "VAL-5 init container restartPolicy other than Always",
        lambda p: init(p, restartPolicy="OnFailure"),
        [
            'spec.initContainers[0].restartPolicy: Unsupported value: "OnFailure": '
            'supported values: "Always"'
        ],
    ),
    (
        "VAL-5 container restart rules are rejected while the gate is off",
        setp("c0.restartPolicyRules", [{"action": "Restart"}]),
        [
            "spec.containers[0].restartPolicyRules: Forbidden: may not be set: "
            "the ContainerRestartRules feature is not enabled"
        ],
    ),
    # VAL-6
    (
        "VAL-6 probes and lifecycle on a regular init container, one error each",
        lambda p: init(
            p,
            lifecycle={"postStart": {"exec": {"command": ["true"]}}},
            livenessProbe={"exec": {"command": ["true"]}},
            readinessProbe={"exec": {"command": ["true"]}},
            startupProbe={"exec": {"command": ["true"]}},
        ),
        [
            f"spec.initContainers[0].lifecycle: {INIT_FORBIDDEN}",
            f"spec.initContainers[0].livenessProbe: {INIT_FORBIDDEN}",
            f"spec.initContainers[0].readinessProbe: {INIT_FORBIDDEN}",
            f"spec.initContainers[0].startupProbe: {INIT_FORBIDDEN}",
        ],
    ),
    (
        "VAL-6 a sidecar may have probes and lifecycle",
        lambda p: init(
            p,
            restartPolicy="Always",
            lifecycle={"preStop": {"exec": {"command": ["true"]}}},
            startupProbe={"tcpSocket": {"port": 80}},
            readinessProbe={"httpGet": {"port": "http"}},
        ),
        [],
    ),
    (
        "VAL-6 a sidecar's probes are validated like an app container's",
        lambda p: init(p, restartPolicy="Always", livenessProbe={"successThreshold": 2}),
        [
            "spec.initContainers[0].livenessProbe: Required value: must specify a handler type",
            "spec.initContainers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
        ],
    ),
    # VAL-7
    (
        "VAL-7 pod restartPolicy values",
        setp("restartPolicy", "Sometimes"),
        [
            'spec.restartPolicy: Unsupported value: "Sometimes": '
            'supported values: "Always", "OnFailure", "Never"'
        ],
    ),
    # VAL-9
    (
        "VAL-9 a probe needs a handler",
        setp("c0.livenessProbe", {"periodSeconds": 5}),
        ["spec.containers[0].livenessProbe: Required value: must specify a handler type"],
    ),
    (
        "VAL-9 a second handler is forbidden",
        setp("c0.readinessProbe", {"exec": {"command": ["true"]}, "tcpSocket": {"port": 80}}),
        [
            "spec.containers[0].readinessProbe.tcpSocket: Forbidden: "
            "may not specify more than 1 handler type"
        ],
    ),
    (
        "VAL-9 exec needs a command",
        setp("c0.lifecycle", {"postStart": {"exec": {"command": []}}}),
        ["spec.containers[0].lifecycle.postStart.exec.command: Required value"],
    ),
    (
        "VAL-9 httpGet port range and scheme",
        setp("c0.livenessProbe", {"httpGet": {"port": 70000, "scheme": "FTP"}}),
        [
            "spec.containers[0].livenessProbe.httpGet.port: Invalid value: 70000: "
            "must be between 1 and 65535, inclusive",
            'spec.containers[0].livenessProbe.httpGet.scheme: Unsupported value: "FTP": '
            'supported values: "HTTP", "HTTPS"',
        ],
    ),
    (
        "VAL-9 a named port must be an IANA service name",
        setp("c0.livenessProbe", {"tcpSocket": {"port": "HTTP"}}),
        [
            'spec.containers[0].livenessProbe.tcpSocket.port: Invalid value: "HTTP": '
            "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
            'spec.containers[0].livenessProbe.tcpSocket.port: Invalid value: "HTTP": '
            "must contain at least one letter (a-z)",
        ],
    ),
    (
        "VAL-9 grpc port range",
        setp("c0.startupProbe", {"grpc": {"port": 0}}),
        [
            "spec.containers[0].startupProbe.grpc.port: Invalid value: 0: "
            "must be between 1 and 65535, inclusive"
        ],
    ),
    (
        "VAL-9 http header names",
        setp("c0.readinessProbe", {"httpGet": {"port": 80, "httpHeaders": [{"name": "a b"}]}}),
        [
            'spec.containers[0].readinessProbe.httpGet.httpHeaders: Invalid value: "a b": '
            "a valid HTTP header must consist of alphanumeric characters or '-' "
            "(e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')"
        ],
    ),
    # VAL-10
    (
        "VAL-10 negative probe numbers",
        setp("c0.readinessProbe", {"exec": {"command": ["true"]}, "initialDelaySeconds": -1}),
        [
            "spec.containers[0].readinessProbe.initialDelaySeconds: Invalid value: -1: "
            "must be greater than or equal to 0"
        ],
    ),
    (
        "VAL-10 liveness successThreshold must be 1",
        setp("c0.livenessProbe", {"exec": {"command": ["true"]}, "successThreshold": 2}),
        ["spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"],
    ),
    (
        "VAL-10 startup successThreshold must be 1",
        setp("c0.startupProbe", {"exec": {"command": ["true"]}, "successThreshold": 3}),
        ["spec.containers[0].startupProbe.successThreshold: Invalid value: 3: must be 1"],
    ),
    (
        "VAL-10 readiness may have any successThreshold",
        setp("c0.readinessProbe", {"exec": {"command": ["true"]}, "successThreshold": 3}),
        [],
    ),
    (
        "VAL-10 probe grace must be positive",
        setp("c0.livenessProbe", {"exec": {"command": ["x"]}, "terminationGracePeriodSeconds": 0}),
        [
            "spec.containers[0].livenessProbe.terminationGracePeriodSeconds: "
            "Invalid value: 0: must be greater than 0"
        ],
    ),
    (
        "VAL-10 probe grace not on readiness",
        setp("c0.readinessProbe", {"exec": {"command": ["x"]}, "terminationGracePeriodSeconds": 5}),
        [
            "spec.containers[0].readinessProbe.terminationGracePeriodSeconds: "
            "Invalid value: 5: must not be set for readinessProbes"
        ],
    ),
    # VAL-11
    (
        "VAL-11 sleep longer than the grace period",
        lambda p: (
            p["spec"].update(terminationGracePeriodSeconds=10),
            app(p).update(lifecycle={"preStop": {"sleep": {"seconds": 11}}}),
        ),
        [
            "spec.containers[0].lifecycle.preStop.sleep: Invalid value: 11: "
            "must be non-negative and less than terminationGracePeriodSeconds (10)"
        ],
    ),
    (
        "VAL-11 sleep equal to the grace period is fine, so is zero in v1.33",
        lambda p: app(p).update(
            lifecycle={
                "preStop": {"sleep": {"seconds": 30}},
                "postStart": {"sleep": {"seconds": 0}},
            }
        ),
        [],
    ),
    # VAL-12
    (
        "VAL-12 containerPort required and in range, hostPort in range",
        setp("c0.ports", [{"containerPort": 0}, {"containerPort": 80, "hostPort": 70000}]),
        [
            "spec.containers[0].ports[0].containerPort: Required value",
            "spec.containers[0].ports[1].hostPort: Invalid value: 70000: "
            "must be between 1 and 65535, inclusive",
        ],
    ),
    (
        "VAL-12 port names are unique IANA names",
        setp(
            "c0.ports",
            [
                {"name": "http", "containerPort": 80},
                {"name": "http", "containerPort": 81},
                {"name": "-a--b-", "containerPort": 82},
                {"name": "averyveryverylongname", "containerPort": 83},
            ],
        ),
        [
            'spec.containers[0].ports[1].name: Duplicate value: "http"',
            'spec.containers[0].ports[2].name: Invalid value: "-a--b-": '
            "must not contain consecutive hyphens (-)",
            'spec.containers[0].ports[2].name: Invalid value: "-a--b-": '
            "must not begin or end with a hyphen (-)",
            'spec.containers[0].ports[3].name: Invalid value: "averyveryverylongname": '
            "must be no more than 15 characters",
        ],
    ),
    (
        "VAL-12 protocol values",
        setp("c0.ports", [{"containerPort": 80, "protocol": "ICMP"}]),
        [
            'spec.containers[0].ports[0].protocol: Unsupported value: "ICMP": '
            'supported values: "SCTP", "TCP", "UDP"'
        ],
    ),
    (
        "VAL-12 hostPort clash across app containers",
        lambda p: (
            app(p).update(ports=[{"containerPort": 80, "hostPort": 8080}]),
            p["spec"]["containers"].append(
                {"name": "b", "image": "x", "ports": [{"containerPort": 81, "hostPort": 8080}]}
            ),
        ),
        ['spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//8080"'],
    ),
    (
        "VAL-12 two init containers may share a hostPort",
        lambda p: (
            init(p, ports=[{"containerPort": 80, "hostPort": 8080}]),
            init(p, name="init2", ports=[{"containerPort": 80, "hostPort": 8080}]),
        ),
        [],
    ),
    (
        "VAL-12 hostNetwork needs hostPort equal to containerPort",
        lambda p: (
            p["spec"].update(hostNetwork=True),
            app(p).update(ports=[{"containerPort": 80, "hostPort": 81}]),
        ),
        [
            "spec.containers[0].ports[0].hostPort: Invalid value: 81: "
            "must match `containerPort` when `hostNetwork` is true"
        ],
    ),
    # VAL-13
    (
        "VAL-13 request above limit",
        setp("c0.resources", {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}),
        [
            'spec.containers[0].resources.requests[cpu]: Invalid value: "2": '
            "must be less than or equal to cpu limit of 1"
        ],
    ),
    (
        "VAL-13 memory request above limit",
        setp("c0.resources", {"requests": {"memory": "2Gi"}, "limits": {"memory": "1Gi"}}),
        [
            'spec.containers[0].resources.requests[memory]: Invalid value: "2Gi": '
            "must be less than or equal to memory limit of 1Gi"
        ],
    ),
    (
        "VAL-13 negative quantities",
        setp("c0.resources", {"requests": {"memory": "-1"}}),
        [
            'spec.containers[0].resources.requests[memory]: Invalid value: "-1": '
            "must be greater than or equal to 0"
        ],
    ),
    (
        "VAL-13 unknown unqualified resource names",
        setp("c0.resources", {"limits": {"gpu": "1"}}),
        [
            'spec.containers[0].resources.limits[gpu]: Invalid value: "gpu": '
            "must be a standard resource for containers",
            'spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": '
            "must be a standard resource for containers",
        ],
    ),
    (
        "VAL-13 equal request and limit, extended resource with a domain",
        setp("c0.resources", {"limits": {"cpu": "500m", "example.com/dongle": "1"}}),
        [],
    ),
    # VAL-14
    (
        "VAL-14 volume name required and unique",
        setp("volumes", [{"name": "", "emptyDir": {}}, {"name": "a"}, {"name": "a"}]),
        [
            "spec.volumes[0].name: Required value",
            'spec.volumes[2].name: Duplicate value: "a"',
        ],
    ),
    (
        "VAL-14 volume name is a DNS label",
        setp("volumes", [{"name": "Data", "emptyDir": {}}]),
        [f'spec.volumes[0].name: Invalid value: "Data": {LABEL_MSG}'],
    ),
    (
        "VAL-14 exactly one volume source",
        setp("volumes", [{"name": "a", "emptyDir": {}, "configMap": {"name": "c"}}]),
        ["spec.volumes[0].configMap: Forbidden: may not specify more than 1 volume type"],
    ),
    (
        "VAL-14 negative emptyDir size",
        setp("volumes", [{"name": "a", "emptyDir": {"sizeLimit": "-1Mi"}}]),
        [
            "spec.volumes[0].emptyDir.sizeLimit: Forbidden: "
            "SizeLimit field must be a valid resource quantity"
        ],
    ),
    # VAL-15
    (
        "VAL-15 a mount must name a volume",
        setp("c0.volumeMounts", [{"name": "nope", "mountPath": "/x"}]),
        ['spec.containers[0].volumeMounts[0].name: Not found: "nope"'],
    ),
    (
        "VAL-15 mountPath required and unique",
        setp(
            "c0.volumeMounts",
            [
                {"name": "data", "mountPath": "/x"},
                {"name": "data", "mountPath": "/x"},
                {"name": "data", "mountPath": ""},
            ],
        ),
        [
            'spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/x": must be unique',
            "spec.containers[0].volumeMounts[2].mountPath: Required value",
        ],
    ),
    (
        "VAL-15 subPath relative without backsteps, reported without the index",
        setp("c0.volumeMounts", [{"name": "data", "mountPath": "/x", "subPath": "/a/../b"}]),
        [
            'spec.containers[0].volumeMounts.subPath: Invalid value: "/a/../b": '
            "must be a relative path",
            'spec.containers[0].volumeMounts.subPath: Invalid value: "/a/../b": '
            "must not contain '..'",
        ],
    ),
    (
        "VAL-15 subPath and subPathExpr are exclusive",
        setp(
            "c0.volumeMounts",
            [{"name": "data", "mountPath": "/x", "subPath": "a", "subPathExpr": "$(POD)"}],
        ),
        [
            'spec.containers[0].volumeMounts[0].subPathExpr: Invalid value: "$(POD)": '
            "subPathExpr and subPath are mutually exclusive"
        ],
    ),
    # VAL-16
    (
        "VAL-16 env name required",
        setp("c0.env", [{"value": "x"}]),
        ["spec.containers[0].env[0].name: Required value"],
    ),
    (
        "VAL-16 relaxed env names allow anything printable but '='",
        setp("c0.env", [{"name": "1 weird.name-ok", "value": "x"}, {"name": "A=B"}]),
        [
            'spec.containers[0].env[1].name: Invalid value: "A=B": a valid environment '
            "variable name must consist only of printable ASCII characters other than '='"
        ],
    ),
    (
        "VAL-16 value and valueFrom together",
        setp(
            "c0.env",
            [
                {
                    "name": "A",
                    "value": "x",
                    "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
                }
            ],
        ),
        [
            'spec.containers[0].env[0].valueFrom: Invalid value: "": '
            "may not be specified when `value` is not empty"
        ],
    ),
    (
        "VAL-16 valueFrom needs a source",
        setp("c0.env", [{"name": "A", "valueFrom": {}}]),
        [
            'spec.containers[0].env[0].valueFrom: Invalid value: "": must specify one of: '
            "`fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"
        ],
    ),
    (
        "VAL-16 fieldRef outside the downward API list",
        setp("c0.env", [{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "status.phase"}}}]),
        [
            "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "
            '"status.phase": supported values: "metadata.name", "metadata.namespace", '
            '"metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", '
            '"status.hostIPs", "status.podIP", "status.podIPs"'
        ],
    ),
    (
        "VAL-16 label subscripts are allowed",
        setp(
            "c0.env",
            [{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}}],
        ),
        [],
    ),
    (
        "VAL-16 configMapKeyRef needs a name and a valid key",
        setp("c0.env", [{"name": "A", "valueFrom": {"configMapKeyRef": {"key": "a/b"}}}]),
        [
            "spec.containers[0].env[0].valueFrom.configMapKeyRef.name: Required value",
            'spec.containers[0].env[0].valueFrom.configMapKeyRef.key: Invalid value: "a/b": '
            "a valid config key must consist of alphanumeric characters, '-', '_' or '.' "
            "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
            "'[-._a-zA-Z0-9]+')",
        ],
    ),
    (
        "VAL-16 envFrom needs exactly one source",
        setp("c0.envFrom", [{}, {"configMapRef": {"name": "a"}, "secretRef": {"name": "b"}}]),
        [
            'spec.containers[0].envFrom[0]: Invalid value: "": '
            "must specify one of: `configMapRef` or `secretRef`",
            'spec.containers[0].envFrom[1]: Invalid value: "": '
            "may not have more than one field specified at a time",
        ],
    ),
    # VAL-17
    (
        "VAL-17 activeDeadlineSeconds must be positive",
        setp("activeDeadlineSeconds", 0),
        [
            "spec.activeDeadlineSeconds: Invalid value: 0: "
            "must be between 1 and 2147483647, inclusive"
        ],
    ),
    # VAL-18
    (
        "VAL-18 shareProcessNamespace with hostPID",
        lambda p: p["spec"].update(shareProcessNamespace=True, hostPID=True),
        [
            "spec.securityContext.shareProcessNamespace: Invalid value: true: "
            "ShareProcessNamespace and HostPID cannot both be enabled"
        ],
    ),
    # VAL-19
    (
        "VAL-19 terminationMessagePolicy values",
        setp("c0.terminationMessagePolicy", "Always"),
        [
            'spec.containers[0].terminationMessagePolicy: Invalid value: "Always": '
            "must be 'File' or 'FallbackToLogsOnError'"
        ],
    ),
    (
        "VAL-19 imagePullPolicy values",
        setp("c0.imagePullPolicy", "Sometimes"),
        [
            'spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": '
            'supported values: "Always", "IfNotPresent", "Never"'
        ],
    ),
    # VAL-21
    (
        "VAL-21 ephemeral containers cannot be set on create",
        setp("ephemeralContainers", [{"name": "debug", "image": "busybox"}]),
        ["spec.ephemeralContainers: Forbidden: cannot be set on create"],
    ),
    # pod-level extras
    (
        "tolerations: an empty key needs Exists",
        setp("tolerations", [{"operator": "Equal", "value": "x"}]),
        [
            'spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists '
            'when `key` is empty, which means "match all values and all keys"'
        ],
    ),
    (
        "dnsPolicy values",
        setp("dnsPolicy", "Google"),
        [
            'spec.dnsPolicy: Unsupported value: "Google": supported values: '
            '"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"'
        ],
    ),
]


@pytest.mark.parametrize(("name", "change", "expected"), CASES, ids=[c[0] for c in CASES])
def test_validate_pod(name: str, change: Callable[[Pod], Any], expected: list[str]) -> None:
    assert run(change) == expected


def test_a_defaulted_minimal_pod_is_valid() -> None:
    assert validate_pod(default_pod(base())) == []


def test_error_types_are_the_api_cause_reasons() -> None:
    pod = base()
    app(pod)["name"] = ""
    app(pod)["volumeMounts"] = [{"name": "nope", "mountPath": "/x"}]
    errs = validate_pod(default_pod(pod))
    assert [e.type for e in errs] == ["FieldValueRequired", "FieldValueNotFound"]


@pytest.mark.parametrize(
    ("minor", "seconds", "expected"),
    [
        (
            31,
            0,
            "spec.containers[0].lifecycle.preStop.sleep: Invalid value: 0: must be greater than 0 "
            "and less than terminationGracePeriodSeconds (30)",
        ),
        (
            32,
            0,
            "spec.containers[0].lifecycle.preStop.sleep: Invalid value: 0: must be greater than 0 "
            "and less than terminationGracePeriodSeconds (30). Please enable "
            "PodLifecycleSleepActionAllowZero feature gate if you need a sleep of zero duration.",
        ),
        (
            33,
            -1,
            "spec.containers[0].lifecycle.preStop.sleep: Invalid value: -1: must be non-negative "
            "and less than terminationGracePeriodSeconds (30)",
        ),
    ],
)
def test_val_11_sleep_messages_by_version(minor: int, seconds: int, expected: str) -> None:
    change = setp("c0.lifecycle", {"preStop": {"sleep": {"seconds": seconds}}})
    assert run(change, ValidationOptions(kube_minor=minor)) == [expected]


def test_val_16_strict_env_names_before_v1_32() -> None:
    change = setp("c0.env", [{"name": "1BAD", "value": "x"}])
    assert run(change, ValidationOptions(kube_minor=31)) == [
        'spec.containers[0].env[0].name: Invalid value: "1BAD": a valid environment variable '
        "name must consist of alphabetic characters, digits, '_', '-', or '.', and must not "
        "start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex "
        "used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')"
    ]


def test_val_13_resize_policy_on_init_containers_before_v1_33() -> None:
    policy = [{"resourceName": "cpu", "restartPolicy": "NotRequired"}]
    change: Callable[[Pod], Any] = lambda p: init(p, resizePolicy=policy)  # noqa: E731
    assert run(change, ValidationOptions(kube_minor=32)) == [
        "spec.initContainers[0].resizePolicy: Invalid value: "
        '[{"resourceName":"cpu","restartPolicy":"NotRequired"}]: '
        "must not be set for init containers"
    ]
    assert run(change) == []


def test_metadata_is_checked_only_when_asked() -> None:
    pod = default_pod(base())
    pod["metadata"]["name"] = "Bad_Name"
    assert validate_pod(pod) == []
    assert [e.field for e in validate_pod(pod, include_metadata=True)] == ["metadata.name"]


# --- VAL-20 updates -----------------------------------------------------------------------------


def update(
    change: Callable[[Pod], Any], old_change: Callable[[Pod], Any] | None = None
) -> list[str]:
    old = base()
    if old_change is not None:
        old_change(old)
    old = default_pod(old)
    new = copy.deepcopy(old)
    change(new)
    return messages(validate_pod_update(default_pod(new), old))


def test_val_20_image_changes_are_allowed() -> None:
    def change(p: Pod) -> None:
        app(p)["image"] = "busybox:1.37"
        p["spec"]["initContainers"][0]["image"] = "busybox:1.37"

    assert update(change, lambda p: init(p)) == []


def test_val_20_an_image_cannot_be_removed() -> None:
    assert update(setp("c0.image", "")) == ["spec.containers[0].image: Required value"]


def test_val_20_other_spec_changes_are_forbidden_with_the_allowed_list() -> None:
    errs = update(setp("c0.command", ["sleep", "1"]))
    assert len(errs) == 1
    first, *diff = errs[0].split("\n")
    assert first == (
        "spec: Forbidden: pod updates may not change fields other than "
        "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
        "`spec.tolerations` (only additions to existing tolerations),"
        "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously "
        "negative)"
    )
    assert diff == [
        "  - spec.containers[0].command: <unset>",
        '  + spec.containers[0].command: ["sleep","1"]',
    ]


def test_val_20_containers_cannot_be_added() -> None:
    errs = update(lambda p: p["spec"]["containers"].append({"name": "b", "image": "x"}))
    assert errs == ["spec.containers: Forbidden: pod updates may not add or remove containers"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (None, 60, []),
        (60, 30, []),
        (60, 60, []),
        (
            30,
            60,
            [
                "spec.activeDeadlineSeconds: Invalid value: 60: must be less than or equal to "
                "previous value"
            ],
        ),
        (
            30,
            None,
            [
                'spec.activeDeadlineSeconds: Invalid value: "null": '
                "must not update from a positive integer to nil value"
            ],
        ),
    ],
)
def test_val_20_active_deadline_may_only_be_set_or_lowered(
    old: int | None, new: int | None, expected: list[str]
) -> None:
    def set_deadline(value: int | None) -> Callable[[Pod], None]:
        def change(p: Pod) -> None:
            if value is None:
                p["spec"].pop("activeDeadlineSeconds", None)
            else:
                p["spec"]["activeDeadlineSeconds"] = value

        return change

    assert update(set_deadline(new), set_deadline(old)) == expected


def test_val_20_tolerations_may_be_added_not_changed() -> None:
    extra = {"key": "k", "operator": "Exists", "effect": "NoSchedule"}
    assert update(lambda p: p["spec"]["tolerations"].append(extra)) == []
    own = {"key": "k", "operator": "Equal", "value": "a", "effect": "NoSchedule"}
    changed = lambda p: p["spec"]["tolerations"][0].update(value="b")  # noqa: E731
    assert update(changed, lambda p: p["spec"].update(tolerations=[own])) == [
        "spec.tolerations: Forbidden: existing toleration can not be modified except its "
        "tolerationSeconds"
    ]
    assert update(lambda p: p["spec"]["tolerations"][0].update(tolerationSeconds=10)) == []


def gated(*names: str) -> Callable[[Pod], None]:
    return lambda p: p["spec"].update(schedulingGates=[{"name": n} for n in names])


def test_val_20_scheduling_gates_may_be_removed_not_added() -> None:
    assert update(lambda p: p["spec"].pop("schedulingGates"), gated("a", "b")) == []
    assert update(lambda p: p["spec"]["schedulingGates"].pop(0), gated("a", "b")) == []
    assert update(lambda p: p["spec"]["schedulingGates"].append({"name": "c"}), gated("a")) == [
        "spec.schedulingGates[1].name: Forbidden: only deletion is allowed, but found new "
        "scheduling gate 'c'"
    ]
    assert update(gated("x")) == [
        "spec.schedulingGates[0].name: Forbidden: only deletion is allowed, but found new "
        "scheduling gate 'x'"
    ]


def required_terms(*terms: list[dict[str, Any]]) -> dict[str, Any]:
    selector = {"nodeSelectorTerms": [{"matchExpressions": t} for t in terms]}
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": selector}}


ZONE_A = {"key": "zone", "operator": "In", "values": ["a"]}
GPU = {"key": "gpu", "operator": "Exists"}


def gated_with(**spec: Any) -> Callable[[Pod], None]:
    def change(p: Pod) -> None:
        p["spec"].update(schedulingGates=[{"name": "queue"}], **copy.deepcopy(spec))

    return change


@pytest.mark.parametrize(
    ("old_spec", "new_spec", "expected"),
    [
        ({"nodeSelector": {"a": "b"}}, {"nodeSelector": {"a": "b", "c": "d"}}, []),
        ({}, {"nodeSelector": {"c": "d"}}, []),
        (
            {"nodeSelector": {"a": "b"}},
            {"nodeSelector": {"a": "z"}},
            [
                'spec.nodeSelector: Invalid value: {"a":"z"}: only additions to '
                "spec.nodeSelector are allowed (no mutations or deletions)"
            ],
        ),
        ({}, {"affinity": required_terms([ZONE_A])}, []),
        ({"affinity": required_terms([ZONE_A])}, {"affinity": required_terms([ZONE_A, GPU])}, []),
        (
            {"affinity": required_terms([ZONE_A, GPU])},
            {"affinity": required_terms([GPU])},
            [
                "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
                'nodeSelectorTerms[0]: Invalid value: {"matchExpressions":[{"key":"gpu",'
                '"operator":"Exists"}]}: only additions are allowed (no mutations or deletions)'
            ],
        ),
        (
            {"affinity": required_terms([ZONE_A])},
            {"affinity": required_terms([ZONE_A], [GPU])},
            [
                "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
                'nodeSelectorTerms: Invalid value: [{"matchExpressions":[{"key":"zone",'
                '"operator":"In","values":["a"]}]},{"matchExpressions":[{"key":"gpu",'
                '"operator":"Exists"}]}]: no additions/deletions to non-empty NodeSelectorTerms '
                "list are allowed"
            ],
        ),
    ],
)
def test_val_20_a_gated_pods_placement_may_only_be_narrowed(
    old_spec: dict[str, Any], new_spec: dict[str, Any], expected: list[str]
) -> None:
    def change(p: Pod) -> None:
        p["spec"].pop("nodeSelector", None)
        p["spec"].pop("affinity", None)
        p["spec"].update(copy.deepcopy(new_spec))

    assert update(change, gated_with(**old_spec)) == expected


def test_val_20_an_ungated_pods_node_selector_stays_fixed() -> None:
    errs = update(lambda p: p["spec"].update(nodeSelector={"c": "d"}))
    assert len(errs) == 1 and errs[0].startswith("spec: Forbidden: pod updates may not change")


def test_val_20_negative_grace_may_become_one() -> None:
    old = default_pod(base())
    old["spec"]["terminationGracePeriodSeconds"] = -1  # stored before negative became 1
    new = copy.deepcopy(old)
    new["spec"]["terminationGracePeriodSeconds"] = 1
    assert validate_pod_update(new, old) == []


def with_debug(pod: Pod, **fields: Any) -> Pod:
    new = copy.deepcopy(pod)
    debug = {"name": "debug", "image": "busybox:1.36", **fields}
    new["spec"].setdefault("ephemeralContainers", []).append(debug)
    return default_pod(new)


def test_val_20_regular_updates_cannot_add_ephemeral_containers() -> None:
    old = default_pod(base())
    errs = messages(validate_pod_update(with_debug(old), old))
    assert len(errs) == 1 and errs[0].startswith("spec: Forbidden: pod updates may not change")


def test_val_20_a_put_without_the_defaulted_fields_is_not_a_change() -> None:
    old = default_pod(base())
    new = base()
    new["spec"]["containers"][0]["image"] = "busybox:1.37"
    assert validate_pod_update(new, old) == []
