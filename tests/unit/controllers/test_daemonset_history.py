"""A DaemonSet's revisions: which one is current, its number, its shape, and which old ones go."""

from __future__ import annotations

import copy
from typing import Any

from kubelite.controllers import daemonset as dsr
from kubelite.controllers import daemonset_history as history


def ds(image: str = "busybox:1.36", limit: int = 10) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {
            "name": "agent",
            "namespace": "default",
            "uid": "ds-1",
            "annotations": {"kubernetes.io/change-cause": "first"},
        },
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "revisionHistoryLimit": limit,
            "template": {
                "metadata": {"labels": {"app": "agent"}},
                "spec": {"containers": [{"name": "c", "image": image}]},
            },
        },
    }


def test_a_snapshot_restores_the_template_and_carries_the_pods_hash() -> None:
    rev = history.snapshot(ds(), 1)
    h = dsr.revision_hash(ds())
    assert rev["metadata"]["name"] == f"agent-{h}"
    assert rev["metadata"]["labels"] == {"app": "agent", dsr.REVISION_HASH: h}
    assert rev["metadata"]["annotations"] == {"kubernetes.io/change-cause": "first"}
    assert rev["metadata"]["ownerReferences"][0]["kind"] == "DaemonSet"
    assert rev["data"]["spec"]["template"]["$patch"] == "replace"
    assert rev["data"]["spec"]["template"]["spec"] == ds()["spec"]["template"]["spec"]
    assert rev["revision"] == 1 and history.pod_hash_of(rev) == h


def test_the_current_revision_is_the_one_restoring_the_template_and_numbered_newest() -> None:
    first = history.snapshot(ds(), 1)
    second = history.snapshot(ds("busybox:latest"), 2)
    found = history.classify(ds(), [first, second])  # rolled back to the first template
    assert found.current is first and found.old == (second,) and found.next_number == 3
    fresh = history.classify(ds("busybox:1.37"), [first, second])
    assert fresh.current is None and fresh.next_number == 3


def test_old_revisions_beyond_the_limit_go_unless_a_pod_runs_them() -> None:
    revs = [history.snapshot(ds(f"busybox:{i}"), i) for i in range(1, 5)]
    daemon = ds(limit=1)
    live = {history.pod_hash_of(revs[0])}
    gone = history.to_clean_up(daemon, revs, live)
    assert [r["revision"] for r in gone] == [2, 3, 4]
    assert [
        r["revision"] for r in history.to_clean_up(ds(limit=3), copy.deepcopy(revs), set())
    ] == [1]
