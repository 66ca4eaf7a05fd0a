"""The text of a failed scheduling attempt, as kube-scheduler writes it (``FitError.Error``).

``0/<all nodes> nodes are available: `` then either PreFilter's refusal (``<msg>.``) or the
reasons the nodes were refused, counted: ``<count> <reason>`` for each distinct reason, sorted
as strings and joined by ``, ``, closed by ``.``; nodes PreFilter left out count under its
status. PostFilter's (preemption's) message follows after a space. The event carries the text
cut to 1024 bytes (``truncateMessage``); the PodScheduled condition carries it whole.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

from kubelite.scheduler.status import Status

NO_NODES = "no nodes available to schedule pods"
NOTE_LIMIT = 1024  # the events API's note length


def fit_error(
    all_nodes: int,
    statuses: Mapping[str, Status],
    *,
    absent: Status | None = None,
    prefilter: str = "",
    postfilter: str = "",
) -> str:
    message = f"0/{all_nodes} nodes are available:"
    if prefilter:
        message += f" {prefilter}."
    else:
        counts: dict[str, int] = {}
        for status in statuses.values():
            for reason in status.reasons:
                counts[reason] = counts.get(reason, 0) + 1
        missing = all_nodes - len(statuses)
        if absent is not None and missing > 0:
            for reason in absent.reasons:
                counts[reason] = counts.get(reason, 0) + missing
        histogram = sorted(f"{n} {reason}" for reason, n in counts.items())
        if histogram:
            message += f" {', '.join(histogram)}."
    if postfilter:
        message += f" {postfilter}"
    return message


def truncate(message: str) -> str:
    """The event's note: at most 1024 bytes, cut with `` ...``."""
    raw = message.encode()
    if len(raw) <= NOTE_LIMIT:
        return message
    suffix = " ..."
    return raw[: NOTE_LIMIT - len(suffix)].decode(errors="ignore") + suffix
