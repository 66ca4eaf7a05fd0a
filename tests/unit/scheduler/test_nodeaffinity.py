"""NodeAffinity and NodeName: nodeSelector, required terms with every operator and
``metadata.name`` fields, PreFilter's narrowing to named nodes, and the preferred terms'
score."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.scheduler import nodeaffinity
from kubelite.scheduler.nodeinfo import node_info
from kubelite.scheduler.status import Code, Status
from tests.unit.scheduler.cluster import info, node, pod

NODE = node_info(node("n1", labels={"zone": "a", "disk": "ssd", "cores": "8"}))


def expr(key: str, op: str, *values: str) -> dict[str, Any]:
    out: dict[str, Any] = {"key": key, "operator": op}
    if values:
        out["values"] = list(values)
    return out


def required(*terms: dict[str, Any]) -> dict[str, Any]:
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}
        }
    }


def labels_term(*exprs: dict[str, Any]) -> dict[str, Any]:
    return {"matchExpressions": list(exprs)}


def fields_term(*exprs: dict[str, Any]) -> dict[str, Any]:
    return {"matchFields": list(exprs)}


def terms(*t: dict[str, Any]) -> dict[str, Any]:
    """A pod spec with these required terms."""
    return {"affinity": required(*t)}


def where(*exprs: dict[str, Any]) -> dict[str, Any]:
    """A pod spec with one required term of these label expressions."""
    return terms(labels_term(*exprs))


NAME = "metadata.name"

CASES: list[tuple[str, dict[str, Any], bool]] = [
    ("a pod without selector or affinity fits", {}, True),
    ("a nodeSelector the node's labels satisfy fits", {"nodeSelector": {"zone": "a"}}, True),
    ("a nodeSelector naming another value does not", {"nodeSelector": {"zone": "b"}}, False),
    ("In matches a listed value", where(expr("zone", "In", "a", "b")), True),
    ("In does not match an absent label", where(expr("gpu", "In", "x")), False),
    ("NotIn matches an absent label", where(expr("gpu", "NotIn", "x")), True),
    ("NotIn refuses a listed value", where(expr("zone", "NotIn", "a")), False),
    ("Exists needs the label", where(expr("disk", "Exists")), True),
    ("DoesNotExist refuses the label", where(expr("disk", "DoesNotExist")), False),
    ("Gt compares integers", where(expr("cores", "Gt", "4")), True),
    ("Lt compares integers", where(expr("cores", "Lt", "4")), False),
    ("Gt on a label that is not a number does not match", where(expr("zone", "Gt", "1")), False),
    ("expressions of a term are ANDed",
     where(expr("zone", "In", "a"), expr("disk", "In", "hdd")), False),
    ("terms are ORed",
     terms(labels_term(expr("zone", "In", "b")), labels_term(expr("disk", "Exists"))), True),
    ("an empty term matches nothing", terms({}), False),
    ("a field term reads the node's name", terms(fields_term(expr(NAME, "In", "n1"))), True),
    ("NotIn on the name refuses the node", terms(fields_term(expr(NAME, "NotIn", "n1"))), False),
    ("the selector and the affinity must both match",
     {"nodeSelector": {"zone": "b"}, **where(expr("disk", "Exists"))}, False),
]  # fmt: skip


@pytest.mark.parametrize(("case", "spec", "fits"), CASES, ids=[c[0] for c in CASES])
def test_node_affinity_filter(case: str, spec: dict[str, Any], fits: bool) -> None:
    status = nodeaffinity.node_affinity(info(pod(**spec)), NODE)
    if fits:
        assert status is None
    else:
        assert status is not None
        assert status.reasons == ("node(s) didn't match Pod's node affinity/selector",)
        assert status.code is Code.UNRESOLVABLE


PREFILTER: list[tuple[str, dict[str, Any], Any]] = [
    ("no required affinity reaches every node", {}, None),
    ("a term without a name field reaches every node",
     required(labels_term(expr("zone", "In", "a")), fields_term(expr(NAME, "In", "n1"))), None),
    ("name fields in every term narrow to their union",
     required(fields_term(expr(NAME, "In", "n1")), fields_term(expr(NAME, "In", "n2"))),
     frozenset({"n1", "n2"})),
    ("name fields of one term are intersected",
     required(fields_term(expr(NAME, "In", "n1"), expr(NAME, "In", "n1"))), frozenset({"n1"})),
]  # fmt: skip


@pytest.mark.parametrize(("case", "affinity", "names"), PREFILTER, ids=[c[0] for c in PREFILTER])
def test_prefilter_narrows_to_the_nodes_named(case: str, affinity: Any, names: Any) -> None:
    assert nodeaffinity.prefilter(info(pod(affinity=affinity))) == names


def test_prefilter_refuses_terms_whose_names_cannot_meet() -> None:
    term = fields_term(expr(NAME, "In", "n1"), expr(NAME, "In", "n2"))
    got = nodeaffinity.prefilter(info(pod(affinity=required(term))))
    assert isinstance(got, Status) and got.reasons == ("pod affinity terms conflict",)


def test_node_name_refuses_other_nodes() -> None:
    assert nodeaffinity.node_name(info(pod(nodeName="n1")), NODE) is None
    status = nodeaffinity.node_name(info(pod(nodeName="n2")), NODE)
    assert status is not None
    assert status.reasons == ("node(s) didn't match the requested node name",)


def test_preferred_terms_score_the_sum_of_the_weights_a_node_matches() -> None:
    preferred = [
        {"weight": 10, "preference": labels_term(expr("zone", "In", "a"))},
        {"weight": 5, "preference": labels_term(expr("disk", "In", "hdd"))},
        {"weight": 3, "preference": labels_term(expr("disk", "Exists"))},
        {"weight": 7, "preference": {}},  # an empty preference matches nothing
    ]
    affinity = {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": preferred}}
    terms = nodeaffinity.preferred_terms(info(pod(affinity=affinity)))
    assert nodeaffinity.preferred_score(terms, NODE) == 13
