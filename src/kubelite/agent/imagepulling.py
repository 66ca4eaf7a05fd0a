"""Making sure a container's image is present before it is created (SYNC-5, step 2).

``imagepull`` decides (policy, back-off) and words the events; this module does the pulling
and posts what was decided, as the kubelet's image manager does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from kubelite.agent import eventtext, imagepull
from kubelite.agent.actions import StartFailure
from kubelite.agent.backoff import BackoffState
from kubelite.agent.eventtext import Event
from kubelite.agent.imagepull import PullStep
from kubelite.clock import Clock
from kubelite.images.interface import ImageError, ImageService
from kubelite.model.pod import ContainerSpec

EmitFn = Callable[[Event], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class PullOutcome:
    ok: bool
    backoff: BackoffState
    failure: StartFailure | None = None


async def ensure_image(
    *,
    images: ImageService,
    container: ContainerSpec,
    pod_uid: str,
    state: BackoffState,
    clock: Clock,
    emit: EmitFn,
) -> PullOutcome:
    present = images.status(container.image) is not None
    decision = imagepull.decide(container, pod_uid, present=present, state=state, now=clock.now())
    for event in decision.events:
        await emit(event)
    if decision.step is PullStep.USE_PRESENT:
        return PullOutcome(True, state)
    if decision.step is PullStep.FAIL:
        return PullOutcome(False, state, decision.failure)
    started = clock.monotonic()
    try:
        info = await images.pull(container.image)
    except ImageError as err:
        new_state, failed = imagepull.pull_failed(container, pod_uid, str(err), state, clock.now())
        for event in failed.events:
            await emit(event)
        failure = failed.failure
        if err.reason != "ErrImagePull":  # InvalidImageName keeps its own reason
            failure = StartFailure(err.reason, str(err))
        return PullOutcome(False, new_state, failure)
    took = clock.monotonic() - started
    await emit(eventtext.pulled(container, took, took, info.size))
    return PullOutcome(True, state)
