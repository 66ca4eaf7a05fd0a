"""What ``kubelite up`` prints about pods failing to start."""

from __future__ import annotations

import pytest

from kubelite.podfailures import failure_line


def event(type_: str, reason: str, kind: str = "Pod", field_path: str = "") -> dict:
    involved = {"kind": kind, "namespace": "default", "name": "web"}
    if field_path:
        involved["fieldPath"] = field_path
    return {"type": type_, "reason": reason, "message": "why", "involvedObject": involved}


@pytest.mark.parametrize(
    ("case", "ev", "line"),
    [
        ("an image that cannot be pulled", event("Warning", "Failed", field_path=
         "spec.containers{app}"), "pod default/web (app) failed to start: Failed: why"),
        ("a pod that does not fit", event("Warning", "FailedScheduling"),
         "pod default/web failed to start: FailedScheduling: why"),
        ("a normal event says nothing", event("Normal", "Pulled"), None),
        ("a failing probe is about a pod that started", event("Warning", "Unhealthy"), None),
        ("another kind's warning", event("Warning", "Failed", kind="Job"), None),
    ],
)  # fmt: skip
def test_warning_events_about_pods_become_one_line_each(
    case: str, ev: dict, line: str | None
) -> None:
    assert failure_line(ev) == line
