"""Probes and lifecycle hooks aimed at a real pod: the glue between the mechanisms
(``probers``, ``hookrunner``) and the runtime.

A probe or hook reaches the pod's network the way the kubelet does: from the node, at the pod
IP (so a server in the pod sees the node's address on the pod network as the client). A pod
without an IP (a runtime with no pod network) is reached at ``127.0.0.1`` inside its own
network namespace, by opening the sockets there (``runtime.netdial``).
"""

from __future__ import annotations

import asyncio
import contextlib

from kubelite.agent import hookrunner, probers
from kubelite.agent.executing import HookOutcome
from kubelite.agent.probestate import RawResult
from kubelite.agent.probetarget import ProbeTarget, Streams
from kubelite.clock import Clock
from kubelite.model.objects import JSON
from kubelite.model.pod import ContainerSpec, PodSpec, ProbeSpec
from kubelite.runtime import netdial
from kubelite.runtime.interface import ContainerState, ContainerStatus, EventKind, Runtime

POD_LOCAL_HOST = "127.0.0.1"


def container_ports(spec: ContainerSpec) -> dict[str, int]:
    return {
        str(p["name"]): int(p["containerPort"])
        for p in spec.raw.get("ports") or []
        if p.get("name") and p.get("containerPort")
    }


def literal_env(spec: ContainerSpec) -> dict[str, str]:
    """PR-6: exec probe commands expand only literal env values."""
    return {
        str(e["name"]): str(e.get("value", ""))
        for e in spec.raw.get("env") or []
        if "valueFrom" not in e and "name" in e
    }


class PodAddresses:
    """Where a sandbox's pod is reached: its IP from the node, else loopback inside it."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._seen: dict[str, tuple[str, str]] = {}  # sandbox id -> (pod IP, netns path)

    async def _of(self, sandbox_id: str) -> tuple[str, str]:
        if sandbox_id not in self._seen:
            for s in await self._runtime.list_sandboxes():
                self._seen[s.id] = (s.ip or "", s.netns_path)
        return self._seen.get(sandbox_id, ("", ""))

    async def target(
        self, pod: PodSpec, spec: ContainerSpec, status: ContainerStatus
    ) -> ProbeTarget:
        ip, netns = await self._of(status.sandbox_id)
        if not ip:  # host networking: the pod's address is the node's
            ip = str((pod.raw.get("status") or {}).get("podIP") or "")
        from_node = bool(ip) or not netns
        pod_ip = ip or POD_LOCAL_HOST
        where = None if from_node else netns

        async def dial(host: str, port: int) -> Streams:
            return await netdial.open_connection(where, host, port)

        return ProbeTarget(
            container_id=status.id,
            host=pod_ip,
            ports=container_ports(spec),
            env=literal_env(spec),
            dial=dial,
        )


class RuntimeProbes:
    """The probe mechanism the pod workers use (``probing.Mechanism``)."""

    def __init__(self, *, runtime: Runtime) -> None:
        self._runtime = runtime
        self._network = PodAddresses(runtime)

    async def __call__(
        self, pod: PodSpec, spec: ContainerSpec, probe: ProbeSpec, status: ContainerStatus
    ) -> RawResult:
        target = await self._network.target(pod, spec, status)
        return await probers.run_probe(
            probe.raw, target, runtime=self._runtime, timeout=float(probe.timeout_seconds)
        )


class RuntimeHooks:
    """The lifecycle-hook runner the pod workers use (``executing.HookRunner``)."""

    def __init__(self, *, runtime: Runtime, clock: Clock) -> None:
        self._runtime = runtime
        self._clock = clock
        self._network = PodAddresses(runtime)

    async def run(
        self, pod: PodSpec, container: ContainerSpec, container_id: str, handler: JSON
    ) -> HookOutcome:
        status = await self._runtime.container_status(container_id)
        probe_target = await self._network.target(pod, container, status)
        target = hookrunner.HookTarget(
            container_name=container.name, container_id=container_id, pod_name=pod.name,
            namespace=pod.namespace, pod_uid=pod.uid, host=probe_target.host,
            ports=probe_target.ports, dial=probe_target.dial,
        )  # fmt: skip
        if "sleep" not in handler:
            result = await hookrunner.run_hook(
                handler, target, runtime=self._runtime, clock=self._clock
            )
        else:
            # HK-5: a sleep is cut short when the container terminates meanwhile.
            terminated = asyncio.Event()
            watch = asyncio.ensure_future(self._watch_exit(container_id, terminated))
            try:
                result = await hookrunner.run_hook(
                    handler, target, runtime=self._runtime, clock=self._clock,
                    terminated=terminated,
                )  # fmt: skip
            finally:
                watch.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watch
        return HookOutcome(ok=result.ok, message=result.message, events=tuple(result.events))

    async def _watch_exit(self, container_id: str, terminated: asyncio.Event) -> None:
        """Set ``terminated`` once the container has exited (subscribed before looking, so
        an exit in between is not missed)."""
        events = self._runtime.events()
        try:
            status = await self._runtime.container_status(container_id)
            if status.state is ContainerState.EXITED:
                terminated.set()
                return
            async for event in events:
                if event.container_id == container_id and event.kind is EventKind.EXITED:
                    terminated.set()
                    return
        finally:
            await events.aclose()
