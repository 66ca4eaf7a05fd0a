"""One frozen Settings record: every path kubelite writes lives under ``data_dir``.

Nothing in kubelite reads globals or the environment except the CLI, which turns flags and
environment variables into a Settings and passes it down. Tests build their own Settings on
a temporary directory, so several kubelites can run side by side and be removed completely.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATA_DIR = Path("/var/lib/kubelite")
REGISTRY_CONFIG_ENV = "KUBELITE_REGISTRY_CONFIG"
# kind's defaults: pods in 10.244.0.0/16 (this node takes the first /24), Services in
# 10.96.0.0/16 (the API server's Service at .1, cluster DNS at .10).
DEFAULT_POD_CIDR = "10.244.0.0/16"
DEFAULT_SERVICE_CIDR = "10.96.0.0/16"
DEFAULT_CLUSTER_DOMAIN = "cluster.local"
POD_CIDR_ENV = "KUBELITE_POD_CIDR"
SERVICE_CIDR_ENV = "KUBELITE_SERVICE_CIDR"
POD_EGRESS_ENV = "KUBELITE_POD_EGRESS"
# The kubelet's --pod-max-pids: at most this many processes (threads included) in one pod's
# cgroup. The kubelet leaves it unlimited (-1); kubelite sets 4096 so that one fork bomb cannot
# use up the node's pid space (kernel.pid_max is 32768 on many hosts, so several pods at their
# limit still leave room for the node itself), while ordinary servers, which run tens to a few
# hundred threads, never come near it. ``None`` means unlimited.
DEFAULT_POD_MAX_PIDS = 4096
# The data directory holds Secrets (the store, Secret volumes, container specs with their env):
# no one but root may enter it. Containers running as other users need no access to it: runc
# sets their mounts up as root before it drops to their user, and overlayfs checks its layers
# with the credentials of whoever mounted it.
DATA_DIR_MODE = 0o700


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = DEFAULT_DATA_DIR
    registry_config: Path | None = None
    node_name: str = field(default_factory=lambda: os.uname().nodename.lower())
    # The cluster network (``kubelite.network.layout`` derives addresses and names from these).
    pod_cidr: str = DEFAULT_POD_CIDR
    service_cidr: str = DEFAULT_SERVICE_CIDR
    cluster_domain: str = DEFAULT_CLUSTER_DOMAIN
    # Pods may reach addresses outside the pod and Service ranges (masqueraded), as on kind.
    pod_egress: bool = True
    # The node's confinement of pods (the kubelet's --pod-max-pids, --seccomp-default and
    # --seccomp-profile-root).
    pod_max_pids: int | None = DEFAULT_POD_MAX_PIDS
    seccomp_default: bool = False  # RuntimeDefault for containers that name no profile
    seccomp_root: Path | None = None  # None: <data_dir>/seccomp

    def make_data_dir(self) -> Path:
        """Create the data directory, or narrow an existing one, to ``DATA_DIR_MODE``."""
        self.data_dir.mkdir(mode=DATA_DIR_MODE, parents=True, exist_ok=True)
        mode = self.data_dir.stat().st_mode & 0o777
        if mode & ~DATA_DIR_MODE:
            os.chmod(self.data_dir, mode & DATA_DIR_MODE)
        return self.data_dir

    # Layout under data_dir. Each owner creates its own folder on first use.
    @property
    def runtime_dir(self) -> Path:
        """Sandboxes, container bundles, conmon pid/exit files, runtime state."""
        return self.data_dir / "runtime"

    @property
    def runc_root(self) -> Path:
        """runc's own state root (``runc --root``), kept apart from the host's default."""
        return self.data_dir / "runc"

    @property
    def images_dir(self) -> Path:
        """Content-addressed blobs, unpacked layers and image metadata."""
        return self.data_dir / "images"

    @property
    def pod_logs_dir(self) -> Path:
        """``<ns>_<pod>_<uid>/<container>/<restartCount>.log`` (SYNC-7)."""
        return self.data_dir / "pods-logs"

    @property
    def pods_dir(self) -> Path:
        """Per-pod volumes and files (emptyDir, projected, termination-message files)."""
        return self.data_dir / "pods"

    @property
    def agent_dir(self) -> Path:
        """The node agent's own checkpoint records (back-off, seen grace periods)."""
        return self.data_dir / "agent"

    @property
    def store_path(self) -> Path:
        """The embedded SQLite database of the API server."""
        return self.data_dir / "store" / "kubelite.db"

    @property
    def storage_dir(self) -> Path:
        """Volumes the local-path provisioner makes for PersistentVolumeClaims."""
        return self.data_dir / "storage"

    @property
    def network_dir(self) -> Path:
        """The pod network's state: CNI config, result cache and IPAM leases."""
        return self.data_dir / "network"

    @property
    def seccomp_profile_root(self) -> Path:
        """Where ``Localhost`` seccomp profiles are looked up (the kubelet's
        ``--seccomp-profile-root``, ``<root-dir>/seccomp`` by default)."""
        return self.seccomp_root or self.data_dir / "seccomp"

    @property
    def pki_dir(self) -> Path:
        """CA, serving and client certificates generated on first start."""
        return self.data_dir / "pki"

    @classmethod
    def from_env(
        cls,
        data_dir: str | None,
        registry_config: str | None,
        *,
        pod_cidr: str | None = None,
        service_cidr: str | None = None,
        cluster_domain: str | None = None,
        pod_egress: bool | None = None,
        pod_max_pids: int | None = None,
        seccomp_default: bool | None = None,
        seccomp_profile_root: str | None = None,
    ) -> Settings:
        """Flags win; ``KUBELITE_*`` environment variables fill in what is unset."""
        env = os.environ
        reg = registry_config or env.get(REGISTRY_CONFIG_ENV) or None
        egress = pod_egress
        if egress is None:
            egress = env.get(POD_EGRESS_ENV, "true").lower() not in ("0", "false", "no")
        return cls(
            data_dir=Path(data_dir) if data_dir else DEFAULT_DATA_DIR,
            registry_config=Path(reg) if reg else None,
            pod_cidr=pod_cidr or env.get(POD_CIDR_ENV) or DEFAULT_POD_CIDR,
            service_cidr=service_cidr or env.get(SERVICE_CIDR_ENV) or DEFAULT_SERVICE_CIDR,
            cluster_domain=cluster_domain or DEFAULT_CLUSTER_DOMAIN,
            pod_egress=egress,
            # the kubelet's convention: -1 (or any negative number) means unlimited
            pod_max_pids=(
                DEFAULT_POD_MAX_PIDS
                if pod_max_pids is None
                else (pod_max_pids if pod_max_pids > 0 else None)
            ),
            seccomp_default=bool(seccomp_default),
            seccomp_root=Path(seccomp_profile_root) if seccomp_profile_root else None,
        )
