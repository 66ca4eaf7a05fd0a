"""The runtime's contract with the node agent: typed records and one Protocol.

It plays the part of the CRI runtime service, trimmed to what a single node needs. The agent
decides; the runtime only does what it is told and reports what it sees. Two implementations
honour it: ``runtime.runc`` (real: runc under conmon) and ``runtime.fake`` (in memory, for
unit and component tests); one contract suite runs against both.

Conventions
* Times are seconds since the epoch (float); ``None`` means "not yet".
* IDs are opaque strings chosen by the runtime (64 hex characters, like containerd's).
* Every method is idempotent where that makes sense: stopping a stopped container, removing a
  removed one, or preparing volumes twice is not an error.
* Errors are ``RuntimeError_`` subclasses carrying the kubelet's waiting reason they map to
  and whether retrying can help. Never branch on message text.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from kubelite.errors import KubeliteError

# ---------------------------------------------------------------------------- sandboxes


@dataclass(frozen=True, slots=True)
class DNSConfig:
    nameservers: tuple[str, ...] = ()
    searches: tuple[str, ...] = ()
    options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class HostAlias:
    ip: str
    hostnames: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PortMapping:
    """A container port published on the node (``hostPort``), through the CNI portmap plugin."""

    host_port: int
    container_port: int
    protocol: str = "TCP"  # TCP, UDP or SCTP, as the pod spec says it
    host_ip: str = ""  # "" = every address of the node


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    pod_uid: str
    pod_name: str
    namespace: str
    attempt: int  # 0 for the first sandbox of a pod, +1 each time it is recreated (INIT-9)
    hostname: str  # spec.hostname or the pod name (VOL-7); the node's name with host_network
    # <hostname>.<subdomain>.<namespace>.svc.<domain> for a pod with spec.subdomain, else ""
    fqdn: str = ""
    share_process_namespace: bool = False  # VOL-8
    # The node's network (and UTS) namespace instead of the pod's own: no pod IP of its own.
    host_network: bool = False
    host_pid: bool = False  # containers see the node's processes (never with VOL-8's sharing)
    host_ipc: bool = False  # the node's SysV IPC, POSIX message queues and /dev/shm
    port_mappings: tuple[PortMapping, ...] = ()
    dns: DNSConfig = field(default_factory=DNSConfig)
    host_aliases: tuple[HostAlias, ...] = ()
    # Pod-level cgroup limits (sum of effective limits, RES-*); None means unlimited.
    memory_limit: int | None = None
    cpu_quota: int | None = None
    cpu_period: int | None = None
    pids_limit: int | None = None  # the node's --pod-max-pids, on the pod cgroup
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SandboxStatus:
    id: str
    pod_uid: str
    pod_name: str
    namespace: str
    attempt: int
    ready: bool  # False once stopped or when its network namespace has gone
    created_at: float
    ip: str | None  # the pod IP the pod network gave; None with host networking
    netns_path: str  # "" with host networking
    labels: Mapping[str, str] = field(default_factory=dict)
    host_network: bool = False


# ---------------------------------------------------------------------------- volumes


@dataclass(frozen=True, slots=True)
class EmptyDirVolume:
    name: str
    medium: str = ""  # "" (disk) or "Memory" (tmpfs) (VOL-2)
    size_limit: int | None = None  # bytes; caps a tmpfs


@dataclass(frozen=True, slots=True)
class HostPathVolume:
    name: str
    path: str
    # "", DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice, BlockDevice
    type: str = ""


@dataclass(frozen=True, slots=True)
class ProjectedFile:
    path: str  # relative to the volume root; the agent has already applied `items`
    data: bytes
    mode: int | None = None  # None: the volume's default_mode
    owner: int | None = None  # the file's uid (a token for the pod's one user); None: root


@dataclass(frozen=True, slots=True)
class FilesVolume:
    """configMap, secret, downwardAPI and projected volumes, with data the agent resolved.
    Updated atomically (a new timestamped folder, then one symlink swap), as the kubelet does."""

    name: str
    files: tuple[ProjectedFile, ...]
    default_mode: int = 0o644
    # "Memory": on a tmpfs of its own, never on disk (secret and projected volumes, as the
    # kubelet keeps them); its size in bytes (None: the kernel's default, half of RAM)
    medium: str = ""
    size_limit: int | None = None


@dataclass(frozen=True, slots=True)
class ClaimVolume:
    """A PersistentVolumeClaim's volume: the bound PersistentVolume's folder on the node,
    bind-mounted like a hostPath. It outlives the pod; removing the pod's volumes never
    touches it."""

    name: str
    path: str
    # the PersistentVolume's hostPath type ("" for a ``local`` volume, which must exist)
    type: str = ""
    read_only: bool = False  # the pod's ``persistentVolumeClaim.readOnly``
    # the pod's fsGroup is applied to the folder (``local`` and provisioned volumes; never a
    # static hostPath, as the kubelet leaves those alone), with this fsGroupChangePolicy
    manage_ownership: bool = False
    ownership_policy: str = "Always"  # or OnRootMismatch


VolumeSpec = EmptyDirVolume | HostPathVolume | FilesVolume | ClaimVolume


@dataclass(frozen=True, slots=True)
class ContainerMount:
    volume: str  # name of a volume prepared for this pod
    container_path: str
    read_only: bool = False
    sub_path: str = ""  # already expanded from subPathExpr by the agent; checked for escapes


# ---------------------------------------------------------------------------- containers


@dataclass(frozen=True, slots=True)
class Resources:
    cpu_shares: int | None = None  # from requests.cpu (cgroup v1 cpu.shares)
    cpu_quota: int | None = None  # from limits.cpu, microseconds per period
    cpu_period: int | None = None
    memory_limit: int | None = None  # bytes, from limits.memory
    pids_limit: int | None = None
    oom_score_adj: int | None = None  # QoS-derived (QOS-*)


@dataclass(frozen=True, slots=True)
class SeccompProfile:
    """A container's seccomp confinement: ``Unconfined``, ``RuntimeDefault`` (the runtime's
    default allow-list) or ``Localhost`` (a profile file; ``path`` is absolute)."""

    type: str = "Unconfined"
    path: str = ""


@dataclass(frozen=True, slots=True)
class SecurityContext:
    run_as_user: int | None = None
    run_as_group: int | None = None
    run_as_non_root: bool = False
    supplemental_groups: tuple[int, ...] = ()
    fs_group: int | None = None
    read_only_root_filesystem: bool = False
    privileged: bool = False
    allow_privilege_escalation: bool | None = None  # False sets no_new_privs
    capabilities_add: tuple[str, ...] = ()
    capabilities_drop: tuple[str, ...] = ()
    seccomp: SeccompProfile = field(default_factory=SeccompProfile)


@dataclass(frozen=True, slots=True)
class ContainerConfig:
    name: str
    attempt: int  # the restartCount of this instance (SYNC-7)
    image: str  # the image reference as the pod names it; the image must already be stored
    command: tuple[str, ...] = ()  # replaces the image ENTRYPOINT when non-empty
    args: tuple[str, ...] = ()  # replaces the image CMD when non-empty
    env: tuple[tuple[str, str], ...] = ()  # resolved values, in order; $(VAR) not yet expanded
    working_dir: str = ""
    mounts: tuple[ContainerMount, ...] = ()
    log_path: Path = Path()  # <podLogsDir>/<ns>_<pod>_<uid>/<container>/<attempt>.log
    termination_message_path: str = "/dev/termination-log"  # TM-1
    tty: bool = False
    stdin: bool = False
    stdin_once: bool = False
    resources: Resources = field(default_factory=Resources)
    security: SecurityContext = field(default_factory=SecurityContext)
    stop_signal: str = ""  # "" means the image's STOPSIGNAL, else SIGTERM
    # An ephemeral container's target: the ID of a running container of the same sandbox whose
    # PID namespace it joins (kubectl debug --target); "" for the sandbox's own setting.
    pid_target: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)  # agent bookkeeping, returned as-is


class ContainerState(enum.Enum):
    CREATED = "created"
    RUNNING = "running"
    EXITED = "exited"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class ContainerStatus:
    id: str
    sandbox_id: str
    name: str
    attempt: int
    state: ContainerState
    image: str  # as given in ContainerConfig
    image_id: str  # the image's repo digest, docker.io/library/busybox@sha256:… (CS-7)
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    exit_code: int | None = None
    # containerd's reasons (TERM-3): "Completed", "Error", "OOMKilled", "StartError"; "" before exit
    reason: str = ""
    message: str = ""
    log_path: Path = Path()
    termination_message_file: Path | None = None  # host side of terminationMessagePath
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ContainerStats:
    memory_bytes: int  # the cgroup's usage, page cache included
    cpu_usage_ns: int
    # usage less the inactive file cache, never below 0: what metrics-server and the kubelet's
    # eviction call the working set (what `kubectl top` shows)
    working_set_bytes: int = 0


@dataclass(frozen=True, slots=True)
class PodStorage:
    """A pod's use of the node's disk, in bytes, as the kubelet's eviction manager reads it:
    each disk-backed emptyDir by volume name, and each container (its latest instance, by
    name) with its writable layer and its log files."""

    volumes: Mapping[str, int] = field(default_factory=dict)
    containers: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RuntimeInfo:
    """What the host lets the runtime do, found out once when it starts.

    ``oom_score_adj_floor``: the lowest ``oom_score_adj`` a container can get here (None: any).
    Lowering it below the runtime's own value needs CAP_SYS_RESOURCE; without it a lower value
    is raised to this floor, as containerd's ``restrict_oom_score_adj`` does for a runtime in a
    user namespace, instead of failing every Guaranteed pod's start (QOS-3)."""

    oom_score_adj_floor: int | None = None


class EventKind(enum.Enum):
    STARTED = "started"
    EXITED = "exited"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class RuntimeEvent:
    """Pushed when a container changes state, so the agent reacts at once (the PLEG's job)."""

    kind: EventKind
    container_id: str
    sandbox_id: str
    at: float


@dataclass(frozen=True, slots=True)
class ExecResult:
    exit_code: int
    stdout: bytes
    stderr: bytes
    timed_out: bool = False


class ExecSession(Protocol):
    """An interactive exec (kubectl exec): byte streams, terminal resize and the exit code."""

    async def write_stdin(self, data: bytes) -> None: ...
    async def close_stdin(self) -> None: ...
    def stdout(self) -> AsyncIterator[bytes]: ...
    def stderr(self) -> AsyncIterator[bytes]: ...  # empty with a TTY: output is merged
    async def resize(self, columns: int, rows: int) -> None: ...
    async def wait(self) -> int: ...
    async def kill(self) -> None: ...


# ---------------------------------------------------------------------------- errors


class RuntimeError_(KubeliteError):
    """Base of runtime errors. ``reason`` is the container waiting reason users see."""

    reason = "RunContainerError"
    retriable = True


class NotFound(RuntimeError_):
    retriable = False


class CreateContainerConfigError(RuntimeError_):
    """The config cannot be turned into a container (runAsNonRoot refused, bad subPath …)."""

    reason = "CreateContainerConfigError"
    retriable = False


class CreateContainerError(RuntimeError_):
    reason = "CreateContainerError"


class StartContainerError(RuntimeError_):
    """runc could not start the process (e.g. executable not found): reason StartError, 128."""

    reason = "RunContainerError"


class SandboxError(RuntimeError_):
    reason = "FailedCreatePodSandBox"


# ---------------------------------------------------------------------------- the Protocol


class RuntimeEvents(Protocol):
    """A subscription to the runtime's events; ``aclose`` ends it and frees what it holds."""

    def __aiter__(self) -> RuntimeEvents: ...
    def __anext__(self) -> Awaitable[RuntimeEvent]: ...
    def aclose(self) -> Awaitable[None]: ...


class Runtime(Protocol):
    # Sandboxes
    async def run_sandbox(self, config: SandboxConfig) -> str: ...
    async def stop_sandbox(self, sandbox_id: str) -> None:
        """Kill every container in it and tear down its namespaces; the record stays."""
        ...

    async def remove_sandbox(self, sandbox_id: str) -> None:
        """Stop it, remove its containers and every trace of it (mounts, netns, cgroups)."""
        ...

    async def list_sandboxes(self, pod_uid: str | None = None) -> list[SandboxStatus]:
        """Every sandbox, or only the given pod's."""
        ...

    # Volumes belong to the pod, not the sandbox: an emptyDir outlives a sandbox (VOL-1).
    async def prepare_volumes(
        self, pod_uid: str, volumes: Sequence[VolumeSpec], *, fs_group: int | None = None
    ) -> None:
        """Create what is missing and atomically refresh FilesVolume contents. Idempotent."""
        ...

    async def remove_volumes(self, pod_uid: str) -> None: ...

    # Containers
    async def create_container(self, sandbox_id: str, config: ContainerConfig) -> str: ...
    async def start_container(self, container_id: str) -> None: ...
    async def stop_container(self, container_id: str, timeout: float, signal: str = "") -> None:
        """Send the stop signal ("" = the image's STOPSIGNAL, else SIGTERM), wait ``timeout``
        seconds, then SIGKILL. Returns when the container has exited."""
        ...

    async def remove_container(self, container_id: str) -> None: ...
    async def list_containers(self, sandbox_id: str | None = None) -> list[ContainerStatus]: ...
    async def container_status(self, container_id: str) -> ContainerStatus: ...
    async def container_stats(self, container_id: str) -> ContainerStats: ...
    async def pod_storage(self, pod_uid: str) -> PodStorage:
        """What the pod's emptyDirs on disk and its containers take of the disk (VOL-3)."""
        ...

    async def info(self) -> RuntimeInfo: ...

    # Exec
    async def exec_sync(
        self, container_id: str, argv: Sequence[str], *, timeout: float | None = None
    ) -> ExecResult: ...

    async def exec_stream(
        self, container_id: str, argv: Sequence[str], *, tty: bool = False, stdin: bool = False
    ) -> ExecSession: ...

    async def attach(self, container_id: str) -> ExecSession:
        """The running container's main process's stdio (kubectl attach). Its ``stdin``,
        ``stdin_once`` and ``tty`` from ContainerConfig decide what ``close_stdin`` does;
        ``kill`` detaches, ``wait`` gives 0. Raises if the container is not running."""
        ...

    # State changes, pushed; the agent still relists as a safety net.
    def events(self) -> RuntimeEvents: ...

    async def close(self) -> None:
        """Release the runtime's own resources. Containers keep running (restart-safe)."""
        ...
