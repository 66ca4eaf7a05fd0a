"""The web view's login tokens and sessions, on a manual clock: single use, lifetimes, idle
expiry, bounds, logout."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from kubelite.clock import ManualClock
from kubelite.ui.sessions import LoginTokens, Sessions, digest


def counter(prefix: str) -> Callable[[], str]:
    numbers = itertools.count(1)
    return lambda: f"{prefix}{next(numbers)}"


def tokens(clock: ManualClock, **kw: Any) -> LoginTokens:
    return LoginTokens(clock=clock, make_secret=counter("t"), **kw)


def sessions(clock: ManualClock, **kw: Any) -> Sessions:
    return Sessions(clock=clock, make_secret=counter("s"), **kw)


async def test_a_login_token_opens_once_and_never_again() -> None:
    t = tokens(ManualClock())
    token = t.issue()
    assert t.redeem(token) is True
    assert t.redeem(token) is False


@pytest.mark.parametrize(
    ("waited", "accepted"),
    [(0.0, True), (599.0, True), (600.0, False), (3600.0, False)],
    ids=["at once", "just before ten minutes", "at ten minutes", "an hour later"],
)
async def test_a_login_token_lasts_ten_minutes(waited: float, accepted: bool) -> None:
    clock = ManualClock()
    t = tokens(clock)
    token = t.issue()
    await clock.advance(waited)
    assert t.redeem(token) is accepted


async def test_a_token_that_was_never_issued_opens_nothing() -> None:
    t = tokens(ManualClock())
    t.issue()
    assert t.redeem("guessed") is False
    assert t.redeem("") is False


async def test_an_expired_token_is_forgotten_even_if_never_redeemed() -> None:
    clock = ManualClock()
    t = tokens(clock)
    t.issue()
    assert len(t) == 1
    await clock.advance(601)
    assert len(t) == 0


async def test_issuing_beyond_the_limit_drops_the_oldest_token() -> None:
    t = tokens(ManualClock(), limit=2)
    first, second, third = t.issue(), t.issue(), t.issue()
    assert (t.redeem(first), t.redeem(second), t.redeem(third)) == (False, True, True)


async def test_tables_keep_digests_not_secrets() -> None:
    clock = ManualClock()
    t, s = tokens(clock), sessions(clock)
    token, session_id = t.issue(), s.open("kubelite:ui")
    assert token not in vars(t)["_deadlines"] and digest(token) in vars(t)["_deadlines"]
    assert session_id not in vars(s)["_sessions"] and digest(session_id) in vars(s)["_sessions"]


async def test_a_session_acts_as_the_user_it_was_opened_for() -> None:
    clock = ManualClock()
    s = sessions(clock)
    session_id = s.open("kubelite:ui")
    await clock.advance(5)
    found = s.lookup(session_id)
    assert found is not None and found.user == "kubelite:ui"
    assert found.last_used - found.started == 5


async def test_a_session_used_within_the_hour_stays_open() -> None:
    clock = ManualClock()
    s = sessions(clock)
    session_id = s.open("u")
    for _ in range(5):
        await clock.advance(3000)
        assert s.lookup(session_id) is not None


async def test_a_session_left_idle_for_an_hour_ends() -> None:
    clock = ManualClock()
    s = sessions(clock)
    session_id = s.open("u")
    await clock.advance(3600)
    assert s.lookup(session_id) is None
    assert len(s) == 0


async def test_a_session_ends_after_twelve_hours_however_busy() -> None:
    clock = ManualClock()
    s = sessions(clock)
    session_id = s.open("u")
    for _ in range(14):
        await clock.advance(2999)
        s.lookup(session_id)
    await clock.advance(12 * 3600 - 14 * 2999)
    assert s.lookup(session_id) is None


async def test_logout_closes_the_session_once() -> None:
    s = sessions(ManualClock())
    session_id = s.open("u")
    assert s.close(session_id) is True
    assert s.lookup(session_id) is None
    assert s.close(session_id) is False


async def test_beyond_the_limit_the_least_recently_used_session_goes() -> None:
    s = sessions(ManualClock(), limit=2)
    a, b = s.open("a"), s.open("b")
    s.lookup(a)  # b is now the least recently used
    c = s.open("c")
    assert [s.lookup(x) is not None for x in (a, b, c)] == [True, False, True]


async def test_an_unknown_session_id_finds_nothing() -> None:
    s = sessions(ManualClock())
    s.open("u")
    assert s.lookup("s2") is None
