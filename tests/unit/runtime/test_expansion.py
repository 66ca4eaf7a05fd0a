"""$(VAR) expansion (VOL-10), table-driven."""

from __future__ import annotations

import pytest

from kubelite.model.expansion import expand, expand_env

ENV = {"A": "a", "EMPTY": "", "B": "$(A)"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", "plain"),
        ("$(A)", "a"),
        ("x$(A)y$(A)", "xaya"),
        ("$(EMPTY)", ""),
        ("$(UNDEFINED) stays as written", "$(UNDEFINED) stays as written"),
        ("$$(A) is an escaped reference", "$(A) is an escaped reference"),
        ("$$$$ gives two dollars", "$$ gives two dollars"),
        ("a lone $ is kept", "a lone $ is kept"),
        ("$A without parentheses", "$A without parentheses"),
        ("trailing $", "trailing $"),
        ("unterminated $(A", "unterminated $(A"),
        ("$() empty name", "$() empty name"),
        ("values are not re-expanded: $(B)", "values are not re-expanded: $(A)"),
    ],
)
def test_expand(text: str, expected: str) -> None:
    assert expand(text, ENV) == expected


def test_env_values_see_only_earlier_variables() -> None:
    env = [("X", "1"), ("Y", "$(X)-$(Z)"), ("Z", "3"), ("X", "$(X)$(X)")]
    assert expand_env(env) == [("X", "1"), ("Y", "1-$(Z)"), ("Z", "3"), ("X", "11")]


def test_a_lookup_function_works_too() -> None:
    assert expand("$(HOME)", lambda name: "/root" if name == "HOME" else None) == "/root"
