"""``kubelite run FILE...``: run the pods of manifest files here and now (static-pod mode).

No API server: the node agent takes its pods from the files, the live view shows each pod's
STATUS transitions and its containers' logs, and Ctrl-C, SIGTERM or ``--timeout`` deletes the
pods with their grace periods and sidecar ordering. ``--timeline FILE`` (.svg or .png) draws
each pod's lifecycle when the run ends, Ctrl-C included (``kubelite.timeline``). Exit status: 0
if every pod succeeded or ran until it was stopped, 1 if one failed, 2 for bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubelite.commands._manifests import ManifestError, load_objects

if TYPE_CHECKING:  # imported where used: every kubelite command loads this module
    from kubelite.agent.lifecycle import LifecycleBook
    from kubelite.agent.node import Node
    from kubelite.commands._services import StaticServices
    from kubelite.timeline import Format
from kubelite.model.pod import TERMINAL_PHASES, Phase
from kubelite.settings import Settings

NAME = "run"
HELP = "run the pods of manifest files on this machine, showing their lifecycle live"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files", nargs="+", metavar="FILE", help="manifests (Pod, ConfigMap, Secret)"
    )
    parser.add_argument(
        "--timeout", type=float, default=None, metavar="S", help="delete the pods after S seconds"
    )
    parser.add_argument("--events", action="store_true", help="also show the kubelet's events")
    parser.add_argument("--no-logs", action="store_true", help="do not show container logs")
    parser.add_argument(
        "--grace-period",
        type=int,
        default=None,
        metavar="S",
        help="grace period for the deletion at the end (default: each pod's own)",
    )
    parser.add_argument(
        "--timeline",
        metavar="FILE",
        help="when the run ends, draw each pod's lifecycle here (.svg or .png; .json: its "
        "PodLifecycle record; with several pods, FILE-<pod>.svg …)",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        objects = load_objects(args.files)
    except ManifestError as err:
        print(err, file=sys.stderr)
        return 2
    if args.timeline and Path(args.timeline).suffix.lower() not in (".svg", ".png", ".json"):
        print(f"--timeline {args.timeline}: name a .svg, .png or .json file", file=sys.stderr)
        return 2
    return asyncio.run(_main(args, settings, objects))


async def _main(args: argparse.Namespace, settings: Settings, objects: list[dict[str, Any]]) -> int:
    from kubelite.agent.dnsconfig import ClusterDNS
    from kubelite.agent.lifecycle import LifecycleBook
    from kubelite.agent.lifecyclestatic import RecordedStaticPods
    from kubelite.agent.node import NodeAgent, build_node
    from kubelite.agent.static import StaticPods
    from kubelite.clock import SystemClock
    from kubelite.commands._runview import RunView
    from kubelite.commands._services import ServiceError, cluster_ip_line

    clock = SystemClock()
    node = await build_node(settings, clock=clock)
    try:
        services = _services(settings, node, objects)
    except ServiceError as err:
        await node.close()
        print(err, file=sys.stderr)
        return 2
    view = RunView(
        clock=clock,
        pod_logs_dir=settings.pod_logs_dir,
        follow=node.follow_log,
        show_events=args.events,
        show_logs=not args.no_logs,
    )
    failed: set[str] = set()
    stopping = asyncio.Event()
    source: StaticPods

    def on_status(pod: dict[str, Any]) -> None:
        view.on_status(pod)
        if services is not None:
            services.pods_changed(source.pods())
        phase = (pod.get("status") or {}).get("phase")
        deleting = "deletionTimestamp" in pod["metadata"]
        if phase == Phase.FAILED and not deleting:
            failed.add(pod["metadata"]["name"])
        if all(_terminal(p) for p in source.pods()):
            stopping.set()

    book = LifecycleBook(clock=clock, node_name=settings.node_name)  # for --timeline
    options: dict[str, Any] = {
        "clock": clock, "node_name": settings.node_name, "on_status": on_status,
        "on_event": view.on_event,
        "services": services.for_namespace if services is not None else None,
    }  # fmt: skip
    source = (
        RecordedStaticPods(lifecycle=book, **options) if args.timeline else StaticPods(**options)
    )
    cluster_dns = None
    if services is not None and node.network is not None:
        cluster_dns = ClusterDNS((str(node.network.dns_service_ip),), settings.cluster_domain)
    agent = NodeAgent(
        settings=settings, runtime=node.runtime, images=node.images, client=source, clock=clock,
        cluster_dns=cluster_dns,
    )  # fmt: skip
    loop = asyncio.get_running_loop()
    interrupts = 0

    def delete_all(grace: int | None) -> None:
        source.delete_all(grace=grace)
        for pod in source.pods():  # the deletion is news itself, as on a watch: Terminating
            view.on_status(pod)

    def interrupt() -> None:
        nonlocal interrupts
        interrupts += 1
        stopping.set()
        if interrupts > 1:  # a second Ctrl-C: no more waiting (grace 0, like --force)
            view.phase_line("stopping now (grace period 0)")
            delete_all(0)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, interrupt)
    try:
        async with asyncio.TaskGroup() as tg:
            agent_task = tg.create_task(agent.run())
            network_tasks = []
            if services is not None:
                for svc in services.services.items():
                    if svc["metadata"]["namespace"] != "kube-system":
                        view.phase_line(cluster_ip_line(svc))
                network_tasks = [tg.create_task(c) for c in _network(settings, node, services)]
            for obj in objects:
                if obj["kind"] != "Service":
                    source.add_object(obj)
            source.mark_synced()  # every pod is in: what else runs on this node is an orphan
            try:
                await asyncio.wait_for(stopping.wait(), timeout=args.timeout)
            except TimeoutError:
                view.phase_line(f"--timeout {args.timeout:g}s reached: deleting the pods")
            if interrupts:
                view.phase_line(
                    "interrupted: deleting the pods (Ctrl-C again to skip grace periods)"
                )
            delete_all(args.grace_period)
            await source.removed.wait()
            agent_task.cancel()
            for t in network_tasks:
                t.cancel()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await view.close()
        await node.close()
        if args.timeline:
            for line in write_timelines(book, Path(args.timeline)):
                view.phase_line(line)
    if failed:
        print(f"failed: {', '.join(sorted(failed))}", file=sys.stderr)
        return 1
    return 0


def _services(
    settings: Settings, node: Node, objects: list[dict[str, Any]]
) -> StaticServices | None:
    """The manifests' Services, allocated and validated; None when there are none (then the
    pods use the node's DNS settings and no proxy runs)."""
    from kubelite.commands._services import StaticServices

    wanted = [o for o in objects if o["kind"] == "Service"]
    if not wanted or node.network is None:
        return None
    services = StaticServices(node.network, settings.node_name)
    for svc in wanted:
        services.add(svc)
    return services


def _network(
    settings: Settings, node: Node, services: StaticServices
) -> list[Coroutine[Any, Any, None]]:
    """The Service proxy and cluster DNS, reading the run's own Services and slices."""
    from kubelite.network.clusterdns import ClusterDns
    from kubelite.network.proxy import ServiceProxy
    from kubelite.network.proxyrules import ProxyConfig

    assert node.network is not None and node.host is not None
    config = ProxyConfig.from_layout(
        node.network, masquerade_all=not node.host.bridge_netfilter, node_name=settings.node_name
    )
    proxy = ServiceProxy(config=config, services=services.services, slices=services.slices)
    dns = ClusterDns(
        layout=node.network, node_name=settings.node_name, client=None,
        services=services.services, slices=services.slices, namespaces=services.namespaces,
    )  # fmt: skip
    return [proxy.run(), dns.run()]


def write_timelines(book: LifecycleBook, path: Path) -> list[str]:
    """Each pod's lifecycle picture: at ``path`` for a single pod, else at
    ``<stem>-<pod><suffix>`` beside it; returns what was written, one line each."""
    from kubelite.timeline import render

    suffix = path.suffix.lower()
    fmt: Format = "png" if suffix == ".png" else "svg"
    records = book.records()
    lines = []
    for record in records:
        target = (
            path if len(records) == 1 else path.with_name(f"{path.stem}-{record.name}{path.suffix}")
        )
        try:
            if suffix == ".json":
                target.write_text(json.dumps(record.object(), indent=1) + "\n")
            else:
                target.write_bytes(render(record.object(), fmt))
        except (OSError, ValueError) as err:
            lines.append(f"timeline of {record.name} not written: {err}")
            continue
        lines.append(f"timeline of {record.name} written to {target}")
    return lines


def _terminal(pod: dict[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") in TERMINAL_PHASES
