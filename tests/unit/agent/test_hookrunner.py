"""Lifecycle hook handlers (HK-1, HK-5..HK-7) against the fake runtime and local servers."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from kubelite.agent.eventtext import Event
from kubelite.agent.hookrunner import HookResult, HookTarget, run_hook
from kubelite.clock import ManualClock
from kubelite.runtime.fake import FakeRuntime
from kubelite.runtime.interface import ContainerConfig, SandboxConfig

LOCAL = "127.0.0.1"
POD = 'Pod "web_default(uid-1)"'


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def fake(clock: ManualClock) -> AsyncIterator[FakeRuntime]:
    async with FakeRuntime(clock) as rt:
        yield rt


@pytest.fixture
async def target(fake: FakeRuntime) -> HookTarget:
    sid = await fake.run_sandbox(SandboxConfig("uid-1", "web", "default", 0, "web"))
    cid = await fake.create_container(sid, ContainerConfig(name="app", attempt=0, image="i"))
    await fake.start_container(cid)
    return HookTarget("app", cid, "web", "default", "uid-1", host=LOCAL)


@pytest.fixture
async def http_server() -> AsyncIterator[tuple[int, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []

    async def anything(req: web.Request) -> web.Response:
        seen.append(dict(req.headers))
        return web.Response(status=500, text="broken")

    app = web.Application()
    app.add_routes([web.get("/{tail:.*}", anything)])
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, LOCAL, 0).start()
    yield runner.addresses[0][1], seen
    await runner.cleanup()


async def hook(
    handler: dict[str, Any],
    target: HookTarget,
    fake: FakeRuntime,
    clock: ManualClock,
    terminated: asyncio.Event | None = None,
) -> HookResult:
    return await run_hook(handler, target, runtime=fake, clock=clock, terminated=terminated)


# ---------------------------------------------------------------------------- exec (HK-7)


async def test_an_exec_hook_that_exits_0_succeeds(
    target: HookTarget, fake: FakeRuntime, clock: ManualClock
) -> None:
    assert await hook({"exec": {"command": ["true"]}}, target, fake, clock) == HookResult(True)
    assert fake.calls_of("exec_sync")[-1].kwargs == {"timeout": None}  # HK-2: no timeout


async def test_a_failed_exec_hook_has_the_kubelet_message(
    target: HookTarget, fake: FakeRuntime, clock: ManualClock
) -> None:
    argv = ["sh", "-c", "echo out; echo err >&2; exit 2"]
    fake.script_exec(argv, exit_code=2, stdout=b"out\n", stderr=b"err\n")
    r = await hook({"exec": {"command": argv}}, target, fake, clock)
    assert r == HookResult(
        False,
        'Exec lifecycle hook ([sh -c echo out; echo err >&2; exit 2]) for Container "app" in '
        f"{POD} failed - error: command 'sh -c echo out; echo err >&2; exit 2' exited with 2: "
        'err\n, message: "out\\nerr\\n"',
    )


async def test_an_exec_error_fails_the_hook(
    target: HookTarget, fake: FakeRuntime, clock: ManualClock
) -> None:
    await fake.stop_container(target.container_id, 1)
    r = await hook({"exec": {"command": ["true"]}}, target, fake, clock)
    assert not r.ok
    assert r.message.startswith(f'Exec lifecycle hook ([true]) for Container "app" in {POD}')
    assert r.message.endswith(', message: ""')


async def test_an_exec_hook_takes_as_long_as_the_command(
    target: HookTarget, fake: FakeRuntime, clock: ManualClock
) -> None:
    fake.script_exec(["drain"], takes=3.0)
    run = asyncio.create_task(hook({"exec": {"command": ["drain"]}}, target, fake, clock))
    await asyncio.sleep(0)
    await clock.advance(2.9)
    assert not run.done()
    await clock.advance(0.1)
    assert (await run).ok


async def test_a_hook_is_cancellable_by_its_caller(
    target: HookTarget, fake: FakeRuntime, clock: ManualClock
) -> None:
    fake.script_exec(["forever"], takes=1e9)
    run = asyncio.create_task(hook({"exec": {"command": ["forever"]}}, target, fake, clock))
    await asyncio.sleep(0)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run


# ---------------------------------------------------------------------------- httpGet (HK-6)


async def test_any_http_response_counts_as_success(
    target: HookTarget,
    fake: FakeRuntime,
    clock: ManualClock,
    http_server: tuple[int, list[dict[str, str]]],
) -> None:
    port, seen = http_server
    r = await hook({"httpGet": {"port": port, "path": "/stop"}}, target, fake, clock)
    assert r == HookResult(True)
    assert seen[0]["User-Agent"] == "kube-lifecycle/1.32"


async def test_a_named_port_is_resolved(
    target: HookTarget,
    fake: FakeRuntime,
    clock: ManualClock,
    http_server: tuple[int, list[dict[str, str]]],
) -> None:
    port, _ = http_server
    named = HookTarget("app", target.container_id, "web", "default", "uid-1", ports={"h": port})
    assert (await hook({"httpGet": {"port": "h"}}, named, fake, clock)).ok


async def test_an_unreachable_http_hook_fails_with_the_transport_error(
    target: HookTarget, fake: FakeRuntime, clock: ManualClock
) -> None:
    with socket.socket() as s:
        s.bind((LOCAL, 0))
        port = s.getsockname()[1]
    r = await hook({"httpGet": {"port": port, "path": "/stop"}}, target, fake, clock)
    url = f"http://{LOCAL}:{port}/stop"
    assert r == HookResult(
        False,
        f'HTTP lifecycle hook (/stop) for Container "app" in {POD} failed - error: '
        f'Get "{url}": dial tcp {LOCAL}:{port}: connect: connection refused',
    )


async def test_https_answered_in_plain_http_falls_back_with_a_warning(
    target: HookTarget,
    fake: FakeRuntime,
    clock: ManualClock,
    http_server: tuple[int, list[dict[str, str]]],
) -> None:
    port, seen = http_server
    r = await hook({"httpGet": {"port": port, "scheme": "HTTPS"}}, target, fake, clock)
    assert r.ok
    assert r.events == (
        Event(
            "Warning",
            "LifecycleHTTPFallback",
            f"request to HTTPS lifecycle hook {LOCAL}:{port} got HTTP response, "
            "retry with HTTP succeeded",
        ),
    )
    assert seen and seen[-1]["User-Agent"] == "kube-lifecycle/1.32"


# ---------------------------------------------------------------------------- sleep (HK-5)


async def test_a_sleep_hook_sleeps_on_the_clock(
    target: HookTarget, fake: FakeRuntime, clock: ManualClock
) -> None:
    run = asyncio.create_task(hook({"sleep": {"seconds": 5}}, target, fake, clock, asyncio.Event()))
    await asyncio.sleep(0)
    await clock.advance(4.9)
    assert not run.done()
    await clock.advance(0.1)
    assert await run == HookResult(True)


async def test_a_sleep_hook_is_cut_short_when_the_container_terminates(
    target: HookTarget, fake: FakeRuntime, clock: ManualClock
) -> None:
    terminated = asyncio.Event()
    run = asyncio.create_task(hook({"sleep": {"seconds": 30}}, target, fake, clock, terminated))
    await clock.advance(3)
    terminated.set()
    assert await run == HookResult(False, "container terminated before sleep hook finished")


async def test_a_cancelled_sleep_hook_leaves_no_task_behind(
    target: HookTarget, fake: FakeRuntime, clock: ManualClock
) -> None:
    run = asyncio.create_task(
        hook({"sleep": {"seconds": 30}}, target, fake, clock, asyncio.Event())
    )
    await asyncio.sleep(0)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run


# ---------------------------------------------------------------------------- tcpSocket (HK-1)


async def test_a_tcp_socket_hook_always_fails(
    target: HookTarget, fake: FakeRuntime, clock: ManualClock
) -> None:
    r = await hook({"tcpSocket": {"port": 80}}, target, fake, clock)
    assert r == HookResult(False, "invalid handler")
