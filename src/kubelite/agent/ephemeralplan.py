"""Which ephemeral containers one sync starts (the kubelet's computePodActions, SYNC-4).

Every ephemeral container with no instance at all is started, once: one that has run (whatever
its exit) is never started again, and one whose start failed before an instance existed
(image, configuration, a target not running) is tried again at the next sync, the image
pull's own back-off aside. They may start while init containers are still running, before
them in the plan, so a failing init container does not keep a debug container out; nothing
is started in a sync that makes a new sandbox or kills the pod. Pure.
"""

from __future__ import annotations

from kubelite.agent.actions import StartContainer
from kubelite.agent.ephemeral import ephemeral_labels, ephemeral_specs
from kubelite.agent.observed import ObservedPod
from kubelite.model.pod import PodSpec
from kubelite.runtime.interface import ContainerState


def ephemeral_starts(pod: PodSpec, observed: ObservedPod) -> tuple[StartContainer, ...]:
    """A StartContainer for each ephemeral container never started, in spec order, with the
    running instance of its target (if it names one) as this snapshot shows it."""
    starts = []
    for spec in ephemeral_specs(pod):
        if observed.newest(spec.name) is not None:
            continue  # started once already: never again
        target = observed.newest(spec.target) if spec.target else None
        running = target is not None and target.state is ContainerState.RUNNING
        starts.append(
            StartContainer(
                name=spec.name,
                kind=spec.kind,
                image=spec.image,
                attempt=None,  # SYNC-7: from the log folder, else 0
                labels=ephemeral_labels(pod, spec),
                abort_on_failure=False,
                target=spec.target,
                target_id=target.id if target is not None and running else "",
            )
        )
    return tuple(starts)
