"""What request handlers share: the registry, the clock and the node-side backends: this
node's logs and exec in process, other nodes' servers through ``nodes``."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from kubelite.api.nodeconn import NodeConnector
from kubelite.api.streams import ExecBackend, LogSource
from kubelite.clock import Clock
from kubelite.registry.service import Registry


@dataclass(slots=True)
class ApiContext:
    registry: Registry
    clock: Clock
    logs: LogSource | None = None
    exec: ExecBackend | None = None
    nodes: NodeConnector | None = None  # None: every pod's streams are served in process


CONTEXT: web.AppKey[ApiContext] = web.AppKey("kubelite_api_context", ApiContext)


def context_of(request: web.Request) -> ApiContext:
    return request.app[CONTEXT]
