"""The node's confinement of pods, as the kubelet's flags set it: the pod pids limit
(``--pod-max-pids``), seccomp for containers that name no profile (``--seccomp-default``) and
where Localhost profiles live (``--seccomp-profile-root``). One frozen record, read from the
Settings once and handed to the pure builders of sandbox and container configs."""

from __future__ import annotations

from dataclasses import dataclass

from kubelite.settings import Settings

KUBELET_SECCOMP_ROOT = "/var/lib/kubelet/seccomp"


@dataclass(frozen=True, slots=True)
class NodePolicy:
    pod_max_pids: int | None = None  # None: unlimited (the kubelet's default, -1)
    seccomp_default: bool = False
    seccomp_profile_root: str = KUBELET_SECCOMP_ROOT

    @classmethod
    def from_settings(cls, settings: Settings) -> NodePolicy:
        return cls(
            pod_max_pids=settings.pod_max_pids,
            seccomp_default=settings.seccomp_default,
            seccomp_profile_root=str(settings.seccomp_profile_root),
        )
