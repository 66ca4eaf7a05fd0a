"""Go's text for durations, quoted strings, addresses and dial errors (BO-5, EV-2, PR-6)."""

import errno
import socket

import pytest

from kubelite.agent.gotext import (
    dial_error,
    go_duration,
    go_duration_ms,
    go_quote,
    join_host_port,
)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (10, "10s"),
        (40, "40s"),
        (80, "1m20s"),
        (90, "1m30s"),
        (160, "2m40s"),
        (300, "5m0s"),
        (3600, "1h0m0s"),
        (0.2, "200ms"),
        (0.868, "868ms"),
        (9.477, "9.477s"),
        (1.5, "1.5s"),
        (0.0000015, "1.5µs"),
    ],
)
def test_bo5_go_duration_text(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text


def test_ev2_pull_durations_are_truncated_to_milliseconds() -> None:
    assert go_duration_ms(9.4779) == "9.477s"


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("plain", '"plain"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("a\\b", '"a\\\\b"'),
        ("line\nnext\ttab", '"line\\nnext\\ttab"'),
        ("bell\x07 esc\x1b", '"bell\\a esc\\x1b"'),
    ],
)
def test_go_quote_escapes_as_percent_q_does(text: str, quoted: str) -> None:
    assert go_quote(text) == quoted


@pytest.mark.parametrize(
    ("host", "address"),
    [("10.0.0.1", "10.0.0.1:80"), ("localhost", "localhost:80"), ("fd00::1", "[fd00::1]:80")],
)
def test_an_ipv6_host_is_bracketed_in_an_address(host: str, address: str) -> None:
    assert join_host_port(host, 80) == address


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (ConnectionRefusedError(), "dial tcp 10.0.0.1:80: connect: connection refused"),
        (
            OSError(errno.EHOSTUNREACH, "No route to host"),
            "dial tcp 10.0.0.1:80: connect: no route to host",
        ),
        (
            socket.gaierror(-2, "Name or service not known"),
            "dial tcp: lookup 10.0.0.1: no such host",
        ),
    ],
)
def test_a_failed_connect_is_worded_as_go_net_words_it(error: OSError, text: str) -> None:
    assert dial_error(error, "10.0.0.1", 80) == text
