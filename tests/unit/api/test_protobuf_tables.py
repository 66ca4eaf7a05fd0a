"""Protobuf bodies decoded by the message table (``protoschema``): Pods (``kubectl debug
--copy-to``, ``debug node/…``), Deployments (``kubectl create deployment``), Evictions (``kubectl
drain``) and DeleteOptions. Two bodies are kubectl 1.32's own, captured byte for byte; the rest
are built field by field to pin one rule each."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from kubelite.api.protobuf import MAGIC, ProtobufError, decode
from kubelite.api.protomessages import decode_message, schema
from kubelite.api.protoschema import MESSAGES, ROOTS

# kubectl debug web --copy-to=web-debug --image=busybox:1.36 --share-processes
#   --profile=restricted -- sleep 1000
COPY_TO = base64.b64decode(
    "azhzAAoJCgJ2MRIDUG9kEvMBCiAKCXdlYi1kZWJ1ZxIAGgdkZWZhdWx0IgAqADIAOABCABK8ARIlCgN3ZWISCm5na"
    "W54OjEuMjcqAEIAagByAIABAIgBAJABAKIBABJiCg5kZWJ1Z2dlci00YzRiOBIMYnVzeWJveDoxLjM2GgVzbGVlcB"
    "oEMTAwMCoAQgBqAHIAeh0KBRIDQUxMKAE4AFoQCg5SdW50aW1lRGVmYXVsdIABAIgBAJABAKIBBEZpbGUaBkFsd2F"
    "5czIMQ2x1c3RlckZpcnN0QgBKAFIAWABgAGgAggEAigEAmgEAwgEA2AEBGhAKABoAIgAqADIASgBaAHIAGgAiAA=="
)
# kubectl create deployment d1 --image=nginx --replicas=2 --port=80
DEPLOYMENT = base64.b64decode(
    "azhzAAoVCgdhcHBzL3YxEgpEZXBsb3ltZW50ErQBCh0KAmQxEgAaACIAKgAyADgAQgBaCQoDYXBwEgJkMRKEAQgCEgs"
    "KCQoDYXBwEgJkMRprChsKABIAGgAiACoAMgA4AEIAWgkKA2FwcBICZDESTBIuCgVuZ2lueBIFbmdpbngqADIKCgAQAB"
    "hQIgAqAEIAagByAIABAIgBAJABAKIBABoAMgBCAEoAUgBYAGAAaACCAQCKAQCaAQDCAQAiAgoAKAA4ABoMCAAQABgAI"
    "AAoADgAGgAiAA=="
)


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def f(number: int, value: int | bytes | str) -> bytes:
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    data = value.encode() if isinstance(value, str) else value
    return varint(number << 3 | 2) + varint(len(data)) + data


def msg(*parts: bytes) -> bytes:
    return b"".join(parts)


def envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    return MAGIC + msg(f(1, msg(f(1, api_version), f(2, kind))), f(2, raw))


def test_kubectl_debug_copy_to_decodes_to_the_pod_kubectl_meant() -> None:
    pod = decode(COPY_TO)
    assert pod["apiVersion"] == "v1" and pod["kind"] == "Pod"
    assert pod["metadata"] == {"name": "web-debug", "namespace": "default"}
    spec = pod["spec"]
    assert spec["shareProcessNamespace"] is True
    assert spec["restartPolicy"] == "Always" and spec["dnsPolicy"] == "ClusterFirst"
    assert spec["containers"][0] == {"name": "web", "image": "nginx:1.27", "resources": {}}
    debugger = spec["containers"][1]
    assert debugger["command"] == ["sleep", "1000"]
    assert debugger["terminationMessagePolicy"] == "File"
    assert debugger["securityContext"] == {  # --profile=restricted: false is kept
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def test_kubectl_create_deployment_decodes() -> None:
    d = decode(DEPLOYMENT)
    assert d["apiVersion"] == "apps/v1" and d["kind"] == "Deployment"
    assert d["metadata"] == {"name": "d1", "labels": {"app": "d1"}}
    assert d["spec"] == {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "d1"}},
        "template": {
            "metadata": {"labels": {"app": "d1"}},
            "spec": {
                "containers": [
                    {"name": "nginx", "image": "nginx", "ports": [{"containerPort": 80}],
                     "resources": {}}
                ]
            },
        },
        "strategy": {},
    }  # fmt: skip


def pod_with(spec: bytes) -> dict[str, Any]:
    return decode(envelope("v1", "Pod", msg(f(1, msg(f(1, "p"))), f(2, spec))))["spec"]


NAMED_PORT = msg(f(1, 1), f(3, "http"))  # IntOrString: type=1 (string), strVal="http"
CONTAINER_CASES: list[tuple[str, bytes, dict[str, Any]]] = [
    ("value fields at their zero value are left out",
     msg(f(1, "c"), f(5, ""), f(16, 0), f(13, "")), {"name": "c"}),
    ("an optional field keeps its zero value",
     msg(f(1, "c"), f(15, msg(f(4, 0), f(7, 0)))),
     {"name": "c", "securityContext": {"runAsUser": 0, "allowPrivilegeEscalation": False}}),
    ("empty messages are kept, optional or not, as Go's JSON writes them",
     msg(f(1, "c"), f(10, b""), f(8, b"")), {"name": "c", "livenessProbe": {}, "resources": {}}),
    ("negative integers come back signed",
     msg(f(1, "c"), f(10, msg(f(7, -1)))),
     {"name": "c", "livenessProbe": {"terminationGracePeriodSeconds": -1}}),
    ("a probe's handler is inlined and a port is an IntOrString",
     msg(f(1, "c"), f(11, msg(f(1, msg(f(2, msg(f(1, "/healthz"), f(2, NAMED_PORT))))), f(2, 5)))),
     {"name": "c", "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"},
                                      "initialDelaySeconds": 5}}),
    ("resources are maps of quantities",
     msg(f(1, "c"), f(8, msg(f(1, msg(f(1, "memory"), f(2, msg(f(1, "64Mi")))))))),
     {"name": "c", "resources": {"limits": {"memory": "64Mi"}}}),
    ("unknown fields are skipped", msg(f(1, "c"), f(99, "x"), f(98, 7)), {"name": "c"}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "expected"), [c[1:] for c in CONTAINER_CASES], ids=[c[0] for c in CONTAINER_CASES]
)
def test_a_container(body: bytes, expected: dict[str, Any]) -> None:
    assert pod_with(f(2, body))["containers"] == [expected]


def test_an_ephemeral_container_inlines_its_common_fields() -> None:
    common = msg(f(1, "debugger"), f(2, "busybox:1.36"), f(16, 1), f(18, 1))
    spec = pod_with(f(34, msg(f(1, common), f(2, "nginx"))))
    assert spec["ephemeralContainers"] == [
        {"name": "debugger", "image": "busybox:1.36", "stdin": True, "tty": True,
         "targetContainerName": "nginx"}
    ]  # fmt: skip


def test_the_service_account_volume_of_a_copied_pod_survives() -> None:
    token = msg(f(1, "api"), f(2, 3607), f(3, "token"))
    root_ca = msg(f(1, msg(f(1, "kube-root-ca.crt"))), f(2, msg(f(1, "ca.crt"), f(2, "ca.crt"))))
    namespace = msg(f(1, "namespace"), f(2, msg(f(1, "v1"), f(2, "metadata.namespace"))))
    sources = (f(4, token), f(3, root_ca), f(2, msg(f(1, namespace))))
    projected = msg(*(f(1, s) for s in sources), f(2, 420))
    spec = pod_with(f(1, msg(f(1, "kube-api-access-x"), f(2, msg(f(26, projected))))))
    assert spec["volumes"] == [
        {
            "name": "kube-api-access-x",
            "projected": {
                "sources": [
                    {"serviceAccountToken": {"audience": "api", "expirationSeconds": 3607,
                                             "path": "token"}},
                    {"configMap": {"name": "kube-root-ca.crt",
                                   "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                    {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {
                        "apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
                ],
                "defaultMode": 420,
            },
        }
    ]  # fmt: skip


def test_packed_and_unpacked_repeated_integers_both_decode() -> None:
    packed = varint(4 << 3 | 2) + varint(2) + varint(1) + varint(2)
    spec = pod_with(f(14, msg(f(4, 1000), packed, f(4, 3000))))
    assert spec["securityContext"]["supplementalGroups"] == [1000, 1, 2, 3000]


def test_an_eviction_as_kubectl_drain_sends_it() -> None:
    options = msg(f(1, 30), f(2, msg(f(1, "uid-1"))))
    body = envelope(
        "policy/v1", "Eviction", msg(f(1, msg(f(1, "web"), f(3, "default"))), f(2, options))
    )
    assert decode(body) == {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": "web", "namespace": "default"},
        "deleteOptions": {"gracePeriodSeconds": 30, "preconditions": {"uid": "uid-1"}},
    }


def test_delete_options_keep_a_zero_grace_period() -> None:
    body = envelope("meta.k8s.io/v1", "DeleteOptions", msg(f(1, 0), f(4, "Foreground")))
    decoded = decode(body)
    assert decoded["gracePeriodSeconds"] == 0 and decoded["propagationPolicy"] == "Foreground"


def test_times_decode_to_rfc3339_and_the_zero_time_to_nothing() -> None:
    meta = decode_message("meta.ObjectMeta", msg(f(8, b""), f(9, msg(f(1, 1_700_000_000)))))
    assert meta == {"deletionTimestamp": "2023-11-14T22:13:20Z"}


@pytest.mark.parametrize(
    "body",
    [b"\x12\x05ab", b"\x12\x01\x0a\x80", b"\x0b"],
    ids=["a truncated field", "a truncated varint inside", "a group wire type"],
)
def test_a_malformed_pod_is_a_protobuf_error(body: bytes) -> None:
    with pytest.raises(ProtobufError):
        decode(envelope("v1", "Pod", body))


def test_a_varint_where_a_message_belongs_is_a_protobuf_error() -> None:
    with pytest.raises(ProtobufError):
        decode(envelope("v1", "Pod", f(2, 5)))


def test_every_message_the_table_names_is_in_the_table() -> None:
    for key in [*MESSAGES, *ROOTS.values()]:
        for entry in schema(key).values():
            if entry.message:
                assert entry.type in MESSAGES, f"{key}.{entry.name} -> {entry.type}"
