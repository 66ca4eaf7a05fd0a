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


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = DEFAULT_DATA_DIR
    registry_config: Path | None = None
    node_name: str = field(default_factory=lambda: os.uname().nodename.lower())

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
    def pki_dir(self) -> Path:
        """CA, serving and client certificates generated on first start."""
        return self.data_dir / "pki"

    @classmethod
    def from_env(cls, data_dir: str | None, registry_config: str | None) -> Settings:
        """Flags win; ``KUBELITE_REGISTRY_CONFIG`` fills in an unset registry config."""
        reg = registry_config or os.environ.get(REGISTRY_CONFIG_ENV) or None
        return cls(
            data_dir=Path(data_dir) if data_dir else DEFAULT_DATA_DIR,
            registry_config=Path(reg) if reg else None,
        )
