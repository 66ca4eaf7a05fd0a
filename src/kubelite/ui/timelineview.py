"""The pod page's timeline picture: the pod's PodLifecycle record
(``kubelite.dev/v1alpha1``), read as the session's user, drawn by ``kubelite.timeline.render``.

Drawing takes a while (matplotlib), so it runs in a worker thread, one picture at a time, and
the last pictures are kept by the record's resourceVersion: the page asks again each time the
record changes, and several pages showing one pod cost one drawing per change.
"""

from __future__ import annotations

import asyncio
import importlib
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, cast

from kubelite.api.auth import UserInfo
from kubelite.api.errors import ApiError
from kubelite.registry import catalog
from kubelite.store.interface import NotFound
from kubelite.ui.access import Reader

Render = Callable[[Mapping[str, Any], str], bytes]

GROUP, VERSION, PLURAL = "kubelite.dev", "v1alpha1", "podlifecycles"
KEEP = 32
NO_RECORD = "no lifecycle record yet"


def no_record(detail: str) -> ApiError:
    return ApiError(404, "NotFound", f"{NO_RECORD}: {detail}")


def default_render() -> Render | None:
    """``kubelite.timeline.render``, or None where this kubelite has no timeline renderer."""
    try:
        module = importlib.import_module("kubelite.timeline")
    except ImportError:
        return None
    return cast(Render | None, getattr(module, "render", None))


class TimelinePictures:
    def __init__(self, reader: Reader, *, render: Render | None = None, keep: int = KEEP) -> None:
        self._reader = reader
        self._render = render
        self._keep = keep
        self._pictures: OrderedDict[tuple[str, str, str], bytes] = OrderedDict()
        self._drawing = asyncio.Lock()

    async def svg(self, user: UserInfo, namespace: str, name: str) -> tuple[bytes, str]:
        """The picture and the record's resourceVersion it shows. A 404 ``ApiError`` when there
        is no record (yet), a 403 when the user may not read it."""
        kind = catalog.find(GROUP, VERSION, PLURAL)
        render = self._render or default_render()
        if kind is None or render is None:
            raise no_record("this kubelite keeps no pod lifecycle records")
        try:
            record = await self._reader.get(user, kind, namespace, name)
        except NotFound:
            raise no_record(f'pod "{name}" in namespace "{namespace}" has none') from None
        version = str((record.get("metadata") or {}).get("resourceVersion", ""))
        key = (namespace, name, version)
        async with self._drawing:
            picture = self._pictures.get(key)
            if picture is None:
                picture = await asyncio.to_thread(render, record, "svg")
                self._pictures[key] = picture
                while len(self._pictures) > self._keep:
                    self._pictures.popitem(last=False)
            self._pictures.move_to_end(key)
        return picture, version
