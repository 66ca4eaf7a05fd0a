"""Which pod and container an exec, attach or port-forward request names, checked as the API
server checks it before it reaches the node (``streamLocation``), with its messages; and the
stream options the kubelet reads from the query."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from kubelite.api import params, tunnel
from kubelite.api.context import ApiContext
from kubelite.api.errors import ApiError, bad_request
from kubelite.api.paths import Target
from kubelite.api.remoteclient import Options
from kubelite.api.remotecommand import kubelet_error
from kubelite.api.streams import ExecBackend


async def pod_of(ctx: ApiContext, t: Target) -> dict[str, Any]:
    """The pod (404 if absent), which must be bound to a node."""
    pod = await ctx.registry.get(t.kind, t.namespace, t.name)
    if not (pod.get("spec") or {}).get("nodeName"):
        raise bad_request(f"pod {t.name} does not have a host assigned")
    return pod


def container_names(pod: dict[str, Any]) -> list[str]:
    """Every container's name, in the API server's order: init, app, ephemeral."""
    spec = pod.get("spec") or {}
    return [
        str(c.get("name", ""))
        for key in ("initContainers", "containers", "ephemeralContainers")
        for c in spec.get(key) or []
    ]


def container_of(pod: dict[str, Any], requested: str) -> str:
    """The named container (of any kind), or the only app container when none is named
    (the API server's ``validateContainer``, shared by log, exec and attach)."""
    name = str(pod["metadata"]["name"])
    if requested:
        if requested not in container_names(pod):
            raise bad_request(f"container {requested} is not valid for pod {name}")
        return requested
    containers = (pod.get("spec") or {}).get("containers") or []
    if len(containers) == 1:
        return str(containers[0].get("name", ""))
    if not containers:
        raise bad_request(f"a container name must be specified for pod {name}")
    raise bad_request(
        f"a container name must be specified for pod {name}, choose one of: "
        f"[{' '.join(container_names(pod))}]"
    )


def require_upgrade(request: web.Request) -> None:
    """A streaming subresource is reached only through an upgrade (WebSocket or SPDY)."""
    if not (tunnel.is_websocket(request) or tunnel.is_spdy_upgrade(request)):
        raise ApiError(400, "BadRequest", "Upgrade request required")


def options_of(query: Mapping[str, str]) -> Options | web.Response:
    """The kubelet's reading of ``stdin``/``stdout``/``stderr``/``tty`` (stderr is dropped
    with a TTY); its plain-text 400 when no stream is asked for."""
    tty = params.flag(query, "tty")
    opts = Options(
        stdin=params.flag(query, "stdin"),
        stdout=params.flag(query, "stdout"),
        stderr=params.flag(query, "stderr") and not tty,
        tty=tty,
    )
    if not (opts.stdin or opts.stdout or opts.stderr):
        return kubelet_error(400, "you must specify at least 1 of stdin, stdout, stderr")
    return opts


def remote_node(ctx: ApiContext, pod: dict[str, Any]) -> str | None:
    """The pod's node when it is another node's server that serves its streams (None: this
    process serves them, through ``ctx.logs``/``ctx.exec``)."""
    node = str((pod.get("spec") or {}).get("nodeName") or "")
    if ctx.nodes is None or not node or ctx.nodes.is_local(node):
        return None
    return node


def backend_of(ctx: ApiContext, what: str, container: str, pod: str) -> ExecBackend:
    if ctx.exec is None:
        raise bad_request(
            f'container "{container}" in pod "{pod}" is not available: '
            f"no node agent is serving {what}"
        )
    return ctx.exec
