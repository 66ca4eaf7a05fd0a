"""OpenAPI schemas, described in our own words, for the RBAC kinds and the reviews, so that
``kubectl explain role.rules`` or ``kubectl explain clusterrolebinding.subjects`` work.
``openapi_schemas.schemas_for`` takes from here the definitions a kind's properties refer to
(``definitions_for``) and the properties themselves (``properties_for``)."""

from __future__ import annotations

from typing import Any

RBAC = "io.k8s.api.rbac.v1."
AUTHZ = "io.k8s.api.authorization.v1."
AUTHN = "io.k8s.api.authentication.v1."
META = "io.k8s.apimachinery.pkg.apis.meta.v1."
_REF = "#/components/schemas/"


def _s(description: str) -> dict[str, Any]:
    return {"type": "string", "description": description}


def _strings(description: str) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"type": "string", "default": ""},
        "description": description,
        "x-kubernetes-list-type": "atomic",
    }


def _ref(name: str, description: str) -> dict[str, Any]:
    return {"allOf": [{"$ref": _REF + name}], "description": description}


def _list(name: str, description: str) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"allOf": [{"$ref": _REF + name}], "default": {}},
        "description": description,
        "x-kubernetes-list-type": "atomic",
    }


def _obj(description: str, props: dict[str, Any], required: list[str] | None = None) -> Any:
    out: dict[str, Any] = {"type": "object", "description": description, "properties": props}
    if required:
        out["required"] = required
    return out


RBAC_DEFS: dict[str, Any] = {
    RBAC + "PolicyRule": _obj(
        "One grant: verbs on resources (of API groups, optionally only some names), or verbs "
        "on non-resource URLs.",
        {
            "verbs": _strings(
                "What may be done: get, list, watch, create, update, patch, "
                "delete, deletecollection, or * for everything."
            ),
            "apiGroups": _strings(
                'The API groups of the resources; "" is the core group, * every group.'
            ),
            "resources": _strings(
                "The resources, e.g. pods, pods/log (a subresource), */scale, or * for all."
            ),
            "resourceNames": _strings(
                "Only these names; empty means any. A rule with names "
                "never allows create, list or watch."
            ),
            "nonResourceURLs": _strings(
                "Paths such as /healthz or /apis/* (a trailing * "
                "matches a prefix); only in cluster roles."
            ),
        },
        ["verbs"],
    ),
    RBAC + "AggregationRule": _obj(
        "How a cluster role's rules are gathered from other cluster roles.",
        {
            "clusterRoleSelectors": _list(
                META + "LabelSelector",
                "Cluster roles matching any of these selectors lend their rules to this one; "
                "the server rewrites the rules to match.",
            )
        },
    ),
    RBAC + "Subject": _obj(
        "Who a binding grants its role to.",
        {
            "kind": _s("User, Group or ServiceAccount."),
            "apiGroup": _s(
                'rbac.authorization.k8s.io for users and groups, "" for service accounts.'
            ),
            "name": _s("The user's, group's or service account's name."),
            "namespace": _s(
                "The service account's namespace; in a RoleBinding it defaults to the binding's."
            ),
        },
        ["kind", "name"],
    ),
    RBAC + "RoleRef": _obj(
        "The role a binding grants. It cannot be changed once the binding exists.",
        {
            "apiGroup": _s("rbac.authorization.k8s.io."),
            "kind": _s("Role or ClusterRole (a ClusterRoleBinding takes only a ClusterRole)."),
            "name": _s("The role's name."),
        },
        ["apiGroup", "kind", "name"],
    ),
    META + "LabelSelector": _obj(
        "Selects objects by their labels; every requirement must hold.",
        {
            "matchLabels": {
                "type": "object",
                "additionalProperties": {"type": "string", "default": ""},
                "description": "Labels that must be present with exactly these values.",
            },
            "matchExpressions": _list(
                META + "LabelSelectorRequirement", "Further requirements on labels."
            ),
        },
    ),
    META + "LabelSelectorRequirement": _obj(
        "One requirement on a label.",
        {
            "key": _s("The label's key."),
            "operator": _s("In, NotIn, Exists or DoesNotExist."),
            "values": _strings("The values for In and NotIn; empty for the others."),
        },
        ["key", "operator"],
    ),
}

_ATTRS = {
    AUTHZ + "ResourceAttributes": _obj(
        "A request on a resource.",
        {
            "namespace": _s("The namespace (empty: cluster-wide, or all namespaces)."),
            "verb": _s("get, list, watch, create, update, patch, delete, ... or *."),
            "group": _s("The API group of the resource."),
            "version": _s("The API version of the resource."),
            "resource": _s("The resource, e.g. pods."),
            "subresource": _s("The subresource, e.g. log."),
            "name": _s("The object's name (empty: any or none)."),
        },
    ),
    AUTHZ + "NonResourceAttributes": _obj(
        "A request on a path that is no resource.",
        {"path": _s("The URL path, e.g. /healthz."), "verb": _s("The HTTP verb, lower-case.")},
    ),
}

_STATUS = _obj(
    "The answer.",
    {
        "allowed": {"type": "boolean", "description": "Whether the request would be allowed."},
        "denied": {"type": "boolean", "description": "Whether it was explicitly denied."},
        "reason": _s("Why, as the authorizer says it."),
        "evaluationError": _s("What went wrong while deciding, if anything."),
    },
)


def _review_defs(kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(definitions, properties) of one review kind: its spec and status, described."""
    if kind == "SelfSubjectReview":
        status = _obj("Who the requester is.", {"userInfo": {"type": "object",
                      "description": "User name, uid, groups and extra attributes."}})  # fmt: skip
        return {}, {"status": status}
    if kind == "TokenReview":
        spec = _obj("The token to check.", {"token": _s("The bearer token."),
                    "audiences": _strings("Audiences the token must be meant for.")})  # fmt: skip
        status = _obj("Whether the token is good and for whom.", {
            "authenticated": {"type": "boolean", "description": "Whether it is good."},
            "user": {"type": "object", "description": "Who it belongs to."},
            "audiences": _strings("The audiences it is good for."),
            "error": _s("Why it is not good."),
        })  # fmt: skip
        return {}, {"spec": spec, "status": status}
    if kind == "SelfSubjectRulesReview":
        spec = _obj("Where to look.", {"namespace": _s("The namespace the rules apply in.")})
        status = _obj("The requester's rules.", {
            "resourceRules": {"type": "array", "items": {"type": "object"},
                              "description": "Rules on resources."},
            "nonResourceRules": {"type": "array", "items": {"type": "object"},
                                 "description": "Rules on non-resource URLs."},
            "incomplete": {"type": "boolean", "description": "Whether rules may be missing."},
            "evaluationError": _s("What could not be evaluated."),
        })  # fmt: skip
        return {}, {"spec": spec, "status": status}
    props: dict[str, Any] = {
        "resourceAttributes": _ref(AUTHZ + "ResourceAttributes", "A resource request."),
        "nonResourceAttributes": _ref(AUTHZ + "NonResourceAttributes", "A non-resource request."),
    }
    if kind != "SelfSubjectAccessReview":
        props |= {
            "user": _s("The user to ask about."),
            "groups": _strings("The user's groups."),
            "uid": _s("The user's uid."),
            "extra": {"type": "object", "description": "The user's extra attributes."},
        }
    spec = _obj("The request to decide (exactly one of the two attribute sets).", props)
    return dict(_ATTRS), {"spec": spec, "status": _STATUS}


def definitions_for(kind: str) -> dict[str, Any]:
    if kind in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"):
        return dict(RBAC_DEFS)
    return _review_defs(kind)[0] if kind in REVIEW_KINDS else {}


def properties_for(kind: str) -> tuple[dict[str, Any], list[str]]:
    """The kind's own properties (beyond apiVersion, kind, metadata) and required ones."""
    if kind == "Role":
        return {"rules": _list(RBAC + "PolicyRule", "What the role grants.")}, []
    if kind == "ClusterRole":
        return {
            "rules": _list(RBAC + "PolicyRule", "What the role grants."),
            "aggregationRule": _ref(
                RBAC + "AggregationRule",
                "If set, the rules are gathered from the cluster roles it selects.",
            ),
        }, []
    if kind in ("RoleBinding", "ClusterRoleBinding"):
        return {
            "subjects": _list(RBAC + "Subject", "Who is granted the role."),
            "roleRef": _ref(RBAC + "RoleRef", "The role granted; cannot be changed."),
        }, ["roleRef"]
    if kind in REVIEW_KINDS:
        return _review_defs(kind)[1], []
    return {}, []


REVIEW_KINDS = frozenset(
    {
        "SelfSubjectAccessReview",
        "SelfSubjectRulesReview",
        "SubjectAccessReview",
        "LocalSubjectAccessReview",
        "SelfSubjectReview",
        "TokenReview",
    }
)
