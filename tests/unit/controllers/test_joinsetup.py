"""What ``kubelite up`` lets every joined node do beyond the Node authorizer
(controllers/joinsetup.py's ``kubelite:node-services``): the agent's proxy, DNS and routes
watch what they need, and nothing more."""

from __future__ import annotations

import pytest

from kubelite.controllers.joinsetup import CLUSTER_ROLES, NODE_SERVICES, rbac_objects
from kubelite.registry.rbac_rules import Attributes, PolicyRule, rule_allows, rules_of


def node_services_rules() -> list[PolicyRule]:
    [role] = [o for r, o in rbac_objects() if r == CLUSTER_ROLES and
              o["metadata"]["name"] == NODE_SERVICES]  # fmt: skip
    return list(rules_of(role["rules"]))


@pytest.mark.parametrize(
    ("attrs", "allowed"),
    [
        (Attributes(verb="list", resource="nodes"), True),
        (Attributes(verb="watch", resource="nodes"), True),
        (Attributes(verb="list", resource="namespaces"), True),
        (Attributes(verb="watch", api_group="discovery.k8s.io", resource="endpointslices"), True),
        (Attributes(verb="patch", resource="nodes", name="m2"), False),
        (Attributes(verb="update", resource="nodes", subresource="status", name="m2"), False),
        (Attributes(verb="delete", resource="nodes", name="m2"), False),
        (Attributes(verb="list", resource="secrets"), False),
    ],
)
def test_every_node_may_watch_the_nodes_but_not_change_them(
    attrs: Attributes, allowed: bool
) -> None:
    assert any(rule_allows(attrs, r) for r in node_services_rules()) is allowed
