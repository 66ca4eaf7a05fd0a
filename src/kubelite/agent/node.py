"""The node agent: one worker per pod, fed by the pod source and by the runtime's events.

It plays the kubelet's top-level role: it receives every pod bound to the node from its
source, gives each its own worker (``podworker``), routes runtime events (a container started
or exited) to the worker of the pod they belong to, and relists the runtime every few seconds
as a safety net (SYNC-1). Once the source has delivered its initial state (SYNCED), it also
cleans up the pods the source does not have (``housekeeping``). ``build_node`` wires the real
runtime and image store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import platform
import random
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubelite.agent.checkpoint import BackoffCheckpoints
from kubelite.agent.dnsconfig import ClusterDNS
from kubelite.agent.envvars import NodeFacts
from kubelite.agent.eventtext import WARNING, Event
from kubelite.agent.evicting import EvictionManager
from kubelite.agent.executing import HookRunner
from kubelite.agent.housekeeping import Housekeeper
from kubelite.agent.nodepolicy import NodePolicy
from kubelite.agent.noderecord import HostInfo, go_arch
from kubelite.agent.podworker import PodWorker, WorkerDeps
from kubelite.agent.probing import Mechanism
from kubelite.agent.sources import NodeClient, NodeEventSink, UpdateKind
from kubelite.clock import Clock, SystemClock
from kubelite.images.interface import ImageService
from kubelite.network.hostsetup import HostFacts
from kubelite.network.layout import NetworkLayout
from kubelite.network.nodenetwork import NodeNetwork
from kubelite.nodelock import NodeLock
from kubelite.runtime.interface import (
    ContainerState,
    EventKind,
    Runtime,
    RuntimeEvents,
    RuntimeInfo,
)
from kubelite.runtime.logs import LogOptions, follow_log
from kubelite.settings import Settings

log = logging.getLogger(__name__)

RELIST_SECONDS = 2.0
LOG_RETENTION_SECONDS = 60.0  # a finished pod's logs stay this long (housekeeping)
OOM_RESTRICTED = "OOMScoreAdjustRestricted"  # the node event of a clamped oom_score_adj


def host_limit_events(info: RuntimeInfo) -> list[Event]:
    """Node events for what the host does not let the runtime do (posted once at start)."""
    floor = info.oom_score_adj_floor
    if floor is None:
        return []
    return [
        Event(
            WARNING, OOM_RESTRICTED,
            f"This host does not allow oom_score_adj below {floor} (CAP_SYS_RESOURCE is not in "
            f"the runtime's capability bounding set): containers that should get a lower value "
            f"(Guaranteed pods: -997) get {floor}, as under a runtime in a user namespace",
        )
    ]  # fmt: skip


class NodeAgent:
    def __init__(
        self,
        *,
        settings: Settings,
        runtime: Runtime,
        images: ImageService,
        client: NodeClient,
        clock: Clock,
        hooks: HookRunner | None = None,
        probe: Mechanism | None = None,
        node: NodeFacts | None = None,
        cluster_dns: ClusterDNS | None = None,
        jitter: Callable[[], float] | None = None,
    ) -> None:
        """``jitter``: where each pod's resync timer falls in its range (SYNC-1), random
        unless a test pins it."""
        from kubelite.agent.handlers import RuntimeHooks, RuntimeProbes

        facts = node or node_facts(settings)
        checkpoints = BackoffCheckpoints(settings.agent_dir / "backoff")
        self._deps = WorkerDeps(
            runtime=runtime, images=images, client=client, clock=clock,
            hooks=hooks or RuntimeHooks(runtime=runtime, clock=clock),
            probe=probe or RuntimeProbes(runtime=runtime),
            node=facts, pod_logs_dir=settings.pod_logs_dir,
            checkpoints=checkpoints,
            cluster_dns=cluster_dns or ClusterDNS(domain=settings.cluster_domain),
            policy=NodePolicy.from_settings(settings),
            jitter=jitter or random.random,
        )  # fmt: skip
        self._client = client
        self._runtime = runtime
        self._workers: dict[str, PodWorker] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._owner: dict[str, str] = {}  # sandbox id -> pod uid
        self._synced = asyncio.Event()  # the source's initial state is in (SYNCED)
        self._clock = clock
        self._finished: dict[str, float] = {}  # pod uid -> when its worker finished
        self._housekeeper = Housekeeper(
            runtime=runtime, checkpoints=checkpoints,
            pod_logs_dir=settings.pod_logs_dir, clock=clock, live=self._live,
        )  # fmt: skip
        self._eviction = EvictionManager(
            runtime=runtime, clock=clock, workers=lambda: self._workers, emit=client.emit
        )

    async def run(self) -> None:
        try:
            async with asyncio.TaskGroup() as tg:
                await self._announce_host_limits()
                tg.create_task(self._runtime_events())
                tg.create_task(self._relist())
                tg.create_task(self._housekeeper.run(self._synced))
                tg.create_task(self._eviction.run())
                async for update in self._client.updates():
                    if update.kind is UpdateKind.SYNCED:
                        self._synced.set()
                        continue
                    uid = update.pod["metadata"]["uid"]
                    worker = self._workers.get(uid)
                    if update.kind is UpdateKind.REMOVED:
                        if worker is not None and not worker.done.is_set():
                            worker.update(_force_deleted(update.pod))
                        continue
                    if worker is None or worker.done.is_set():
                        worker = PodWorker(self._deps, update.pod)
                        self._workers[uid] = worker
                        self._tasks[uid] = tg.create_task(self._run_worker(uid, worker))
                    else:
                        worker.update(update.pod)
        finally:
            for t in self._tasks.values():
                t.cancel()
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def _announce_host_limits(self) -> None:
        """Say once, in the log and as a node event, what this host keeps the runtime from
        doing (QOS-3's oom_score_adj that had to be clamped)."""
        for event in host_limit_events(await self._runtime.info()):
            log.warning("%s: %s", event.reason, event.message)
            if isinstance(self._client, NodeEventSink):
                await self._client.emit_node(event)

    def _live(self) -> set[str]:
        """The pods housekeeping must leave alone: those with a worker, and those finished
        less than ``LOG_RETENTION_SECONDS`` ago, whose logs ``kubectl logs`` may still read
        while a finalizer holds the object (upstream's container GC takes them about a
        minute later)."""
        now = self._clock.monotonic()
        for uid, at in list(self._finished.items()):
            if now - at >= LOG_RETENTION_SECONDS:
                del self._finished[uid]
        return set(self._workers) | set(self._finished)

    async def _run_worker(self, uid: str, worker: PodWorker) -> None:
        try:
            await self._housekeeper.wait_idle(uid)  # a late pod whose orphan is being removed
            await worker.run()
        finally:
            if self._workers.get(uid) is worker:
                del self._workers[uid]
                self._tasks.pop(uid, None)
            if worker.done.is_set():
                self._finished[uid] = self._clock.monotonic()

    async def _runtime_events(self) -> None:
        events = self._runtime.events()
        try:
            await self._dispatch(events)
        finally:
            await events.aclose()

    async def _dispatch(self, events: RuntimeEvents) -> None:
        async for event in events:
            if event.kind is not EventKind.EXITED:
                # SYNC-1: only exits are news. Starts are the workers' own doing (a worker
                # re-observes right after acting) and a removal (container GC) is no reason to
                # sync, as upstream; an extra sync per start cost a burst of pods ~25% of the
                # agent's CPU.
                continue
            uid = self._owner.get(event.sandbox_id)
            if uid is None:
                await self._learn_sandboxes()
                uid = self._owner.get(event.sandbox_id)
            worker = self._workers.get(uid or "")
            if worker is not None and worker.unseen({event.container_id: ContainerState.EXITED}):
                worker.wake()

    async def _learn_sandboxes(self) -> None:
        self._owner = {s.id: s.pod_uid for s in await self._runtime.list_sandboxes()}

    async def _relist(self) -> None:
        """SYNC-1's safety net: wake the workers whose containers changed state unseen."""
        seen: dict[str, tuple[str, ContainerState]] = {}
        while True:
            await self._deps.clock.sleep(RELIST_SECONDS)
            try:
                containers = await self._runtime.list_containers()
            except Exception as err:  # the relist must outlive a bad moment of the runtime
                log.warning("relist failed: %s", err)
                continue
            now_seen = {c.id: (c.sandbox_id, c.state) for c in containers}
            changed: dict[str, dict[str, ContainerState]] = {}  # sandbox -> container -> state
            for cid, (sid, state) in now_seen.items():
                if seen.get(cid) != (sid, state):
                    changed.setdefault(sid, {})[cid] = state
            seen = now_seen
            if any(sid not in self._owner for sid in changed):
                await self._learn_sandboxes()
            for sid, states in changed.items():
                worker = self._workers.get(self._owner.get(sid, ""))
                if worker is not None and worker.unseen(states):  # not handled already
                    worker.wake()


def _force_deleted(pod: dict[str, Any]) -> dict[str, Any]:
    """The object is gone from the API (force delete): stop with the minimum grace (TERM-1)."""
    meta = pod.setdefault("metadata", {})
    meta.setdefault("deletionTimestamp", "1970-01-01T00:00:00Z")
    meta["deletionGracePeriodSeconds"] = 0
    return pod


def node_facts(settings: Settings) -> NodeFacts:
    memory = "1Gi"
    with contextlib.suppress(OSError), open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1])}Ki"
                break
    return NodeFacts(
        node_name=settings.node_name,
        host_ip=_host_ip(),
        cpu=str(os.cpu_count() or 1),
        memory=memory,
    )


MACHINE_ID_FILES = ("/etc/machine-id", "/var/lib/dbus/machine-id")
# Where the system UUID is read from, first found wins (as cAdvisor reads it for the kubelet):
# the DMI product UUID; on POWER the device tree's; else /etc/machine-id; else "".
SYSTEM_UUID_FILES = (
    "/sys/class/dmi/id/product_uuid",
    "/proc/device-tree/system-id",
    "/proc/device-tree/vm,uuid",
    "/etc/machine-id",
)
BOOT_ID_FILE = "/proc/sys/kernel/random/boot_id"


def host_info() -> HostInfo:
    """This machine as the Node reports it (``kubectl describe node``'s System Info)."""
    return HostInfo(
        architecture=go_arch(platform.machine()),
        os_image=_os_image(),
        kernel_version=platform.release(),
        machine_id=_first_line(MACHINE_ID_FILES),
        system_uuid=_first_line(SYSTEM_UUID_FILES),
        boot_id=_first_line((BOOT_ID_FILE,)),
    )


def _first_line(paths: tuple[str, ...]) -> str:
    """The trimmed text of the first of ``paths`` that can be read ("" if none)."""
    for path in paths:
        try:
            with open(path, "rb") as f:
                return f.read().decode(errors="replace").strip().strip("\0").strip()
        except OSError:
            continue
    return ""


def _os_image() -> str:
    """PRETTY_NAME of /etc/os-release, as the kubelet shows it (OS Image)."""
    with contextlib.suppress(OSError), open("/etc/os-release") as f:
        for line in f:
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    return "Linux"


def _host_ip() -> str:
    """The node's address as its hostname resolves (status.hostIP); loopback otherwise."""
    with contextlib.suppress(OSError):
        return socket.gethostbyname(socket.gethostname())
    return "127.0.0.1"


@dataclass
class Node:
    """The real runtime and image store of this machine, as the agent uses them."""

    runtime: Runtime
    images: ImageService
    lock: NodeLock | None = None  # held by the process that runs the node's pods
    # The pod network, the owner's; None for a process that only looks at the node. Its
    # layout and the host's facts are known once it is made (``configure_network``).
    pod_network: NodeNetwork | None = None

    @property
    def network(self) -> NetworkLayout | None:
        return self.pod_network.layout if self.pod_network is not None else None

    @property
    def host(self) -> HostFacts | None:
        return self.pod_network.host if self.pod_network is not None else None

    async def configure_network(self, subnet: str | None) -> NetworkLayout:
        """Make the pod network for the node's range (``NodeNetwork.configure``)."""
        assert self.pod_network is not None
        return await self.pod_network.configure(subnet)

    async def follow_log(self, path: Path, stop: asyncio.Event) -> AsyncIterator[str]:
        async def running() -> bool:
            return not stop.is_set()

        async for line in follow_log(path, LogOptions(), running):
            yield line.decode(errors="replace").rstrip("\n")

    async def close(self) -> None:
        try:
            if self.pod_network is not None and not await self.runtime.list_sandboxes():
                await self.pod_network.teardown()  # no pod uses the network any more
        finally:
            await self.runtime.close()
            if self.lock is not None:
                self.lock.release()


async def build_node(
    settings: Settings,
    *,
    clock: Clock | None = None,
    owner: bool = True,
    network_later: bool = False,
) -> Node:
    """``owner=False``: only look at the node (logs, exec) beside the process that runs its
    pods; nothing left half-made by a crash is collected, and no network is made.

    The owner DELs every CNI attachment whose sandbox is gone, so a killed kubelite leaks no
    address or veth, and makes the node's pod network (bridge, routes; idempotent) for the
    range it last had, else the first of ``--pod-cidr``; with ``network_later`` (a node of a
    cluster, whose range is its Node's) only once ``configure_network`` is called."""
    from kubelite.images.service import Images
    from kubelite.runtime.runc import RuncRuntime

    lock = NodeLock.acquire(settings.data_dir) if owner else None  # raises NodeBusy
    try:
        network = NodeNetwork(settings) if owner else None
        if network is not None and not network_later:
            await network.configure_last()
        images = Images.from_settings(settings)
        runtime = RuncRuntime(
            settings, images.rootfs, clock=clock or SystemClock(), collect_orphans=owner,
            network=network,
        )  # fmt: skip
        if network is not None:
            await network.sweep({s.id for s in await runtime.list_sandboxes() if s.ready})
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    return Node(runtime=runtime, images=images, lock=lock, pod_network=network)
