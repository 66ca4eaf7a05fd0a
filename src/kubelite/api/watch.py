"""The watch stream: ``GET <collection>?watch=true``, one JSON event per line.

resourceVersion semantics: unset or "0" sends a synthetic ADDED for every current object first
(kubectl's single-object ``get -w`` drops the first event and relies on it), then changes;
"N" sends only changes after N. A revision older than the store keeps gets one ERROR event with
a 410 ``Expired`` Status, then the stream ends. ``timeoutSeconds`` ends the stream cleanly;
without it the stream lasts until the client goes away. Table output wraps each object in a
one-row Table, with column definitions on the first event only.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from contextlib import aclosing
from typing import Any

from aiohttp import web

from kubelite.api import params, tables
from kubelite.api.context import ApiContext
from kubelite.api.errors import ApiError, to_status
from kubelite.api.paths import Target
from kubelite.api.respond import dumps
from kubelite.model.objects import Obj
from kubelite.registry.service import parse_resource_version
from kubelite.store.interface import Compacted

BOOKMARK_EVERY = 60.0
IDLE_CHECK = 2.0


class _Writer:
    def __init__(
        self, ctx: ApiContext, t: Target, resp: web.StreamResponse, table: bool, include: str
    ) -> None:
        self.ctx, self.t, self.resp = ctx, t, resp
        self.table, self.include = table, include
        self.first = True

    async def send(self, type_: str, obj: Obj, text: str | None = None) -> None:
        """``text`` is ``obj`` as JSON when the store has it, sent as it is."""
        if text is not None and not self.table:
            await self.resp.write(f'{{"type":"{type_}","object":{text}}}\n'.encode())
            return
        body: Any = obj
        if self.table and type_ in ("ADDED", "MODIFIED", "DELETED"):
            body = tables.table(
                self.t.kind,
                [obj],
                self.ctx.clock.now(),
                resource_version=obj.get("metadata", {}).get("resourceVersion", ""),
                include=self.include,
                headers=self.first,
            )
            self.first = False
        await self.resp.write((dumps({"type": type_, "object": body}) + "\n").encode())


def _since(raw: str | None) -> int | None:
    """The revision to watch from; None: from the current state. A resourceVersion that is not
    an unsigned integer gets what the API server's watch cache answers: its parse error as a
    500 with no reason (the cache returns it without making it a Status)."""
    if raw in (None, "", "0"):
        return None
    try:
        return parse_resource_version(raw)
    except ValueError as exc:
        raise ApiError(500, "", str(exc)) from None


async def watch(ctx: ApiContext, request: web.Request, t: Target) -> web.StreamResponse:
    q = request.query
    sel = params.selection(q, t.kind)
    since = _since(q.get("resourceVersion"))
    timeout = params.integer(q, "timeoutSeconds")
    bookmarks = params.flag(q, "allowWatchBookmarks")
    table = tables.wants_table(request.headers.get("Accept", ""))
    include = params.include_object(q)
    ns = None if t.all_namespaces else t.namespace
    resp = web.StreamResponse(status=200)
    resp.content_type = tables.TABLE_CONTENT_TYPE if table else "application/json"
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    writer = _Writer(ctx, t, resp, table, include)
    with contextlib.suppress(TimeoutError, ConnectionResetError):
        async with asyncio.timeout(timeout if timeout and timeout > 0 else None):
            if since is None:
                items, since = await ctx.registry.list(t.kind, ns, sel)
                for obj in items:
                    await writer.send("ADDED", obj)
            await _follow(ctx, request, t, ns, since, sel, writer, bookmarks)
    with contextlib.suppress(ConnectionResetError, RuntimeError):
        await resp.write_eof()
    return resp


async def _follow(
    ctx: ApiContext,
    request: web.Request,
    t: Target,
    ns: str | None,
    since: int,
    sel: Any,
    writer: _Writer,
    bookmarks: bool,
) -> None:
    events = ctx.registry.watch(t.kind, ns, since, sel)
    next_bookmark = asyncio.get_running_loop().time() + BOOKMARK_EVERY * random.uniform(0.5, 1)
    try:
        async with aclosing(events):
            iterator = aiter(events)
            pending: asyncio.Task[Any] | None = None
            try:
                while True:
                    # One task per event, kept across idle checks: not a race with a timer
                    # (``model.race``), because cancelling ``anext`` would end the stream.
                    if pending is None:
                        pending = asyncio.ensure_future(anext(iterator))
                    done, _ = await asyncio.wait({pending}, timeout=IDLE_CHECK)
                    if request.transport is None or request.transport.is_closing():
                        return
                    if not done:
                        now = asyncio.get_running_loop().time()
                        if bookmarks and now >= next_bookmark:
                            next_bookmark = now + BOOKMARK_EVERY
                            await _bookmark(ctx, t, writer)
                        continue
                    ev = pending.result()
                    pending = None
                    await writer.send(ev.type, ev.object, ev.text)
            finally:
                if pending is not None and not pending.done():
                    pending.cancel()
                    with contextlib.suppress(BaseException):
                        await pending
    except Compacted as exc:
        _, status = to_status(exc)
        await writer.send("ERROR", status)


async def _bookmark(ctx: ApiContext, t: Target, writer: _Writer) -> None:
    rev = str(ctx.registry.store.current_revision())
    obj = {
        "kind": t.kind.kind,
        "apiVersion": t.kind.api_version,
        "metadata": {"resourceVersion": rev},
    }
    await writer.send("BOOKMARK", obj)
