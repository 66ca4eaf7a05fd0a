"""``kubelite runtime``: look at and disturb the node's containers directly, as ``crictl`` does
for a kubelet's runtime — without going through the API or the agent.

* ``ps [--pod-uid U]``: sandboxes and containers with their states;
* ``kill-pod UID``: kill every container of a pod and tear its sandbox down, as a reboot
  would (its logs and emptyDir volumes stay, as on a real node);
* ``rm-exited UID``: delete the runtime's records of a pod's exited containers;
* ``reset``: stop and remove every pod of the node, then its pod network (bridge, routes,
  CNI state), as ``kubeadm reset`` does: for a node whose kubelite will not come back.

The last two exist for failure drills: stop the agent, disturb the pod, start the agent and
watch it recover (the acceptance suite's node hooks use them).
"""

from __future__ import annotations

import argparse
import asyncio

from kubelite.settings import Settings

NAME = "runtime"
HELP = "inspect or disturb this node's pod sandboxes and containers directly"


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    ps = sub.add_parser("ps", help="list sandboxes and containers")
    ps.add_argument("--pod-uid", default=None)
    kill = sub.add_parser("kill-pod", help="kill a pod's containers and sandbox (not volumes)")
    kill.add_argument("pod_uid")
    rm = sub.add_parser("rm-exited", help="remove a pod's exited container records")
    rm.add_argument("pod_uid")
    sub.add_parser("reset", help="remove every pod sandbox and the node's pod network")


async def _main(args: argparse.Namespace, settings: Settings) -> int:
    from kubelite.agent.node import build_node
    from kubelite.runtime.interface import ContainerState

    # ``ps`` only looks, so it may run beside a live agent; the others disturb the node.
    node = await build_node(settings, owner=args.action != "ps")
    rt = node.runtime
    try:
        wanted = getattr(args, "pod_uid", None)
        sandboxes = [s for s in await rt.list_sandboxes() if wanted in (None, s.pod_uid)]
        ids = {s.id for s in sandboxes}
        containers = [c for c in await rt.list_containers() if c.sandbox_id in ids]
        if args.action == "ps":
            for s in sandboxes:
                state = "ready" if s.ready else "notready"
                print(f"sandbox {s.id[:13]} {s.namespace}/{s.pod_name} {state} #{s.attempt}")
                for c in containers:
                    if c.sandbox_id == s.id:
                        code = f" exit={c.exit_code}" if c.exit_code is not None else ""
                        print(f"  {c.id[:13]} {c.name} #{c.attempt} {c.state.value}{code}")
        elif args.action in ("kill-pod", "reset"):
            # kill-pod: as the acceptance suite's reboot: every process and namespace gone,
            # and the records with them; restart counts go on from the log folders (SYNC-7).
            # reset: the same for every pod; closing the node then removes its network.
            for s in sandboxes:
                await rt.stop_sandbox(s.id)
                await rt.remove_sandbox(s.id)
        else:
            for c in containers:
                if c.state is ContainerState.EXITED:
                    await rt.remove_container(c.id)
    finally:
        await node.close()
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_main(args, settings))
