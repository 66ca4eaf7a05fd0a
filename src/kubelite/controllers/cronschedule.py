"""A CronJob's schedule as the CronJob controller reads it (PURE): the times it fires, in the
CronJob's time zone (its ``timeZone``, else the controller's, which for kubelite is UTC), and
which of them is the one to run now.

Five-field schedules and the descriptors (@hourly … @yearly) are computed by croniter (``?`` is
read as ``*``, as robfig/cron reads it); ``@every <duration>`` fires every so many seconds from
the last time it fired. ``most_recent`` is the controller's mostRecentScheduleTime: the latest
time not after ``now`` since the last scheduled run (or the CronJob's creation), and whether
more than 100 were missed.
"""

from __future__ import annotations

import math
import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from croniter import croniter

MANY_MISSED = 100
_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0,
          "h": 3600.0}  # fmt: skip
_PART = re.compile(r"([0-9]*\.?[0-9]+)(ns|us|µs|μs|ms|s|m|h)")


class BadSchedule(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Schedule:
    expression: str  # five fields for croniter, or "" for a constant delay
    every: float = 0.0  # @every's seconds
    zone: tzinfo = UTC

    def next(self, after: datetime) -> datetime:
        """The first firing strictly after ``after`` (whole seconds, as robfig/cron)."""
        start = after.astimezone(self.zone).replace(microsecond=0)
        if self.every:
            return start + timedelta(seconds=max(1.0, math.floor(self.every)))
        nxt: datetime = croniter(self.expression, start).get_next(datetime)
        return nxt


def zone_of(name: str | None) -> tzinfo:
    """The CronJob's zone (UTC when unset); ``BadSchedule`` if there is no such zone."""
    if name is None:
        return UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise BadSchedule(f"unknown time zone {name}") from None


def parse(text: str, zone: tzinfo = UTC) -> Schedule:
    spec = text.strip()
    if spec.startswith(("TZ=", "CRON_TZ=")):  # allowed on CronJobs made before timeZone
        head, _, spec = spec.partition(" ")
        zone = zone_of(head.split("=", 1)[1])
        spec = spec.strip()
    if spec.startswith("@every "):
        seconds = _duration(spec[len("@every ") :])
        if seconds is None:
            raise BadSchedule(f"failed to parse duration {spec}")
        return Schedule("", every=seconds, zone=zone)
    spec = _DESCRIPTORS.get(spec, spec)
    fields = spec.split()
    if len(fields) != 5:
        raise BadSchedule(f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]")
    spec = " ".join("*" if f == "?" else f for f in fields)
    if not croniter.is_valid(spec):
        raise BadSchedule(f"invalid schedule: {text}")
    return Schedule(spec, zone=zone)


def _duration(text: str) -> float | None:
    total, pos = 0.0, 0
    for m in _PART.finditer(text):
        if m.start() != pos:
            return None
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    return total if pos == len(text) and total > 0 else None


@dataclass(frozen=True, slots=True)
class Recent:
    earliest: datetime  # the last run, or the CronJob's creation
    time: datetime | None  # the latest firing not after now (None: none due)
    many_missed: bool


def most_recent(
    schedule: Schedule, earliest: datetime, now: datetime, deadline: int | None = None
) -> Recent:
    """The latest firing in (earliest, now]; with a starting deadline, firings older than
    ``now - deadline`` are not looked at."""
    if deadline is not None:
        earliest = max(earliest, now - timedelta(seconds=deadline))
    t1 = schedule.next(earliest)
    if now < t1:
        return Recent(earliest, None, False)
    t2 = schedule.next(t1)
    if now < t2:
        return Recent(earliest, t1, False)
    between = round((t2 - t1).total_seconds())
    if between < 1:
        raise BadSchedule("time difference between two schedules is less than 1 second")
    missed = int((now - t1).total_seconds()) // between + 1
    t = schedule.next(t1 + timedelta(seconds=(missed - 2) * between))
    latest = None
    while t <= now:
        latest = t
        t = schedule.next(t)
    return Recent(earliest, latest, missed > MANY_MISSED)


def next_delay(schedule: Schedule, last: datetime, now: datetime) -> float:
    """Seconds until the controller should look again: the next firing after the latest one
    due (or after the last run), plus 100 ms, as the controller waits."""
    try:
        recent = most_recent(schedule, last, now)
        base = recent.time or recent.earliest
    except BadSchedule:
        base = now
    return max(0.0, (schedule.next(base) - now).total_seconds() + 0.1)
