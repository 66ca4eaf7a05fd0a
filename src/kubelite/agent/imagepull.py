"""Whether to pull a container's image, and what users see when pulling fails (BO-9, EV-2).

The kubelet's image step of SYNC-5, minus the pulling itself: the executor asks ``decide``
before it creates a container, pulls when told to, and reports a failed pull through
``pull_failed``. Both return the events to post and, on failure, the waiting reason to record
(``ErrImagePull``, ``ImagePullBackOff``, ``ErrImageNeverPull``; CS-3).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from kubelite.agent import backoff, eventtext
from kubelite.agent.actions import StartFailure
from kubelite.agent.backoff import BackoffState
from kubelite.agent.eventtext import Event
from kubelite.model.pod import ContainerSpec


class PullStep(enum.Enum):
    USE_PRESENT = "use-present"  # the image is there and the policy allows using it
    PULL = "pull"  # post the events, then pull
    FAIL = "fail"  # do not pull; record ``failure`` and give up on this start


@dataclass(frozen=True, slots=True)
class PullDecision:
    step: PullStep
    events: tuple[Event, ...] = ()
    failure: StartFailure | None = None


def pull_policy(container: ContainerSpec) -> str:
    """imagePullPolicy, with the API default (VAL-19) when a caller skipped defaulting."""
    policy = container.raw.get("imagePullPolicy")
    if isinstance(policy, str) and policy:
        return policy
    image = container.image
    name = image.split("@", 1)[0]
    tagged = ":" in name.rsplit("/", 1)[-1]
    if "@" in image and not tagged:
        return "IfNotPresent"
    if not tagged or name.endswith(":latest"):
        return "Always"
    return "IfNotPresent"


def decide(
    container: ContainerSpec, pod_uid: str, *, present: bool, state: BackoffState, now: float
) -> PullDecision:
    """Use the stored image, pull it, or fail at once (policy Never, or pull back-off)."""
    policy = pull_policy(container)
    if present and policy != "Always":
        return PullDecision(PullStep.USE_PRESENT, (eventtext.already_present(container),))
    if policy == "Never":
        message = f'Container image "{container.image}" is not present with pull policy of Never'
        events = (eventtext.never_pull(container), eventtext.failed(container, "ErrImageNeverPull"))
        return PullDecision(PullStep.FAIL, events, StartFailure("ErrImageNeverPull", message))
    if backoff.pull_in_backoff(state, backoff.pull_key(pod_uid, container.image), now):  # BO-9
        message = f'Back-off pulling image "{container.image}"'
        events = (
            eventtext.pull_backoff(container),
            eventtext.failed(container, "ImagePullBackOff"),
        )
        return PullDecision(PullStep.FAIL, events, StartFailure("ImagePullBackOff", message))
    return PullDecision(PullStep.PULL, (eventtext.pulling(container),))


def pull_failed(
    container: ContainerSpec, pod_uid: str, err: str, state: BackoffState, now: float
) -> tuple[BackoffState, PullDecision]:
    """After a failed pull: advance the image's back-off (BO-9); ErrImagePull with the error."""
    new_state = backoff.pull_failed(state, backoff.pull_key(pod_uid, container.image), now)
    events = (eventtext.failed_pull(container, err), eventtext.failed(container, "ErrImagePull"))
    return new_state, PullDecision(PullStep.FAIL, events, StartFailure("ErrImagePull", err))
