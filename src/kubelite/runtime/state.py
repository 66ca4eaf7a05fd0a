"""The runtime's records on disk: one JSON file per sandbox and per container.

Everything the runtime knows lives under ``Settings.runtime_dir`` (plus runc's own root), so
a new Runtime object on the same data directory finds sandboxes, containers, exit codes and
logs again. Facts only (times, pids, paths); states are derived from them and from the files
conmon writes (``exit``, ``oom``). Writes are atomic (temp file + rename).
"""

from __future__ import annotations

import copy
import json
import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Generic, TypeVar

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
    host_network: bool = False
    host_pid: bool = False
    host_ipc: bool = False
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


def write_json(path: Path, data: dict[str, Any], mode: int = 0o644) -> None:
    """Atomically; ``mode`` is the file's from its first byte on (0600 for what holds
    secrets, such as a container's env in its ``config.json``)."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "w") as f:
        os.fchmod(fd, mode)  # whatever the umask, and a stale temp file's mode
        f.write(json.dumps(data))  # one string: json.dump would encode in pure Python
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


_Stamp = tuple[int, int, int, int]  # inode, size, mtime and ctime in ns


def _stamp(path: str) -> _Stamp | None:
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class RecordCache(Generic[T]):
    """Records read once and kept while their file is unchanged (one stat instead of an open,
    a read and a JSON parse). Every sync of every pod lists records; with a hundred pods,
    reading them all from disk each time was most of the agent's CPU.

    A record is written atomically through a new file, and every rewrite of one adds or
    changes a fact (a start time, an exit code), so its inode, size or time stamps change;
    another process's writes (``kubelite runtime kill-pod``) are seen at the next read.
    Callers get copies: they may change and save them."""

    def __init__(self, cls: type[T]) -> None:
        self._cls = cls
        self._cached: dict[str, tuple[_Stamp, T]] = {}
        self._listings: dict[str, _Listing] = {}  # per folder scanned

    def load(self, path: str) -> T | None:
        stamp = _stamp(path)
        if stamp is None:
            self._cached.pop(path, None)
            return None
        hit = self._cached.get(path)
        if hit is not None and hit[0] == stamp:
            return copy.copy(hit[1])
        record = load(Path(path), self._cls)
        if record is not None and _stamp(path) == stamp:
            self._cached[path] = (stamp, record)
            return copy.copy(record)
        return record

    def _peek(self, path: str) -> T | None:
        """The cached record whatever the file now holds, for facts that never change after
        creation (which pod or sandbox a record belongs to); None if not cached."""
        hit = self._cached.get(path)
        return hit[1] if hit is not None else None

    def forget(self, path: str) -> None:
        self._cached.pop(path, None)

    def scan(
        self, root: str, filename: str, owner: Callable[[T], str], wanted: str | None
    ) -> list[T]:
        """Every ``<root>/<id>/<filename>`` record, or those whose ``owner`` (a fact that never
        changes, e.g. the sandbox of a container) is ``wanted``; records already known to
        belong elsewhere are skipped unread."""
        try:
            names = os.listdir(root)
        except FileNotFoundError:
            return []
        if wanted is None:
            candidates: Iterable[str] = names
        else:
            listing = self._listings.setdefault(root, _Listing())
            listing.update(names, lambda name: self._owner(f"{root}/{name}/{filename}", owner))
            candidates = listing.candidates(wanted)
        found: list[T] = []
        for name in candidates:
            record = self.load(f"{root}/{name}/{filename}")
            if record is not None and (wanted is None or owner(record) == wanted):
                found.append(record)
        return found

    def _owner(self, path: str, owner: Callable[[T], str]) -> str | None:
        known = self._peek(path)
        return owner(known) if known is not None else None


class _Listing:
    """A folder's names grouped by the owner of their record, kept up to date from each new
    listing by what was added or removed: with a hundred pods, looking at every name on every
    sync of every pod was O(pods²). Names whose record could not be read yet (half-written)
    wait in ``_unknown`` and are offered to every owner until a later listing reads them."""

    def __init__(self) -> None:
        self._names: list[str] = []
        self._owner_of: dict[str, str] = {}
        self._by_owner: dict[str, set[str]] = {}
        self._unknown: set[str] = set()

    def update(self, names: list[str], owner_of: Callable[[str], str | None]) -> None:
        if names == self._names and not self._unknown:
            return
        current = set(names)
        for name in set(self._names) - current:
            self._unknown.discard(name)
            gone = self._owner_of.pop(name, None)
            if gone is not None:
                self._by_owner[gone].discard(name)
                if not self._by_owner[gone]:
                    del self._by_owner[gone]
        fresh = (current - set(self._names)) | self._unknown
        self._names, self._unknown = names, set()
        for name in fresh:
            found = owner_of(name)
            if found is None:
                self._unknown.add(name)
            else:
                self._owner_of[name] = found
                self._by_owner.setdefault(found, set()).add(name)

    def candidates(self, owner: str) -> list[str]:
        """The names that may belong to ``owner``: its own, and those not read yet."""
        return [*self._by_owner.get(owner, ()), *self._unknown]
