"""The node side of resource metrics: samples of the node and of every running container.

It plays the kubelet's part in the metrics pipeline (the resource metrics its ``/metrics/
resource`` publishes, read from cgroups through the runtime's ``container_stats`` and from
``/proc`` for the node) and keeps the two newest samples of each, which is what
metrics-server keeps; the API computes usage from them (``api.metrics_usage``). Like
``nodestreams``, it sits between the layers: it implements the API's ``MetricsSource`` with
the runtime's readers, so neither the API nor the agent imports the other.

Samples are read every ``resolution`` seconds while ``run`` runs, and on a scrape when the
newest are older than that. A container seen for the first time gets, as its earlier sample,
its start with no CPU used (metrics-server's rule for a fresh container), so ``kubectl top``
answers from the first sample; likewise the node with its boot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from kubelite.api.metrics import MetricsSource, PodRef, Point, Samples, Scrape
from kubelite.clock import Clock
from kubelite.runtime.interface import ContainerState, Runtime, RuntimeError_, SandboxStatus

log = logging.getLogger(__name__)

RESOLUTION = 10.0  # seconds between samples (metrics-server's default is 15 s)
_IDLE_FIELDS = (3, 4)  # idle and iowait in /proc/stat's cpu line (after user, nice, system)


# ---------------------------------------------------------------------------- the host (PURE)


def busy_ticks(proc_stat: str) -> int:
    """CPU time the node spent on anything but idling, in clock ticks, from ``/proc/stat``'s
    ``cpu`` line (user, nice, system, irq, softirq, steal; guest time is inside user)."""
    for line in proc_stat.splitlines():
        parts = line.split()
        if parts and parts[0] == "cpu":
            values = [int(v) for v in parts[1:9]]
            return sum(v for i, v in enumerate(values) if i not in _IDLE_FIELDS)
    return 0


def boot_time(proc_stat: str) -> float:
    for line in proc_stat.splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    return 0.0


def working_set(meminfo: str) -> int:
    """The node's memory working set in bytes, as cAdvisor counts the root cgroup's: memory
    in use (total less free) less the inactive file cache, which the kernel can reclaim."""
    fields: dict[str, int] = {}
    for line in meminfo.splitlines():
        key, _, rest = line.partition(":")
        value = rest.split()
        if value:
            fields[key] = int(value[0]) * 1024  # kB
    used = fields.get("MemTotal", 0) - fields.get("MemFree", 0)
    return max(0, used - fields.get("Inactive(file)", 0))


@dataclass(frozen=True, slots=True)
class HostReading:
    cpu_ns: int
    memory_bytes: int
    boot_time: float


class HostStats:
    """Reads the node's CPU time and working set from ``/proc`` (a folder for tests)."""

    def __init__(self, proc: Path = Path("/proc")) -> None:
        self._proc = proc
        self._tick_ns = 1_000_000_000 // os.sysconf("SC_CLK_TCK")

    def read(self) -> HostReading:
        stat = (self._proc / "stat").read_text()
        meminfo = (self._proc / "meminfo").read_text()
        return HostReading(busy_ticks(stat) * self._tick_ns, working_set(meminfo), boot_time(stat))


# ---------------------------------------------------------------------------- samples (PURE)


def next_samples(old: Samples | None, point: Point) -> Samples:
    """``point`` becomes the newest sample; the one it replaces the earlier, unless the
    container restarted since (then its start stands in, as for a fresh container)."""
    if old is not None and point.start_time == old.last.start_time:
        if point.timestamp > old.last.timestamp:
            return Samples(point, old.last)
        return old
    start = Point(point.start_time, point.start_time, 0, 0)
    return Samples(point, start if 0 < point.start_time < point.timestamp else None)


# ---------------------------------------------------------------------------- the source


class NodeMetrics(MetricsSource):
    def __init__(
        self,
        *,
        runtime: Runtime,
        clock: Clock,
        node_name: str,
        host: HostStats | None = None,
        resolution: float = RESOLUTION,
    ) -> None:
        self._runtime = runtime
        self._clock = clock
        self._node_name = node_name
        self._host = host or HostStats()
        self._resolution = resolution
        self._lock = asyncio.Lock()
        self._sampled_at: float | None = None
        self._node: Samples | None = None
        self._containers: dict[str, Samples] = {}  # by container ID
        self._pods: dict[PodRef, dict[str, str]] = {}  # container name -> ID

    async def run(self) -> None:
        """Sample every ``resolution`` seconds until cancelled."""
        while True:
            try:
                await self.sample()
            except (OSError, RuntimeError_) as err:
                log.warning("resource metrics not sampled: %s", err)
            except Exception:  # a bug: the node runs on without fresh samples, and says so
                log.exception("resource metrics not sampled")
            await self._clock.sleep(self._resolution)

    async def scrape(self) -> Scrape:
        at = self._sampled_at
        if at is None or self._clock.now() - at >= self._resolution:
            with contextlib.suppress(OSError, RuntimeError_):
                await self.sample()
        pods = {
            ref: {name: self._containers[cid] for name, cid in names.items()}
            for ref, names in self._pods.items()
        }
        return Scrape(node_name=self._node_name, node=self._node, pods=pods)

    async def sample(self) -> None:
        """Read the node and every running container once."""
        async with self._lock:
            now = self._clock.now()
            containers: dict[str, Samples] = {}
            pods: dict[PodRef, dict[str, str]] = {}
            for sandbox in _newest_ready(await self._runtime.list_sandboxes()):
                ref = PodRef(sandbox.namespace, sandbox.pod_name, sandbox.pod_uid)
                names = await self._sample_pod(sandbox.id, now, containers)
                if names:
                    pods[ref] = names
            self._containers, self._pods = containers, pods
            reading = await asyncio.to_thread(self._host.read)
            point = Point(now, reading.boot_time, reading.cpu_ns, reading.memory_bytes)
            self._node = next_samples(self._node, point)
            self._sampled_at = now

    async def _sample_pod(
        self, sandbox_id: str, now: float, into: dict[str, Samples]
    ) -> dict[str, str]:
        names: dict[str, str] = {}
        for c in await self._runtime.list_containers(sandbox_id):
            if c.state is not ContainerState.RUNNING:
                continue
            try:
                stats = await self._runtime.container_stats(c.id)
            except RuntimeError_:  # gone between the listing and the read
                continue
            start = c.started_at or c.created_at
            point = Point(now, start, stats.cpu_usage_ns, stats.working_set_bytes)
            into[c.id] = next_samples(self._containers.get(c.id), point)
            names[c.name] = c.id
        return names


def _newest_ready(sandboxes: list[SandboxStatus]) -> list[SandboxStatus]:
    """Each pod's newest ready sandbox (an old one may linger until it is removed)."""
    newest: dict[str, SandboxStatus] = {}
    for s in sandboxes:
        if s.ready and (s.pod_uid not in newest or s.created_at > newest[s.pod_uid].created_at):
            newest[s.pod_uid] = s
    return list(newest.values())
