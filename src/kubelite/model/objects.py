"""The words every layer uses for Kubernetes objects as plain data.

Objects travel as JSON-compatible dicts (design: "Data, formats and conventions"). Two aliases
say which way a function holds one, and mypy keeps them apart:

- ``JSON``: an object, or any part of one, that is only read (a view's ``raw``, a status
  being inspected). A ``Mapping``, so writing through it is a type error.
- ``Obj``: an object that is built, stored or changed in place (request bodies, registry
  objects, what a controller writes).

Every ``Obj`` is a ``JSON``, so a function that only reads should take ``JSON``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

JSON = Mapping[str, Any]
Obj = dict[str, Any]

_Named = TypeVar("_Named", bound=Mapping[str, Any])


def by_name(items: Iterable[_Named]) -> dict[str, _Named]:
    """Entries of a list keyed by their ``name`` field (containers, container statuses, ports),
    in list order; a later entry wins over an earlier one of the same name. An entry without a
    name is keyed ``"None"``, as ``str`` spells it, so it matches no real name."""
    return {str(item.get("name")): item for item in items}
