"""The node side of the streaming endpoints: ``kubectl logs`` (``--previous`` too) reads the
instance the kubelet would — the current one, or the one ``lastState.terminated`` names (CS-1,
CS-3, APP-4) — and refuses in its words; exec, attach and port-forward reach the runtime and
the pod's namespace with the kubelet's and containerd's messages."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from kubelite.api.streams import AttachRequest, ExecRequest, LogOptions, StreamUnavailable
from kubelite.clock import ManualClock
from kubelite.nodestreams import NodeStreams, SandboxDialer
from kubelite.runtime.fake import FakeRuntime
from kubelite.runtime.interface import ContainerConfig, SandboxConfig

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


@pytest.mark.parametrize(
    ("status", "message"),
    [
        pytest.param(None, 'container "app" in pod "p" is waiting to start: ContainerCreating',
                     id="a container not reported yet is being created"),
        pytest.param({"state": {"waiting": {"reason": "PodInitializing"}}},
                     'container "app" in pod "p" is waiting to start: PodInitializing',
                     id="waiting names its reason"),
        pytest.param({"state": {"waiting": {"reason": "ErrImagePull"}}},
                     "container \"app\" in pod \"p\" is waiting to start: image can't be pulled",
                     id="an image pull error in the kubelet's words"),
        pytest.param({"state": {"waiting": {"reason": "ImagePullBackOff"}}},
                     'container "app" in pod "p" is waiting to start: trying and failing to '
                     "pull image", id="image pull back-off in the kubelet's words"),
        pytest.param({"state": {"terminated": {"exitCode": 128}}},
                     'container "app" in pod "p" is terminated',
                     id="terminated before it ever ran"),
        pytest.param({"state": {}}, 'container "app" in pod "p" is waiting to start - no logs yet',
                     id="no state at all"),
    ],
)  # fmt: skip
async def test_log_refusals_are_the_kubelets(
    tmp_path: Path, status: dict[str, Any] | None, message: str
) -> None:
    pod = POD if status is None else _with({"restartCount": 0, **status})
    with pytest.raises(StreamUnavailable) as err:
        await _read(tmp_path, pod, previous=False)
    assert str(err.value) == message


def _streams() -> tuple[NodeStreams, FakeRuntime]:
    runtime = FakeRuntime(ManualClock())
    return NodeStreams(runtime=runtime, pod_logs_dir=Path("/nonexistent"),
                       clock=ManualClock()), runtime  # fmt: skip


async def test_exec_and_attach_need_a_running_container() -> None:
    streams, _ = _streams()
    waiting = _with({"state": {"waiting": {"reason": "ContainerCreating"}}})
    with pytest.raises(StreamUnavailable, match=r'^container not found \("app"\)$'):
        await streams.exec(ExecRequest(waiting, "app", ["ls"], False, True, True, False))
    with pytest.raises(StreamUnavailable, match=r"^container app not found in pod p_ns$"):
        await streams.attach(AttachRequest(waiting, "app", True, True, False, False))


async def test_exec_and_attach_reach_the_runtime_with_the_requests_streams() -> None:
    streams, runtime = _streams()
    sandbox = await runtime.run_sandbox(SandboxConfig("u1", "p", "ns", 0, "p"))
    cid = await runtime.create_container(sandbox, ContainerConfig("app", 0, "busybox:1.36"))
    await runtime.start_container(cid)
    runtime.script_attach("app", stdout=b"attached\n")
    running = _with({"state": {"running": {}}, "containerID": f"kubelite://{cid}"})
    await streams.exec(ExecRequest(running, "app", ["sh"], True, True, False, True))
    assert runtime.calls_of("exec_stream")[0].kwargs == {"tty": True, "stdin": True}
    session = await streams.attach(AttachRequest(running, "app", True, True, False, False))
    assert [chunk async for chunk in session.stdout()] == [b"attached\n"]
    await runtime.close()


async def test_port_forward_needs_the_pods_sandbox_and_reports_a_closed_port() -> None:
    streams, runtime = _streams()
    with pytest.raises(StreamUnavailable, match=r'^pod not found \("p_ns"\)$'):
        await streams.port_forward(POD)
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()  # nobody listens there now
    dialer = SandboxDialer("sandbox1", "")  # a host-network pod: the node's namespace
    with pytest.raises(StreamUnavailable) as err:
        await dialer.connect(port)
    assert str(err.value).startswith(
        f"error forwarding port {port} to pod sandbox1, uid : failed to execute portforward in "
        f'network namespace "": failed to connect to localhost:{port} inside namespace '
        f'"sandbox1", IPv4: dial tcp4 127.0.0.1:{port}: connect: connection refused IPv6 dial '
        f"tcp6 [::1]:{port}: connect: "
    )
    await runtime.close()
