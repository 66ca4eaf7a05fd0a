"""Real runc: what keeps a container in its place — seccomp (RuntimeDefault, Localhost), masked
and read-only /proc paths, the node's namespaces only when asked for (hostPID, hostIPC), the
pod's pids limit against a fork bomb, an oom_score_adj the host allows, and runc's failures
with their real cause."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from dataclasses import replace
from pathlib import Path

import pytest

from kubelite.runtime.interface import (
    CreateContainerError,
    Resources,
    SeccompProfile,
    SecurityContext,
    StartContainerError,
)
from kubelite.runtime.logs import LogOptions, read_log
from kubelite.runtime.ocispec import MASKED_PATHS
from kubelite.runtime.runc import RuncRuntime
from tests.e2e.runtime.pods import container, run, sandbox, wait_exit

pytestmark = pytest.mark.e2e
STDOUT = frozenset({"stdout"})
# A uid-1000 container with every capability dropped: the user a hardened pod runs as.
UNPRIVILEGED = SecurityContext(run_as_user=1000, capabilities_drop=("ALL",))
# The masked files this host's kernel has (an empty file is bound over each in a container).
HOST_MASKED_FILES = [p for p in MASKED_PATHS if os.path.isfile(p)]
UNSHARE = "unshare -Urm sh -c 'mount -t tmpfs none /tmp && echo mounted'; echo rc=$?"


async def output(rt: RuncRuntime, sid: str, name: str, script: str, **kw: object) -> str:
    cid = await run(rt, sid, container(rt, name, ["sh", "-c", script], **kw))
    await wait_exit(rt, cid, 20)
    return read_log((await rt.container_status(cid)).log_path, LogOptions()).decode()


def with_seccomp(security: SecurityContext, kind: str, path: str = "") -> SecurityContext:
    return replace(security, seccomp=SeccompProfile(kind, path))


async def test_runtime_default_seccomp_keeps_an_unprivileged_container_out_of_namespaces(
    runtime: RuncRuntime,
) -> None:
    sid = await sandbox(runtime)
    script = f"grep '^Seccomp:' /proc/self/status; {UNSHARE}"
    confined = await output(
        runtime, sid, "confined", script, security=with_seccomp(UNPRIVILEGED, "RuntimeDefault")
    )
    assert "Seccomp:\t2" in confined
    assert "Operation not permitted" in confined and "rc=1" in confined
    assert "mounted" not in confined
    # The same container unconfined (what kubelite did before): a user namespace and a mount.
    free = await output(runtime, sid, "free", script, security=UNPRIVILEGED)
    assert "Seccomp:\t0" in free and "mounted" in free


async def test_runtime_default_leaves_ordinary_work_alone(runtime: RuncRuntime) -> None:
    sid = await sandbox(runtime)
    script = "mkdir /tmp/d && echo x > /tmp/d/f && cat /tmp/d/f && sleep 0.1 & wait; echo done"
    out = await output(
        runtime, sid, "app", script, security=with_seccomp(SecurityContext(), "RuntimeDefault")
    )
    assert out == "x\ndone\n"


async def test_a_privileged_container_is_never_seccomp_confined(runtime: RuncRuntime) -> None:
    sid = await sandbox(runtime)
    sec = with_seccomp(SecurityContext(privileged=True), "RuntimeDefault")
    assert "Seccomp:\t0" in await output(runtime, sid, "p", "grep '^Seccomp:' /proc/self/status",
                                         security=sec)  # fmt: skip


async def test_a_localhost_profile_is_applied(runtime: RuncRuntime, tmp_path: Path) -> None:
    profile = tmp_path / "no-mkdir.json"
    profile.write_text(json.dumps({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}],
    }))  # fmt: skip
    sid = await sandbox(runtime)
    sec = with_seccomp(SecurityContext(), "Localhost", str(profile))
    out = await output(runtime, sid, "c", "mkdir /tmp/x; echo rc=$?", security=sec)
    assert "Permission denied" in out and "rc=1" in out


async def test_a_missing_localhost_profile_is_containerds_error(
    runtime: RuncRuntime, tmp_path: Path
) -> None:
    sid = await sandbox(runtime)
    path = str(tmp_path / "profiles" / "missing.json")
    cfg = container(
        runtime, "c", ["true"], security=with_seccomp(SecurityContext(), "Localhost", path)
    )
    with pytest.raises(CreateContainerError) as caught:
        await runtime.create_container(sid, cfg)
    assert str(caught.value) == (
        f'failed to create containerd container: cannot load seccomp profile "{path}": '
        f"open {path}: no such file or directory"
    )
    assert caught.value.reason == "CreateContainerError"


async def test_proc_paths_are_masked_and_read_only_unless_privileged(
    runtime: RuncRuntime,
) -> None:
    host_files = HOST_MASKED_FILES
    assert host_files, "this host has none of the masked /proc files"
    sizes = "; ".join(f"echo {p}=$(cat {p} | wc -c)" for p in host_files)
    script = f"{sizes}; echo 1 > /proc/sys/vm/drop_caches 2>/dev/null || echo sys-ro"
    sid = await sandbox(runtime)
    plain = await output(runtime, sid, "plain", script)
    for path in host_files:
        assert f"{path}=0" in plain  # an empty file where the kernel's is
    assert "sys-ro" in plain
    privileged = await output(
        runtime, sid, "priv", f"{sizes}", security=SecurityContext(privileged=True)
    )
    assert any(f"{p}=0" not in privileged for p in host_files)


async def test_host_pid_and_host_ipc_are_the_nodes_namespaces(runtime: RuncRuntime) -> None:
    marker = f"kubelite-test-{secrets.token_hex(4)}"
    shm = Path("/dev/shm") / marker
    shm.write_text("host")
    try:
        script = "readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc; cat /dev/shm/" + marker
        sid = await sandbox(runtime, uid="host-ns", host_pid=True, host_ipc=True)
        out = await output(runtime, sid, "c", script, uid="host-ns")
        own = await sandbox(runtime, uid="own-ns")
        mine = await output(runtime, own, "c", script, uid="own-ns")
    finally:
        shm.unlink()
    host = [os.readlink("/proc/self/ns/pid"), os.readlink("/proc/self/ns/ipc")]
    assert out.split("\n")[:3] == [*host, "host"]
    assert not set(mine.split("\n")[:2]) & set(host)
    assert "No such file" in mine  # its /dev/shm is the pod's own


async def test_a_fork_bomb_is_held_at_the_pods_pids_limit(runtime: RuncRuntime) -> None:
    limit = 64
    sid = await sandbox(runtime, uid="bomb", pids_limit=limit)
    # Forks until the kernel refuses, keeping each child alive; bounded so a missing limit
    # cannot take the machine down (5000 sleeping children at most, for 30 s at most).
    bomb = (
        "i=0; while [ $i -lt 5000 ]; do sleep 30 & [ $? -eq 0 ] || break; i=$((i+1)); done; "
        "echo forked=$i; sleep 30"
    )
    cid = await run(runtime, sid, container(runtime, "bomb", ["sh", "-c", bomb], uid="bomb"))
    current, maximum, log = 0, "", ""
    for _ in range(200):
        log = read_log((await runtime.container_status(cid)).log_path, LogOptions()).decode()
        current, maximum = runtime.cgroups.pids(runtime.cgroups.pod_path(sid))
        if "forked=" in log or "can't fork" in log:
            break
        await asyncio.sleep(0.05)
    assert maximum == str(limit)
    assert current <= limit
    assert "can't fork" in log or "Resource temporarily unavailable" in log
    # The node keeps working: another pod starts and runs.
    other = await sandbox(runtime, uid="calm")
    assert await output(runtime, other, "calm", "echo ok", uid="calm") == "ok\n"
    await runtime.stop_container(cid, 0)


async def test_a_guaranteed_container_starts_where_the_host_refuses_a_lower_oom_score(
    runtime: RuncRuntime,
) -> None:
    floor = (await runtime.info()).oom_score_adj_floor
    sid = await sandbox(runtime)
    out = await output(runtime, sid, "g", "cat /proc/self/oom_score_adj",
                       resources=Resources(oom_score_adj=-997))  # fmt: skip
    assert out == f"{-997 if floor is None else max(-997, floor)}\n"


async def test_a_runc_failure_keeps_its_real_cause(runtime: RuncRuntime) -> None:
    if (await runtime.info()).oom_score_adj_floor is None:
        pytest.skip("this host lets the runtime lower oom_score_adj: nothing fails")
    runtime.containers.oom_score_adj_floor = None  # as before the clamp
    sid = await sandbox(runtime)
    cid = await runtime.create_container(
        sid, container(runtime, "g", ["true"], resources=Resources(oom_score_adj=-997))
    )
    with pytest.raises(StartContainerError) as caught:
        await runtime.start_container(cid)
    message = str(caught.value)
    assert "can't get final child's PID from pipe: EOF" in message
    assert "failed to update /proc/self/oom_score_adj: Permission denied" in message
    assert (await runtime.container_status(cid)).message == message
