"""The runtime's records on disk: one JSON file per sandbox and per container.

Everything the runtime knows lives under ``Settings.runtime_dir`` (plus runc's own root), so
a new Runtime object on the same data directory finds sandboxes, containers, exit codes and
logs again. Facts only (times, pids, paths); states are derived from them and from the files
conmon writes (``exit``, ``oom``). Writes are atomic (temp file + rename).
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def new_id() -> str:
    """64 hex characters, like containerd's IDs."""
    return secrets.token_hex(32)


@dataclass(slots=True)
class SandboxRecord:
    id: str
    pod_uid: str
    pod_name: str
    namespace: str
    attempt: int
    hostname: str
    created_at: float
    share_pid: bool = False
    ip: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    pause_pid: int | None = None
    pause_start: int | None = None
    stopped_at: float | None = None


@dataclass(slots=True)
class ContainerRecord:
    id: str
    sandbox_id: str
    pod_uid: str
    name: str
    attempt: int
    image: str
    image_id: str
    created_at: float
    log_path: str
    cgroup_path: str
    stop_signal: str
    tty: bool = False
    termination_message_file: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    started_at: float | None = None
    # Set only when the runtime itself decides the outcome (a failed start, TERM-3).
    finished_at: float | None = None
    exit_code: int | None = None
    reason: str = ""
    message: str = ""


def write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def save(path: Path, record: Any) -> None:
    write_json(path, asdict(record))


def load(path: Path, cls: type[T]) -> T | None:
    try:
        with open(path) as f:
            data = json.load(f)
    except (FileNotFoundError, NotADirectoryError):
        return None
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in data.items() if k in known})
