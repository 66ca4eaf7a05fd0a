"""``POST /api/v1/namespaces/<ns>/serviceaccounts/<name>/token``: the TokenRequest API
(authentication.k8s.io/v1) behind ``kubectl create token`` and the kubelet's projected tokens.

The API server's order: the body's name and namespace must match the URL (422); the account
must exist (404); audiences default to the API's; the lifetime is validated (422, 10 minutes
to 2^32 s, 1 h when not given); a ``boundObjectRef`` must name an existing Pod (run by this
account; its node is named in the token too), Secret or Node, with the same uid when one is
given (409). The answer is the request with ``status.token`` and
``status.expirationTimestamp`` (now + the asked lifetime, even when the token lives longer,
see ``tokens.token_lifetime``), code 201.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from kubelite.api.bodies import read_object
from kubelite.api.context import ApiContext
from kubelite.api.errors import ApiError, bad_request
from kubelite.api.paths import Target
from kubelite.api.respond import json_response
from kubelite.api.tokens import (
    DEFAULT_SECONDS,
    MAX_SECONDS,
    MIN_SECONDS,
    ObjectRef,
    ServiceAccountIssuer,
    TokenSubject,
)
from kubelite.clock import rfc3339
from kubelite.model.fielderrors import FieldError, invalid
from kubelite.model.objects import Obj
from kubelite.registry.errors import OperationConflict
from kubelite.registry.nodes import NODES
from kubelite.registry.pods import PODS
from kubelite.registry.secrets import SECRETS
from kubelite.registry.serviceaccounts import SERVICEACCOUNTS
from kubelite.store.interface import NotFound

GROUP = "authentication.k8s.io"
API_VERSION = f"{GROUP}/v1"
KIND = "TokenRequest"

ISSUER: web.AppKey[ServiceAccountIssuer] = web.AppKey("kubelite_sa_issuer", ServiceAccountIssuer)


@dataclass(frozen=True, slots=True)
class BoundRef:
    kind: str
    api_version: str
    name: str
    uid: str


@dataclass(frozen=True, slots=True)
class TokenSpec:
    audiences: tuple[str, ...]
    expiration_seconds: int
    bound: BoundRef | None


def _strings(value: Any, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request(_decode_error(f"{field} must be a list of strings"))
    return tuple(value)


def _decode_error(detail: str) -> str:
    return f'TokenRequest in version "v1" cannot be handled as a TokenRequest: {detail}'


def parse_spec(body: Obj) -> TokenSpec:
    """The request's spec, defaulted (1 h); a malformed one is a 400."""
    spec = body.get("spec")
    spec = {} if spec is None else spec
    if not isinstance(spec, dict):
        raise bad_request(_decode_error("spec must be an object"))
    seconds = spec.get("expirationSeconds")
    if seconds is None:
        seconds = DEFAULT_SECONDS
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise bad_request(_decode_error("spec.expirationSeconds must be an integer"))
    ref = spec.get("boundObjectRef")
    bound = None
    if ref is not None:
        if not isinstance(ref, dict):
            raise bad_request(_decode_error("spec.boundObjectRef must be an object"))
        bound = BoundRef(*(str(ref.get(k) or "") for k in ("kind", "apiVersion", "name", "uid")))
    return TokenSpec(_strings(spec.get("audiences"), "spec.audiences"), seconds, bound)


def validate_seconds(seconds: int) -> list[FieldError]:
    if seconds < MIN_SECONDS:
        detail = "may not specify a duration less than 10 minutes"
        return [invalid("spec.expirationSeconds", seconds, detail)]
    if seconds > MAX_SECONDS:
        detail = "may not specify a duration larger than 2^32 seconds"
        return [invalid("spec.expirationSeconds", seconds, detail)]
    return []


def invalid_request(name: str, errs: list[FieldError]) -> ApiError:
    parts = [str(e) for e in errs]
    body = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    causes = [{"reason": e.type, "message": e.message, "field": e.field} for e in errs]
    details = {"name": name, "group": GROUP, "kind": KIND, "causes": causes}
    return ApiError(422, "Invalid", f'{KIND}.{GROUP} "{name}" is invalid: {body}', details)


def _check_names(body: Obj, namespace: str, name: str) -> None:
    md = body.get("metadata") or {}
    if not isinstance(md, dict):
        raise bad_request(_decode_error("metadata must be an object"))
    given_name, given_ns = str(md.get("name") or ""), str(md.get("namespace") or "")
    if given_name and given_name != name:
        detail = "must match the service account name if specified"
        raise invalid_request(name, [invalid("metadata.name", given_name, detail)])
    if given_ns and given_ns != namespace:
        detail = "must match the service account namespace if specified"
        raise invalid_request(name, [invalid("metadata.namespace", given_ns, detail)])


def _ref_of(obj: Obj) -> ObjectRef:
    md = obj.get("metadata") or {}
    return ObjectRef(str(md.get("name") or ""), str(md.get("uid") or ""))


async def bind(
    ctx: ApiContext, namespace: str, account: Obj, bound: BoundRef | None
) -> TokenSubject:
    """The token's subject: the account, and the object the request binds it to."""
    subject = TokenSubject(namespace=namespace, service_account=_ref_of(account))
    if bound is None:
        return subject
    group = bound.api_version.rpartition("/")[0] if "/" in bound.api_version else ""
    reg = ctx.registry
    if group == "" and bound.kind == "Pod":
        pod = await reg.get(PODS, namespace, bound.name)
        if (pod.get("spec") or {}).get("serviceAccountName") != subject.service_account.name:
            raise bad_request(
                f'cannot bind token for serviceaccount "{subject.service_account.name}" to pod '
                "running with different serviceaccount name."
            )
        target = _ref_of(pod)
        node_name = str((pod.get("spec") or {}).get("nodeName") or "")
        node = None
        if node_name:
            try:
                node = _ref_of(await reg.get(NODES, "", node_name))
            except NotFound:
                node = None  # not there (yet): the token names no node
        subject = TokenSubject(namespace, subject.service_account, pod=target, node=node)
    elif group == "" and bound.kind == "Secret":
        target = _ref_of(await reg.get(SECRETS, namespace, bound.name))
        subject = TokenSubject(namespace, subject.service_account, secret=target)
    elif group == "" and bound.kind == "Node":
        target = _ref_of(await reg.get(NODES, "", bound.name))
        subject = TokenSubject(namespace, subject.service_account, node=target)
    else:
        version = bound.api_version.rpartition("/")[2]
        raise bad_request(
            f'cannot bind token for serviceaccount "{subject.service_account.name}" to object '
            f"of type {group}/{version}, Kind={bound.kind}"
        )
    if bound.uid and bound.uid != target.uid:
        raise OperationConflict(
            bound.kind,
            bound.name,
            f"the UID in the bound object reference ({bound.uid}) does not match the UID in "
            "record. The object might have been deleted and then recreated",
        )
    return subject


async def serve(ctx: ApiContext, request: web.Request, t: Target) -> web.StreamResponse:
    issuer = request.app[ISSUER]
    body = await read_object(request)
    if body.get("kind") not in (None, "", KIND) or body.get("apiVersion") not in (
        None,
        "",
        API_VERSION,
    ):
        raise bad_request(_decode_error(f"kind {body.get('kind')} is not a TokenRequest"))
    namespace, name = t.namespace, t.name
    _check_names(body, namespace, name)
    spec = parse_spec(body)
    account = await ctx.registry.get(SERVICEACCOUNTS, namespace, name)
    audiences = spec.audiences or issuer.audiences
    now = ctx.clock.now()
    errs = validate_seconds(spec.expiration_seconds)
    if errs:
        raise invalid_request("", errs)
    subject = await bind(ctx, namespace, account, spec.bound)
    lifetime = issuer.lifetime(
        spec.expiration_seconds, bound_to_pod=subject.pod is not None, audiences=audiences
    )
    token = issuer.issue(subject, audiences=audiences, now=now, lifetime=lifetime)
    return json_response(response_body(spec, audiences, namespace, name, token, now), 201)


def response_body(
    spec: TokenSpec,
    audiences: tuple[str, ...],
    namespace: str,
    name: str,
    token: str,
    now: float,
) -> Obj:
    bound: Obj | None = None
    if spec.bound is not None:
        b = spec.bound
        bound = {"kind": b.kind, "apiVersion": b.api_version, "name": b.name}
        if b.uid:
            bound["uid"] = b.uid
    return {
        "kind": KIND,
        "apiVersion": API_VERSION,
        "metadata": {"name": name, "namespace": namespace, "creationTimestamp": rfc3339(now)},
        "spec": {
            "audiences": list(audiences),
            "expirationSeconds": spec.expiration_seconds,
            "boundObjectRef": bound,
        },
        "status": {
            "token": token,
            "expirationTimestamp": rfc3339(now + spec.expiration_seconds),
        },
    }
