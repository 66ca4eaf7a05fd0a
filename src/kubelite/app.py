"""The composition root: one place that builds kubelite's parts and owns their lifetimes.

``kubelite up`` runs an API server (SQLite store), a scheduler and a node agent in one
process. The agent reaches the API only as a client, over HTTPS with the server's CA and
bearer token, exactly as it would reach any Kubernetes API server; the API reaches the node
only through the log/exec backends. Shutdown order: agent first (containers keep running),
then scheduler, then the API server and its store.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from kubelite.agent.apiclient import ApiNodeClient, Endpoint
from kubelite.agent.node import Node, NodeAgent, build_node, node_facts
from kubelite.agent.noderecord import node_object
from kubelite.api.assembly import build_api_server, endpoint
from kubelite.api.pki import ensure_pki
from kubelite.api.server import ApiServer
from kubelite.clock import Clock, SystemClock
from kubelite.nodestreams import NodeStreams
from kubelite.scheduler import Scheduler
from kubelite.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class UpOptions:
    host: str = "127.0.0.1"
    port: int = 6443
    agent: bool = True  # False: API server and scheduler only (logs/exec still served)


async def run_up(
    settings: Settings,
    options: UpOptions,
    *,
    stop: asyncio.Event,
    on_ready: Callable[[ApiServer], None] | None = None,
    clock: Clock | None = None,
) -> None:
    """Serve until ``stop`` is set. Raises OSError if the port cannot be bound."""
    clock = clock or SystemClock()
    # Without the agent the node's logs and exec are still served from this machine (a
    # separate ``kubelite agent`` on the same data dir runs the pods); only the agent owns it.
    node = await build_node(settings, clock=clock, owner=options.agent)
    streams = NodeStreams(runtime=node.runtime, pod_logs_dir=settings.pod_logs_dir, clock=clock)
    server = build_api_server(
        settings, host=options.host, port=options.port, clock=clock, logs=streams,
        exec_backend=streams,
    )  # fmt: skip
    try:
        await server.start()
        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(Scheduler(registry=server.registry).run())]
            if options.agent:
                ep = endpoint(settings, server)
                endpoint_ = Endpoint(ep.url, ep.ca_cert, ep.token)
                tasks.append(tg.create_task(_agent(settings, node, endpoint_, clock, stop)))
            if on_ready is not None:
                on_ready(server)
            await stop.wait()
            for t in tasks:
                t.cancel()
    finally:
        await node.close()
        await server.stop()
        await server.store.close()


async def run_agent(
    settings: Settings,
    server_url: str,
    *,
    stop: asyncio.Event,
    on_ready: Callable[[], None] | None = None,
    clock: Clock | None = None,
) -> None:
    """``kubelite agent``: the node agent alone, against a server on this machine (its CA and
    bearer token are read from the data dir's PKI)."""
    clock = clock or SystemClock()
    pki = ensure_pki(settings.pki_dir)
    node = await build_node(settings, clock=clock)
    try:
        await _agent(settings, node, Endpoint(server_url, pki.ca_cert, pki.token()), clock, stop,
                     on_ready)  # fmt: skip
    finally:
        await node.close()


async def _agent(
    settings: Settings,
    node: Node,
    ep: Endpoint,
    clock: Clock,
    stop: asyncio.Event,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Register the Node, then run the agent and its heartbeat until cancelled or stopped."""
    facts = node_facts(settings)
    client = ApiNodeClient(endpoint=ep, node=facts, clock=clock)
    try:
        await client.register_node(node_object(facts, clock.now()))
        agent = NodeAgent(
            settings=settings, runtime=node.runtime, images=node.images, client=client,
            clock=clock, node=facts,
        )  # fmt: skip
        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(agent.run()), tg.create_task(client.heartbeat())]
            if on_ready is not None:
                on_ready()
            await stop.wait()
            for t in tasks:
                t.cancel()
    finally:
        await client.close()
