"""The bootstrap policy (the cluster roles and bindings every 1.32 cluster has), its repair on
start, and ClusterRole aggregation (admin/edit/view gathered from the aggregate-to-* roles)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

import pytest

from kubelite.clock import ManualClock
from kubelite.registry.catalog import ALL_KINDS
from kubelite.registry.rbac import CLUSTERROLEBINDINGS, CLUSTERROLES
from kubelite.registry.rbac_aggregation import ClusterRoleAggregator, aggregate
from kubelite.registry.rbac_bootstrap import bootstrap_rbac
from kubelite.registry.rbac_defaults import AUTOUPDATE
from kubelite.registry.rbac_policy import Policy, RoleRef
from kubelite.registry.rbac_rules import Attributes, PolicyRule
from kubelite.registry.service import Registry
from kubelite.store.memory import MemoryStore

G = "rbac.authorization.k8s.io"


@pytest.fixture
async def registry() -> Registry:
    reg = Registry(store=MemoryStore(), clock=ManualClock(), kinds=ALL_KINDS)
    await bootstrap_rbac(reg)
    return reg


async def role(reg: Registry, name: str) -> dict[str, Any]:
    return await reg.get(CLUSTERROLES, "", name)


async def policy(reg: Registry) -> Policy:
    roles, _ = await reg.list(CLUSTERROLES, None)
    bindings, _ = await reg.list(CLUSTERROLEBINDINGS, None)
    return Policy.from_objects(cluster_roles=roles, cluster_role_bindings=bindings)


async def test_the_default_roles_and_bindings_are_there_and_labelled(registry: Registry) -> None:
    roles, _ = await registry.list(CLUSTERROLES, None)
    names = {r["metadata"]["name"] for r in roles}
    assert {"cluster-admin", "admin", "edit", "view", "system:basic-user", "system:discovery",
            "system:public-info-viewer", "system:node", "system:kube-scheduler",
            "system:aggregate-to-view", "system:auth-delegator"} <= names  # fmt: skip
    assert len(roles) == 32  # 1.32's 31, and kubelite's own aggregate-to-view
    assert "kubelite:aggregate-to-view" in names
    for r in roles:
        assert r["metadata"]["labels"]["kubernetes.io/bootstrapping"] == "rbac-defaults"
        assert r["metadata"]["annotations"] == {AUTOUPDATE: "true"}
    bindings, _ = await registry.list(CLUSTERROLEBINDINGS, None)
    subjects = {b["metadata"]["name"]: b.get("subjects") for b in bindings}
    assert subjects["cluster-admin"] == [{"apiGroup": G, "kind": "Group", "name": "system:masters"}]
    assert subjects["system:public-info-viewer"] == [
        {"apiGroup": G, "kind": "Group", "name": "system:authenticated"},
        {"apiGroup": G, "kind": "Group", "name": "system:unauthenticated"},
    ]
    assert subjects["system:kube-dns"] == [
        {"kind": "ServiceAccount", "name": "kube-dns", "namespace": "kube-system"}
    ]
    assert subjects["system:node"] is None


@dataclass(frozen=True)
class Member:
    name: str = "u"
    groups: tuple[str, ...] = ("g",)


def can(pol: Policy, role_name: str, verb: str, resource: str, group: str = "") -> bool:
    """Whether a member of a group bound to ``role_name`` may do this in a namespace."""
    rules = pol.role_ref_rules(RoleRef("ClusterRole", role_name), "")
    bound = Policy.from_objects(
        cluster_roles=[{"metadata": {"name": role_name}, "rules": [r.to_obj() for r in rules]}],
        cluster_role_bindings=[{"metadata": {"name": "b"},
                                "roleRef": {"kind": "ClusterRole", "name": role_name},
                                "subjects": [{"kind": "Group", "name": "g"}]}],
    )  # fmt: skip
    attrs = Attributes(verb=verb, api_group=group, resource=resource.split("/")[0],
                       subresource=resource.partition("/")[2], namespace="ns")  # fmt: skip
    return bound.authorize(Member(), attrs).allowed


ROLE_POWERS = [
    ("view reads pods", "view", "list", "pods", "", True),
    ("view reads pod logs", "view", "get", "pods/log", "", True),
    ("view reads endpointslices", "view", "watch", "endpointslices", "discovery.k8s.io", True),
    ("view does not read secrets", "view", "get", "secrets", "", False),
    ("view does not create pods", "view", "create", "pods", "", False),
    ("edit creates pods", "edit", "create", "pods", "", True),
    ("edit reads secrets", "edit", "get", "secrets", "", True),
    ("edit execs into pods", "edit", "create", "pods/exec", "", True),
    ("edit creates tokens", "edit", "create", "serviceaccounts/token", "", True),
    ("edit does not write roles", "edit", "create", "roles", G, False),
    ("admin writes roles", "admin", "create", "rolebindings", G, True),
    ("admin still reads pods (through edit and view)", "admin", "list", "pods", "", True),
    ("admin does not touch nodes", "admin", "list", "nodes", "", False),
    ("cluster-admin does anything", "cluster-admin", "delete", "nodes", "", True),
]  # fmt: skip


@pytest.mark.parametrize(("case", "name", "verb", "resource", "group", "want"), ROLE_POWERS,
                         ids=[c[0] for c in ROLE_POWERS])  # fmt: skip
async def test_what_the_user_facing_roles_grant(
    registry: Registry, case: str, name: str, verb: str, resource: str, group: str, want: bool
) -> None:
    assert can(await policy(registry), name, verb, resource, group) is want


async def test_the_aggregated_roles_list_their_sources_rules_in_name_order(
    registry: Registry,
) -> None:
    edit = await role(registry, "edit")
    source = await role(registry, "system:aggregate-to-edit")
    view = await role(registry, "view")
    assert edit["rules"] == source["rules"] + view["rules"]  # "system:…" sorts before "view"
    assert edit["aggregationRule"] == {"clusterRoleSelectors": [
        {"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-edit": "true"}}]}  # fmt: skip


def test_aggregation_follows_chains_and_skips_the_role_itself() -> None:
    def cr(
        name: str, rules: list[str] | None, labels: dict[str, str], agg: str = ""
    ) -> dict[str, Any]:
        listed = [{"verbs": [v], "apiGroups": [""], "resources": ["x"]} for v in rules or []]
        obj: dict[str, Any] = {
            "metadata": {"name": name, "labels": labels},
            "rules": listed if rules is not None else None,
        }
        if agg:
            obj["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": {agg: "true"}}]}
        return obj

    roles = [
        cr("big", None, {}, agg="to-big"),
        cr("mid", None, {"to-big": "true"}, agg="to-mid"),
        cr("leaf", ["get"], {"to-mid": "true"}),
        cr("other", ["list"], {"to-big": "true"}),
        cr("dup", ["get"], {"to-big": "true"}),
    ]
    got = aggregate(roles)
    verbs = {name: [r.verbs[0] for r in rules] for name, rules in got.items()}
    assert verbs == {"mid": ["get"], "big": ["get", "list"]}  # dup's rule is not repeated


async def test_a_users_role_labelled_for_view_extends_view_edit_and_admin(
    registry: Registry,
) -> None:
    labels = {"rbac.authorization.k8s.io/aggregate-to-view": "true"}
    rules = [{"apiGroups": ["example.com"], "resources": ["crontabs"], "verbs": ["get"]}]
    extra = {"metadata": {"name": "crontabs-reader", "labels": labels}, "rules": rules}
    await registry.create(CLUSTERROLES, "", extra)
    loop = asyncio.create_task(ClusterRoleAggregator(registry=registry).run())
    try:
        async with asyncio.timeout(5):
            while True:
                names = [await role(registry, n) for n in ("view", "edit", "admin")]
                if all(any("crontabs" in r.get("resources", []) for r in n["rules"])
                       for n in names):  # fmt: skip
                    break
                await asyncio.sleep(0.01)
        await registry.delete(CLUSTERROLES, "", "crontabs-reader")
        async with asyncio.timeout(5):
            while True:
                admin = await role(registry, "admin")
                if not any("crontabs" in r.get("resources", []) for r in admin["rules"]):
                    break
                await asyncio.sleep(0.01)
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop


async def test_a_new_start_gives_back_what_a_default_lost_and_keeps_additions(
    registry: Registry,
) -> None:
    basic = await role(registry, "system:basic-user")
    added = {"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"]}
    basic["rules"] = [added]
    await registry.store.update(registry.key(CLUSTERROLES, "", "system:basic-user"), basic)
    await bootstrap_rbac(registry)
    rules = (await role(registry, "system:basic-user"))["rules"]
    assert rules[0] == added
    assert [PolicyRule.from_obj(r).resources for r in rules[1:]] == [
        ("selfsubjectaccessreviews", "selfsubjectrulesreviews"), ("selfsubjectreviews",)
    ]  # fmt: skip


async def test_a_default_marked_not_to_autoupdate_is_left_alone(registry: Registry) -> None:
    key = registry.key(CLUSTERROLES, "", "system:discovery")
    mine = await registry.store.get(key)
    mine["metadata"]["annotations"]["rbac.authorization.kubernetes.io/autoupdate"] = "false"
    mine["rules"] = []
    await registry.store.update(key, mine)
    await bootstrap_rbac(registry)
    assert (await registry.store.get(key))["rules"] == []
