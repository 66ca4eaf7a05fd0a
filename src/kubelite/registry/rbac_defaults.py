"""The cluster roles and bindings a Kubernetes 1.32 API server bootstraps (its RBAC
"bootstrap policy"), as data.

The user-facing roles: ``cluster-admin`` (everything), and ``admin``, ``edit`` and ``view``,
which have no rules of their own: each aggregates the cluster roles labelled
``rbac.authorization.k8s.io/aggregate-to-<name>: "true"`` (``system:aggregate-to-*`` carry the
actual rules; ``view`` is aggregated into ``edit`` and ``edit`` into ``admin``), so a user's own
cluster role with such a label extends them. The ``system:*`` roles are those of the API
server's components and of every user (``system:basic-user`` lets anyone ask what they may do,
``system:discovery`` read discovery, ``system:public-info-viewer`` even anonymously read
/version and the health checks). The rules are the API server's, also for resources kubelite
does not serve, so that ``kubectl describe clusterrole view`` reads as on any cluster.

Every object is labelled ``kubernetes.io/bootstrapping: rbac-defaults`` and annotated
``rbac.authorization.kubernetes.io/autoupdate: "true"``: on each start the missing ones are
created and the annotated ones get back any rule or subject they lost (``bootstrap``).
The controllers' own ``system:controller:*`` roles are not created: kubelite's controllers use
the node's admin credential (``system:masters``).
"""

from __future__ import annotations

from kubelite.model.objects import Obj
from kubelite.registry.rbac_policy import GROUP

AUTOUPDATE = "rbac.authorization.kubernetes.io/autoupdate"
BOOTSTRAPPING = {"kubernetes.io/bootstrapping": "rbac-defaults"}
AGGREGATE_TO = "rbac.authorization.k8s.io/aggregate-to-"

R = ("get", "list", "watch")
RW = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
W = ("create", "delete", "deletecollection", "patch", "update")
EVENTS_WRITE = ("create", "patch", "update")


def res(
    verbs: tuple[str, ...], groups: tuple[str, ...], *resources: str, names: tuple[str, ...] = ()
) -> Obj:
    rule: Obj = {"apiGroups": list(groups), "resources": list(resources), "verbs": list(verbs)}
    if names:
        rule["resourceNames"] = list(names)
    return rule


def urls(*paths: str) -> Obj:
    return {"nonResourceURLs": list(paths), "verbs": ["get"]}


CORE = ("",)
EVENTS = ("", "events.k8s.io")


def cluster_role(name: str, rules: list[Obj] | None, *, aggregates: str = "",
                 aggregated_into: str = "") -> Obj:  # fmt: skip
    labels = dict(BOOTSTRAPPING)
    if aggregated_into:
        labels[AGGREGATE_TO + aggregated_into] = "true"
    role: Obj = {
        "apiVersion": f"{GROUP}/v1",
        "kind": "ClusterRole",
        "metadata": {"name": name, "labels": labels, "annotations": {AUTOUPDATE: "true"}},
        "rules": rules,
    }
    if aggregates:
        selector = {"matchLabels": {AGGREGATE_TO + aggregates: "true"}}
        role["aggregationRule"] = {"clusterRoleSelectors": [selector]}
    return role


def cluster_role_binding(name: str, *subjects: tuple[str, str], role: str = "") -> Obj:
    """``subjects`` as (kind, name); a ServiceAccount's name is ``namespace/name``."""
    out = []
    for kind, who in subjects:
        if kind == "ServiceAccount":
            ns, _, sa = who.partition("/")
            out.append({"kind": kind, "name": sa, "namespace": ns})
        else:
            out.append({"apiGroup": GROUP, "kind": kind, "name": who})
    binding: Obj = {
        "apiVersion": f"{GROUP}/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name, "labels": dict(BOOTSTRAPPING),
                     "annotations": {AUTOUPDATE: "true"}},
        "roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": role or name},
    }  # fmt: skip
    if out:
        binding["subjects"] = out
    return binding


_VIEW = [
    res(R, CORE, "configmaps", "endpoints", "persistentvolumeclaims",
        "persistentvolumeclaims/status", "pods", "replicationcontrollers",
        "replicationcontrollers/scale", "serviceaccounts", "services", "services/status"),
    res(R, CORE, "bindings", "events", "limitranges", "namespaces/status", "pods/log",
        "pods/status", "replicationcontrollers/status", "resourcequotas",
        "resourcequotas/status"),
    res(R, CORE, "namespaces"),
    res(R, ("discovery.k8s.io",), "endpointslices"),
    res(R, ("apps",), "controllerrevisions", "daemonsets", "daemonsets/status", "deployments",
        "deployments/scale", "deployments/status", "replicasets", "replicasets/scale",
        "replicasets/status", "statefulsets", "statefulsets/scale", "statefulsets/status"),
    res(R, ("autoscaling",), "horizontalpodautoscalers", "horizontalpodautoscalers/status"),
    res(R, ("batch",), "cronjobs", "cronjobs/status", "jobs", "jobs/status"),
    res(R, ("extensions",), "daemonsets", "daemonsets/status", "deployments",
        "deployments/scale", "deployments/status", "ingresses", "ingresses/status",
        "networkpolicies", "replicasets", "replicasets/scale", "replicasets/status",
        "replicationcontrollers/scale"),
    res(R, ("policy",), "poddisruptionbudgets", "poddisruptionbudgets/status"),
    res(R, ("networking.k8s.io",), "ingresses", "ingresses/status", "networkpolicies"),
]  # fmt: skip

_EDIT = [
    res(R, CORE, "pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets",
        "services/proxy"),
    res(("impersonate",), CORE, "serviceaccounts"),
    res(W, CORE, "pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"),
    res(("create",), CORE, "pods/eviction"),
    res(W, CORE, "configmaps", "events", "persistentvolumeclaims", "replicationcontrollers",
        "replicationcontrollers/scale", "secrets", "serviceaccounts", "services",
        "services/proxy"),
    res(("create",), CORE, "serviceaccounts/token"),
    res(W, ("apps",), "daemonsets", "deployments", "deployments/rollback", "deployments/scale",
        "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale"),
    res(W, ("autoscaling",), "horizontalpodautoscalers"),
    res(W, ("batch",), "cronjobs", "jobs"),
    res(W, ("extensions",), "daemonsets", "deployments", "deployments/rollback",
        "deployments/scale", "ingresses", "networkpolicies", "replicasets",
        "replicasets/scale", "replicationcontrollers/scale"),
    res(W, ("policy",), "poddisruptionbudgets"),
    res(W, ("networking.k8s.io",), "ingresses", "networkpolicies"),
    res(RW, ("coordination.k8s.io",), "leases"),
]  # fmt: skip

_ADMIN = [
    res(("create",), ("authorization.k8s.io",), "localsubjectaccessreviews"),
    res(RW, (GROUP,), "rolebindings", "roles"),
]

# kubelite's own read-only kinds: users may read them through view, edit and admin; only
# nodes write them (each pod's lifecycle record, ``registry.podlifecycles``).
KUBELITE = ("kubelite.dev",)
_KUBELITE_VIEW = [res(R, KUBELITE, "podlifecycles")]

_APPROVER = "system:certificates.k8s.io:"


def _approver(signer: str) -> Obj:
    return cluster_role(
        f"{_APPROVER}{signer.replace('kubernetes.io/', '')}-approver",
        [res(("approve",), ("certificates.k8s.io",), "signers", names=(signer,))],
    )


_CONTROLLER_MANAGER = [
    res(EVENTS_WRITE, EVENTS, "events"),
    res(("create",), ("coordination.k8s.io",), "leases"),
    res(("get", "update"), ("coordination.k8s.io",), "leases", names=("kube-controller-manager",)),
    res(("create",), CORE, "secrets", "serviceaccounts"),
    res(("delete",), CORE, "secrets"),
    res(("get",), CORE, "configmaps", "namespaces", "secrets", "serviceaccounts"),
    res(("update",), CORE, "secrets", "serviceaccounts"),
    res(("create",), ("authentication.k8s.io",), "tokenreviews"),
    res(("create",), ("authorization.k8s.io",), "subjectaccessreviews"),
    res(("list", "watch"), ("*",), "*"),
    res(("create",), CORE, "serviceaccounts/token"),
]

_SCHEDULER = [
    res(EVENTS_WRITE, EVENTS, "events"),
    res(("create",), ("coordination.k8s.io",), "leases"),
    res(("get", "update"), ("coordination.k8s.io",), "leases", names=("kube-scheduler",)),
    res(R, CORE, "nodes"),
    res(("delete", "get", "list", "watch"), CORE, "pods"),
    res(("create",), CORE, "bindings", "pods/binding"),
    res(("patch", "update"), CORE, "pods/status"),
    res(R, CORE, "replicationcontrollers", "services"),
    res(R, ("apps", "extensions"), "replicasets"),
    res(R, ("apps",), "statefulsets"),
    res(R, ("policy",), "poddisruptionbudgets"),
    res(R, CORE, "persistentvolumeclaims", "persistentvolumes"),
    res(("create",), ("authentication.k8s.io",), "tokenreviews"),
    res(("create",), ("authorization.k8s.io",), "subjectaccessreviews"),
    res(R, ("storage.k8s.io",), "csinodes"),
    res(R, CORE, "namespaces"),
    res(R, ("storage.k8s.io",), "csidrivers"),
    res(R, ("storage.k8s.io",), "csistoragecapacities"),
]

_NODE = [
    res(("create",), ("authentication.k8s.io",), "tokenreviews"),
    res(("create",), ("authorization.k8s.io",), "localsubjectaccessreviews",
        "subjectaccessreviews"),
    res(R, CORE, "services"),
    res(("create", "get", "list", "watch"), CORE, "nodes"),
    res(("patch", "update"), CORE, "nodes/status"),
    res(("patch", "update"), CORE, "nodes"),
    res(EVENTS_WRITE, CORE, "events"),
    res(R, CORE, "pods"),
    res(("create", "delete"), CORE, "pods"),
    res(("patch", "update"), CORE, "pods/status"),
    res(("create",), CORE, "pods/eviction"),
    res(R, CORE, "configmaps", "secrets"),
    res(("get",), CORE, "persistentvolumeclaims", "persistentvolumes"),
    res(("get",), CORE, "endpoints"),
    res(("create", "get", "list", "watch"), ("certificates.k8s.io",),
        "certificatesigningrequests"),
    res(("create", "delete", "get", "patch", "update"), ("coordination.k8s.io",), "leases"),
    res(("get",), ("storage.k8s.io",), "volumeattachments"),
    res(("create",), CORE, "serviceaccounts/token"),
    res(("get", "patch", "update"), CORE, "persistentvolumeclaims/status"),
    res(R, ("storage.k8s.io",), "csidrivers"),
    res(("create", "delete", "get", "patch", "update"), ("storage.k8s.io",), "csinodes"),
    res(R, ("node.k8s.io",), "runtimeclasses"),
    res(RW, KUBELITE, "podlifecycles"),
]  # fmt: skip


def cluster_roles() -> list[Obj]:
    return [
        cluster_role("admin", None, aggregates="admin"),
        cluster_role("cluster-admin", [res(("*",), ("*",), "*"),
                                       {"nonResourceURLs": ["*"], "verbs": ["*"]}]),
        cluster_role("edit", None, aggregates="edit", aggregated_into="admin"),
        cluster_role("system:aggregate-to-admin", _ADMIN, aggregated_into="admin"),
        cluster_role("system:aggregate-to-edit", _EDIT, aggregated_into="edit"),
        cluster_role("system:aggregate-to-view", _VIEW, aggregated_into="view"),
        cluster_role("kubelite:aggregate-to-view", _KUBELITE_VIEW, aggregated_into="view"),
        cluster_role("system:auth-delegator", [
            res(("create",), ("authentication.k8s.io",), "tokenreviews"),
            res(("create",), ("authorization.k8s.io",), "subjectaccessreviews"),
        ]),
        cluster_role("system:basic-user", [
            res(("create",), ("authorization.k8s.io",), "selfsubjectaccessreviews",
                "selfsubjectrulesreviews"),
            res(("create",), ("authentication.k8s.io",), "selfsubjectreviews"),
        ]),
        cluster_role(f"{_APPROVER}certificatesigningrequests:nodeclient", [
            res(("create",), ("certificates.k8s.io",), "certificatesigningrequests/nodeclient"),
        ]),
        cluster_role(f"{_APPROVER}certificatesigningrequests:selfnodeclient", [
            res(("create",), ("certificates.k8s.io",),
                "certificatesigningrequests/selfnodeclient"),
        ]),
        _approver("kubernetes.io/kube-apiserver-client"),
        _approver("kubernetes.io/kube-apiserver-client-kubelet"),
        _approver("kubernetes.io/kubelet-serving"),
        _approver("kubernetes.io/legacy-unknown"),
        cluster_role("system:discovery", [
            urls("/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi",
                 "/openapi/*", "/readyz", "/version", "/version/"),
        ]),
        cluster_role("system:heapster", [
            res(R, CORE, "events", "namespaces", "nodes", "pods"),
            res(R, ("extensions",), "deployments"),
        ]),
        cluster_role("system:kube-aggregator", [res(R, CORE, "endpoints", "services")]),
        cluster_role("system:kube-controller-manager", _CONTROLLER_MANAGER),
        cluster_role("system:kube-dns", [res(("list", "watch"), CORE, "endpoints", "services")]),
        cluster_role("system:kube-scheduler", _SCHEDULER),
        cluster_role("system:kubelet-api-admin", [
            res(R, CORE, "nodes"),
            res(("proxy",), CORE, "nodes"),
            res(("*",), CORE, "nodes/log", "nodes/metrics", "nodes/proxy", "nodes/stats"),
        ]),
        cluster_role("system:monitoring", [
            urls("/healthz", "/healthz/*", "/livez", "/livez/*", "/metrics", "/metrics/slis",
                 "/readyz", "/readyz/*"),
        ]),
        cluster_role("system:node", _NODE),
        cluster_role("system:node-bootstrapper", [
            res(("create", "get", "list", "watch"), ("certificates.k8s.io",),
                "certificatesigningrequests"),
        ]),
        cluster_role("system:node-problem-detector", [
            res(("get",), CORE, "nodes"),
            res(("patch",), CORE, "nodes/status"),
            res(EVENTS_WRITE, EVENTS, "events"),
        ]),
        cluster_role("system:node-proxier", [
            res(("list", "watch"), CORE, "endpoints", "services"),
            res(R, CORE, "nodes"),
            res(EVENTS_WRITE, EVENTS, "events"),
            res(("list", "watch"), ("discovery.k8s.io",), "endpointslices"),
        ]),
        cluster_role("system:persistent-volume-provisioner", [
            res(("create", "delete", "get", "list", "watch"), CORE, "persistentvolumes"),
            res(("get", "list", "update", "watch"), CORE, "persistentvolumeclaims"),
            res(R, ("storage.k8s.io",), "storageclasses"),
            res(("watch",), CORE, "events"),
            res(EVENTS_WRITE, EVENTS, "events"),
        ]),
        cluster_role("system:public-info-viewer", [
            urls("/healthz", "/livez", "/readyz", "/version", "/version/"),
        ]),
        cluster_role("system:service-account-issuer-discovery", [
            urls("/.well-known/openid-configuration", "/openid/v1/jwks"),
        ]),
        cluster_role("system:volume-scheduler", [
            res(("get", "list", "patch", "update", "watch"), CORE, "persistentvolumes"),
            res(R, ("storage.k8s.io",), "storageclasses"),
            res(("get", "list", "patch", "update", "watch"), CORE, "persistentvolumeclaims"),
        ]),
        cluster_role("view", None, aggregates="view", aggregated_into="edit"),
    ]  # fmt: skip


AUTHENTICATED = "system:authenticated"


def cluster_role_bindings() -> list[Obj]:
    return [
        cluster_role_binding("cluster-admin", ("Group", "system:masters")),
        cluster_role_binding("system:basic-user", ("Group", AUTHENTICATED)),
        cluster_role_binding("system:discovery", ("Group", AUTHENTICATED)),
        cluster_role_binding("system:kube-controller-manager",
                             ("User", "system:kube-controller-manager")),
        cluster_role_binding("system:kube-dns", ("ServiceAccount", "kube-system/kube-dns")),
        cluster_role_binding("system:kube-scheduler", ("User", "system:kube-scheduler")),
        cluster_role_binding("system:monitoring", ("Group", "system:monitoring")),
        cluster_role_binding("system:node"),
        cluster_role_binding("system:node-proxier", ("User", "system:kube-proxy")),
        cluster_role_binding("system:public-info-viewer", ("Group", AUTHENTICATED),
                             ("Group", "system:unauthenticated")),
        cluster_role_binding("system:service-account-issuer-discovery",
                             ("Group", "system:serviceaccounts")),
        cluster_role_binding("system:volume-scheduler", ("User", "system:kube-scheduler")),
        # Not upstream's bootstrap policy: the binding a cluster makes for the API server's
        # kubelet client (--kubelet-client-certificate), as the kubelet authorization docs
        # advise and k3s names it; kubelite's nodes ask the API about that user.
        cluster_role_binding("kube-apiserver-kubelet-admin",
                             ("User", "kube-apiserver-kubelet-client"),
                             role="system:kubelet-api-admin"),
    ]  # fmt: skip
