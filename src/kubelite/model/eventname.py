"""Names of core/v1 Events, as client-go's event recorder makes them: ``<object>.<hex ns>``.

The recorder names an Event after the object it is about and the moment it was made, in
nanoseconds since the epoch written in lowercase hexadecimal (``web.1820e3b4c1a2f0d8``).
Names of one object's events therefore sort in the order they were made, which is the order
``kubectl get events`` lists them by name and ``kubectl describe`` shows them.

``EventNamer`` is the stateful edge: one emitter's names are strictly increasing even when
its clock repeats an instant (a manual clock in tests, or two events within the float
clock's resolution), so two events never collide on a name.
"""

from __future__ import annotations

NANOS = 1_000_000_000


def event_name(object_name: str, at_ns: int) -> str:
    """The recorder's name for an event about ``object_name`` made at ``at_ns``."""
    return f"{object_name}.{at_ns:x}"


def nanoseconds(now: float) -> int:
    """Epoch seconds (a Clock's ``now``) as whole nanoseconds (the whole seconds exactly, the
    fraction to the float's precision)."""
    whole = int(now)
    return whole * NANOS + round((now - whole) * NANOS)


class EventNamer:
    """Hands out event names whose time part never repeats or goes back for this emitter."""

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last = 0

    def name(self, object_name: str, now: float) -> str:
        at = max(nanoseconds(now), self._last + 1)
        self._last = at
        return event_name(object_name, at)
