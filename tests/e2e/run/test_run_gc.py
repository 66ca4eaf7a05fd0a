"""Container GC on real runc (containergc; INIT-12, SYNC-4 (b), SYNC-7): a crash-looping container
does not pile up dead containers, mounted root filesystems or log files.

Back-off restarts at once, then after 10 s (BO-4): the third instance runs about 11 s in, and
the run is stopped then, so the test takes about 15 s.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from tests.e2e.run import leftovers
from tests.e2e.run.conftest import StartRun

pytestmark = pytest.mark.e2e

MANIFEST = """apiVersion: v1
kind: Pod
metadata: {name: crashloop}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox:1.36
    command: [sh, -c, 'echo crashing; exit 1']
"""


def _instances(data_dir: Path) -> list[dict[str, object]]:
    """The runtime's container records of ``app`` (one folder per instance)."""
    found = []
    for record in (data_dir / "runtime" / "containers").glob("*/container.json"):
        try:
            data = json.loads(record.read_text())
        except (OSError, ValueError):
            continue  # removed (or being written) while we looked
        if data.get("name") == "app":
            found.append(data)
    return found


def _logs(data_dir: Path) -> list[str]:
    return sorted(p.name for p in (data_dir / "pods-logs").glob("default_crashloop_*/app/*.log"))


def _rootfs_mounts(data_dir: Path) -> list[str]:
    return [m for m in leftovers.mounts_under(data_dir) if "/runtime/containers/" in m]


def test_a_crash_looping_container_keeps_one_dead_instance_and_its_log(
    kubelite_run: StartRun,
) -> None:
    run = kubelite_run(MANIFEST, timeout=None)
    deadline = time.monotonic() + 40
    while not any(r.restarts >= 2 for r in run.rows("crashloop")):
        assert time.monotonic() < deadline, run.screen()
        assert run.proc.poll() is None, run.screen()
        time.sleep(0.2)
    # three instances have run (restartCount 0, 1, 2); the sync after the third one's exit
    # removes the second, so within a moment at most: the newest dead one and the current one.
    settled = time.monotonic() + 5
    while True:  # records and log files are looked at one after the other: wait until they agree
        instances, logs = _instances(run.data_dir), _logs(run.data_dir)
        attempts = sorted(int(str(i["attempt"])) for i in instances)
        gc_done = len(instances) <= 2 and len(logs) <= 2 and "0.log" not in logs
        if gc_done and attempts and set(logs) == {f"{a}.log" for a in attempts}:
            break
        assert time.monotonic() < settled, f"instances {attempts}, logs {logs}\n{run.screen()}"
        time.sleep(0.2)
    assert attempts[-1] >= 2 and f"{attempts[-1]}.log" in logs, (attempts, logs)
    assert len(_rootfs_mounts(run.data_dir)) <= 2, _rootfs_mounts(run.data_dir)
    # the view prints an instance's lines as its follower reads them, a moment after the row
    # that named the instance: every instance's line, the newest included, arrives
    shown = time.monotonic() + 5
    while run.logs("crashloop", "app").count("crashing") < 3:
        assert time.monotonic() < shown, run.screen()
        time.sleep(0.2)

    run.signal(signal.SIGINT)
    assert run.wait(30) == 0, run.screen()
