"""Putting the bootstrap policy (``rbac_defaults``) in place on every start, as the API server's
RBAC post-start hook does.

A missing role or binding is created; one annotated ``rbac.authorization.kubernetes.io/autoupdate:
"true"`` gets back the labels, annotations, rules, aggregation selectors and subjects of the
default it may have lost (what a user added stays); one whose annotation says otherwise is left
alone. Then the aggregated roles are brought up to date once (``rbac_aggregation``).

The objects are written to the store directly, with the registry's system fields: names such as
``system:basic-user`` are valid RBAC names but not the DNS names the generic create path checks.
"""

from __future__ import annotations

import logging
from typing import Any

from kubelite.errors import KubeliteError
from kubelite.model.objects import Obj
from kubelite.registry import meta as m
from kubelite.registry.rbac import CLUSTERROLEBINDINGS, CLUSTERROLES, normalize_rules
from kubelite.registry.rbac_aggregation import ClusterRoleAggregator
from kubelite.registry.rbac_defaults import AUTOUPDATE, cluster_role_bindings, cluster_roles
from kubelite.registry.rbac_rules import rules_of
from kubelite.registry.resource import Kind
from kubelite.registry.service import Registry
from kubelite.store.interface import AlreadyExists, NotFound

log = logging.getLogger(__name__)


def reconciled(current: Obj, wanted: Obj) -> Obj | None:
    """``current`` with what it lacks of ``wanted`` added back; None if it lacks nothing or
    must not be touched."""
    md = current.get("metadata") or {}
    if (md.get("annotations") or {}).get(AUTOUPDATE, "true") != "true":
        return None
    out: Obj = {**current, "metadata": dict(md)}
    out_md = out["metadata"]
    for key in ("labels", "annotations"):
        want = wanted["metadata"].get(key) or {}
        out_md[key] = {**want, **(out_md.get(key) or {})}
    if "rules" in wanted:
        have = list(rules_of(current.get("rules")))
        missing = [r for r in rules_of(wanted.get("rules")) if r not in have]
        if missing:
            out["rules"] = [r.to_obj() for r in [*have, *missing]]
    if "aggregationRule" in wanted:
        have_sel = list((current.get("aggregationRule") or {}).get("clusterRoleSelectors") or [])
        want_sel = wanted["aggregationRule"]["clusterRoleSelectors"]
        out["aggregationRule"] = {
            "clusterRoleSelectors": have_sel + [s for s in want_sel if s not in have_sel]
        }
    if "subjects" in wanted:
        have_sub = list(current.get("subjects") or [])
        out["subjects"] = have_sub + [s for s in wanted["subjects"] if s not in have_sub]
    return None if out == current else out


async def _ensure(registry: Registry, kind: Kind, wanted: Obj) -> None:
    name = str(wanted["metadata"]["name"])
    key = registry.key(kind, "", name)
    try:
        current = await registry.store.get(key)
    except NotFound:
        obj: dict[str, Any] = {**wanted, "metadata": dict(wanted["metadata"])}
        m.stamp_new(obj["metadata"], registry.clock.now())
        obj["metadata"].pop("generation", None)
        if kind is CLUSTERROLES:
            normalize_rules(obj)
        try:
            await registry.store.create(key, obj)
        except AlreadyExists:
            pass
        return
    update = reconciled(current, wanted)
    if update is not None:
        await registry.store.update(key, update, expected_rv=current["metadata"]["resourceVersion"])


async def bootstrap_rbac(registry: Registry) -> None:
    """Create or repair the default cluster roles and bindings, then aggregate."""
    for kind, objects in (
        (CLUSTERROLES, cluster_roles()),
        (CLUSTERROLEBINDINGS, cluster_role_bindings()),
    ):
        for obj in objects:
            try:
                await _ensure(registry, kind, obj)
            except KubeliteError as exc:  # a racing writer; the next start repairs it
                log.warning("cannot bootstrap %s %s: %s", kind.kind, obj["metadata"]["name"], exc)
    await ClusterRoleAggregator(registry=registry).reconcile()
