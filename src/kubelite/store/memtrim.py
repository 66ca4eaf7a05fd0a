"""Giving memory back to the system once stored objects are gone, and keeping the garbage
collector's pauses short in a server holding many long-lived objects.

CPython frees a deleted object's JSON text, but glibc keeps the freed pages in the process's
heap, so the resident size stays at its peak after every pod is deleted. ``release_free_memory``
collects cycles and asks glibc to return free pages (``malloc_trim``); on a C library without
it, only the collection happens. ``ShrinkWatch`` decides when that is worth doing: after the
objects the store holds have shrunk well below their peak since the last release.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
from collections.abc import Callable
from functools import cache

log = logging.getLogger(__name__)

RELEASE_AFTER_BYTES = 4 * 1024 * 1024  # a fall from the peak worth a release


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        trim: Callable[[int], int] | None = getattr(libc, "malloc_trim", None) if libc else None
        return trim
    except OSError:
        return None


def release_free_memory() -> bool:
    """Collect garbage and return free heap pages to the system; True if glibc did."""
    gc.collect()
    trim = _malloc_trim()
    if trim is None:
        return False
    return bool(trim(0))


class ShrinkWatch:
    """Tracks a footprint's peak; ``due`` when it has fallen ``threshold`` bytes below it."""

    def __init__(self, threshold: int = RELEASE_AFTER_BYTES) -> None:
        self._threshold = threshold
        self._peak = 0

    def due(self, footprint: int) -> bool:
        self._peak = max(self._peak, footprint)
        if self._peak - footprint < self._threshold:
            return False
        self._peak = footprint
        return True


# A server process holds hundreds of thousands of long-lived objects (the in-process
# controllers' caches of every pod); with CPython's default thresholds a full collection walks
# them all several times a minute, a pause of 100 ms and more that every request in flight
# waits out. Young collections less often, full ones rarely: what the server makes is almost
# all acyclic JSON data, freed by reference counting anyway.
SERVER_GC_THRESHOLDS = (50_000, 20, 100)


def tune_gc_for_server() -> None:
    """Move what exists now (modules, start-up state) out of the collector's sight and space
    collections out (``SERVER_GC_THRESHOLDS``). Process-wide: for ``kubelite up`` only."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SERVER_GC_THRESHOLDS)
