"""``pods/<name>/exec``: run a command in a container, over WebSocket (``v5``/``v4``/older
channel protocols) or SPDY, as ``remotecommand`` serves them.

The request is checked as the API server checks it (pod, container, node; a 400 Status),
then as the kubelet does (the streams asked for; its plain-text 400). A pod on another node is
its node server's to serve (``nodeproxy``: the bytes pass through). The exit code comes
back as the Status on the error channel: kubectl prints ``command terminated with exit code
3`` and exits 3.
"""

from __future__ import annotations

from aiohttp import web

from kubelite.api import nodeproxy, remotecommand, streamtarget
from kubelite.api.context import ApiContext
from kubelite.api.errors import bad_request
from kubelite.api.paths import Target
from kubelite.api.remoteclient import Status
from kubelite.api.streams import ExecRequest, RemoteProcess


def exit_status(command: list[str]) -> remotecommand.StatusOf:
    def status_of(code: int, translated: bool) -> Status:
        if code == 0:
            return remotecommand.success()
        if translated:  # the API server re-words the kubelet's exit as its client saw it
            return remotecommand.exit_status(code, f"command terminated with exit code {code}")
        detail = f"error executing command [{' '.join(command)}], exit code {code}"
        return remotecommand.exit_status(code, detail)  # containerd's words, via the kubelet

    return status_of


async def serve(ctx: ApiContext, request: web.Request, t: Target) -> web.StreamResponse:
    pod = await streamtarget.pod_of(ctx, t)
    q = request.query
    container = streamtarget.container_of(pod, q.get("container", ""))
    command = q.getall("command", [])
    if not command:
        raise bad_request("you must specify at least 1 command")
    streamtarget.require_upgrade(request)
    opts = streamtarget.options_of(q)
    if isinstance(opts, web.Response):
        return opts
    node = streamtarget.remote_node(ctx, pod)
    if node is not None and ctx.nodes is not None:  # the pod's node's server serves it
        query = nodeproxy.stream_query(opts, command)
        path = nodeproxy.pod_path("exec", pod, container)
        return await nodeproxy.upgrade(request, ctx.nodes, node, path, query)
    backend = streamtarget.backend_of(ctx, "exec", container, t.name)
    req = ExecRequest(pod, container, list(command), opts.stdin, opts.stdout, opts.stderr,
                      opts.tty)  # fmt: skip

    async def open_process() -> RemoteProcess:
        return await backend.exec(req)

    return await remotecommand.serve(request, opts, open_process, exit_status(req.command))
