"""The shared words for objects as data: by_name, the Phase enum, terminal phases, full names."""

from __future__ import annotations

import json

import pytest

from kubelite.model.objects import by_name
from kubelite.model.pod import TERMINAL_PHASES, Phase, PodSpec, pod_full_name


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([], {}),
        ([{"name": "a", "v": 1}, {"name": "b"}], {"a": {"name": "a", "v": 1}, "b": {"name": "b"}}),
        ([{"name": "a", "v": 1}, {"name": "a", "v": 2}], {"a": {"name": "a", "v": 2}}),
        ([{"v": 1}], {"None": {"v": 1}}),
    ],
    ids=["nothing", "each entry under its name", "a later duplicate wins", "no name"],
)
def test_by_name_keys_entries_by_their_name(items: list[dict], expected: dict) -> None:
    assert by_name(items) == expected


@pytest.mark.parametrize(
    ("phase", "terminal"),
    [("Pending", False), ("Running", False), ("Succeeded", True), ("Failed", True),
     ("Unknown", False), (None, False)],
)  # fmt: skip
def test_terminal_phases_are_succeeded_and_failed(phase: str | None, terminal: bool) -> None:
    assert (phase in TERMINAL_PHASES) is terminal


def test_a_phase_is_the_string_users_see() -> None:
    assert [str(p) for p in Phase] == ["Pending", "Running", "Succeeded", "Failed", "Unknown"]
    assert json.dumps({"phase": Phase.FAILED}) == '{"phase": "Failed"}'
    assert Phase("Running") is Phase.RUNNING


def test_the_full_name_of_a_pod_is_the_kubelets() -> None:
    assert pod_full_name("web", "default", "u1") == "web_default(u1)"
    pod = PodSpec.of({"metadata": {"name": "web", "namespace": "prod", "uid": "u2"}})
    assert pod.full_name == "web_prod(u2)"
