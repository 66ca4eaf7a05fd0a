"""The store's indexes: every key in sorted order, and optional indexes of a field's value.

Keys are ``<resource>/<namespace>/<name>``, so in sorted order a namespace's objects of one
kind are one contiguous range: listing them costs the size of the range (found by bisection),
not the size of the store. A field index (``spec.nodeName`` of pods, say) maps each value to
the keys holding it, so a node's pods are found without reading the others.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from kubelite.store.interface import prefix_end

ValueOf = Callable[[dict[str, Any]], str]


class _FieldIndex:
    def __init__(self, prefix: str, value_of: ValueOf) -> None:
        self.prefix = prefix
        self.value_of = value_of
        self.keys_by_value: dict[str, set[str]] = {}
        self.value_by_key: dict[str, str] = {}

    def put(self, key: str, obj: dict[str, Any]) -> None:
        try:
            value = self.value_of(obj)
        except (KeyError, TypeError, ValueError, AttributeError):
            value = ""
        old = self.value_by_key.get(key)
        if old == value:
            return
        if old is not None:
            self._drop(key, old)
        self.value_by_key[key] = value
        self.keys_by_value.setdefault(value, set()).add(key)

    def remove(self, key: str) -> None:
        old = self.value_by_key.pop(key, None)
        if old is not None:
            self._drop(key, old)

    def _drop(self, key: str, value: str) -> None:
        keys = self.keys_by_value.get(value)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self.keys_by_value[value]


class KeyIndex:
    def __init__(self) -> None:
        self._keys: list[str] = []
        self._fields: dict[tuple[str, str], _FieldIndex] = {}

    def __len__(self) -> int:
        return len(self._keys)

    def reset(self, keys: Iterable[str]) -> None:
        self._keys = sorted(keys)

    def put(self, key: str, obj: dict[str, Any], *, new: bool) -> None:
        if new:
            bisect.insort(self._keys, key)
        for index in self._fields.values():
            if key.startswith(index.prefix):
                index.put(key, obj)

    def remove(self, key: str) -> None:
        i = bisect.bisect_left(self._keys, key)
        if i < len(self._keys) and self._keys[i] == key:
            del self._keys[i]
        for index in self._fields.values():
            index.remove(key)

    # -- range reads ---------------------------------------------------------------------------
    def _bounds(self, prefix: str, start: str) -> tuple[int, int]:
        lo = bisect.bisect_left(self._keys, max(prefix, start))
        hi = bisect.bisect_left(self._keys, prefix_end(prefix))
        return lo, max(lo, hi)

    def keys(self, prefix: str, start: str = "") -> list[str]:
        """The keys under ``prefix`` from ``start`` on, sorted."""
        lo, hi = self._bounds(prefix, start)
        return self._keys[lo:hi]

    def iter_keys(self, prefix: str, start: str = "") -> Iterator[str]:
        lo, hi = self._bounds(prefix, start)
        return (self._keys[i] for i in range(lo, hi))

    def count_after(self, prefix: str, key: str) -> int:
        """How many keys under ``prefix`` sort after ``key``."""
        lo = bisect.bisect_right(self._keys, max(prefix, key))
        hi = bisect.bisect_left(self._keys, prefix_end(prefix))
        return max(0, hi - lo)

    # -- field indexes -------------------------------------------------------------------------
    def add_field(
        self, prefix: str, field: str, value_of: ValueOf, objects: Iterable[tuple[str, Any]]
    ) -> None:
        index = _FieldIndex(prefix, value_of)
        for key, obj in objects:
            index.put(key, obj)
        self._fields[(prefix, field)] = index

    def field_prefix(self, prefix: str, field: str) -> str | None:
        """The prefix of an index of ``field`` covering ``prefix`` (a namespace's range lies
        within its kind's index), or None."""
        for (indexed, name), _ in self._fields.items():
            if name == field and prefix.startswith(indexed):
                return indexed
        return None

    def matching(self, indexed: str, field: str, value: str, prefix: str, start: str) -> list[str]:
        """The sorted keys under ``prefix`` from ``start`` whose ``field`` is ``value``."""
        index = self._fields[(indexed, field)]
        end = prefix_end(prefix)
        begin = max(prefix, start)
        return sorted(k for k in index.keys_by_value.get(value, ()) if begin <= k < end)
