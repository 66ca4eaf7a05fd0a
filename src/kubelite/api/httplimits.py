"""Limits on the request line and headers, answered with Status bodies.

The API server (Go's net/http) reads at most 1 MiB of request line and headers
(``MaxHeaderBytes``). aiohttp's parser limits each line instead, and answers a request it cannot
parse with a plain-text 400 and an abrupt close. ``LimitedAppRunner`` sets limits of Go's size
and answers: a request line over ``MAX_REQUEST_LINE`` is a 414, a header over
``MAX_HEADER_FIELD`` (or more than ``MAX_HEADERS`` of them) a 431, any other unparsable request
a 400 — each a Kubernetes ``Status``. After such an answer the connection is half-closed and
what the client still sends is read and dropped for a moment (Go's ``closeWriteAndWait``), so
the client reads the answer instead of a connection reset.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage, HttpProcessingError, LineTooLong
from aiohttp.web_protocol import RequestHandler

from kubelite.api.errors import status_body
from kubelite.api.respond import dumps

log = logging.getLogger(__name__)

MAX_REQUEST_LINE = (1 << 20) + 4096  # Go reads MaxHeaderBytes plus 4096 before giving up
MAX_HEADER_FIELD = 1 << 20
MAX_HEADERS = 1024
LINGER_SECONDS = 0.5

URI_TOO_LONG = "Request URI Too Long"  # Go's http.StatusText
HEADERS_TOO_LARGE = "Request Header Fields Too Large"


def parse_error_status(exc: BaseException | None) -> tuple[int, dict[str, Any]]:
    """The code and Status body for a request aiohttp could not parse."""
    if isinstance(exc, LineTooLong) and len(exc.args) > 1 and exc.args[1] == MAX_REQUEST_LINE:
        return 414, status_body(414, "", URI_TOO_LONG)
    if isinstance(exc, LineTooLong) or (
        isinstance(exc, BadHttpMessage) and exc.message == "Too many headers received"
    ):
        return 431, status_body(431, "", HEADERS_TOO_LARGE)
    message = exc.message if isinstance(exc, HttpProcessingError) else "Bad Request"
    return 400, status_body(400, "BadRequest", message or "Bad Request")


class _StatusResponse(web.Response):
    """A parse error's answer, after which the connection lingers before it closes."""


class _LimitedRequestHandler(RequestHandler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._gone = asyncio.Event()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._gone.set()
        super().connection_lost(exc)

    def handle_error(
        self,
        request: Any,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if status == 500 and not isinstance(exc, HttpProcessingError):
            return super().handle_error(request, status, exc, message)
        log.debug("refused an unparsable request from %s: %s", request.remote, exc)
        code, body = parse_error_status(exc)
        resp = _StatusResponse(status=code, text=dumps(body), content_type="application/json")
        resp.force_close()
        return resp

    async def finish_response(
        self, request: Any, resp: web.StreamResponse, start_time: float | None
    ) -> tuple[web.StreamResponse, bool]:
        result = await super().finish_response(request, resp, start_time)
        if isinstance(resp, _StatusResponse):
            await self._linger()
        return result

    async def _linger(self) -> None:
        """Half-close, then drop what the client still sends for a moment before closing."""
        transport = self.transport
        if transport is None:
            return
        self._close = True  # data_received drops what arrives from now on
        with contextlib.suppress(OSError, RuntimeError, NotImplementedError):
            if transport.can_write_eof():
                transport.write_eof()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(LINGER_SECONDS):
                await self._gone.wait()


class _LimitedServer(web.Server):
    def __call__(self) -> RequestHandler:
        return _LimitedRequestHandler(self, loop=self._loop, **self._kwargs)


class LimitedAppRunner(web.AppRunner):
    """``web.AppRunner`` whose connections apply the limits above."""

    def __init__(self, app: web.Application, **kwargs: Any) -> None:
        kwargs.setdefault("max_line_size", MAX_REQUEST_LINE)
        kwargs.setdefault("max_field_size", MAX_HEADER_FIELD)
        kwargs.setdefault("max_headers", MAX_HEADERS)
        super().__init__(app, **kwargs)

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _LimitedServer
        return server
