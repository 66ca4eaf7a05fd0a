"""Lifecycle hook handlers (HK-1, HK-5..HK-7): run one postStart or preStop handler.

``run_hook`` performs the handler and returns a ``HookResult``: whether it worked, the detailed
failure message (it becomes ``waiting.message`` after a postStart failure, HK-3) and any events
it gave rise to, as data. It has no timeout of its own (HK-2); the caller bounds a preStop by
the grace period (HK-4, TERM-2) simply by cancelling it, which this module honours at every
await.
"""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubelite.agent import eventtext
from kubelite.agent.eventtext import Event
from kubelite.agent.gotext import go_quote
from kubelite.agent.probehttp import GoError, build_url, http_get, request_headers
from kubelite.agent.probetarget import Dial, MachineryError, open_tcp
from kubelite.clock import Clock
from kubelite.model.pod import pod_full_name
from kubelite.model.race import race
from kubelite.runtime.interface import Runtime, RuntimeError_

LIFECYCLE_USER_AGENT = "kube-lifecycle/1.32"  # HK-6: kube-lifecycle/<major>.<minor>
INVALID_HANDLER = "invalid handler"  # HK-1: tcpSocket (or no handler) cannot be run
SLEEP_CUT_SHORT = "container terminated before sleep hook finished"  # HK-5


@dataclass(frozen=True, slots=True)
class HookTarget:
    """The container a hook runs for. ``host`` is the pod IP (or the address to dial)."""

    container_name: str
    container_id: str
    pod_name: str
    namespace: str
    pod_uid: str
    host: str = "127.0.0.1"
    ports: Mapping[str, int] = field(default_factory=dict)
    dial: Dial = open_tcp

    @property
    def pod_text(self) -> str:
        """How the kubelet names a pod in messages: ``<pod>_<ns>(<uid>)``."""
        return pod_full_name(self.pod_name, self.namespace, self.pod_uid)


@dataclass(frozen=True, slots=True)
class HookResult:
    ok: bool
    message: str = ""  # the detailed handler message when not ok
    events: tuple[Event, ...] = ()  # e.g. LifecycleHTTPFallback (HK-6)


async def run_hook(
    handler: Mapping[str, Any],
    target: HookTarget,
    *,
    runtime: Runtime,
    clock: Clock,
    terminated: asyncio.Event | None = None,
) -> HookResult:
    """Run the handler of a postStart/preStop hook. ``terminated`` is set by the caller when
    the container has exited; it cuts a sleep handler short (HK-5)."""
    if "exec" in handler:
        return await exec_hook(list(handler["exec"].get("command") or ()), target, runtime)
    if "httpGet" in handler:
        return await http_hook(handler["httpGet"], target)
    if "sleep" in handler:
        seconds = float(handler["sleep"].get("seconds") or 0)
        return await sleep_hook(seconds, clock, terminated)
    return HookResult(False, INVALID_HANDLER)  # HK-1: tcpSocket is accepted but never runs


async def exec_hook(argv: list[str], target: HookTarget, runtime: Runtime) -> HookResult:
    """HK-7: fails on a non-zero exit or an exec error; no timeout of its own (HK-2)."""
    output = ""
    try:
        r = await runtime.exec_sync(target.container_id, argv, timeout=None)
    except RuntimeError_ as e:
        err = str(e)
    else:
        if r.exit_code == 0:
            return HookResult(True)
        output = (r.stdout + r.stderr).decode(errors="replace")
        stderr = r.stderr.decode(errors="replace")
        err = f"command '{' '.join(argv)}' exited with {r.exit_code}: {stderr}"
    message = (
        f"Exec lifecycle hook ([{' '.join(argv)}]) for Container {go_quote(target.container_name)}"
        f" in Pod {go_quote(target.pod_text)} failed - error: {err}, message: {go_quote(output)}"
    )
    return HookResult(False, message)


async def http_hook(spec: Mapping[str, Any], target: HookTarget) -> HookResult:
    """HK-6: any HTTP response succeeds; only transport errors fail. An HTTPS target that
    answers in plain HTTP is retried over HTTP, with a LifecycleHTTPFallback warning."""
    try:
        url = build_url(spec, target.host, target.ports)
        headers = request_headers(spec, LIFECYCLE_USER_AGENT)
        try:
            await http_get(url, headers, target.dial, follow_redirects=True)
            return HookResult(True)
        except GoError as e:
            if not e.plain_http:
                raise
        plain = urllib.parse.urlsplit(url)._replace(scheme="http")
        await http_get(plain.geturl(), headers, target.dial, follow_redirects=True)
        return HookResult(True, events=(eventtext.lifecycle_http_fallback(plain.netloc),))
    except (GoError, MachineryError) as e:
        err = str(e)
    message = (
        f"HTTP lifecycle hook ({spec.get('path', '')}) for Container "
        f"{go_quote(target.container_name)} in Pod {go_quote(target.pod_text)} failed - "
        f"error: {err}"
    )
    return HookResult(False, message)


async def sleep_hook(
    seconds: float, clock: Clock, terminated: asyncio.Event | None = None
) -> HookResult:
    """HK-5: sleep on the Clock; cut short (and failed) when the container terminates."""
    if terminated is None:
        await clock.sleep(seconds)
        return HookResult(True)
    if terminated.is_set():
        return HookResult(False, SLEEP_CUT_SHORT)
    deadline = clock.monotonic() + seconds  # fixed now: the sleeper task may start later

    async def sleep_until_deadline() -> None:
        await clock.sleep(deadline - clock.monotonic())

    winner, _ = await race(sleep_until_deadline(), terminated.wait())  # a tie: slept in full
    if winner == 0:
        return HookResult(True)
    return HookResult(False, SLEEP_CUT_SHORT)
