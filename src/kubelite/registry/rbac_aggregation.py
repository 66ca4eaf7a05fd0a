"""ClusterRole aggregation, as the controller manager's clusterrole-aggregation controller does
it: a ClusterRole with an ``aggregationRule`` gets, as its ``rules``, the rules of every other
ClusterRole its selectors match (each selector's matches in name order, a rule already taken
not repeated). ``admin``/``edit``/``view`` are built this way, and a user's ClusterRole labelled
``rbac.authorization.k8s.io/aggregate-to-view: "true"`` extends all three.

``aggregate`` is the pure part: every aggregated role's rules until nothing changes (``view``
feeds ``edit`` feeds ``admin``). ``ClusterRoleAggregator`` applies it at start-up and again
whenever a ClusterRole changes (a watch on clusterroles), as a loop the API server runs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from contextlib import aclosing
from typing import Any

from kubelite.errors import KubeliteError
from kubelite.model.objects import JSON, Obj
from kubelite.registry.rbac import CLUSTERROLES
from kubelite.registry.rbac_rules import PolicyRule, rules_of
from kubelite.registry.selectors import Requirement
from kubelite.registry.service import Registry
from kubelite.store.interface import Compacted, Conflict, NotFound

log = logging.getLogger(__name__)

RETRY_SECONDS = 0.5
MAX_ROUNDS = 10  # aggregation chains are short (view → edit → admin)
_OPERATORS = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}


def requirements(selector: Any) -> list[Requirement] | None:
    """A LabelSelector's requirements (empty: matches everything); None if it is malformed."""
    if not isinstance(selector, dict):
        return None
    labels = selector.get("matchLabels") or {}
    reqs = [Requirement(str(k), "=", (str(v),)) for k, v in labels.items()]
    for expr in selector.get("matchExpressions") or []:
        op = _OPERATORS.get(str(expr.get("operator"))) if isinstance(expr, dict) else None
        if op is None:
            return None
        reqs.append(Requirement(str(expr.get("key")), op, tuple(expr.get("values") or ())))
    return reqs


def _labels(role: JSON) -> dict[str, str]:
    return dict((role.get("metadata") or {}).get("labels") or {})


def aggregated_rules(role: JSON, roles: Sequence[JSON]) -> list[PolicyRule] | None:
    """The rules ``role`` aggregates from ``roles``; None if it does not aggregate."""
    rule = role.get("aggregationRule")
    if not isinstance(rule, dict):
        return None
    name = (role.get("metadata") or {}).get("name")
    out: list[PolicyRule] = []
    for selector in rule.get("clusterRoleSelectors") or []:
        reqs = requirements(selector)
        if reqs is None:
            continue
        matched = [
            r
            for r in roles
            if r["metadata"]["name"] != name and all(q.matches(_labels(r)) for q in reqs)
        ]
        for other in sorted(matched, key=lambda r: str(r["metadata"]["name"])):
            out += [p for p in rules_of(other.get("rules")) if p not in out]
    return out


def aggregate(roles: Sequence[Obj]) -> dict[str, list[PolicyRule]]:
    """The new rules of every aggregated role whose rules are not what they should be."""
    current = {str(r["metadata"]["name"]): r for r in roles}
    changed: dict[str, list[PolicyRule]] = {}
    for _ in range(MAX_ROUNDS):
        progress = False
        for name, role in list(current.items()):
            wanted = aggregated_rules(role, list(current.values()))
            if wanted is None or list(rules_of(role.get("rules"))) == wanted:
                continue
            current[name] = {**role, "rules": [p.to_obj() for p in wanted]}
            changed[name] = wanted
            progress = True
        if not progress:
            break
    return changed


class ClusterRoleAggregator:
    def __init__(self, *, registry: Registry) -> None:
        self._registry = registry

    async def reconcile(self) -> int:
        """Bring every aggregated role up to date; the revision the roles were read at."""
        roles, rev = await self._registry.list(CLUSTERROLES, None)
        for name, rules in aggregate(roles).items():
            role = next(r for r in roles if r["metadata"]["name"] == name)
            role["rules"] = [p.to_obj() for p in rules]
            try:
                await self._registry.update(CLUSTERROLES, "", name, role)
            except (Conflict, NotFound):  # changed meanwhile: its watch event brings us back
                continue
        return rev

    async def run(self) -> None:
        while True:
            try:
                rev = await self.reconcile()
                async with aclosing(self._registry.watch(CLUSTERROLES, None, rev)) as events:
                    async for _ in events:
                        await self.reconcile()
            except Compacted:
                continue
            except KubeliteError as exc:  # a racing write; start over
                log.debug("clusterrole aggregation: %s", exc)
                await asyncio.sleep(RETRY_SECONDS)
