"""Answers to the review kinds (``registry.rbac_reviews``): create-only objects that are never
stored; the answer is the request with its ``status`` filled in (201).

* SelfSubjectAccessReview: may I ...? (``kubectl auth can-i``); SubjectAccessReview and, in a
  namespace, LocalSubjectAccessReview: may this user/groups ...? Both with the authorizer's
  reason (``RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y" to User "z"``).
* SelfSubjectRulesReview: every rule I hold in a namespace (``kubectl auth can-i --list``),
  with ``evaluationError`` naming the roles bindings point at that do not exist.
* SelfSubjectReview: who am I (``kubectl auth whoami``); TokenReview: whose token is this.

Validation as the API server's, with its messages (exactly one of ``resourceAttributes`` and
``nonResourceAttributes``; a user or a group for the non-self reviews; the namespace of a local
review matching the URL's). Any other verb on these resources is a 405.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from kubelite.api.auth import TokenAuthenticator, UserInfo, user_of
from kubelite.api.authz import Authorizer
from kubelite.api.bodies import read_object
from kubelite.api.errors import ApiError, bad_request, method_not_allowed, not_found_path
from kubelite.api.paths import Target, parse
from kubelite.api.respond import json_response
from kubelite.model.objects import Obj
from kubelite.registry import rbac_reviews as rv
from kubelite.registry.rbac_rules import Attributes, PolicyRule, go_quote
from kubelite.registry.resource import Kind

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_RESOURCE_FIELDS = ("namespace", "verb", "group", "version", "resource", "subresource", "name")
_GO_FIELDS = {"namespace": "Namespace", "verb": "Verb", "group": "Group", "version": "Version",
              "resource": "Resource", "subresource": "Subresource", "name": "Name",
              "path": "Path"}  # fmt: skip


def _strings(raw: Any, fields: tuple[str, ...]) -> dict[str, str]:
    src = raw if isinstance(raw, dict) else {}
    return {f: str(src[f]) for f in fields if src.get(f)}


def _go_struct(type_name: str, values: dict[str, str], fields: tuple[str, ...]) -> str:
    shown = ", ".join(f"{_GO_FIELDS[f]}:{go_quote(values.get(f, ''))}" for f in fields)
    return f"authorization.{type_name}{{{shown}}}"


def _invalid(kind: Kind, causes: list[tuple[str, str]]) -> ApiError:
    """A 422 as ``NewInvalid`` builds it for a review (whose name is always empty)."""
    texts = [f"{field}: {message}" for field, message in causes]
    body = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    details = {
        "group": kind.group,
        "kind": kind.kind,
        "causes": [
            {"reason": "FieldValueInvalid", "message": message, "field": field}
            for field, message in causes
        ],
    }
    return ApiError(422, "Invalid", f'{kind.kind}.{kind.group} "" is invalid: {body}', details)


def spec_attributes(spec: Obj) -> tuple[dict[str, str] | None, dict[str, str] | None]:
    res, non = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
    return (
        _strings(res, _RESOURCE_FIELDS) if isinstance(res, dict) else None,
        _strings(non, ("path", "verb")) if isinstance(non, dict) else None,
    )


def spec_errors(spec: Obj, *, self_review: bool) -> list[tuple[str, str]]:
    res, non = spec_attributes(spec)
    errs: list[tuple[str, str]] = []
    if res is not None and non is not None:
        shown = _go_struct("NonResourceAttributes", non, ("path", "verb"))
        errs.append(("spec.nonResourceAttributes", f"Invalid value: {shown}: cannot be "
                     "specified in combination with resourceAttributes"))  # fmt: skip
    if res is None and non is None:
        errs.append(("spec.resourceAttributes", 'Invalid value: "null": exactly one of '
                     "nonResourceAttributes or resourceAttributes must be specified"))  # fmt: skip
    if not self_review and not spec.get("user") and not spec.get("groups"):
        errs.append(("spec.user", 'Invalid value: "": at least one of user or group must be '
                     "specified"))  # fmt: skip
    return errs


def attributes_of(spec: Obj) -> Attributes:
    res, non = spec_attributes(spec)
    if res is not None:
        return Attributes(
            verb=res.get("verb", ""),
            api_group=res.get("group", ""),
            api_version=res.get("version", ""),
            resource=res.get("resource", ""),
            subresource=res.get("subresource", ""),
            name=res.get("name", ""),
            namespace=res.get("namespace", ""),
        )
    assert non is not None
    return Attributes(verb=non.get("verb", ""), resource_request=False, path=non.get("path", ""))


def _answer(kind: Kind, spec: Obj, status: Obj, namespace: str = "") -> web.Response:
    md: Obj = {"namespace": namespace} if namespace else {}
    md["creationTimestamp"] = None
    body = {"kind": kind.kind, "apiVersion": kind.api_version, "metadata": md}
    if spec:
        body["spec"] = spec
    body["status"] = status
    return json_response(body, 201)


def _clean_spec(spec: Obj) -> Obj:
    """The spec as the API server echoes it: empty fields left out."""
    res, non = spec_attributes(spec)
    out: Obj = {}
    if res is not None:
        out["resourceAttributes"] = res
    if non is not None:
        out["nonResourceAttributes"] = non
    for key in ("user", "groups", "extra", "uid"):
        if spec.get(key):
            out[key] = spec[key]
    return out


def user_info_body(user: UserInfo) -> Obj:
    out: Obj = {"username": user.name}
    if user.uid:
        out["uid"] = user.uid
    if user.groups:
        out["groups"] = list(user.groups)
    if user.extra:
        out["extra"] = {k: list(v) for k, v in user.extra.items()}
    return out


def rules_status(rules: list[PolicyRule], error: str) -> Obj:
    resource = [
        {
            "verbs": list(r.verbs),
            **({"apiGroups": list(r.api_groups)} if r.api_groups else {}),
            "resources": list(r.resources),
            **({"resourceNames": list(r.resource_names)} if r.resource_names else {}),
        }
        for r in rules
        if r.resources
    ]
    non_resource = [
        {"verbs": list(r.verbs), "nonResourceURLs": list(r.non_resource_urls)}
        for r in rules
        if r.non_resource_urls
    ]
    status: Obj = {
        "resourceRules": resource or None,
        "nonResourceRules": non_resource or None,
        "incomplete": False,
    }
    if error:
        status["evaluationError"] = error
    return status


class Reviews:
    def __init__(self, *, authorizer: Authorizer, tokens: TokenAuthenticator) -> None:
        self._authorizer = authorizer
        self._tokens = tokens

    async def serve(self, request: web.Request, t: Target) -> web.Response:
        body = await read_object(request)
        spec = body.get("spec") if isinstance(body.get("spec"), dict) else {}
        assert isinstance(spec, dict)
        kind = t.kind
        if kind is rv.SELFSUBJECTREVIEWS:
            return _answer(kind, {}, {"userInfo": user_info_body(user_of(request))})
        if kind is rv.TOKENREVIEWS:
            return await self._token_review(spec)
        if kind is rv.SELFSUBJECTRULESREVIEWS:
            namespace = str(spec.get("namespace") or "")
            rules, error = await self._authorizer.rules_for(user_of(request), namespace)
            echoed = {"namespace": namespace} if namespace else {}
            return _answer(kind, echoed, rules_status(rules, error))
        return await self._access_review(request, t, spec)

    async def _access_review(self, request: web.Request, t: Target, spec: Obj) -> web.Response:
        kind = t.kind
        self_review = kind is rv.SELFSUBJECTACCESSREVIEWS
        if kind is rv.LOCALSUBJECTACCESSREVIEWS:
            res, non = spec_attributes(spec)
            if res is not None and res.get("namespace", "") != t.namespace:
                raise bad_request(
                    f"spec.resourceAttributes.namespace must match namespace: {t.namespace}"
                )
            if non is not None:
                raise _invalid(kind, [("spec.nonResourceAttributes", "Invalid value: "
                               f"{_go_struct('NonResourceAttributes', non, ('path', 'verb'))}: "
                               "disallowed on this kind of request")])  # fmt: skip
        errors = spec_errors(spec, self_review=self_review)
        if errors:
            raise _invalid(kind, errors)
        if self_review:
            user = user_of(request)
        else:
            groups = spec.get("groups") or []
            extra = spec.get("extra") or {}
            user = UserInfo(
                str(spec.get("user") or ""),
                uid=str(spec.get("uid") or ""),
                groups=tuple(str(g) for g in groups),
                extra={str(k): tuple(v or ()) for k, v in extra.items()},
            )
        decision = await self._authorizer.decide(user, attributes_of(spec))
        status: Obj = {"allowed": decision.allowed}
        if decision.reason:
            status["reason"] = decision.reason
        return _answer(kind, _clean_spec(spec), status, t.namespace)

    async def _token_review(self, spec: Obj) -> web.Response:
        kind = rv.TOKENREVIEWS
        token = str(spec.get("token") or "")
        if not token:
            raise bad_request(
                "token is required for TokenReview in authentication.k8s.io/__internal"
            )
        asked = [str(a) for a in spec.get("audiences") or []]
        user = await self._tokens.authenticate(token)
        audiences = self._tokens.audiences
        if asked:
            audiences = tuple(a for a in asked if a in audiences)
        echoed: Obj = {"token": token, **({"audiences": asked} if asked else {})}
        if user is None or not audiences:
            return _answer(kind, echoed, {"user": {}, "error": "invalid bearer token"})
        status = {"authenticated": True, "user": user_info_body(user),
                  "audiences": list(audiences)}  # fmt: skip
        return _answer(kind, echoed, status)


def _review_target(request: web.Request) -> Target | None:
    parts = [p for p in request.path.split("/") if p]
    if (
        len(parts) < 4
        or parts[0] != "apis"
        or parts[1] not in (rv.AUTHORIZATION, rv.AUTHENTICATION)
    ):
        return None
    try:
        t = parse(parts[1], parts[2], parts[3:])
    except ApiError:
        return None
    return t if t.kind in rv.REVIEW_KINDS else None


def make_reviews_middleware(reviews: Reviews) -> Middleware:
    @web.middleware
    async def review(request: web.Request, handler: Handler) -> web.StreamResponse:
        t = _review_target(request)
        if t is None:
            return await handler(request)
        if t.all_namespaces:  # a local review exists only inside a namespace
            raise not_found_path()
        if request.method != "POST" or t.name:
            raise method_not_allowed(request.method, t.kind.plural)
        return await reviews.serve(request, t)

    return review
