"""Whether a CronJob's schedule parses, judged as the API server judges it (robfig/cron's
standard parser: five fields or a descriptor), with that parser's error texts, which the 422
quotes: ``expected exactly 5 fields, found 1: [hello]``, ``end of range (60) above maximum
(59): 60``, ``failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax`` …

Fields: minute 0-59, hour 0-23, day of month 1-31, month 1-12 (or jan-dec), day of week 0-6
(or sun-sat); each a comma list of ``*``/``?``, ``N``, ``N-M``, with an optional ``/step``.
Descriptors: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, @every <dur>.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass

_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
MONTHS = {m: i + 1 for i, m in enumerate(_MONTH_NAMES)}
DAYS = {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")


@dataclass(frozen=True, slots=True)
class Bounds:
    low: int
    high: int
    names: dict[str, int] | None = None


FIELDS = (
    Bounds(0, 59),
    Bounds(0, 23),
    Bounds(1, 31),
    Bounds(1, 12, MONTHS),
    Bounds(0, 6, DAYS),
)


class ScheduleError(ValueError):
    """The parser's complaint, worded as robfig/cron words it."""


def check_schedule(spec: str) -> None:
    """Raise ``ScheduleError`` if ``spec`` is not a schedule the API server accepts."""
    if not spec:
        raise ScheduleError("empty spec string")
    if spec.startswith(("TZ=", "CRON_TZ=")):
        spec = _strip_zone(spec)
    if spec.startswith("@"):
        _check_descriptor(spec)
        return
    fields = spec.split()
    if len(fields) != len(FIELDS):
        shown = "[" + " ".join(fields) + "]"
        raise ScheduleError(f"expected exactly 5 fields, found {len(fields)}: {shown}")
    for text, bounds in zip(fields, FIELDS, strict=True):
        for expr in [e for e in text.split(",") if e]:
            _check_range(expr, bounds)


def _strip_zone(spec: str) -> str:
    space, eq = spec.find(" "), spec.find("=")
    zone = spec[eq + 1 : space] if space > eq else spec[eq + 1 :]
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"provided bad location {zone}: unknown time zone {zone}") from None
    return spec[space:].strip() if space > 0 else ""


def _check_descriptor(spec: str) -> None:
    if spec in DESCRIPTORS:
        return
    every = "@every "
    if spec.startswith(every):
        text = spec[len(every) :]
        if go_duration(text) is None:
            raise ScheduleError(f'failed to parse duration {spec}: time: invalid duration "{text}"')
        return
    raise ScheduleError(f"unrecognized descriptor: {spec}")


def _check_range(expr: str, b: Bounds) -> None:
    range_and_step = expr.split("/")
    low_high = range_and_step[0].split("-")
    if low_high[0] in ("*", "?"):
        start, end = b.low, b.high
    else:
        start = _int_or_name(low_high[0], b.names)
        if len(low_high) == 1:
            end = start
        elif len(low_high) == 2:
            end = _int_or_name(low_high[1], b.names)
        else:
            raise ScheduleError(f"too many hyphens: {expr}")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _int(range_and_step[1])
        if len(low_high) == 1:
            end = b.high  # "N/step" runs from N to the field's maximum
    else:
        raise ScheduleError(f"too many slashes: {expr}")
    if start < b.low:
        raise ScheduleError(f"beginning of range ({start}) below minimum ({b.low}): {expr}")
    if end > b.high:
        raise ScheduleError(f"end of range ({end}) above maximum ({b.high}): {expr}")
    if start > end:
        raise ScheduleError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise ScheduleError(f"step of range should be a positive number: {expr}")


def _int_or_name(text: str, names: dict[str, int] | None) -> int:
    if names is not None and text.lower() in names:
        return names[text.lower()]
    return _int(text)


_ATOI = re.compile(r"^[+-]?[0-9]+$")


def _int(text: str) -> int:
    """strconv.Atoi, then no negatives."""
    if not _ATOI.match(text):
        raise ScheduleError(
            f'failed to parse int from {text}: strconv.Atoi: parsing "{text}": invalid syntax'
        )
    num = int(text)
    if num < 0:
        raise ScheduleError(f"negative number ({num}) not allowed: {text}")
    return num


_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0,
          "h": 3600.0}  # fmt: skip
_DURATION = re.compile(r"([0-9]*\.?[0-9]+)(ns|us|µs|μs|ms|s|m|h)")


def go_duration(text: str) -> float | None:
    """Seconds in a Go duration (``90s``, ``1h30m``, ``1.5h``), or None if it is not one."""
    body = text[1:] if text[:1] in "+-" else text
    if body == "0":
        return 0.0
    if not body:
        return None
    total, pos = 0.0, 0
    for m in _DURATION.finditer(body):
        if m.start() != pos:
            return None
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(body):
        return None
    return -total if text.startswith("-") else total
