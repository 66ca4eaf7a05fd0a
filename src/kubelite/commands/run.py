"""``kubelite run FILE...``: run the pods of manifest files here and now (static-pod mode).

No API server: the node agent takes its pods from the files, the live view shows each pod's
STATUS transitions and its containers' logs, and Ctrl-C, SIGTERM or ``--timeout`` deletes the
pods with their grace periods and sidecar ordering. Exit status: 0 if every pod succeeded or
ran until it was stopped, 1 if one failed, 2 for bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import Any

from kubelite.commands._manifests import ManifestError, load_objects
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


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        objects = load_objects(args.files)
    except ManifestError as err:
        print(err, file=sys.stderr)
        return 2
    return asyncio.run(_main(args, settings, objects))


async def _main(args: argparse.Namespace, settings: Settings, objects: list[dict[str, Any]]) -> int:
    from kubelite.agent.node import NodeAgent, build_node
    from kubelite.agent.static import StaticPods
    from kubelite.clock import SystemClock
    from kubelite.commands._runview import RunView

    clock = SystemClock()
    node = await build_node(settings, clock=clock)
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
        phase = (pod.get("status") or {}).get("phase")
        deleting = "deletionTimestamp" in pod["metadata"]
        if phase == "Failed" and not deleting:
            failed.add(pod["metadata"]["name"])
        if all(_terminal(p) for p in source.pods()):
            stopping.set()

    source = StaticPods(
        clock=clock, node_name=settings.node_name, on_status=on_status, on_event=view.on_event
    )
    agent = NodeAgent(
        settings=settings, runtime=node.runtime, images=node.images, client=source, clock=clock
    )
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
            for obj in objects:
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
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await view.close()
        await node.close()
    if failed:
        print(f"failed: {', '.join(sorted(failed))}", file=sys.stderr)
        return 1
    return 0


def _terminal(pod: dict[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")
