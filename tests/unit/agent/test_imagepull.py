"""The image step of a start (SYNC-5, BO-9, CS-3 waiting reasons, EV-2 texts, VAL-19)."""

import pytest

from kubelite.agent.backoff import BackoffState
from kubelite.agent.imagepull import PullStep, decide, pull_failed, pull_policy
from tests.unit.agent.builders import T0, c, pod


def ctr(image: str = "busybox:1.36", policy: str | None = None):  # type: ignore[no-untyped-def]
    extra = {"imagePullPolicy": policy} if policy else {}
    return pod([c("app", image, **extra)]).containers[0]


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("busybox", "Always"),
        ("busybox:latest", "Always"),
        ("busybox:1.36", "IfNotPresent"),
        ("registry:5000/busybox", "Always"),
        ("registry:5000/busybox:1", "IfNotPresent"),
        ("busybox@sha256:abc", "IfNotPresent"),
    ],
)
def test_val19_the_default_pull_policy_follows_the_tag(image: str, policy: str) -> None:
    assert pull_policy(ctr(image)) == policy


def test_ev2_a_present_image_with_ifnotpresent_is_used_with_an_already_present_event() -> None:
    d = decide(ctr(), "u", present=True, state=BackoffState(), now=T0)
    assert d.step is PullStep.USE_PRESENT
    assert [e.message for e in d.events] == [
        'Container image "busybox:1.36" already present on machine'
    ]


def test_policy_always_pulls_even_when_present() -> None:
    d = decide(ctr(policy="Always"), "u", present=True, state=BackoffState(), now=T0)
    assert d.step is PullStep.PULL and d.events[0].message == 'Pulling image "busybox:1.36"'


def test_cs3_ev2_policy_never_with_a_missing_image_is_err_image_never_pull() -> None:
    d = decide(ctr(policy="Never"), "u", present=False, state=BackoffState(), now=T0)
    assert d.step is PullStep.FAIL and d.failure is not None
    assert (d.failure.reason, d.failure.message) == (
        "ErrImageNeverPull",
        'Container image "busybox:1.36" is not present with pull policy of Never',
    )
    assert [(e.type, e.reason) for e in d.events] == [
        ("Warning", "ErrImageNeverPull"),
        ("Warning", "Failed"),
    ]


def test_tl7_bo9_a_failed_pull_gives_err_image_pull_then_image_pull_back_off() -> None:
    container = ctr("nope:1")
    state, failed = pull_failed(container, "u", "manifest unknown", BackoffState(), T0)
    assert failed.failure is not None
    assert (failed.failure.reason, failed.failure.message) == ("ErrImagePull", "manifest unknown")
    assert [e.message for e in failed.events] == [
        'Failed to pull image "nope:1": manifest unknown',
        "Error: ErrImagePull",
    ]
    during = decide(container, "u", present=False, state=state, now=T0 + 9)
    assert during.failure is not None
    assert (during.failure.reason, during.failure.message) == (
        "ImagePullBackOff",
        'Back-off pulling image "nope:1"',
    )
    assert [(e.type, e.reason, e.message) for e in during.events] == [
        ("Normal", "BackOff", 'Back-off pulling image "nope:1"'),
        ("Warning", "Failed", "Error: ImagePullBackOff"),
    ]
    assert decide(container, "u", present=False, state=state, now=T0 + 10).step is PullStep.PULL
