"""Small typed views over a Pod dict (Kubernetes JSON, already defaulted).

The agent reads pods through these views instead of poking at nested dicts, so that defaults
(PR-3, VAL-7, VAL-8) and the init/sidecar/app distinction (SC-1) live in one place. A view is
built once per sync with ``PodSpec.of(pod)`` and never changes; the original dicts stay
reachable through ``raw`` for the few places that need a field not modelled here.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubelite.clock import parse_rfc3339, rfc3339
from kubelite.model.objects import JSON

DEFAULT_TGPS = 30  # VAL-8


class Phase(enum.StrEnum):
    """``status.phase`` of a Pod (PH-1). Members compare equal to the strings users see, so
    ``pod["status"].get("phase") in TERMINAL_PHASES`` works on raw objects too."""

    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    UNKNOWN = "Unknown"


# Phases a pod never leaves (PH-2): its containers are done and will not run again.
TERMINAL_PHASES: tuple[Phase, ...] = (Phase.SUCCEEDED, Phase.FAILED)


def pod_full_name(name: str, namespace: str, uid: str) -> str:
    """``<pod>_<ns>(<uid>)``, the kubelet's way of naming a pod in messages (BO-5)."""
    return f"{name}_{namespace}({uid})"


class ContainerKind(enum.Enum):
    """Which list a container comes from, and for init containers whether it is a sidecar."""

    INIT = "init"
    SIDECAR = "sidecar"
    APP = "app"

    @property
    def is_init_list(self) -> bool:
        return self is not ContainerKind.APP


class RestartPolicy(enum.Enum):
    ALWAYS = "Always"
    ON_FAILURE = "OnFailure"
    NEVER = "Never"


class ProbeType(enum.Enum):
    """Values are the words used in event messages (PR-5, PR-7)."""

    STARTUP = "Startup"
    LIVENESS = "Liveness"
    READINESS = "Readiness"


_PROBE_FIELDS = {
    ProbeType.STARTUP: "startupProbe",
    ProbeType.LIVENESS: "livenessProbe",
    ProbeType.READINESS: "readinessProbe",
}


def _positive(value: Any, default: int) -> int:
    """API defaulting turns 0 or unset into the default (PR-3)."""
    return int(value) if isinstance(value, int) and value > 0 else default


@dataclass(frozen=True, slots=True)
class ProbeSpec:
    type: ProbeType
    initial_delay_seconds: int
    timeout_seconds: int
    period_seconds: int
    success_threshold: int
    failure_threshold: int
    termination_grace_period_seconds: int | None
    raw: JSON

    @classmethod
    def of(cls, probe_type: ProbeType, raw: JSON) -> ProbeSpec:
        tgps = raw.get("terminationGracePeriodSeconds")
        success = _positive(raw.get("successThreshold"), 1)
        if probe_type is not ProbeType.READINESS:
            success = 1  # PR-4: liveness and startup always commit on one success
        return cls(
            type=probe_type,
            initial_delay_seconds=max(0, int(raw.get("initialDelaySeconds") or 0)),
            timeout_seconds=_positive(raw.get("timeoutSeconds"), 1),
            period_seconds=_positive(raw.get("periodSeconds"), 10),
            success_threshold=success,
            failure_threshold=_positive(raw.get("failureThreshold"), 3),
            termination_grace_period_seconds=int(tgps) if isinstance(tgps, int) else None,
            raw=raw,
        )


@dataclass(frozen=True, slots=True)
class ContainerSpec:
    name: str
    image: str
    kind: ContainerKind
    index: int  # position in its own list (spec.containers or spec.initContainers)
    probes: Mapping[ProbeType, ProbeSpec]
    post_start: JSON | None
    pre_stop: JSON | None
    raw: JSON

    @classmethod
    def of(cls, raw: JSON, index: int, *, init: bool) -> ContainerSpec:
        kind = ContainerKind.APP
        if init:
            sidecar = raw.get("restartPolicy") == "Always"  # SC-1
            kind = ContainerKind.SIDECAR if sidecar else ContainerKind.INIT
        probes: dict[ProbeType, ProbeSpec] = {}
        if kind is not ContainerKind.INIT:  # PR-1: regular init containers have none
            for probe_type, key in _PROBE_FIELDS.items():
                if isinstance(raw.get(key), Mapping):
                    probes[probe_type] = ProbeSpec.of(probe_type, raw[key])
        lifecycle = raw.get("lifecycle") or {}
        hooks_allowed = kind is not ContainerKind.INIT  # HK-1
        return cls(
            name=str(raw["name"]),
            image=str(raw.get("image", "")),
            kind=kind,
            index=index,
            probes=probes,
            post_start=lifecycle.get("postStart") if hooks_allowed else None,
            pre_stop=lifecycle.get("preStop") if hooks_allowed else None,
            raw=raw,
        )

    @property
    def is_sidecar(self) -> bool:
        return self.kind is ContainerKind.SIDECAR

    @property
    def field_path(self) -> str:
        """The event fieldPath (EV-1); sidecars are named under initContainers."""
        field = "initContainers" if self.kind.is_init_list else "containers"
        return f"spec.{field}{{{self.name}}}"

    def probe(self, probe_type: ProbeType) -> ProbeSpec | None:
        return self.probes.get(probe_type)


@dataclass(frozen=True, slots=True)
class PodSpec:
    name: str
    namespace: str
    uid: str
    restart_policy: RestartPolicy
    termination_grace_period_seconds: int
    init_containers: tuple[ContainerSpec, ...]
    containers: tuple[ContainerSpec, ...]
    deletion_timestamp: float | None
    deletion_grace_period_seconds: int | None
    active_deadline_seconds: int | None
    readiness_gates: tuple[str, ...]
    host_network: bool
    raw: JSON

    @classmethod
    def of(cls, pod: JSON) -> PodSpec:
        meta = pod.get("metadata") or {}
        spec = pod.get("spec") or {}
        tgps = spec.get("terminationGracePeriodSeconds")
        dgps = meta.get("deletionGracePeriodSeconds")
        deadline = spec.get("activeDeadlineSeconds")
        deleted = meta.get("deletionTimestamp")
        return cls(
            name=str(meta.get("name", "")),
            namespace=str(meta.get("namespace", "default")),
            uid=str(meta.get("uid", "")),
            restart_policy=RestartPolicy(spec.get("restartPolicy") or "Always"),  # VAL-7
            termination_grace_period_seconds=int(tgps) if isinstance(tgps, int) else DEFAULT_TGPS,
            init_containers=tuple(
                ContainerSpec.of(c, i, init=True)
                for i, c in enumerate(spec.get("initContainers") or ())
            ),
            containers=tuple(
                ContainerSpec.of(c, i, init=False)
                for i, c in enumerate(spec.get("containers") or ())
            ),
            deletion_timestamp=parse_time(deleted) if deleted else None,
            deletion_grace_period_seconds=int(dgps) if isinstance(dgps, int) else None,
            active_deadline_seconds=int(deadline) if isinstance(deadline, int) else None,
            readiness_gates=tuple(
                str(g.get("conditionType", "")) for g in spec.get("readinessGates") or ()
            ),
            host_network=bool(spec.get("hostNetwork", False)),
            raw=pod,
        )

    @property
    def full_name(self) -> str:
        """``<pod>_<ns>(<uid>)`` (``pod_full_name``)."""
        return pod_full_name(self.name, self.namespace, self.uid)

    @property
    def being_deleted(self) -> bool:
        return self.deletion_timestamp is not None

    @property
    def sidecars(self) -> tuple[ContainerSpec, ...]:
        return tuple(c for c in self.init_containers if c.is_sidecar)

    @property
    def all_containers(self) -> tuple[ContainerSpec, ...]:
        """Init containers (spec order) then app containers (spec order)."""
        return self.init_containers + self.containers

    def container(self, name: str) -> ContainerSpec | None:
        for c in self.all_containers:
            if c.name == name:
                return c
        return None


def parse_time(value: str) -> float:
    """An RFC 3339 API timestamp (``2024-05-01T10:00:00Z``) as seconds since the epoch."""
    return parse_rfc3339(value)


def format_time(seconds: float) -> str:
    """Seconds since the epoch as an API timestamp, whole seconds, UTC (``...Z``)."""
    return rfc3339(seconds)
