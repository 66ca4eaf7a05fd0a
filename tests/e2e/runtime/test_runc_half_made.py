"""A kill -9 while a sandbox is being made: the pod cgroup (with its pids limit) exists, the
sandbox record does not yet. The next runtime on that data directory removes both the folder
and the cgroup, so nothing of the half-made pod is left on the machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelite.runtime.cgroups import PodCgroups
from kubelite.runtime.runc import RuncRuntime
from kubelite.settings import Settings
from tests.e2e.run.leftovers import cgroup_dirs
from tests.e2e.runtime.busybox_rootfs import BusyboxRootfs

pytestmark = pytest.mark.e2e

SANDBOX_ID = "0123456789abcdef0123456789abcdef"


async def test_a_half_made_sandbox_leaves_no_cgroup(
    settings: Settings, busybox_lower: Path
) -> None:
    first = RuncRuntime(settings, BusyboxRootfs(busybox_lower))
    await first.close()
    cgroups = PodCgroups(settings.data_dir)
    half_made = first.sandboxes.dir(SANDBOX_ID)
    # the crash came after step 5 of Sandboxes.create (the cgroup), before the record
    half_made.mkdir(mode=0o700, parents=True)
    cgroups.create_pod(SANDBOX_ID, memory_limit=None, cpu_quota=None, cpu_period=None,
                       pids_limit=4096)  # fmt: skip
    try:
        assert cgroups.leftovers(SANDBOX_ID), "the pods hierarchy is not mounted here"
        second = RuncRuntime(settings, BusyboxRootfs(busybox_lower))
        await second.close()
        assert cgroups.leftovers(SANDBOX_ID) == []
        assert not half_made.exists()
        assert cgroup_dirs(settings.data_dir) == []  # the kubelite-<digest> parent too
    finally:
        cgroups.remove_pod(SANDBOX_ID)
