"""A node on virtual time: a real NodeAgent fed by StaticPods, on FakeRuntime and ManualClock.

Everything the agent's executors do is real (pod workers, executor, image step, probe tasks,
hooks through the runtime's exec); only the edges are fakes: the runtime (scripted containers),
the image store (``FakeImages``) and, where a test wants it, the probe mechanism. The test
moves time with ``Node.advance``, which steps from one sleeper's deadline to the next and lets
the agent run between steps, so a 300 s back-off takes milliseconds.

What the user would see is recorded as it happens: every status write as a kubectl row
(``READY STATUS RESTARTS``, ``model.podprint``) and every event with its time.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubelite.agent.dnsconfig import ClusterDNS
from kubelite.agent.envvars import NodeFacts
from kubelite.agent.eventtext import Event
from kubelite.agent.node import NodeAgent
from kubelite.agent.probestate import Outcome, RawResult
from kubelite.agent.static import StaticPods
from kubelite.clock import ManualClock
from kubelite.images.interface import (
    ImageConfig,
    ImageError,
    ImageInfo,
    PullProgress,
    RegistryAuth,
)
from kubelite.model.pod import ContainerSpec, PodSpec, ProbeSpec
from kubelite.model.podprint import pod_row
from kubelite.runtime.fake import FakeRuntime
from kubelite.runtime.interface import ContainerStatus
from kubelite.settings import Settings

T0 = 1_700_000_000.0
IMAGE = "busybox:1.36"


# --------------------------------------------------------------------------- pod builders


def c(name: str, image: str = IMAGE, **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": image, **extra}


def sidecar(name: str, image: str = IMAGE, **extra: Any) -> dict[str, Any]:
    return c(name, image, restartPolicy="Always", **extra)


def exec_probe(*argv: str, **extra: Any) -> dict[str, Any]:
    return {"exec": {"command": list(argv)}, **extra}


def pod(
    name: str,
    containers: list[dict[str, Any]],
    init: list[dict[str, Any]] | None = None,
    restart: str = "Always",
    *,
    tgps: int = 30,
    **spec: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "containers": containers,
        "restartPolicy": restart,
        "terminationGracePeriodSeconds": tgps,
        **spec,
    }
    if init:
        body["initContainers"] = init
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": body}


# --------------------------------------------------------------------------- image store


def image_info(ref: str, size: int = 1234) -> ImageInfo:
    return ImageInfo(
        id="sha256:" + format(abs(hash(ref)), "064x")[:64],
        repo_tags=(ref,),
        repo_digests=(),
        size=size,
        config=ImageConfig(),
    )


class FakeImages:
    """``ImageService`` in memory: present images, pulls that take virtual time, scripted
    pull failures (``fail_pull``) that are used up one per pull."""

    def __init__(self, clock: ManualClock, present: Sequence[str] = (IMAGE,)) -> None:
        self._clock = clock
        self.images: dict[str, ImageInfo] = {ref: image_info(ref) for ref in present}
        self.pulls: list[tuple[float, str]] = []
        self.pull_seconds = 0.0
        self._failures: dict[str, deque[ImageError]] = {}

    def fail_pull(self, ref: str, error: ImageError, *, times: int = 1) -> None:
        self._failures.setdefault(ref, deque()).extend([error] * times)

    async def pull(
        self,
        ref: str,
        *,
        auth: Sequence[RegistryAuth] = (),
        progress: Callable[[PullProgress], None] | None = None,
    ) -> ImageInfo:
        self.pulls.append((self._clock.now(), ref))
        if self.pull_seconds:
            await self._clock.sleep(self.pull_seconds)
        pending = self._failures.get(ref)
        if pending:
            raise pending.popleft()
        info = self.images.setdefault(ref, image_info(ref))
        return info

    def status(self, ref: str) -> ImageInfo | None:
        return self.images.get(ref)

    def list(self) -> list[ImageInfo]:
        return list(self.images.values())

    async def remove(self, ref: str) -> None:
        self.images.pop(ref, None)


# --------------------------------------------------------------------------- probes


ProbeAnswer = Callable[[ContainerStatus], RawResult]


@dataclass
class FakeProbes:
    """A probe mechanism (``probing.Mechanism``) answered by the test, per (container, type):
    ``answers[("app", "liveness")] = lambda status: RawResult(Outcome.SUCCESS)``. Unset
    pairs succeed. Each call is recorded as (time, container, type)."""

    clock: ManualClock
    answers: dict[tuple[str, str], ProbeAnswer] = field(default_factory=dict)
    calls: list[tuple[float, str, str]] = field(default_factory=list)

    def set(self, container: str, probe_type: str, outcome: Outcome, output: str = "") -> None:
        self.answers[(container, probe_type)] = lambda _s: RawResult(outcome, output)

    async def __call__(
        self, pod: PodSpec, spec: ContainerSpec, probe: ProbeSpec, status: ContainerStatus
    ) -> RawResult:
        ptype = probe.type.value.lower()
        self.calls.append((self.clock.now(), spec.name, ptype))
        answer = self.answers.get((spec.name, ptype))
        return answer(status) if answer else RawResult(Outcome.SUCCESS)


# --------------------------------------------------------------------------- runtime


@dataclass(frozen=True, slots=True)
class Stop:
    t: float  # seconds since T0
    name: str
    timeout: float


class TimedRuntime(FakeRuntime):
    """FakeRuntime that also notes when each container got its stop signal, and how long the
    runtime was told to wait before SIGKILL (TERM-2 step 5)."""

    def __init__(self, clock: ManualClock, *, data_dir: Path | None = None) -> None:
        super().__init__(clock, data_dir=data_dir)
        self.stops: list[Stop] = []

    async def stop_container(self, container_id: str, timeout: float, signal: str = "") -> None:
        c = self.containers.get(container_id)
        name = c.status.name if c is not None else container_id
        self.stops.append(Stop(self.clock.now() - T0, name, timeout))
        await super().stop_container(container_id, timeout, signal)

    def created(self, name: str) -> int:
        """How many instances of container ``name`` were created."""
        return sum(1 for call in self.calls_of("create_container") if call.args[1].name == name)


# --------------------------------------------------------------------------- the node


@dataclass(frozen=True, slots=True)
class Seen:
    """One recorded moment: a status write as kubectl shows it, or an event."""

    t: float  # seconds since T0
    pod: str
    what: str  # "READY STATUS RESTARTS" or "Type Reason: message [fieldPath]"


class Node:
    """One NodeAgent on a FakeRuntime; ``async with Node.start(...)`` runs and stops it."""

    def __init__(
        self,
        tmp: Path,
        *,
        clock: ManualClock | None = None,
        runtime: TimedRuntime | None = None,
        images: FakeImages | None = None,
        probes: FakeProbes | None = None,
        jitter: float = 0.0,
    ) -> None:
        """``jitter``: where in its range every resync timer falls (SYNC-1), 0 by default."""
        self.clock = clock or ManualClock(T0)
        self._own_runtime = runtime is None
        self.runtime = runtime or TimedRuntime(self.clock, data_dir=tmp / "fake")
        self.images = images or FakeImages(self.clock)
        self.probes = probes
        self.settings = Settings(data_dir=tmp / "data", node_name="node-1")
        self.pods = StaticPods(
            clock=self.clock, node_name="node-1", on_status=self._status, on_event=self._event
        )
        self.rows: list[Seen] = []
        self.events: list[Posted] = []
        self.statuses: list[tuple[float, dict[str, Any]]] = []
        self.agent = NodeAgent(
            settings=self.settings, runtime=self.runtime, images=self.images, client=self.pods,
            clock=self.clock, probe=self.probes,
            node=NodeFacts(node_name="node-1", host_ip="10.0.0.1", cpu="4", memory="8Gi"),
            cluster_dns=ClusterDNS(("10.96.0.10",)),  # a node of a cluster, with its DNS
            jitter=lambda: jitter,
        )  # fmt: skip
        self._task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ lifetime

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, tmp: Path, **kwargs: Any) -> AsyncIterator[Node]:
        node = cls(tmp, **kwargs)
        await node.start()
        try:
            yield node
        finally:
            await node.stop()

    async def start(self) -> None:
        self._task = asyncio.create_task(self.agent.run(), name="node-agent")
        await self.settle()

    async def stop(self) -> None:
        """Cancel the agent and wait for it (every pod worker and probe task with it); close
        the runtime unless the test handed it in (to share it with a second agent)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._own_runtime:
            await self.runtime.close()

    # ------------------------------------------------------------------ time

    async def settle(self, rounds: int = 60) -> None:
        """Let every runnable task run until the agent is idle (all of it is in memory)."""
        for _ in range(rounds):
            await asyncio.sleep(0)

    def now(self) -> float:
        return self.clock.now() - T0

    def _next_deadline(self) -> float | None:
        # ManualClock keeps its sleepers private; peeking spares stepping 0.1 s at a time.
        pending = [d for d, _, fut in self.clock._sleepers if not fut.done()]
        return min(pending) if pending else None

    async def advance(self, seconds: float) -> None:
        """Move virtual time by ``seconds``, stopping at every sleeper's deadline on the way
        so each wake-up is handled at its own moment."""
        target = self.clock.now() + seconds
        await self.settle()
        while (due := self._next_deadline()) is not None and due <= target:
            await self.clock.advance(max(due - self.clock.now(), 0.0))
            await self.settle()
        await self.clock.advance(max(target - self.clock.now(), 0.0))
        await self.settle()

    async def advance_to(self, t: float) -> None:
        """Move to ``t`` seconds after T0."""
        await self.advance(t - self.now())

    async def until(
        self, check: Callable[[], bool], *, within: float = 600.0, step: float = 0.5
    ) -> float:
        """Advance in small steps until ``check()`` holds; returns the time (since T0)."""
        end = self.now() + within
        while not check():
            if self.now() >= end:
                raise AssertionError(f"condition not met within {within}s")
            await self.advance(step)
        return self.now()

    # ------------------------------------------------------------------ pods

    def add(self, manifest: dict[str, Any], *objects: dict[str, Any]) -> str:
        for obj in objects:
            self.pods.add_object(copy.deepcopy(obj))
        return str(self.pods.add_pod(manifest)["metadata"]["uid"])

    def pod(self, name: str) -> dict[str, Any] | None:
        return next((p for p in self.pods.pods() if p["metadata"]["name"] == name), None)

    def status(self, name: str) -> dict[str, Any]:
        found = self.pod(name)
        assert found is not None, f"pod {name} is gone"
        return dict(found.get("status") or {})

    def row(self, name: str) -> str:
        found = self.pod(name)
        assert found is not None, f"pod {name} is gone"
        r = pod_row(found, self.clock.now())
        return f"{r.ready} {r.status} {r.restarts}"

    def container(self, pod_name: str, name: str) -> dict[str, Any]:
        st = self.status(pod_name)
        for entry in st.get("initContainerStatuses", []) + st.get("containerStatuses", []):
            if entry["name"] == name:
                return dict(entry)
        raise KeyError(name)

    def state(self, pod_name: str, name: str) -> tuple[str, str]:
        """(waiting|running|terminated, reason) of one container status."""
        ((kind, body),) = self.container(pod_name, name)["state"].items()
        return kind, str(body.get("reason", ""))

    def condition(self, pod_name: str, type_: str) -> tuple[str, str]:
        cond = next(x for x in self.status(pod_name)["conditions"] if x["type"] == type_)
        return cond["status"], cond.get("reason", "")

    # ------------------------------------------------------------------ what was seen

    def _status(self, stored: dict[str, Any]) -> None:
        now = self.clock.now()
        name = stored["metadata"]["name"]
        self.statuses.append((now - T0, stored))
        r = pod_row(stored, now)
        text = f"{r.ready} {r.status} {r.restarts}"
        mine = [s for s in self.rows if s.pod == name]
        if not mine or mine[-1].what != text:
            self.rows.append(Seen(now - T0, name, text))

    def _event(self, stored: dict[str, Any], event: Event) -> None:
        self.events.append(Posted(self.clock.now() - T0, stored["metadata"]["name"], event))

    def kubectl(self, name: str) -> list[str]:
        """Each distinct kubectl row the pod showed, in order (RESTARTS without the age)."""
        out: list[str] = []
        for s in self.rows:
            if s.pod != name:
                continue
            text = s.what.split(" (", 1)[0]
            if not out or out[-1] != text:
                out.append(text)
        return out

    def posted(self, name: str, reason: str | None = None) -> list[Posted]:
        return [
            p for p in self.events if p.pod == name and (reason is None or p.event.reason == reason)
        ]

    def reasons(self, name: str) -> list[str]:
        """The pod's events in order, each as ``Reason container`` (pod events: ``Reason``)."""
        return [p.short for p in self.posted(name)]

    def messages(self, name: str, reason: str) -> list[str]:
        return [p.event.message for p in self.posted(name, reason)]

    def event_times(self, name: str, reason: str) -> list[float]:
        return [p.t for p in self.posted(name, reason)]


@dataclass(frozen=True, slots=True)
class Posted:
    t: float  # seconds since T0
    pod: str
    event: Event

    @property
    def container(self) -> str:
        path = self.event.field_path
        return path[path.index("{") + 1 : -1] if "{" in path else ""

    @property
    def short(self) -> str:
        return f"{self.event.reason} {self.container}".strip()
