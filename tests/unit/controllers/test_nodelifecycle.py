"""The node lifecycle controller's decisions: when a node is alive, when it is overdue, and the
conditions it writes (the controller manager's texts) and puts back."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.controllers.nodelifecycle import (
    Health,
    mark_unknown,
    observe,
    overdue,
    restore,
    written_by_us,
)

CREATED = "2026-01-01T00:00:00Z"
BEAT = "2026-01-01T00:05:00Z"
NOW = "2026-01-01T00:10:00Z"


def condition(kind: str, status: str = "False", **extra: str) -> dict[str, Any]:
    return {
        "type": kind,
        "status": status,
        "lastHeartbeatTime": BEAT,
        "lastTransitionTime": CREATED,
        "reason": f"Kubelet{kind}",
        "message": "fine",
        **extra,
    }


def node(*conditions: dict[str, Any]) -> dict[str, Any]:
    return {
        "metadata": {"name": "n1", "uid": "u1", "creationTimestamp": CREATED},
        "status": {"conditions": list(conditions)},
    }


def lease(renew: str) -> dict[str, Any]:
    return {"metadata": {"name": "n1"}, "spec": {"renewTime": renew}}


HEALTHY = node(
    condition("MemoryPressure"),
    condition("DiskPressure"),
    condition("PIDPressure"),
    condition("Ready", "True", reason="KubeletReady"),
)


@pytest.mark.parametrize(
    ("case", "previous", "the_lease", "alive_at"),
    [
        ("a node seen for the first time is alive now", None, None, 100.0),
        (
            "a renewed lease is life",
            Health(10.0, BEAT, 1_767_225_600.0),
            lease("2026-01-01T00:00:01.000000Z"),
            100.0,
        ),
        (
            "an unchanged lease and heartbeat are not",
            Health(10.0, BEAT, 1_767_225_601.0),
            lease("2026-01-01T00:00:01.000000Z"),
            10.0,
        ),
        ("a changed heartbeat is life", Health(10.0, "2025-12-31T00:00:00Z", None), None, 100.0),
    ],
)
def test_when_a_node_was_last_alive(
    case: str, previous: Health | None, the_lease: dict[str, Any] | None, alive_at: float
) -> None:
    assert observe(previous, HEALTHY, the_lease, 100.0).alive_at == alive_at


def test_a_node_is_overdue_after_the_grace_period_and_a_new_one_after_the_startup_one() -> None:
    seen = Health(0.0, BEAT, None)
    assert not overdue(seen, HEALTHY, 40.0) and overdue(seen, HEALTHY, 40.5)
    fresh = node()
    assert not overdue(seen, fresh, 59.0) and overdue(seen, fresh, 60.5)


def test_overdue_conditions_turn_unknown_with_the_controller_managers_texts() -> None:
    conditions = mark_unknown(HEALTHY, NOW)
    assert conditions is not None
    ready = next(c for c in conditions if c["type"] == "Ready")
    assert ready == {
        "type": "Ready",
        "status": "Unknown",
        "lastHeartbeatTime": BEAT,
        "lastTransitionTime": NOW,
        "reason": "NodeStatusUnknown",
        "message": "Kubelet stopped posting node status.",
    }
    assert {c["type"]: c["status"] for c in conditions} == {
        "MemoryPressure": "Unknown",
        "DiskPressure": "Unknown",
        "PIDPressure": "Unknown",
        "Ready": "Unknown",
    }


def test_a_condition_never_posted_is_added_as_never_updated() -> None:
    conditions = mark_unknown(node(condition("Ready", "True")), NOW)
    assert conditions is not None
    memory = next(c for c in conditions if c["type"] == "MemoryPressure")
    assert memory == {
        "type": "MemoryPressure",
        "status": "Unknown",
        "lastHeartbeatTime": CREATED,
        "lastTransitionTime": NOW,
        "reason": "NodeStatusNeverUpdated",
        "message": "Kubelet never posted node status.",
    }


def test_nothing_is_written_when_ready_is_already_unknown() -> None:
    marked = node(*mark_unknown(HEALTHY, NOW) or [])
    assert mark_unknown(marked, "2026-01-01T00:11:00Z") is None
    assert written_by_us(marked) and not written_by_us(HEALTHY)


def test_renewal_puts_back_what_was_replaced_stamped_now() -> None:
    replaced = HEALTHY["status"]["conditions"]
    marked = node(*mark_unknown(node(condition("Ready", "True")), NOW) or [])
    back = restore(marked, [condition("Ready", "True")], "2026-01-01T00:12:00Z")
    assert back == [
        {
            **condition("Ready", "True"),
            "lastHeartbeatTime": "2026-01-01T00:12:00Z",
            "lastTransitionTime": "2026-01-01T00:12:00Z",
        }
    ]
    assert len(restore(node(*mark_unknown(HEALTHY, NOW) or []), replaced, NOW)) == 4
