"""Ephemeral containers as the agent sees them (the kubelet's rules for
``spec.ephemeralContainers``).

An ephemeral container is added to a running pod through the ``ephemeralcontainers``
subresource (VAL-21) and the kubelet treats it as a container apart:

* it is started once, when it has never run, and never restarted: no back-off, no restart
  after it exits, no recreation with a new sandbox (``ephemeralplan``);
* it has no probes, hooks, ports or resources; it counts for neither readiness nor the
  pod's phase, and reports in ``status.ephemeralContainerStatuses`` (sorted by name, never
  ``started``, never ``ready``);
* with ``targetContainerName`` it joins the target's process namespace (CRI's namespace mode
  TARGET) while the pod has no shared or host PID namespace, and cannot start while the target
  is not running ("unable to find target container <name>");
* it is stopped with the pod like any running container, and its events name it as
  ``spec.ephemeralContainers{<name>}`` (EV-1).

``EphemeralSpec`` lets the code that starts, stops and reports containers handle it as a
``ContainerSpec`` (kind APP, as the kubelet converts it to a plain ``v1.Container``) while
keeping it recognisable. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from kubelite.agent import labels
from kubelite.model.pod import ContainerKind, ContainerSpec, PodSpec
from kubelite.model.resources import (
    BEST_EFFORT_OOM_SCORE_ADJ,
    GUARANTEED_OOM_SCORE_ADJ,
    qos_class,
)

KIND_LABEL = "ephemeral"  # the container-kind label's value for these
# QOS-3 in a Burstable pod: no memory request, so 1000 - 0, lowered to 999.
BURSTABLE_OOM_SCORE_ADJ = 999


@dataclass(frozen=True, slots=True)
class EphemeralSpec(ContainerSpec):
    """One entry of ``spec.ephemeralContainers``; ``index`` is its position there."""

    target: str = ""  # targetContainerName, "" for none

    @property
    def field_path(self) -> str:
        return f"spec.ephemeralContainers{{{self.name}}}"

    @classmethod
    def of_entry(cls, raw: Any, index: int) -> EphemeralSpec:
        return cls(
            name=str(raw["name"]),
            image=str(raw.get("image", "")),
            kind=ContainerKind.APP,
            index=index,
            probes=MappingProxyType({}),
            post_start=None,
            pre_stop=None,
            raw=raw,
            target=str(raw.get("targetContainerName") or ""),
        )


def ephemeral_specs(pod: PodSpec) -> tuple[EphemeralSpec, ...]:
    """The pod's ephemeral containers, in spec order."""
    entries = (pod.raw.get("spec") or {}).get("ephemeralContainers") or ()
    return tuple(
        EphemeralSpec.of_entry(raw, i)
        for i, raw in enumerate(entries)
        if isinstance(raw, dict) and raw.get("name")
    )


def find_container(pod: PodSpec, name: str) -> ContainerSpec | None:
    """The container of any kind (init, app or ephemeral) with this name."""
    found = pod.container(name)
    if found is not None:
        return found
    return next((e for e in ephemeral_specs(pod) if e.name == name), None)


def container_order(pod: PodSpec) -> dict[str, int]:
    """Position of every container: init, app, then ephemeral (kill and report order)."""
    names = [c.name for c in pod.all_containers] + [e.name for e in ephemeral_specs(pod)]
    return {name: i for i, name in enumerate(names)}


def ephemeral_labels(pod: PodSpec, spec: EphemeralSpec) -> dict[str, str]:
    return {**labels.container_labels(pod, spec), labels.CONTAINER_KIND: KIND_LABEL}


def target_missing(spec: EphemeralSpec) -> str:
    """The kubelet's error when the target is not running (a CreateContainerConfigError)."""
    return f"unable to find target container {spec.target}"


def joins_target(pod: PodSpec) -> bool:
    """Whether a targeted container gets its target's PID namespace: only while the pod's
    containers each have their own (no shareProcessNamespace, no hostPID), as the kubelet
    switches the namespace mode from CONTAINER to TARGET and from nothing else."""
    spec = pod.raw.get("spec") or {}
    return not spec.get("shareProcessNamespace") and not spec.get("hostPID")


def oom_score_adj(pod: PodSpec) -> int:
    """QOS-3 for an ephemeral container: the pod's QoS class decides (it has no requests of
    its own, and does not count towards the class)."""
    qos = qos_class(pod.raw.get("spec") or {})
    if qos == "Guaranteed":
        return GUARANTEED_OOM_SCORE_ADJ
    if qos == "BestEffort":
        return BEST_EFFORT_OOM_SCORE_ADJ
    return BURSTABLE_OOM_SCORE_ADJ
