"""Request decoding guards: nesting depth (with Go's scanner text), YAML alias expansion, and
JSON numbers Python would read differently from the API server."""

from __future__ import annotations

import json

import pytest

from kubelite.api.bodies import MAX_YAML_NODES, Undecodable, parse_json, parse_yaml, summarize
from kubelite.api.errors import ApiError
from kubelite.api.nesting import MAX_DEPTH, expanded_size, text_depth_error, value_depth_error
from kubelite.api.numbers import BigNumber


def nested(opening: str, depth: int) -> str:
    closing = "]" if opening == "[" else "}"
    inner = "[" + "]" if opening == "[" else "{}"
    if opening == "{":
        return '{"a":' * (depth - 1) + inner + "}" * (depth - 1)
    return opening * (depth - 1) + inner + closing * (depth - 1)


@pytest.mark.parametrize(
    ("case", "text", "error"),
    [
        ("an array at the limit is accepted", nested("[", MAX_DEPTH), None),
        ("an object at the limit is accepted", nested("{", MAX_DEPTH), None),
        (
            "an array one level deeper is refused at its bracket",
            nested("[", MAX_DEPTH + 1),
            "invalid character '[' exceeded max depth",
        ),
        (
            "an object one level deeper is refused at its brace",
            nested("{", MAX_DEPTH + 1),
            "invalid character '{' exceeded max depth",
        ),
        ("brackets inside a string do not count", json.dumps({"a": "[" * 500}), None),
        (
            "an escaped quote does not end the string",
            json.dumps({"a": '\\"' + "[" * 500}),
            None,
        ),
        (
            "an escaped backslash does end it before the quote",
            '{"a":"\\\\",' + '"b":' + "[" * 200 + "]" * 200 + "}",
            "invalid character '[' exceeded max depth",
        ),
        ("many shallow arrays are not deep", "[" + ",".join(["[]"] * 5000) + "]", None),
    ],
)
def test_text_depth(case: str, text: str, error: str | None) -> None:
    assert text_depth_error(text.encode()) == error


def test_the_value_check_names_the_first_container_in_document_order() -> None:
    value = [{"a": [1]}, json.loads(nested("[", MAX_DEPTH)), json.loads(nested("{", 300))]
    assert value_depth_error(value) == "invalid character '[' exceeded max depth"
    assert value_depth_error(json.loads(nested("{", MAX_DEPTH))) is None


def test_a_body_deeper_than_python_can_parse_is_a_nesting_error_not_a_recursion_error() -> None:
    with pytest.raises(Undecodable) as err:
        parse_json(b"[" * 100_000 + b"]" * 100_000)
    assert err.value.detail == "invalid character '[' exceeded max depth"


def test_a_body_python_parses_but_kubelite_does_not_accept_is_refused_too() -> None:
    with pytest.raises(Undecodable) as err:
        parse_json(nested("{", 500).encode())
    assert err.value.detail == "invalid character '{' exceeded max depth"


def test_yaml_too_deep_names_kubelites_limit() -> None:
    with pytest.raises(Undecodable) as err:
        parse_yaml(("a: " + "[" * 5000 + "]" * 5000).encode())
    assert err.value.detail == (
        f"error converting YAML to JSON: yaml: exceeded max depth of {MAX_DEPTH}"
    )


def test_yaml_aliases_that_expand_exponentially_are_refused_quickly() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    with pytest.raises(Undecodable) as err:
        parse_yaml("\n".join(lines).encode())
    assert err.value.detail.endswith("yaml: document contains excessive aliasing")


def test_expanded_size_counts_shared_parts_at_every_place_and_stops_at_the_cap() -> None:
    shared = [1, 2, 3]
    assert expanded_size({"a": shared, "b": shared}, 100) == 9
    assert expanded_size([shared] * 1000, 50) == 50
    assert MAX_YAML_NODES >= 100_000


@pytest.mark.parametrize(
    ("case", "text", "expected"),
    [
        ("a number too large for a float keeps its digits", b'{"m": 1e1000}', {"m": "1e1000"}),
        ("an ordinary float is a float", b'{"m": 1.5}', {"m": 1.5}),
        ("a big integer stays exact", b'{"m": 123456789012345678901234567890}',
         {"m": 123456789012345678901234567890}),
    ],
)  # fmt: skip
def test_numbers_read_as_the_api_server_reads_them(
    case: str, text: bytes, expected: object
) -> None:
    value = parse_json(text)
    assert value == expected
    if isinstance(value["m"], str):
        assert isinstance(value["m"], BigNumber)


@pytest.mark.parametrize("word", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(word: str) -> None:
    with pytest.raises(ApiError) as err:
        parse_json(f'{{"a": {word}}}'.encode())
    assert err.value.code == 400
    assert "looking for beginning of value" in err.value.message


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (b"", "<empty>"),
        (b'{"apiVersion":"v1"}', '{"apiVersion":"v1"}'),
        (b'{"apiVersion":"v1","kind":"Pod","metadata":{}}', '{"apiVersion":"v1","kind":"Pod ...'),
        (b"[[[[", "5b5b5b5b"),
    ],
)
def test_an_unrecognized_body_is_summarized_as_the_api_server_does(raw: bytes, shown: str) -> None:
    assert summarize(raw) == shown
