"""Label and field selectors as list and watch requests use them."""

from __future__ import annotations

import pytest

from kubelite.registry.errors import BadRequest
from kubelite.registry.pods import PODS
from kubelite.registry.selectors import (
    fields_match,
    labels_match,
    parse_field_selector,
    parse_label_selector,
)

POD = {
    "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web", "tier": "fe"}},
    "spec": {"nodeName": "n1"},
    "status": {"phase": "Running"},
}


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ("", True),
        ("app=web", True),
        ("app==web", True),
        ("app!=web", False),
        ("app=db", False),
        ("app in (web,db)", True),
        ("app notin (web)", False),
        ("tier", True),
        ("!tier", False),
        ("!missing", True),
        ("missing!=x", True),
        ("app=web,tier in (fe, be)", True),
        ("app=web,tier=be", False),
    ],
)
def test_label_selectors(selector: str, matches: bool) -> None:
    assert labels_match(parse_label_selector(selector), POD) is matches


def test_a_malformed_label_selector_is_a_bad_request() -> None:
    with pytest.raises(BadRequest):
        parse_label_selector("a in b")


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ("metadata.name=web", True),
        ("metadata.name==web", True),
        ("metadata.name!=web", False),
        ("metadata.namespace=default,spec.nodeName=n1", True),
        ("spec.nodeName=", False),
        ("status.phase=Running", True),
        ("status.phase!=Pending", True),
    ],
)
def test_pod_field_selectors(selector: str, matches: bool) -> None:
    assert fields_match(parse_field_selector(selector, PODS.field_getters()), POD) is matches


def test_an_unsupported_field_label_is_a_bad_request() -> None:
    with pytest.raises(BadRequest, match=r"field label not supported: spec\.foo"):
        parse_field_selector("spec.foo=1", PODS.field_getters())
