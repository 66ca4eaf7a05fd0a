"""Protobuf Job and CronJob bodies (what ``kubectl create job|cronjob`` sends) decode to the JSON
form: plain fields left out when empty, pointers kept even at zero, embedded messages flattened,
maps, quantities and repeated fields."""

from __future__ import annotations

from kubelite.api.protobuf import MAGIC, decode


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = b""
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out += bytes([byte | 0x80])
        else:
            return out + bytes([byte])


def field(number: int, value: int | bytes | str) -> bytes:
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    data = value.encode() if isinstance(value, str) else value
    return varint(number << 3 | 2) + varint(len(data)) + data


def message(*parts: bytes) -> bytes:
    return b"".join(parts)


def envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    type_meta = message(field(1, api_version), field(2, kind))
    return MAGIC + message(field(1, type_meta), field(2, raw))


def container(name: str, image: str, *command: str) -> bytes:
    return message(
        field(1, name),
        field(2, image),
        *(field(3, c) for c in command),
        field(5, ""),  # workingDir, empty: left out
        field(8, b""),  # resources: {}
        field(16, 0),  # stdin false: left out
        field(20, ""),
    )


def pod_template(restart: str) -> bytes:
    spec = message(field(2, container("main", "busybox:1.36", "sh", "-c", "echo hi")),
                   field(3, restart), field(11, 0))  # fmt: skip
    return message(field(1, message(field(1, ""))), field(2, spec))


def test_a_job_as_kubectl_create_job_sends_it() -> None:
    owner = message(field(1, "CronJob"), field(3, "report"), field(4, "u-1"),
                    field(5, "batch/v1"), field(6, 1), field(7, 1))  # fmt: skip
    meta = message(
        field(1, "report-now"),
        field(12, message(field(1, "cronjob.kubernetes.io/instantiate"), field(2, "manual"))),
        field(13, owner),
    )
    spec = message(field(6, pod_template("OnFailure")), field(7, 0), field(10, 0))
    obj = decode(envelope("batch/v1", "Job", message(field(1, meta), field(2, spec))))
    assert obj == {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": "report-now",
            "annotations": {"cronjob.kubernetes.io/instantiate": "manual"},
            "ownerReferences": [
                {"kind": "CronJob", "name": "report", "uid": "u-1", "apiVersion": "batch/v1",
                 "controller": True, "blockOwnerDeletion": True}
            ],
        },
        "spec": {
            "template": {
                "metadata": {},
                "spec": {
                    "containers": [
                        {"name": "main", "image": "busybox:1.36",
                         "command": ["sh", "-c", "echo hi"], "resources": {}}
                    ],
                    "restartPolicy": "OnFailure",
                },
            },
            "backoffLimit": 0,  # a pointer: zero is kept
            "suspend": False,
        },
    }  # fmt: skip


def test_a_cronjob_with_its_schedule_and_limits() -> None:
    job_template = message(field(1, message(field(1, "report"))),
                           field(2, message(field(6, pod_template("OnFailure")))))  # fmt: skip
    spec = message(field(1, "*/1 * * * *"), field(5, job_template), field(6, 2), field(8, "UTC"))
    obj = decode(envelope("batch/v1", "CronJob", message(field(1, message(field(1, "r"))),
                                                         field(2, spec))))  # fmt: skip
    assert obj["spec"]["schedule"] == "*/1 * * * *"
    assert obj["spec"]["successfulJobsHistoryLimit"] == 2
    assert obj["spec"]["timeZone"] == "UTC"
    assert obj["spec"]["jobTemplate"]["metadata"] == {"name": "report"}
    containers = obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert containers[0]["command"] == ["sh", "-c", "echo hi"]


def test_quantities_ports_and_env_from_a_config_map_key() -> None:
    quantity = message(field(1, "cpu"), field(2, message(field(1, "250m"))))
    key_ref = message(field(1, message(field(1, "settings"))), field(2, "level"))
    env = message(field(1, "LEVEL"), field(3, message(field(3, key_ref))))
    probe = message(field(1, message(field(3, message(field(1, message(field(1, 0),
                                                                        field(2, 8080))))))),
                    field(4, 5))  # fmt: skip
    c = message(field(1, "main"), field(2, "img"), field(6, message(field(3, 8080))),
                field(7, env), field(8, message(field(1, quantity))), field(11, probe))  # fmt: skip
    spec = message(field(2, c), field(3, "Never"))
    template = message(field(2, spec))
    obj = decode(envelope("batch/v1", "Job", message(field(2, message(field(6, template))))))
    got = obj["spec"]["template"]["spec"]["containers"][0]
    assert got["ports"] == [{"containerPort": 8080}]
    assert got["env"] == [
        {"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "level"}}}
    ]
    assert got["resources"] == {"limits": {"cpu": "250m"}}
    assert got["readinessProbe"] == {"tcpSocket": {"port": 8080}, "periodSeconds": 5}
