"""``pods/<name>/attach``: the container's main process's stdio, over the same protocols as
exec (``remotecommand``). ``kubectl attach -i`` and ``kubectl run -i``/``-it`` use it.

What the end of the client's input does is the container's business (its ``stdinOnce`` and
``tty``, on the node side). Input for a container created without ``stdin`` is dropped, as
containerd drops it: the API server and kubelet accept such an attach. A pod on another node
is its node server's to serve (``nodeproxy``).
"""

from __future__ import annotations

from aiohttp import web

from kubelite.api import nodeproxy, remotecommand, streamtarget
from kubelite.api.context import ApiContext
from kubelite.api.paths import Target
from kubelite.api.remoteclient import Status
from kubelite.api.streams import AttachRequest, RemoteProcess


def session_status(code: int, translated: bool) -> Status:
    return remotecommand.success()  # an attach ends in Success whatever the process did


async def serve(ctx: ApiContext, request: web.Request, t: Target) -> web.StreamResponse:
    pod = await streamtarget.pod_of(ctx, t)
    container = streamtarget.container_of(pod, request.query.get("container", ""))
    streamtarget.require_upgrade(request)
    opts = streamtarget.options_of(request.query)
    if isinstance(opts, web.Response):
        return opts
    node = streamtarget.remote_node(ctx, pod)
    if node is not None and ctx.nodes is not None:  # the pod's node's server serves it
        query = nodeproxy.stream_query(opts)
        path = nodeproxy.pod_path("attach", pod, container)
        return await nodeproxy.upgrade(request, ctx.nodes, node, path, query)
    backend = streamtarget.backend_of(ctx, "attach", container, t.name)
    req = AttachRequest(pod, container, opts.stdin, opts.stdout, opts.stderr, opts.tty)

    async def open_process() -> RemoteProcess:
        return await backend.attach(req)

    return await remotecommand.serve(request, opts, open_process, session_status)
