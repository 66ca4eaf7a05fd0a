"""RBAC rule matching and the escalation helpers, case by case as the API server decides them."""

from __future__ import annotations

import pytest

from kubelite.registry.rbac_rules import (
    Attributes,
    PolicyRule,
    compact,
    compact_string,
    covers,
    go_quote,
    go_quote_list,
    rule_allows,
)


def rule(
    verbs: str, groups: str = "", resources: str = "", names: str = "", urls: str = ""
) -> PolicyRule:
    def split(text: str) -> tuple[str, ...]:
        return tuple(text.split(",")) if text != "-" else ("",)

    return PolicyRule(
        verbs=split(verbs) if verbs else (),
        api_groups=split(groups) if groups else (),
        resources=split(resources) if resources else (),
        resource_names=split(names) if names else (),
        non_resource_urls=split(urls) if urls else (),
    )


def res(verb: str, resource: str, group: str = "", sub: str = "", name: str = "") -> Attributes:
    return Attributes(verb=verb, api_group=group, resource=resource, subresource=sub, name=name,
                      namespace="default")  # fmt: skip


def path(verb: str, p: str) -> Attributes:
    return Attributes(verb=verb, resource_request=False, path=p)


CORE = "-"  # the core group, "" in a rule

MATCHING = [
    ("a listed verb on a listed resource is allowed", rule("get,list", CORE, "pods"),
     res("list", "pods"), True),
    ("a verb not listed is not", rule("get,list", CORE, "pods"), res("create", "pods"), False),
    ("the star verb allows every verb", rule("*", CORE, "pods"), res("deletecollection", "pods"),
     True),
    ("another group is not the core group", rule("get", "apps", "pods"), res("get", "pods"),
     False),
    ("the star group allows every group", rule("get", "*", "deployments"),
     res("get", "deployments", "apps"), True),
    ("the star resource allows every resource and subresource", rule("get", CORE, "*"),
     res("get", "pods", sub="log"), True),
    ("a resource does not allow its subresources", rule("get", CORE, "pods"),
     res("get", "pods", sub="log"), False),
    ("a subresource is named with its resource", rule("get", CORE, "pods/log"),
     res("get", "pods", sub="log"), True),
    ("a subresource rule does not allow the resource", rule("get", CORE, "pods/log"),
     res("get", "pods"), False),
    ("*/sub allows that subresource of any resource", rule("get", "*", "*/scale"),
     res("get", "deployments", "apps", sub="scale"), True),
    ("*/sub allows no other subresource", rule("get", "*", "*/scale"),
     res("get", "deployments", "apps", sub="status"), False),
    ("resource names limit the rule to those names", rule("get", CORE, "pods", names="web"),
     res("get", "pods", name="web"), True),
    ("another name is not allowed", rule("get", CORE, "pods", names="web"),
     res("get", "pods", name="db"), False),
    ("a rule with names never allows a request without one (list, create)",
     rule("list,create", CORE, "pods", names="web"), res("list", "pods"), False),
    ("a URL rule allows that path", rule("get", urls="/healthz"), path("get", "/healthz"), True),
    ("a URL rule allows no other path", rule("get", urls="/healthz"), path("get", "/livez"),
     False),
    ("a trailing star allows the prefix", rule("get", urls="/apis/*"),
     path("get", "/apis/apps/v1"), True),
    ("the star URL allows every path", rule("*", urls="*"), path("post", "/anything"), True),
    ("a URL rule never allows a resource", rule("*", urls="*"), res("get", "pods"), False),
    ("a resource rule never allows a path", rule("*", "*", "*"), path("get", "/healthz"), False),
]  # fmt: skip


@pytest.mark.parametrize(("case", "r", "attrs", "want"), MATCHING, ids=[c[0] for c in MATCHING])
def test_rule_matching(case: str, r: PolicyRule, attrs: Attributes, want: bool) -> None:
    assert rule_allows(attrs, r) is want


COVERS = [
    ("the same rule covers itself", [rule("get,list", CORE, "pods")],
     [rule("get", CORE, "pods")], []),
    ("star verbs, groups and resources cover anything", [rule("*", "*", "*")],
     [rule("delete", "apps", "deployments")], []),
    ("a missing verb is reported alone", [rule("get", CORE, "pods")],
     [rule("get,delete", CORE, "pods")], [rule("delete", CORE, "pods")]),
    ("a rule without names covers named ones", [rule("get", CORE, "pods")],
     [rule("get", CORE, "pods", names="a")], []),
    ("a named rule does not cover an unnamed one", [rule("get", CORE, "pods", names="a")],
     [rule("get", CORE, "pods")], [rule("get", CORE, "pods")]),
    ("*/sub covers that subresource", [rule("get", CORE, "*/log")],
     [rule("get", CORE, "pods/log")], []),
    ("a URL prefix covers longer paths", [rule("get", urls="/logs/*")],
     [rule("get", urls="/logs/a")], []),
]  # fmt: skip


@pytest.mark.parametrize(("case", "owned", "wanted", "missing"), COVERS,
                         ids=[c[0] for c in COVERS])  # fmt: skip
def test_covers(case: str, owned: list[PolicyRule], wanted: list[PolicyRule],
                missing: list[PolicyRule]) -> None:  # fmt: skip
    ok, got = covers(owned, wanted)
    assert (ok, got) == (not missing, missing)


def test_compact_merges_verbs_of_one_resource_and_keeps_the_rest() -> None:
    parts = [rule("get", CORE, "pods"), rule("list", CORE, "pods"), rule("get", urls="/x")]
    assert compact(parts) == [rule("get", urls="/x"), rule("get,list", CORE, "pods")]


COMPACT_STRINGS = [
    ("a resource rule", rule("create", "apps", "deployments"),
     '{APIGroups:["apps"], Resources:["deployments"], Verbs:["create"]}'),
    ("the core group is an empty string", rule("get,list", CORE, "pods"),
     '{APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]}'),
    ("URLs come before names", rule("get", urls="/healthz"),
     '{NonResourceURLs:["/healthz"], Verbs:["get"]}'),
    ("names come after resources", rule("get", CORE, "pods", names="web"),
     '{APIGroups:[""], Resources:["pods"], ResourceNames:["web"], Verbs:["get"]}'),
]  # fmt: skip


@pytest.mark.parametrize(("case", "r", "want"), COMPACT_STRINGS,
                         ids=[c[0] for c in COMPACT_STRINGS])  # fmt: skip
def test_compact_string_reads_as_the_api_servers(case: str, r: PolicyRule, want: str) -> None:
    assert compact_string(r) == want


def test_go_quoting_escapes_quotes_backslashes_and_control_characters() -> None:
    assert go_quote('a"b\\c\n\x01') == '"a\\"b\\\\c\\n\\x01"'
    assert go_quote_list(["dev", "system:authenticated"]) == '["dev" "system:authenticated"]'
    assert go_quote_list([]) == "[]"


def test_a_rule_round_trips_in_the_apis_field_order() -> None:
    raw = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"], "resourceNames": []}
    out = PolicyRule.from_obj(raw).to_obj()
    assert list(out) == ["verbs", "apiGroups", "resources"]
    assert out == {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}
