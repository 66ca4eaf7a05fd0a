"""RBAC policy rules and the questions asked of them, as pure functions.

A ``PolicyRule`` grants verbs on resources (in API groups, optionally only some names) or on
non-resource URLs. ``rule_allows`` answers one request (``Attributes``, what the API server's
request-info filter extracts: verb, group, resource, subresource, name, namespace, or a path);
``covers`` says which parts of some rules another set of rules does not grant (the escalation
check: nobody may grant what they do not hold), and ``compact``/``compact_string`` describe
those parts as the API server's error message does.

Matching, as the RBAC authorizer does it: ``*`` is every verb, group or resource; a resource
rule ``pods/log`` matches only that subresource and ``*/log`` that subresource of any resource;
a rule with resource names matches only requests for those names (so never a create or a list);
a URL rule ending in ``*`` matches every path with that prefix.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from kubelite.model.objects import JSON, Obj

ALL = "*"


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(str(v) for v in value if v is not None)


@dataclass(frozen=True, slots=True)
class PolicyRule:
    verbs: tuple[str, ...] = ()
    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = ()

    @classmethod
    def from_obj(cls, raw: JSON) -> PolicyRule:
        return cls(
            verbs=_strings(raw.get("verbs")),
            api_groups=_strings(raw.get("apiGroups")),
            resources=_strings(raw.get("resources")),
            resource_names=_strings(raw.get("resourceNames")),
            non_resource_urls=_strings(raw.get("nonResourceURLs")),
        )

    def to_obj(self) -> Obj:
        """The rule as the API serializes it: ``verbs`` always, the other lists when set."""
        out: Obj = {"verbs": list(self.verbs)}
        for key, values in (
            ("apiGroups", self.api_groups),
            ("resources", self.resources),
            ("resourceNames", self.resource_names),
            ("nonResourceURLs", self.non_resource_urls),
        ):
            if values:
                out[key] = list(values)
        return out


def rules_of(raw: Any) -> tuple[PolicyRule, ...]:
    """The ``rules`` list of a Role or ClusterRole (anything else reads as no rules)."""
    if not isinstance(raw, list):
        return ()
    return tuple(PolicyRule.from_obj(r) for r in raw if isinstance(r, dict))


@dataclass(frozen=True, slots=True)
class Attributes:
    """What one request asks to do. ``resource_request`` False means a non-resource ``path``
    (``/healthz``, ``/apis``); its verb is then the lower-case HTTP method."""

    verb: str
    resource_request: bool = True
    api_group: str = ""
    api_version: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    namespace: str = ""
    path: str = ""

    @property
    def combined_resource(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


def verb_matches(rule: PolicyRule, verb: str) -> bool:
    return any(v in (ALL, verb) for v in rule.verbs)


def api_group_matches(rule: PolicyRule, group: str) -> bool:
    return any(g in (ALL, group) for g in rule.api_groups)


def resource_matches(rule: PolicyRule, combined: str, subresource: str) -> bool:
    for r in rule.resources:
        if r in (ALL, combined):
            return True
        if subresource and r == f"*/{subresource}":
            return True
    return False


def resource_name_matches(rule: PolicyRule, name: str) -> bool:
    return not rule.resource_names or name in rule.resource_names


def non_resource_url_matches(rule: PolicyRule, path: str) -> bool:
    for url in rule.non_resource_urls:
        if url in (ALL, path):
            return True
        if url.endswith("*") and path.startswith(url[:-1]):
            return True
    return False


def rule_allows(attrs: Attributes, rule: PolicyRule) -> bool:
    if not verb_matches(rule, attrs.verb):
        return False
    if not attrs.resource_request:
        return non_resource_url_matches(rule, attrs.path)
    return (
        api_group_matches(rule, attrs.api_group)
        and resource_matches(rule, attrs.combined_resource, attrs.subresource)
        and resource_name_matches(rule, attrs.name)
    )


# -- escalation: do some rules cover others? ----------------------------------------------------


def breakdown(rule: PolicyRule) -> list[PolicyRule]:
    """One rule per (group, resource, verb[, name]) and per (URL, verb)."""
    out: list[PolicyRule] = []
    for group in rule.api_groups:
        for resource in rule.resources:
            for verb in rule.verbs:
                base = PolicyRule(verbs=(verb,), api_groups=(group,), resources=(resource,))
                if rule.resource_names:
                    out += [
                        PolicyRule(base.verbs, base.api_groups, base.resources, (name,))
                        for name in rule.resource_names
                    ]
                else:
                    out.append(base)
    for url in rule.non_resource_urls:
        out += [PolicyRule(verbs=(verb,), non_resource_urls=(url,)) for verb in rule.verbs]
    return out


def _has_all(owned: Sequence[str], wanted: Sequence[str]) -> bool:
    return all(w in owned for w in wanted)


def _resources_covered(owned: Sequence[str], wanted: Sequence[str]) -> bool:
    if ALL in owned or _has_all(owned, wanted):
        return True
    for path in wanted:
        if path in owned:
            continue
        if "/" not in path or f"*/{path.split('/', 1)[1]}" not in owned:
            return False
    return True


def _url_covered(owner: str, path: str) -> bool:
    return owner == path or (owner.endswith("*") and path.startswith(owner.rstrip("*")))


def _urls_covered(owned: Sequence[str], wanted: Sequence[str]) -> bool:
    return all(any(_url_covered(o, w) for o in owned) for w in wanted)


def rule_covers(owner: PolicyRule, sub: PolicyRule) -> bool:
    verbs = ALL in owner.verbs or _has_all(owner.verbs, sub.verbs)
    groups = ALL in owner.api_groups or _has_all(owner.api_groups, sub.api_groups)
    resources = _resources_covered(owner.resources, sub.resources)
    urls = _urls_covered(owner.non_resource_urls, sub.non_resource_urls)
    if sub.resource_names:
        names = not owner.resource_names or _has_all(owner.resource_names, sub.resource_names)
    else:
        names = not owner.resource_names
    return verbs and groups and resources and names and urls


def covers(
    owned: Sequence[PolicyRule], wanted: Iterable[PolicyRule]
) -> tuple[bool, list[PolicyRule]]:
    """Whether ``owned`` grants everything ``wanted`` does, and the broken-down parts it
    does not grant."""
    missing = [
        sub
        for rule in wanted
        for sub in breakdown(rule)
        if not any(rule_covers(o, sub) for o in owned)
    ]
    return not missing, missing


def _simple_key(rule: PolicyRule) -> tuple[str, str, str] | None:
    """(group, resource, name) of a rule of one group, one resource, at most one name and no
    URLs; None for any other rule."""
    if len(rule.resource_names) > 1 or rule.non_resource_urls:
        return None
    if len(rule.api_groups) != 1 or len(rule.resources) != 1:
        return None
    name = rule.resource_names[0] if rule.resource_names else "\0"
    return rule.api_groups[0], rule.resources[0], name


def compact(rules: Iterable[PolicyRule]) -> list[PolicyRule]:
    """Rules on the same single resource (and name) merged into one with all their verbs."""
    out: list[PolicyRule] = []
    simple: dict[tuple[str, str, str], PolicyRule] = {}
    for rule in rules:
        key = _simple_key(rule)
        if key is None:
            out.append(rule)
        elif key in simple:
            seen = simple[key]
            simple[key] = PolicyRule(
                seen.verbs + rule.verbs, seen.api_groups, seen.resources, seen.resource_names
            )
        else:
            simple[key] = rule
    return out + list(simple.values())


def go_quote(text: str) -> str:
    """A string as Go's ``%q`` prints it (for the ASCII and printable text names hold)."""
    out = ['"']
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def go_quote_list(items: Iterable[str]) -> str:
    """A string slice as Go's ``%q`` prints it: ``["a" "b"]``."""
    return "[" + " ".join(go_quote(i) for i in items) + "]"


def compact_string(rule: PolicyRule) -> str:
    """``{APIGroups:["apps"], Resources:["deployments"], Verbs:["create"]}``: the set fields
    in the API server's order."""
    parts = [
        f"{label}:{go_quote_list(values)}"
        for label, values in (
            ("APIGroups", rule.api_groups),
            ("Resources", rule.resources),
            ("NonResourceURLs", rule.non_resource_urls),
            ("ResourceNames", rule.resource_names),
            ("Verbs", rule.verbs),
        )
        if values
    ]
    return "{" + ", ".join(parts) + "}"
