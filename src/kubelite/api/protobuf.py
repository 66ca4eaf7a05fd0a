"""Decoding of the protobuf request bodies that kubectl's imperative ``create namespace|
configmap|secret|serviceaccount`` send (client-go prefers protobuf for built-in types and has
no JSON fallback).

Only the wire format and the few messages those commands produce are understood: the ``k8s\\0``
envelope around a ``runtime.Unknown`` (typeMeta=1, raw=2), and Namespace, ConfigMap, Secret,
ServiceAccount, Service and TokenRequest (``kubectl create token``) with the ObjectMeta fields
name, generateName, namespace, labels, annotations and finalizers; the RBAC kinds (``kubectl
create role|clusterrole|rolebinding|clusterrolebinding``) and the reviews (``kubectl auth
can-i``, ``auth can-i --list``, ``auth whoami``); Pods (``kubectl debug --copy-to``,
``debug node/…``), Deployments, Jobs and CronJobs (``kubectl create job|cronjob``), Evictions
(``kubectl drain``) and DeleteOptions (typed deletes) by the complete message table of
``protoschema``. Anything else
raises ``ProtobufError`` and the caller answers 415.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

from kubelite.api.protomessages import decode_message
from kubelite.api.protoschema import ROOTS
from kubelite.model.protowire import WireError, read_varint

MAGIC = b"k8s\x00"


class ProtobufError(ValueError):
    pass


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    """The varint at ``pos`` (``model.protowire``'s reader), a malformed one a ProtobufError."""
    try:
        return read_varint(buf, pos)
    except WireError as e:
        raise ProtobufError(str(e)) from e


def fields(buf: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) pairs; length-delimited values are bytes, varints are ints."""
    pos = 0
    while pos < len(buf):
        tag, pos = _varint(buf, pos)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
            yield number, value
        elif wire == 2:
            size, pos = _varint(buf, pos)
            if pos + size > len(buf):
                raise ProtobufError("truncated field")
            yield number, buf[pos : pos + size]
            pos += size
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")


def _text(v: int | bytes) -> str:
    if not isinstance(v, bytes):
        raise ProtobufError("expected a string")
    return v.decode("utf-8")


def _entry(v: int | bytes) -> tuple[str, bytes]:
    if not isinstance(v, bytes):
        raise ProtobufError("expected a map entry")
    key, value = "", b""
    for n, x in fields(v):
        if n == 1:
            key = _text(x)
        elif n == 2 and isinstance(x, bytes):
            value = x
    return key, value


def _meta(buf: bytes) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n, v in fields(buf):
        if n in (1, 2, 3):
            out[("name", "generateName", "namespace")[n - 1]] = _text(v)
        elif n in (11, 12):
            k, val = _entry(v)
            out.setdefault("labels" if n == 11 else "annotations", {})[k] = val.decode()
        elif n == 14:
            out.setdefault("finalizers", []).append(_text(v))
    return {k: v for k, v in out.items() if v != ""}


def _configmap(buf: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for n, v in fields(buf):
        if n == 1 and isinstance(v, bytes):
            obj["metadata"] = _meta(v)
        elif n == 2:
            k, val = _entry(v)
            obj.setdefault("data", {})[k] = val.decode()
        elif n == 3:
            k, val = _entry(v)
            obj.setdefault("binaryData", {})[k] = base64.b64encode(val).decode()
        elif n == 4:
            obj["immutable"] = bool(v)
    return obj


def _secret(buf: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for n, v in fields(buf):
        if n == 1 and isinstance(v, bytes):
            obj["metadata"] = _meta(v)
        elif n == 2:
            k, val = _entry(v)
            obj.setdefault("data", {})[k] = base64.b64encode(val).decode()
        elif n == 3:
            obj["type"] = _text(v)
        elif n == 4:
            k, val = _entry(v)
            obj.setdefault("stringData", {})[k] = val.decode()
        elif n == 5:
            obj["immutable"] = bool(v)
    return obj


def _namespace(buf: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for n, v in fields(buf):
        if n == 1 and isinstance(v, bytes):
            obj["metadata"] = _meta(v)
    return obj


def _serviceaccount(buf: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for n, v in fields(buf):
        if n == 1 and isinstance(v, bytes):
            obj["metadata"] = _meta(v)
        elif n == 4:
            obj["automountServiceAccountToken"] = bool(v)
    return obj


def _int_or_string(buf: bytes) -> int | str | None:
    kind, number, text = 0, 0, ""
    for n, v in fields(buf):
        if n == 1 and isinstance(v, int):
            kind = v
        elif n == 2 and isinstance(v, int):
            number = v
        elif n == 3:
            text = _text(v)
    if kind == 1:
        return text or None
    return number or None


def _service_port(buf: bytes) -> dict[str, Any]:
    port: dict[str, Any] = {}
    for n, v in fields(buf):
        if n in (1, 2, 6) and _text(v):
            port[{1: "name", 2: "protocol", 6: "appProtocol"}[n]] = _text(v)
        elif n in (3, 5) and isinstance(v, int) and v:
            port["port" if n == 3 else "nodePort"] = v
        elif n == 4 and isinstance(v, bytes):
            target = _int_or_string(v)
            if target is not None:
                port["targetPort"] = target
    return port


_SPEC_STRINGS = {3: "clusterIP", 4: "type", 7: "sessionAffinity", 8: "loadBalancerIP",
                 10: "externalName", 11: "externalTrafficPolicy", 17: "ipFamilyPolicy",
                 21: "loadBalancerClass", 22: "internalTrafficPolicy",
                 23: "trafficDistribution"}  # fmt: skip
_SPEC_LISTS = {5: "externalIPs", 9: "loadBalancerSourceRanges", 18: "clusterIPs",
               19: "ipFamilies"}  # fmt: skip


def _service_spec(buf: bytes) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    for n, v in fields(buf):
        if n == 1 and isinstance(v, bytes):
            spec.setdefault("ports", []).append(_service_port(v))
        elif n == 2:
            k, val = _entry(v)
            spec.setdefault("selector", {})[k] = val.decode()
        elif n in _SPEC_STRINGS and _text(v):
            spec[_SPEC_STRINGS[n]] = _text(v)
        elif n in _SPEC_LISTS:
            spec.setdefault(_SPEC_LISTS[n], []).append(_text(v))
        elif n == 12 and isinstance(v, int) and v:
            spec["healthCheckNodePort"] = v
        elif n == 13 and isinstance(v, int) and v:
            spec["publishNotReadyAddresses"] = True
        elif n == 14 and isinstance(v, bytes):
            for m, client in fields(v):
                if m == 1 and isinstance(client, bytes):
                    timeout = dict(fields(client)).get(1)
                    spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": timeout}}
        elif n == 20 and isinstance(v, int):
            spec["allocateLoadBalancerNodePorts"] = bool(v)
    return spec


def _service(buf: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for n, v in fields(buf):
        if n == 1 and isinstance(v, bytes):
            obj["metadata"] = _meta(v)
        elif n == 2 and isinstance(v, bytes):
            obj["spec"] = _service_spec(v)
    return obj


def _bound_object_ref(buf: bytes) -> dict[str, Any]:
    names = {1: "kind", 2: "apiVersion", 3: "name", 4: "uid"}
    return {names[n]: _text(v) for n, v in fields(buf) if n in names and _text(v)}


def _token_request(buf: bytes) -> dict[str, Any]:
    """authentication.k8s.io/v1 TokenRequest: metadata=1, spec=2 (audiences=1,
    boundObjectRef=3, expirationSeconds=4); the status a client sends is ignored."""
    obj: dict[str, Any] = {}
    spec: dict[str, Any] = {}
    for n, v in fields(buf):
        if n == 1 and isinstance(v, bytes):
            obj["metadata"] = _meta(v)
        elif n == 2 and isinstance(v, bytes):
            for m, x in fields(v):
                if m == 1:
                    spec.setdefault("audiences", []).append(_text(x))
                elif m == 3 and isinstance(x, bytes):
                    spec["boundObjectRef"] = _bound_object_ref(x)
                elif m == 4 and isinstance(x, int):
                    spec["expirationSeconds"] = x - (1 << 64) if x >= 1 << 63 else x
    obj["spec"] = spec
    return obj


Decoder = Callable[[bytes], dict[str, Any]]


def _strings_of(buf: bytes, names: dict[int, str], lists: dict[int, str]) -> dict[str, Any]:
    """A message of string fields: ``names`` are scalars (left out when empty), ``lists``
    repeated (empty items kept: ``apiGroups: [""]`` is the core group)."""
    out: dict[str, Any] = {}
    for n, v in fields(buf):
        if n in names and _text(v):
            out[names[n]] = _text(v)
        elif n in lists:
            out.setdefault(lists[n], []).append(_text(v))
    return out


def _policy_rule(buf: bytes) -> dict[str, Any]:
    lists = {1: "verbs", 2: "apiGroups", 3: "resources", 4: "resourceNames",
             5: "nonResourceURLs"}  # fmt: skip
    return _strings_of(buf, {}, lists)


def _label_selector(buf: bytes) -> dict[str, Any]:
    sel: dict[str, Any] = {}
    for n, v in fields(buf):
        if n == 1:
            k, val = _entry(v)
            sel.setdefault("matchLabels", {})[k] = val.decode()
        elif n == 2 and isinstance(v, bytes):
            expr = _strings_of(v, {1: "key", 2: "operator"}, {3: "values"})
            sel.setdefault("matchExpressions", []).append(expr)
    return sel


def _role(buf: bytes) -> dict[str, Any]:
    """rbac/v1 Role and ClusterRole: metadata=1, rules=2, aggregationRule=3."""
    obj: dict[str, Any] = {}
    for n, v in fields(buf):
        if n == 1 and isinstance(v, bytes):
            obj["metadata"] = _meta(v)
        elif n == 2 and isinstance(v, bytes):
            obj.setdefault("rules", []).append(_policy_rule(v))
        elif n == 3 and isinstance(v, bytes):
            selectors = [
                _label_selector(x) for m, x in fields(v) if m == 1 and isinstance(x, bytes)
            ]
            obj["aggregationRule"] = {"clusterRoleSelectors": selectors}
    return obj


def _binding(buf: bytes) -> dict[str, Any]:
    """rbac/v1 RoleBinding and ClusterRoleBinding: metadata=1, subjects=2, roleRef=3."""
    obj: dict[str, Any] = {}
    for n, v in fields(buf):
        if n == 1 and isinstance(v, bytes):
            obj["metadata"] = _meta(v)
        elif n == 2 and isinstance(v, bytes):
            subject = _strings_of(v, {1: "kind", 2: "apiGroup", 3: "name", 4: "namespace"}, {})
            obj.setdefault("subjects", []).append(subject)
        elif n == 3 and isinstance(v, bytes):
            obj["roleRef"] = _strings_of(v, {1: "apiGroup", 2: "kind", 3: "name"}, {})
    return obj


_RESOURCE_ATTRIBUTES = {1: "namespace", 2: "verb", 3: "group", 4: "version", 5: "resource",
                        6: "subresource", 7: "name"}  # fmt: skip


def _access_spec(buf: bytes) -> dict[str, Any]:
    """(Self|Local)SubjectAccessReviewSpec: resourceAttributes=1, nonResourceAttributes=2,
    user=3, groups=4, extra=5 (values: ExtraValue items=1), uid=6. A set attributes message is
    kept even when all its fields are empty, as it is not nil."""
    spec: dict[str, Any] = {}
    for n, v in fields(buf):
        if n == 1 and isinstance(v, bytes):
            spec["resourceAttributes"] = _strings_of(v, _RESOURCE_ATTRIBUTES, {})
        elif n == 2 and isinstance(v, bytes):
            spec["nonResourceAttributes"] = _strings_of(v, {1: "path", 2: "verb"}, {})
        elif n == 3 and _text(v):
            spec["user"] = _text(v)
        elif n == 4:
            spec.setdefault("groups", []).append(_text(v))
        elif n == 5:
            k, val = _entry(v)
            items = [_text(x) for m, x in fields(val) if m == 1]
            spec.setdefault("extra", {})[k] = items
        elif n == 6 and _text(v):
            spec["uid"] = _text(v)
    return spec


def _review(spec_decoder: Decoder | None) -> Decoder:
    """A review: metadata=1, spec=2 (decoded by ``spec_decoder``); its status is ignored."""

    def decode_review(buf: bytes) -> dict[str, Any]:
        obj: dict[str, Any] = {"spec": {}}
        for n, v in fields(buf):
            if n == 1 and isinstance(v, bytes):
                obj["metadata"] = _meta(v)
            elif n == 2 and isinstance(v, bytes) and spec_decoder is not None:
                obj["spec"] = spec_decoder(v)
        return obj

    return decode_review


def _rules_review_spec(buf: bytes) -> dict[str, Any]:
    return _strings_of(buf, {1: "namespace"}, {})


def _token_review_spec(buf: bytes) -> dict[str, Any]:
    return _strings_of(buf, {1: "token"}, {2: "audiences"})


_DECODERS = {
    "SelfSubjectAccessReview": _review(_access_spec),
    "SubjectAccessReview": _review(_access_spec),
    "LocalSubjectAccessReview": _review(_access_spec),
    "SelfSubjectRulesReview": _review(_rules_review_spec),
    "SelfSubjectReview": _review(None),
    "TokenReview": _review(_token_review_spec),
    "Role": _role,
    "ClusterRole": _role,
    "RoleBinding": _binding,
    "ClusterRoleBinding": _binding,
    "TokenRequest": _token_request,
    "Service": _service,
    "ConfigMap": _configmap,
    "Secret": _secret,
    "Namespace": _namespace,
    "ServiceAccount": _serviceaccount,
}


def decode(body: bytes) -> dict[str, Any]:
    if not body.startswith(MAGIC):
        raise ProtobufError("missing protobuf envelope")
    api_version = kind = ""
    raw = b""
    for n, v in fields(body[len(MAGIC) :]):
        if n == 1 and isinstance(v, bytes):
            for m, x in fields(v):
                if m == 1:
                    api_version = _text(x)
                elif m == 2:
                    kind = _text(x)
        elif n == 2 and isinstance(v, bytes):
            raw = v
    obj = _decode_object(kind, raw)
    obj["apiVersion"], obj["kind"] = api_version or "v1", kind
    obj.setdefault("metadata", {})
    return obj


def _decode_object(kind: str, raw: bytes) -> dict[str, Any]:
    decoder = _DECODERS.get(kind)
    if decoder is not None:
        return decoder(raw)
    if kind in ROOTS:
        try:
            return decode_message(ROOTS[kind], raw)
        except WireError as e:
            raise ProtobufError(str(e)) from e
    raise ProtobufError(f"protobuf bodies of kind {kind or '?'} are not supported")
