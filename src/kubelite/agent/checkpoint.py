"""The node agent's per-pod back-off checkpoint: a small JSON file per pod under the agent's
folder, written when the pod's back-off table changes and read when its worker starts.

A restarted agent adopts the running pods (SYNC-3); with this it also keeps where each
container's CrashLoopBackOff (BO-1..BO-4) and image-pull back-off (BO-9) stood, so a restart of
the agent neither lets a crash-looping container start again at once nor resets its delay.
Restart counts need nothing here: they come from the runtime's instance numbers.

The file is replaced atomically; an unreadable or foreign file counts as no checkpoint. A pod's
file goes with the pod: its worker removes it when the pod is deleted, the agent's housekeeping
when the pod is gone without the agent seeing it (``uids`` lists the files for that).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path

from kubelite.agent.backoff import BackoffEntry, BackoffState

log = logging.getLogger(__name__)

VERSION = 1
SUFFIX = ".json"


def file_uid(uid: str) -> str:
    """The pod uid as its file names it (a ``/`` cannot be part of a file name)."""
    return uid.replace("/", "_")


class BackoffCheckpoints:
    """``<directory>/<pod uid>.json``: ``{"version": 1, "entries": {key: [delay, lastUpdate]}}``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, uid: str) -> Path:
        return self.directory / f"{file_uid(uid)}{SUFFIX}"

    def uids(self) -> list[str]:
        """The uid of every checkpoint file, as ``file_uid`` spells it; none if no folder."""
        try:
            names = [p.name for p in self.directory.iterdir()]
        except OSError:
            return []
        return sorted(n[: -len(SUFFIX)] for n in names if n.endswith(SUFFIX) and n != SUFFIX)

    def load(self, uid: str) -> BackoffState:
        path = self.path(uid)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return BackoffState()
        except (OSError, ValueError) as err:
            log.warning("ignoring back-off checkpoint %s: %s", path, err)
            return BackoffState()
        state = BackoffState()
        if not isinstance(doc, dict) or doc.get("version") != VERSION:
            log.warning("ignoring back-off checkpoint %s: unknown format", path)
            return state
        entries = doc.get("entries")
        for key, value in entries.items() if isinstance(entries, dict) else []:
            try:
                delay, last_update = (float(v) for v in value)
            except (TypeError, ValueError):
                continue
            state = state.with_entry(str(key), BackoffEntry(delay, last_update))
        return state

    def save(self, uid: str, state: BackoffState) -> None:
        if not state.entries:
            self.remove(uid)
            return
        doc = {
            "version": VERSION,
            "entries": {k: [e.delay, e.last_update] for k, e in sorted(state.entries.items())},
        }
        path = self.path(uid)
        tmp = path.with_name(path.name + ".tmp")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(doc), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as err:  # losing a checkpoint only costs back-off after a restart
            log.warning("cannot write back-off checkpoint %s: %s", path, err)

    def remove(self, uid: str) -> None:
        with contextlib.suppress(OSError):
            self.path(uid).unlink(missing_ok=True)
