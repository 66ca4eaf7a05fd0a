"""What a kubelite on one data directory may leave on the machine, found and removed by id.

* runc containers in the data directory's own runc root (``runc --root <data>/runc list``);
* mounts at or below the data directory (overlays, emptyDirs, namespace files);
* processes whose command line names the data directory (conmon, the PID-namespace pause);
* the cgroup folder ``kubelite-<digest of the data dir>`` on every mounted hierarchy
  (``runtime/cgroups.py``: pod and container cgroups live below it);
* the pod network named after the data dir (``network/layout.py``): its bridge, its nftables
  table, its CNI state folder, and the Service range's black hole (a port-less bridge).

``find`` only looks; ``remove`` kills, deletes, unmounts and removes what ``find`` reported,
deepest first, so a failed test still leaves the machine clean.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from kubelite.network.layout import NetworkLayout
from kubelite.runtime.cgroups import PodCgroups, hierarchies
from kubelite.settings import Settings


@dataclass(frozen=True, slots=True)
class Leftovers:
    containers: list[str]
    mounts: list[str]
    processes: list[tuple[int, str]]
    cgroups: list[Path]
    network: list[str] = field(default_factory=list)  # "link X", "table X", "dir X", "route X"

    def __bool__(self) -> bool:
        return bool(
            self.containers or self.mounts or self.processes or self.cgroups or self.network
        )

    def describe(self) -> str:
        parts = []
        if self.containers:
            parts.append(f"runc containers {self.containers}")
        if self.mounts:
            parts.append(f"mounts {self.mounts}")
        if self.processes:
            parts.append(f"processes {self.processes}")
        if self.cgroups:
            parts.append(f"cgroups {[str(c) for c in self.cgroups]}")
        if self.network:
            parts.append(f"network {self.network}")
        return "; ".join(parts)


def _runc(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    root = data_dir / "runc"
    return subprocess.run(
        ["runc", "--root", str(root), *args], capture_output=True, text=True, timeout=30
    )


def runc_containers(data_dir: Path) -> list[str]:
    if not (data_dir / "runc").is_dir():
        return []
    r = _runc(data_dir, "list", "-q")
    return r.stdout.split()


def mounts_under(data_dir: Path) -> list[str]:
    base = str(data_dir.resolve())
    found = []
    for line in Path("/proc/mounts").read_text().splitlines():
        point = line.split(" ")[1].replace("\\040", " ")
        if point == base or point.startswith(base + "/"):
            found.append(point)
    return found


def processes_naming(data_dir: Path) -> list[tuple[int, str]]:
    needle = str(data_dir.resolve()).encode()
    me = os.getpid()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if needle in cmdline:
            found.append((int(entry.name), cmdline.replace(b"\0", b" ").decode(errors="replace")))
    return found


def cgroup_dirs(data_dir: Path) -> list[Path]:
    root = PodCgroups(data_dir).root
    return [h.mount / root for h in hierarchies() if (h.mount / root).exists()]


def network_objects(data_dir: Path, service_cidr: str | None = None) -> list[str]:
    layout = NetworkLayout.from_settings(Settings(data_dir=data_dir))
    found = []
    for link in (layout.bridge, layout.service_sink):
        if Path("/sys/class/net", link).exists():
            found.append(f"link {link}")
    r = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, check=False)
    if f"table ip {layout.nft_table}" in r.stdout.splitlines():
        found.append(f"table {layout.nft_table}")
    if layout.state_dir.exists():
        found.append(f"dir {layout.state_dir}")
    if service_cidr:
        routes = subprocess.run(
            ["ip", "route", "show", service_cidr], capture_output=True, text=True
        ).stdout.split()
        if service_cidr in routes:
            found.append(f"route {service_cidr}")
    return found


def find(data_dir: Path, service_cidr: str | None = None) -> Leftovers:
    return Leftovers(
        containers=runc_containers(data_dir),
        mounts=mounts_under(data_dir),
        processes=processes_naming(data_dir),
        cgroups=cgroup_dirs(data_dir),
        network=network_objects(data_dir, service_cidr),
    )


def remove(data_dir: Path, found: Leftovers) -> None:
    """Undo ``found``: containers (kill, delete), processes (SIGKILL by pid), mounts (lazy
    unmount, deepest first), cgroup folders (bottom-up)."""
    for cid in found.containers:
        _runc(data_dir, "kill", cid, "KILL")
        _runc(data_dir, "delete", "--force", cid)
    for pid, _ in found.processes:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for point in sorted(found.mounts, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True, timeout=30)
    for top in found.cgroups:
        _remove_cgroup_tree(top)
    for what in found.network:
        kind, _, name = what.partition(" ")
        argv = {
            "link": ["ip", "link", "del", name],
            "table": ["nft", "delete", "table", "ip", name],
            "dir": ["rm", "-rf", name],
            "route": ["ip", "route", "del", name],
        }[kind]
        subprocess.run(argv, capture_output=True, timeout=30)


def _remove_cgroup_tree(top: Path) -> None:
    dirs = sorted((Path(d) for d, _, _ in os.walk(top)), key=lambda p: len(p.parts), reverse=True)
    for d in dirs:
        for _ in range(50):  # a killed process leaves its cgroup a moment later
            try:
                d.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.1)
