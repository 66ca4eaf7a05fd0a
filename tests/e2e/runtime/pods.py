"""Small builders shared by the real-runtime tests: a sandbox, a started container, a wait."""

from __future__ import annotations

from collections.abc import Sequence

from kubelite.runtime.interface import ContainerConfig, SandboxConfig
from kubelite.runtime.runc import RuncRuntime


async def sandbox(rt: RuncRuntime, uid: str = "uid-1", **kw: object) -> str:
    config = SandboxConfig(
        pod_uid=uid,
        pod_name=str(kw.pop("pod_name", "web")),
        namespace="default",
        attempt=0,
        hostname=str(kw.pop("hostname", "web")),
        **kw,  # type: ignore[arg-type]
    )
    return await rt.run_sandbox(config)


def container(
    rt: RuncRuntime, name: str, argv: Sequence[str], *, uid: str = "uid-1", attempt: int = 0,
    **kw: object,
) -> ContainerConfig:  # fmt: skip
    log = rt.settings.pod_logs_dir / f"default_web_{uid}" / name / f"{attempt}.log"
    return ContainerConfig(
        name=name, attempt=attempt, image=str(kw.pop("image", "busybox")),
        command=tuple(argv), log_path=log, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


async def run(rt: RuncRuntime, sandbox_id: str, config: ContainerConfig) -> str:
    cid = await rt.create_container(sandbox_id, config)
    await rt.start_container(cid)
    return cid


async def wait_exit(rt: RuncRuntime, cid: str, timeout: float = 10.0) -> None:
    assert await rt.wait_container(cid, timeout), f"container {cid[:12]} did not exit"
