"""Turn a ContainerConfig plus the image's config into an OCI runtime spec (``config.json``).

PURE: every input arrives as data (the resolved user, the mounts the caller prepared, the
sandbox's namespace paths, the cgroup path) and the result is a JSON-ready dict, so the
Kubernetes rules that decide what runs (command/args vs ENTRYPOINT/CMD, env merging and
``$(VAR)`` expansion, capabilities, privileged, masked paths) are tested without any I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from kubelite.images.interface import ImageConfig
from kubelite.model.expansion import expand, expand_env
from kubelite.runtime import seccomp
from kubelite.runtime.interface import ContainerConfig, CreateContainerError, SecurityContext
from kubelite.runtime.users import ProcessUser

OCI_VERSION = "1.0.2"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# containerd's default capability set for unprivileged containers.
DEFAULT_CAPABILITIES: tuple[str, ...] = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
)

# Every capability the kernel defines, in number order (0 … 40).
ALL_CAPABILITIES: tuple[str, ...] = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
)

# Paths hidden from, or made read-only for, unprivileged containers (containerd's defaults:
# kernel memory, keyrings, timer and scheduler internals that leak what other tenants do, the
# firmware and the power-capping counters, whose energy readings leak secrets through timing).
MASKED_PATHS: tuple[str, ...] = (
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
)
READONLY_PATHS: tuple[str, ...] = (
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
)


@dataclass(frozen=True, slots=True)
class Mount:
    """One entry of the spec's ``mounts``; ``source`` is a host path for binds."""

    destination: str
    source: str
    type: str = "bind"
    options: tuple[str, ...] = ("rbind", "rprivate")


@dataclass(frozen=True, slots=True)
class Namespaces:
    """Paths of the sandbox's namespaces that a container joins; ``pid=None`` gives the
    container a PID namespace of its own (VOL-8) unless ``host_pid``; ``network=None`` and
    ``uts=None`` keep the node's own (host networking), ``ipc=None`` the node's IPC."""

    network: str | None
    ipc: str | None
    uts: str | None
    pid: str | None = None
    host_pid: bool = False  # the node's PID namespace: no pid entry at all


def with_target_pid(ns: Namespaces, target_pid: int) -> Namespaces:
    """``ns`` with the PID namespace of the process ``target_pid`` (as the node sees it), for
    a container that targets another; the node's own PID namespace stays as it is."""
    if ns.host_pid:
        return ns
    return replace(ns, pid=f"/proc/{target_pid}/ns/pid")


@dataclass(frozen=True, slots=True)
class SpecInputs:
    config: ContainerConfig
    image: ImageConfig
    rootfs: str
    user: ProcessUser
    namespaces: Namespaces
    cgroups_path: str
    mounts: tuple[Mount, ...] = ()  # volumes and per-pod files, in the order given
    shm_path: str | None = None  # the sandbox's /dev/shm (shared IPC, VOL-7)
    swap_limit: bool = True  # memory.memsw is available: forbid swap beyond the limit
    extra_env: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    host_devices: tuple[dict[str, Any], ...] = ()  # for privileged containers only
    # What "all capabilities" means on this host (privileged, add: [ALL]).
    available_capabilities: tuple[str, ...] = ALL_CAPABILITIES
    # The content of a Localhost seccomp profile, already read and checked by the caller.
    localhost_seccomp: Mapping[str, Any] | None = None
    arch: str = "x86_64"  # seccomp's architectures (seccomp.machine())
    oom_score_adj_floor: int | None = None  # RuntimeInfo: lower values are raised to it


def container_argv(
    command: Sequence[str],
    args: Sequence[str],
    entrypoint: Sequence[str],
    cmd: Sequence[str],
) -> list[str]:
    """The Kubernetes rule: ``command`` replaces ENTRYPOINT and then the image CMD is ignored;
    ``args`` replaces CMD."""
    if command:
        return [*command, *args]
    if args:
        return [*entrypoint, *args]
    return [*entrypoint, *cmd]


def merge_env(image_env: Iterable[str], container_env: Iterable[tuple[str, str]]) -> list[str]:
    """Image variables first; a container variable replaces one of the same name in place,
    new ones follow in order. Container values are ``$(VAR)``-expanded (VOL-10) against the
    container's own earlier variables only. PATH is supplied when nobody sets it."""
    merged: dict[str, str] = {}
    for item in image_env:
        key, sep, value = item.partition("=")
        if sep:
            merged[key] = value
    for key, value in expand_env(container_env):
        merged[key] = value
    merged.setdefault("PATH", DEFAULT_PATH)
    return [f"{k}={v}" for k, v in merged.items()]


def expand_argv(argv: Sequence[str], env: Sequence[tuple[str, str]]) -> list[str]:
    """Expand ``$(VAR)`` in command and args against the container's expanded env (VOL-10)."""
    defined = dict(expand_env(env))
    return [expand(a, defined) for a in argv]


def _cap_name(name: str) -> str:
    upper = name.upper()
    return upper if upper.startswith("CAP_") else "CAP_" + upper


def capabilities(
    security: SecurityContext, available: tuple[str, ...] = ALL_CAPABILITIES
) -> list[str]:
    """containerd's order: ``add: [ALL]`` first, then ``drop: [ALL]``, then individual adds,
    then individual drops, starting from the default set. Privileged gets everything the
    host has (``available``)."""
    if security.privileged:
        return list(available)
    caps = list(DEFAULT_CAPABILITIES)
    adds = [c for c in security.capabilities_add if c.upper() != "ALL"]
    drops = [c for c in security.capabilities_drop if c.upper() != "ALL"]
    if any(c.upper() == "ALL" for c in security.capabilities_add):
        caps = list(available)
    if any(c.upper() == "ALL" for c in security.capabilities_drop):
        caps = []
    for c in adds:
        if _cap_name(c) not in caps:
            caps.append(_cap_name(c))
    dropped = {_cap_name(c) for c in drops}
    return [c for c in caps if c not in dropped]


def _standard_mounts(privileged: bool, shm_path: str | None) -> list[dict[str, Any]]:
    sys_mode = "rw" if privileged else "ro"
    shm: dict[str, Any] = (
        {"destination": "/dev/shm", "type": "bind", "source": shm_path,
         "options": ["rbind", "rprivate", "nosuid", "nodev", "noexec"]}
        if shm_path
        else {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
              "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]}
    )  # fmt: skip
    return [
        {"destination": "/proc", "type": "proc", "source": "proc",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        shm,
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs",
         "options": ["nosuid", "noexec", "nodev", sys_mode]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
         "options": ["nosuid", "noexec", "nodev", "relatime", sys_mode]},
    ]  # fmt: skip


def _resources(inputs: SpecInputs) -> dict[str, Any]:
    res = inputs.config.resources
    out: dict[str, Any] = {
        "devices": [{"allow": inputs.config.security.privileged, "access": "rwm"}],
    }
    if res.memory_limit is not None:
        out["memory"] = {"limit": res.memory_limit}
        if inputs.swap_limit:
            out["memory"]["swap"] = res.memory_limit
    cpu: dict[str, Any] = {}
    if res.cpu_shares is not None:
        cpu["shares"] = res.cpu_shares
    if res.cpu_quota is not None:
        cpu["quota"] = res.cpu_quota
        cpu["period"] = res.cpu_period or 100_000
    if cpu:
        out["cpu"] = cpu
    if res.pids_limit is not None:
        out["pids"] = {"limit": res.pids_limit}
    return out


def _namespaces(ns: Namespaces) -> list[dict[str, str]]:
    """A namespace left out of the list is the runtime's own, i.e. the node's."""
    out = []
    if ns.network is not None:
        out.append({"type": "network", "path": ns.network})
    if ns.ipc is not None:
        out.append({"type": "ipc", "path": ns.ipc})
    if ns.uts is not None:
        out.append({"type": "uts", "path": ns.uts})
    out.append({"type": "mount"})
    if not ns.host_pid:
        out.append({"type": "pid", "path": ns.pid} if ns.pid else {"type": "pid"})
    return out


def seccomp_section(
    security: SecurityContext,
    bounding: Sequence[str],
    localhost: Mapping[str, Any] | None,
    arch: str,
) -> dict[str, Any] | None:
    """``linux.seccomp``: none for a privileged container (as containerd) or ``Unconfined``;
    the runtime's default for ``RuntimeDefault``; the file's for ``Localhost``."""
    kind = security.seccomp.type
    if security.privileged or kind == "Unconfined":
        return None
    if kind == "RuntimeDefault":
        return seccomp.runtime_default(bounding, arch)
    if kind == "Localhost":
        if localhost is None:
            raise CreateContainerError(f"seccomp profile {security.seccomp.path!r} not loaded")
        return dict(localhost)
    raise CreateContainerError(f"unknown seccomp profile type {kind!r}")


def oom_score_adj(value: int, floor: int | None) -> int:
    """QOS-3, clamped where the host cannot go lower (RuntimeInfo.oom_score_adj_floor)."""
    return value if floor is None else max(value, floor)


def build_spec(inputs: SpecInputs) -> dict[str, Any]:
    """The whole ``config.json`` for one container instance."""
    cfg, image, sec = inputs.config, inputs.image, inputs.config.security
    env_pairs = [*inputs.extra_env, *cfg.env]
    argv = container_argv(
        expand_argv(cfg.command, env_pairs),
        expand_argv(cfg.args, env_pairs),
        image.entrypoint,
        image.cmd,
    )
    if not argv:
        raise CreateContainerError("no command specified")
    caps = capabilities(sec, inputs.available_capabilities)
    process: dict[str, Any] = {
        "terminal": cfg.tty,
        "user": {
            "uid": inputs.user.uid,
            "gid": inputs.user.gid,
            **(
                {"additionalGids": list(inputs.user.additional_gids)}
                if inputs.user.additional_gids
                else {}
            ),
        },
        "args": argv,
        "env": merge_env(image.env, env_pairs),
        "cwd": cfg.working_dir or image.working_dir or "/",
        "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
        "noNewPrivileges": sec.allow_privilege_escalation is False and not sec.privileged,
    }
    if cfg.resources.oom_score_adj is not None:
        process["oomScoreAdj"] = oom_score_adj(
            cfg.resources.oom_score_adj, inputs.oom_score_adj_floor
        )
    linux: dict[str, Any] = {
        "cgroupsPath": inputs.cgroups_path,
        "resources": _resources(inputs),
        "namespaces": _namespaces(inputs.namespaces),
    }
    profile = seccomp_section(sec, caps, inputs.localhost_seccomp, inputs.arch)
    if profile is not None:
        linux["seccomp"] = profile
    if not sec.privileged:
        linux["maskedPaths"] = list(MASKED_PATHS)
        linux["readonlyPaths"] = list(READONLY_PATHS)
    elif inputs.host_devices:
        linux["devices"] = [dict(d) for d in inputs.host_devices]
    mounts = _standard_mounts(sec.privileged, inputs.shm_path)
    taken = {m.destination for m in inputs.mounts}
    mounts = [m for m in mounts if m["destination"] not in taken]
    mounts += [
        {"destination": m.destination, "type": m.type, "source": m.source,
         "options": list(m.options)}
        for m in inputs.mounts
    ]  # fmt: skip
    return {
        "ociVersion": OCI_VERSION,
        "process": process,
        "root": {"path": inputs.rootfs, "readonly": sec.read_only_root_filesystem},
        "mounts": mounts,
        "linux": linux,
    }


def normalise_signal(sig: str) -> str:
    """``term``, ``TERM`` and ``SIGTERM`` all become ``SIGTERM``; numbers stay numbers."""
    sig = sig.upper() or "SIGTERM"
    if not sig.isdigit() and not sig.startswith("SIG"):
        sig = "SIG" + sig
    return sig


def stop_signal(config: ContainerConfig, image: ImageConfig, override: str = "") -> str:
    """The signal that asks a container to stop (TERM-2): an explicit one, the container's,
    the image's STOPSIGNAL, else SIGTERM."""
    return normalise_signal(override or config.stop_signal or image.stop_signal or "SIGTERM")
