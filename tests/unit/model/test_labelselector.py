"""LabelSelectors as the workload controllers read them: what they select, and how
``labels.Selector.String()`` writes them."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.model import labelselector as ls

WEB = {"app": "web", "tier": "front"}


@pytest.mark.parametrize(
    ("selector", "labels", "selected"),
    [
        pytest.param(None, WEB, False, id="an absent selector selects nothing"),
        pytest.param({}, WEB, True, id="an empty selector selects everything"),
        pytest.param({"matchLabels": {"app": "web"}}, WEB, True, id="matchLabels present"),
        pytest.param({"matchLabels": {"app": "db"}}, WEB, False, id="matchLabels other value"),
        pytest.param(
            {"matchLabels": {"app": "web", "x": "y"}},
            WEB,
            False,
            id="every matchLabels pair must be there",
        ),
        pytest.param(
            {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "back"]}]},
            WEB,
            True,
            id="In with the value",
        ),
        pytest.param(
            {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["front"]}]},
            WEB,
            False,
            id="NotIn with the value",
        ),
        pytest.param(
            {"matchExpressions": [{"key": "gone", "operator": "NotIn", "values": ["x"]}]},
            WEB,
            True,
            id="NotIn of a missing label selects",
        ),
        pytest.param(
            {"matchExpressions": [{"key": "app", "operator": "Exists"}]}, WEB, True, id="Exists"
        ),
        pytest.param(
            {"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]},
            WEB,
            False,
            id="DoesNotExist",
        ),
    ],
)
def test_a_selector_selects_labels_as_the_api_does(
    selector: Any, labels: dict[str, str], selected: bool
) -> None:
    assert ls.matches(selector, labels) is selected


@pytest.mark.parametrize(
    ("selector", "text"),
    [
        pytest.param(
            {"matchLabels": {"tier": "a", "app": "web"}}, "app=web,tier=a", id="sorted by key"
        ),
        pytest.param(
            {"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "dev"]}]},
            "env in (dev,prod)",
            id="set values sorted",
        ),
        pytest.param(
            {"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["x"]}]},
            "env notin (x)",
            id="notin",
        ),
        pytest.param(
            {"matchExpressions": [{"key": "legacy", "operator": "DoesNotExist"}]},
            "!legacy",
            id="does not exist",
        ),
        pytest.param(
            {"matchExpressions": [{"key": "app", "operator": "Exists"}]}, "app", id="exists"
        ),
        pytest.param({}, "", id="empty"),
    ],
)
def test_a_selector_is_written_as_kubectl_shows_it(selector: Any, text: str) -> None:
    assert ls.to_string(selector) == text


def test_a_malformed_selector_selects_nothing_and_raises_when_matched_directly() -> None:
    bad = {"matchExpressions": [{"key": "a", "operator": "Near", "values": ["x"]}]}
    assert ls.selects(bad, {"metadata": {"labels": {"a": "x"}}}) is False
    with pytest.raises(ls.InvalidSelector):
        ls.matches(bad, {"a": "x"})


def test_a_replication_controllers_map_selector_needs_every_pair_and_is_never_empty() -> None:
    assert ls.set_matches({"app": "web"}, WEB)
    assert not ls.set_matches({"app": "web", "v": "2"}, WEB)
    assert not ls.set_matches({}, WEB)
    assert ls.set_to_string({"b": "2", "a": "1"}) == "a=1,b=2"
