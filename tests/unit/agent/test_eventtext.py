"""Event reasons, types, messages and fieldPaths (EV-1, EV-2)."""

import pytest

from kubelite.agent import eventtext as ev
from kubelite.agent.eventtext import Event
from tests.unit.agent.builders import c, pod, sidecar

POD = pod([c("app", "nginx:1.25")], [c("init", "busybox"), sidecar("proxy", "envoy")])
APP, INIT, PROXY = POD.containers[0], POD.init_containers[0], POD.init_containers[1]


@pytest.mark.parametrize(
    ("case", "event", "expected"),
    [
        (
            "Pulling",
            ev.pulling(APP),
            Event("Normal", "Pulling", 'Pulling image "nginx:1.25"', "spec.containers{app}"),
        ),
        (
            "Pulled with size and durations",
            ev.pulled(APP, 0.868, 1.2345, 1234),
            Event(
                "Normal",
                "Pulled",
                'Successfully pulled image "nginx:1.25" in 868ms (1.234s including waiting). '
                "Image size: 1234 bytes.",
                "spec.containers{app}",
            ),
        ),
        (
            "already present",
            ev.already_present(INIT),
            Event(
                "Normal",
                "Pulled",
                'Container image "busybox" already present on machine',
                "spec.initContainers{init}",
            ),
        ),
        (
            "Created",
            ev.created(APP),
            Event("Normal", "Created", "Created container: app", "spec.containers{app}"),
        ),
        (
            "Started",
            ev.started(PROXY),
            Event("Normal", "Started", "Started container proxy", "spec.initContainers{proxy}"),
        ),
        (
            "BackOff restarting",
            ev.crash_backoff(APP, POD),
            Event(
                "Warning",
                "BackOff",
                "Back-off restarting failed container app in pod p_ns(uid-1)",
                "spec.containers{app}",
            ),
        ),
        (
            "pull back-off is Normal",
            ev.pull_backoff(APP),
            Event(
                "Normal", "BackOff", 'Back-off pulling image "nginx:1.25"', "spec.containers{app}"
            ),
        ),
        (
            "Failed Error:",
            ev.failed(APP, "ErrImagePull"),
            Event("Warning", "Failed", "Error: ErrImagePull", "spec.containers{app}"),
        ),
        (
            "Failed to pull",
            ev.failed_pull(APP, "not found"),
            Event(
                "Warning",
                "Failed",
                'Failed to pull image "nginx:1.25": not found',
                "spec.containers{app}",
            ),
        ),
        (
            "Unhealthy",
            ev.unhealthy(APP, "Liveness", "HTTP probe failed with statuscode: 500"),
            Event(
                "Warning",
                "Unhealthy",
                "Liveness probe failed: HTTP probe failed with statuscode: 500",
                "spec.containers{app}",
            ),
        ),
        (
            "SandboxChanged is a pod event",
            ev.sandbox_changed(),
            Event(
                "Normal", "SandboxChanged", "Pod sandbox changed, it will be killed and re-created."
            ),
        ),
        (
            "DeadlineExceeded",
            ev.deadline_exceeded(),
            Event(
                "Normal",
                "DeadlineExceeded",
                "Pod was active on the node longer than the specified deadline",
            ),
        ),
        (
            "FailedPostStartHook",
            ev.failed_post_start(APP),
            Event("Warning", "FailedPostStartHook", "PostStartHook failed", "spec.containers{app}"),
        ),
        (
            "FailedPreStopHook",
            ev.failed_pre_stop(APP),
            Event("Warning", "FailedPreStopHook", "PreStopHook failed", "spec.containers{app}"),
        ),
        (
            "never pull",
            ev.never_pull(APP),
            Event(
                "Warning",
                "ErrImageNeverPull",
                'Container image "nginx:1.25" is not present with pull policy of Never',
                "spec.containers{app}",
            ),
        ),
    ],
)
def test_ev2_event_catalogue(case: str, event: Event, expected: Event) -> None:
    assert event == expected, case


def test_ev1_scheduled_comes_from_the_scheduler() -> None:
    e = ev.scheduled(POD, "node-1")
    assert (e.source, e.message) == ("default-scheduler", "Successfully assigned ns/p to node-1")


@pytest.mark.parametrize(
    ("case", "message", "expected"),
    [
        (
            "app liveness, restarting",
            ev.liveness_kill_message(APP, restart=True),
            "Container app failed liveness probe, will be restarted",
        ),
        (
            "app liveness under Never",
            ev.liveness_kill_message(APP, restart=False),
            "Container app failed liveness probe",
        ),
        (
            "app startup",
            ev.startup_kill_message(APP, restart=True),
            "Container app failed startup probe, will be restarted",
        ),
        (
            "sidecar liveness has no suffix (SC-5)",
            ev.liveness_kill_message(PROXY, restart=True),
            "Init container proxy failed liveness probe",
        ),
        (
            "sidecar startup",
            ev.startup_kill_message(PROXY, restart=True),
            "Init container proxy failed startup probe",
        ),
        (
            "app image change",
            ev.changed_kill_message(APP),
            "Container app definition changed, will be restarted",
        ),
        (
            "sidecar image change (SC-6)",
            ev.changed_kill_message(PROXY),
            "Init container proxy definition changed",
        ),
        (
            "app unknown",
            ev.unknown_kill_message(APP),
            'Container is in "unknown" state, try killing it before restart',
        ),
        (
            "init unknown (INIT-5)",
            ev.unknown_kill_message(INIT),
            'Init container is in "unknown" state, try killing it before restart',
        ),
        ("plain stop", ev.stopping_message(PROXY), "Stopping container proxy"),
    ],
)
def test_ev2_killing_messages(case: str, message: str, expected: str) -> None:
    assert message == expected, case


def test_pr5_probe_error_and_warning_texts() -> None:
    assert ev.probe_errored(APP, "Readiness", "unknown", "boom").message == (
        "Readiness probe errored and resulted in unknown state: boom"
    )
    assert ev.probe_warning(APP, "Liveness", "x").message == "Liveness probe warning: x"
