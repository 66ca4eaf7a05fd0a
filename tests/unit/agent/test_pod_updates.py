"""Which newer versions of a pod call for a sync (SYNC-1, CO-5, BO-6)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from kubelite.agent.podworker import needs_sync

BASE: dict[str, Any] = {
    "metadata": {"name": "p", "uid": "u", "resourceVersion": "1", "labels": {"app": "a"}},
    "spec": {"containers": [{"name": "app", "image": "busybox"}],
             "readinessGates": [{"conditionType": "example.com/lb"}]},
    "status": {"phase": "Pending", "conditions": [{"type": "Ready", "status": "False"}]},
}  # fmt: skip


def changed(edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    pod = copy.deepcopy(BASE)
    edit(pod)
    return pod


CASES: list[tuple[str, Callable[[dict[str, Any]], None], bool]] = [
    ("the same pod again is no reason", lambda p: None, False),
    ("a new resourceVersion alone is no reason",
     lambda p: p["metadata"].update(resourceVersion="2"), False),
    ("the agent's own status write coming back is no reason",
     lambda p: p["status"].update(phase="Running"), False),
    ("a kubelet-owned condition changed by the write is no reason",
     lambda p: p["status"]["conditions"][0].update(status="True"), False),
    ("a readiness gate's condition set by someone else is",
     lambda p: p["status"]["conditions"].append({"type": "example.com/lb", "status": "True"}),
     True),
    ("a condition that is no readiness gate is not",
     lambda p: p["status"]["conditions"].append({"type": "other", "status": "True"}), False),
    ("a changed image is", lambda p: p["spec"]["containers"][0].update(image="nginx"), True),
    ("a changed label is", lambda p: p["metadata"]["labels"].update(app="b"), True),
    ("a new annotation is", lambda p: p["metadata"].update(annotations={"k": "v"}), True),
    ("a deletion is", lambda p: p["metadata"].update(
        deletionTimestamp="2024-01-01T00:00:00Z", deletionGracePeriodSeconds=30), True),
]  # fmt: skip


@pytest.mark.parametrize(("case", "edit", "sync"), CASES, ids=[c[0] for c in CASES])
def test_a_pod_update_syncs_only_when_more_than_its_status_changed(
    case: str, edit: Callable[[dict[str, Any]], None], sync: bool
) -> None:
    assert needs_sync(BASE, changed(edit)) is sync, case


def test_a_shorter_deletion_grace_syncs() -> None:
    """TERM-1: a second delete with a shorter grace must reach the worker."""
    deleted = changed(lambda p: p["metadata"].update(deletionGracePeriodSeconds=30))
    shorter = changed(lambda p: p["metadata"].update(deletionGracePeriodSeconds=0))
    assert needs_sync(deleted, shorter)
