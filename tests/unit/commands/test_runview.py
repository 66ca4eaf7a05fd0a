"""The ``kubelite run`` view prints each container's log lines in the order the containers ran
(INIT-1): a regular init container's output is complete before any later container's."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from kubelite.clock import ManualClock
from kubelite.commands._runview import RunView


def _pod(statuses: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "metadata": {"name": "p", "namespace": "default", "uid": "u1"},
        "spec": {
            "initContainers": [
                {"name": "setup", "image": "busybox"},
                {"name": "proxy", "image": "busybox", "restartPolicy": "Always"},
            ],
            "containers": [{"name": "app", "image": "busybox"}],
        },
        "status": {"phase": "Running", **statuses},
    }


def _done(name: str) -> dict[str, Any]:
    return {"name": name, "containerID": f"runc://{name}", "state": {"terminated": {}}}


def _running(name: str) -> dict[str, Any]:
    return {"name": name, "containerID": f"runc://{name}", "state": {"running": {}}}


class SlowLogs:
    """Each container's lines, read as a follower would; ``setup``'s file yields slowly."""

    def __init__(self) -> None:
        self.lines = {"setup": ["s1", "s2", "s3"], "proxy": ["x1"], "app": ["a1", "a2"]}

    async def follow(self, path: Path, stop: asyncio.Event) -> AsyncIterator[str]:
        container = path.parent.name
        for line in self.lines[container]:
            if container == "setup":
                await asyncio.sleep(0.01)  # the init container's follower is behind
            yield line
        await stop.wait()


def _printed(out: io.StringIO) -> list[str]:
    return [line.split("] ", 1)[1] for line in out.getvalue().splitlines() if "] " in line]


async def test_a_finished_init_containers_lines_come_before_the_apps_seen_in_one_update() -> None:
    out = io.StringIO()
    logs = SlowLogs()
    view = RunView(clock=ManualClock(), pod_logs_dir=Path("/logs"), follow=logs.follow, out=out)
    view.on_status(
        _pod(
            {
                "initContainerStatuses": [_done("setup"), _running("proxy")],
                "containerStatuses": [_running("app")],
            }
        )
    )
    await asyncio.sleep(0.1)
    await view.close()
    printed = _printed(out)
    assert printed[:3] == ["s1", "s2", "s3"], printed
    assert sorted(printed[3:]) == ["a1", "a2", "x1"]


async def test_a_running_init_container_holds_later_lines_until_it_exited() -> None:
    out = io.StringIO()
    logs = SlowLogs()
    view = RunView(clock=ManualClock(), pod_logs_dir=Path("/logs"), follow=logs.follow, out=out)
    view.on_status(_pod({"initContainerStatuses": [_running("setup")]}))
    await asyncio.sleep(0.05)
    assert _printed(out) == ["s1", "s2", "s3"]
    # a later update: setup exited, the sidecar and the app run; their lines follow setup's
    view.on_status(
        _pod(
            {
                "initContainerStatuses": [_done("setup"), _running("proxy")],
                "containerStatuses": [_running("app")],
            }
        )
    )
    await asyncio.sleep(0.05)
    await view.close()
    assert sorted(_printed(out)[3:]) == ["a1", "a2", "x1"]


async def test_a_native_sidecar_does_not_hold_back_the_app() -> None:
    out = io.StringIO()
    logs = SlowLogs()
    logs.lines["setup"] = []
    view = RunView(clock=ManualClock(), pod_logs_dir=Path("/logs"), follow=logs.follow, out=out)
    view.on_status(
        _pod(
            {
                "initContainerStatuses": [_done("setup"), _running("proxy")],
                "containerStatuses": [_running("app")],
            }
        )
    )
    await asyncio.sleep(0.05)  # the sidecar is still running: the app's lines are out anyway
    assert sorted(_printed(out)) == ["a1", "a2", "x1"]
    await view.close()


async def test_an_instance_replaced_before_any_status_showed_it_is_still_printed() -> None:
    """A quick restart: the first status that shows the container already has the second
    instance current and the first in lastState; both instances' lines come out, in order."""
    out = io.StringIO()
    seen: list[str] = []

    async def follow(path: Path, stop: asyncio.Event) -> AsyncIterator[str]:
        seen.append(path.name)
        yield f"line of {path.name}"
        await stop.wait()

    view = RunView(clock=ManualClock(), pod_logs_dir=Path("/logs"), follow=follow, out=out)
    app = {
        "name": "app", "containerID": "runc://b", "restartCount": 1,
        "state": {"running": {}},
        "lastState": {"terminated": {"containerID": "runc://a", "exitCode": 1}},
    }  # fmt: skip
    view.on_status(_pod({"containerStatuses": [app]}))
    await asyncio.sleep(0.05)
    await view.close()
    assert seen == ["0.log", "1.log"]
    assert sorted(_printed(out)) == ["line of 0.log", "line of 1.log"]
