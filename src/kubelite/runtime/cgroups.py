"""The pod-level cgroup parent of each sandbox, on cgroup v1 (per controller) or v2.

runc creates each container's own cgroup below the pod's (``linux.cgroupsPath``); this module
names those paths, writes the pod-level limits, reads usage and OOM counters, and removes the
whole pod subtree on every mounted hierarchy when the sandbox goes, so nothing is left behind.
"""

from __future__ import annotations

import errno
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

CGROUP_MOUNT = Path("/sys/fs/cgroup")


@dataclass(frozen=True, slots=True)
class Hierarchy:
    mount: Path
    version: int  # 1 or 2
    controllers: frozenset[str]


def hierarchies() -> list[Hierarchy]:
    """Every cgroup hierarchy mounted in this mount namespace."""
    found: list[Hierarchy] = []
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        for line in f:
            head, _, tail = line.partition(" - ")
            fstype, _, rest = tail.partition(" ")
            if fstype not in ("cgroup", "cgroup2"):
                continue
            point = Path(head.split(" ")[4])
            opts = rest.split(" ")[-1].strip().split(",")
            if fstype == "cgroup2":
                ctrl = point / "cgroup.controllers"
                names = ctrl.read_text().split() if ctrl.exists() else []
                found.append(Hierarchy(point, 2, frozenset(names)))
            else:
                names = [o for o in opts if o not in ("rw", "ro", "relatime", "nosuid", "nodev",
                                                       "noexec", "clone_children")]  # fmt: skip
                found.append(Hierarchy(point, 1, frozenset(names)))
    return found


def _write(path: Path, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


class PodCgroups:
    """Names and manages ``/<root>/pod-<sandbox>`` on every hierarchy.

    ``root`` is derived from the data directory so several kubelites never share a subtree."""

    def __init__(self, data_dir: Path) -> None:
        digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:12]
        self.root = f"kubelite-{digest}"
        self._hier = hierarchies()
        self.unified_only = any(h.mount == CGROUP_MOUNT and h.version == 2 for h in self._hier)

    def pod_path(self, sandbox_id: str) -> str:
        return f"/{self.root}/pod-{sandbox_id[:16]}"

    def container_path(self, sandbox_id: str, container_id: str) -> str:
        return f"{self.pod_path(sandbox_id)}/ctr-{container_id[:16]}"

    def _controller_dir(self, controller: str, rel: str) -> Path | None:
        for h in self._hier:
            if (h.version == 1 and controller in h.controllers) or (
                h.version == 2 and self.unified_only
            ):
                return h.mount / rel.lstrip("/")
        return None

    @property
    def swap_accounting(self) -> bool:
        d = self._controller_dir("memory", "")
        if d is None:
            return False
        return (d / "memory.memsw.limit_in_bytes").exists() or (
            self.unified_only and (d / "memory.swap.max").exists()
        )

    def create_pod(
        self, sandbox_id: str, *, memory_limit: int | None, cpu_quota: int | None,
        cpu_period: int | None, pids_limit: int | None = None,
    ) -> None:  # fmt: skip
        """Create the pod cgroup where limits apply and write them (RES-*; the pids limit is
        the node's --pod-max-pids: every process and thread of every container counts)."""
        rel = self.pod_path(sandbox_id)
        if self.unified_only:
            d = CGROUP_MOUNT / rel.lstrip("/")
            d.mkdir(parents=True, exist_ok=True)
            _enable_controllers(CGROUP_MOUNT, d)
            if memory_limit is not None and (d / "memory.max").exists():
                _write(d / "memory.max", str(memory_limit))
            if cpu_quota is not None and (d / "cpu.max").exists():
                _write(d / "cpu.max", f"{cpu_quota} {cpu_period or 100_000}")
            if pids_limit is not None and (d / "pids.max").exists():
                _write(d / "pids.max", str(pids_limit))
            return
        pids = self._controller_dir("pids", rel)
        if pids_limit is not None and pids is not None:
            pids.mkdir(parents=True, exist_ok=True)
            _write(pids / "pids.max", str(pids_limit))
        mem = self._controller_dir("memory", rel)
        if memory_limit is not None and mem is not None:
            mem.mkdir(parents=True, exist_ok=True)
            _write(mem / "memory.limit_in_bytes", str(memory_limit))
        cpu = self._controller_dir("cpu", rel)
        if cpu_quota is not None and cpu is not None:
            cpu.mkdir(parents=True, exist_ok=True)
            _write(cpu / "cpu.cfs_period_us", str(cpu_period or 100_000))
            _write(cpu / "cpu.cfs_quota_us", str(cpu_quota))

    def remove_pod(self, sandbox_id: str) -> None:
        """Remove the pod subtree everywhere, deepest first, then the root when empty."""
        for h in self._hier:
            base = h.mount / self.root
            _rmtree_cgroup(base / f"pod-{sandbox_id[:16]}")
            try:
                base.rmdir()
            except OSError:
                pass

    def remove_container(self, sandbox_id: str, container_id: str) -> None:
        rel = self.container_path(sandbox_id, container_id).lstrip("/")
        for h in self._hier:
            _rmtree_cgroup(h.mount / rel)

    def leftovers(self, sandbox_id: str) -> list[Path]:
        """Pod cgroup folders still present (for tests and diagnostics)."""
        rel = self.pod_path(sandbox_id).lstrip("/")
        return [h.mount / rel for h in self._hier if (h.mount / rel).exists()]

    # ------------------------------------------------------------------ reading

    def memory_usage(self, cgroup_path: str) -> int:
        d = self._controller_dir("memory", cgroup_path)
        for name in ("memory.usage_in_bytes", "memory.current"):
            if d and (d / name).exists():
                return int((d / name).read_text().split()[0])
        return 0

    def working_set(self, cgroup_path: str) -> int:
        """Usage less ``inactive_file`` (v1: ``total_inactive_file`` of memory.stat), as
        cAdvisor computes the working set; never below 0."""
        usage = self.memory_usage(cgroup_path)
        d = self._controller_dir("memory", cgroup_path)
        if d is None or not (d / "memory.stat").exists():
            return usage
        stats = dict(
            line.split(" ", 1)
            for line in (d / "memory.stat").read_text().splitlines()
            if " " in line
        )
        inactive = stats.get("total_inactive_file", stats.get("inactive_file", "0"))
        return max(0, usage - int(inactive))

    def cpu_usage_ns(self, cgroup_path: str) -> int:
        d = self._controller_dir("cpuacct", cgroup_path)
        if d and (d / "cpuacct.usage").exists():
            return int((d / "cpuacct.usage").read_text())
        d = self._controller_dir("cpu", cgroup_path)
        if d and (d / "cpu.stat").exists():
            for line in (d / "cpu.stat").read_text().splitlines():
                if line.startswith("usage_usec "):
                    return int(line.split()[1]) * 1000
        return 0

    def pids(self, cgroup_path: str) -> tuple[int, str]:
        """``pids.current`` and ``pids.max`` of a cgroup (0 and "" where there is none)."""
        d = self._controller_dir("pids", cgroup_path)
        if d is None or not (d / "pids.current").exists():
            return 0, ""
        return int((d / "pids.current").read_text()), (d / "pids.max").read_text().strip()

    def oom_killed(self, cgroup_path: str) -> bool:
        """True when the kernel OOM-killed a process in this cgroup."""
        d = self._controller_dir("memory", cgroup_path)
        if d is None:
            return False
        for name in ("memory.oom_control", "memory.events"):
            f = d / name
            if f.exists():
                for line in f.read_text().splitlines():
                    key, _, value = line.partition(" ")
                    if key == "oom_kill" and int(value or 0) > 0:
                        return True
        return False


def _rmtree_cgroup(path: Path) -> None:
    if not path.is_dir():
        return
    for child in sorted(
        (Path(dp) for dp, _dn, _fn in os.walk(path)), key=lambda p: len(p.parts), reverse=True
    ):
        try:
            child.rmdir()
        except OSError as e:
            if e.errno != errno.ENOENT:
                raise


def _enable_controllers(mount: Path, leaf: Path) -> None:
    """cgroup v2: make memory, cpu and pids available down to ``leaf`` (best effort: a
    controller the parent does not offer is skipped)."""
    node = mount
    for part in leaf.relative_to(mount).parts:
        try:
            offered = (node / "cgroup.controllers").read_text().split()
            wanted = [c for c in ("memory", "cpu", "pids") if c in offered]
            if wanted:
                _write(node / "cgroup.subtree_control", " ".join("+" + c for c in wanted))
        except OSError:
            pass
        node = node / part
