"""Event names as client-go's recorder makes them: ``<object>.<hex nanoseconds>``, so one
object's events sort by name in the order they were made."""

from __future__ import annotations

import pytest

from kubelite.model.eventname import EventNamer, event_name, nanoseconds


@pytest.mark.parametrize(
    ("case", "name", "at_ns", "expected"),
    [
        (
            "the time is lowercase hex nanoseconds",
            "web",
            0x17F3A5B2C3D4E5F6,
            "web.17f3a5b2c3d4e5f6",
        ),
        ("a dotted object name is kept whole", "web.v2", 255, "web.v2.ff"),
        ("the hex has no padding", "node-1", 16, "node-1.10"),
    ],
)
def test_an_event_is_named_after_its_object_and_moment(
    case: str, name: str, at_ns: int, expected: str
) -> None:
    assert event_name(name, at_ns) == expected


def test_seconds_become_whole_nanoseconds() -> None:
    assert nanoseconds(1.5) == 1_500_000_000
    assert nanoseconds(1_700_000_000.25) == 1_700_000_000_250_000_000


@pytest.mark.parametrize(
    ("case", "times"),
    [
        ("a clock that moves on", [100.0, 100.5, 101.0]),
        ("a clock that repeats an instant", [100.0, 100.0, 100.0]),
        ("a clock that steps back", [100.0, 99.0, 100.0]),
    ],
)
def test_one_emitters_names_never_repeat_and_sort_in_the_order_made(
    case: str, times: list[float]
) -> None:
    namer = EventNamer()
    names = [namer.name("web", t) for t in times]
    stamps = [int(n.rsplit(".", 1)[1], 16) for n in names]
    assert len(set(names)) == len(names)
    assert stamps == sorted(stamps)
    assert stamps[0] == nanoseconds(times[0])


def test_names_of_events_made_later_sort_later_as_kubectl_lists_them() -> None:
    namer = EventNamer()
    early, late = namer.name("web", 1_700_000_000.0), namer.name("web", 1_700_000_009.0)
    assert early < late and len(early) == len(late)
