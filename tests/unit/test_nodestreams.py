"""``kubectl logs`` and ``kubectl logs --previous`` read the instance the kubelet would: the
current one, or the one ``lastState.terminated`` names (CS-1, CS-3, APP-4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubelite.api.streams import LogOptions, StreamUnavailable
from kubelite.clock import ManualClock
from kubelite.nodestreams import NodeStreams
from kubelite.runtime.fake import FakeRuntime

POD: dict[str, Any] = {"metadata": {"name": "p", "namespace": "ns", "uid": "u1"}}


def _terminated(n: int) -> dict[str, Any]:
    return {"terminated": {"exitCode": 1, "reason": "Error", "containerID": f"kubelite://c{n}"}}


def _with(status: dict[str, Any]) -> dict[str, Any]:
    return {**POD, "status": {"containerStatuses": [{"name": "app", **status}]}}


async def _read(tmp_path: Path, pod: dict[str, Any], *, previous: bool) -> bytes:
    folder = tmp_path / "ns_p_u1" / "app"
    folder.mkdir(parents=True, exist_ok=True)
    for n in (1, 2):  # 0.log was removed with its instance (container GC)
        (folder / f"{n}.log").write_text(f"2023-11-14T22:13:20Z stdout F attempt {n}\n")
    streams = NodeStreams(
        runtime=FakeRuntime(ManualClock()), pod_logs_dir=tmp_path, clock=ManualClock()
    )
    return b"".join([b async for b in streams.stream(pod, LogOptions("app", previous=previous))])


async def test_previous_while_a_newer_instance_runs_is_the_one_before_it(tmp_path: Path) -> None:
    pod = _with(
        {"state": {"running": {}}, "lastState": _terminated(1), "restartCount": 2,
         "containerID": "kubelite://c2"}
    )  # fmt: skip
    assert await _read(tmp_path, pod, previous=True) == b"attempt 1\n"
    assert await _read(tmp_path, pod, previous=False) == b"attempt 2\n"


async def test_previous_in_crashloopbackoff_is_the_newest_dead_instance(tmp_path: Path) -> None:
    """CS-3: waiting, and lastState is the newest instance (restartCount 2), not 1.log."""
    pod = _with(
        {"state": {"waiting": {"reason": "CrashLoopBackOff"}}, "lastState": _terminated(2),
         "restartCount": 2, "containerID": "kubelite://c2"}
    )  # fmt: skip
    assert await _read(tmp_path, pod, previous=True) == b"attempt 2\n"
    assert await _read(tmp_path, pod, previous=False) == b"attempt 2\n"


async def test_previous_without_a_terminated_last_state_is_not_found(tmp_path: Path) -> None:
    pod = _with(
        {"state": {"running": {}}, "lastState": {}, "restartCount": 0,
         "containerID": "kubelite://c0"}
    )  # fmt: skip
    with pytest.raises(StreamUnavailable, match='previous terminated container "app"'):
        await _read(tmp_path, pod, previous=True)
