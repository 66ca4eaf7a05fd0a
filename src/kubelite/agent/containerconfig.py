"""From a container of the pod spec to the runtime's ContainerConfig (the kubelet's
``generateContainerConfig``): environment, mounts, resources, security context, log path.

Pure apart from the inputs it is handed. Errors that make the container impossible to
configure are ``ConfigError`` (waiting reason CreateContainerConfigError).
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

from kubelite.agent.envvars import ConfigError, NodeFacts, Objects, resolve_env
from kubelite.agent.ephemeral import EphemeralSpec
from kubelite.agent.ephemeral import oom_score_adj as ephemeral_oom_score_adj
from kubelite.agent.nodepolicy import NodePolicy
from kubelite.agent.podlimits import CPU_PERIOD, cpu_quota
from kubelite.model.expansion import expand
from kubelite.model.pod import ContainerSpec, PodSpec
from kubelite.model.quantity import to_int, to_milli
from kubelite.model.resources import oom_score_adj
from kubelite.runtime.interface import (
    ContainerConfig,
    ContainerMount,
    Resources,
    SeccompProfile,
    SecurityContext,
)
from kubelite.runtime.logs import container_log_path, pod_log_dir

MIN_SHARES = 2


def container_resources(container: ContainerSpec, oom_score: int | None) -> Resources:
    res = container.raw.get("resources") or {}
    requests, limits = res.get("requests") or {}, res.get("limits") or {}
    cpu_request = requests.get("cpu", limits.get("cpu"))
    shares = MIN_SHARES
    if cpu_request is not None:
        shares = max(MIN_SHARES, to_milli(cpu_request) * 1024 // 1000)
    quota = cpu_quota(to_milli(limits["cpu"])) if "cpu" in limits else None
    memory = to_int(limits["memory"]) if "memory" in limits else None
    return Resources(
        cpu_shares=shares,
        cpu_quota=quota,
        cpu_period=CPU_PERIOD if quota is not None else None,
        memory_limit=memory,
        oom_score_adj=oom_score,
    )


def seccomp_profile(pod: PodSpec, container: ContainerSpec, policy: NodePolicy) -> SeccompProfile:
    """The kubelet's choice of seccomp profile: the container's ``seccompProfile``, else the
    pod's, else RuntimeDefault with ``--seccomp-default``, else Unconfined. A Localhost
    profile is a path below the node's profile root."""
    psc = _pod_security(pod)
    csc = container.raw.get("securityContext") or {}
    chosen = csc.get("seccompProfile") or psc.get("seccompProfile")
    if not chosen:
        return SeccompProfile("RuntimeDefault" if policy.seccomp_default else "Unconfined")
    kind = str(chosen.get("type") or "")
    if kind == "RuntimeDefault":
        return SeccompProfile("RuntimeDefault")
    if kind == "Localhost":
        name = str(chosen.get("localhostProfile") or "")
        if not name:
            raise ConfigError("localhostProfile must be set if seccompProfile type is Localhost.")
        path = posixpath.normpath(posixpath.join(policy.seccomp_profile_root, name))
        if not path.startswith(policy.seccomp_profile_root.rstrip("/") + "/"):
            raise ConfigError(f"localhostProfile {name!r} is outside the seccomp profile root")
        return SeccompProfile("Localhost", path)
    return SeccompProfile("Unconfined")


def _pod_security(pod: PodSpec) -> dict[str, Any]:
    return dict((pod.raw.get("spec") or {}).get("securityContext") or {})


def security_context(
    pod: PodSpec, container: ContainerSpec, policy: NodePolicy | None = None
) -> SecurityContext:
    """The container's securityContext over the pod's (container fields win)."""
    psc = _pod_security(pod)
    csc = container.raw.get("securityContext") or {}

    def pick(key: str) -> Any:
        return csc[key] if csc.get(key) is not None else psc.get(key)

    caps = csc.get("capabilities") or {}
    return SecurityContext(
        run_as_user=pick("runAsUser"),
        run_as_group=pick("runAsGroup"),
        run_as_non_root=bool(pick("runAsNonRoot")),
        supplemental_groups=tuple(psc.get("supplementalGroups") or ()),
        fs_group=psc.get("fsGroup"),
        read_only_root_filesystem=bool(csc.get("readOnlyRootFilesystem")),
        privileged=bool(csc.get("privileged")),
        allow_privilege_escalation=csc.get("allowPrivilegeEscalation"),
        capabilities_add=tuple(caps.get("add") or ()),
        capabilities_drop=tuple(caps.get("drop") or ()),
        seccomp=seccomp_profile(pod, container, policy or NodePolicy()),
    )


def container_mounts(container: ContainerSpec, env: dict[str, str]) -> tuple[ContainerMount, ...]:
    mounts = []
    for m in container.raw.get("volumeMounts") or []:
        sub = m.get("subPath", "") or ""
        if m.get("subPathExpr"):
            sub = expand(m["subPathExpr"], env)
            if "$(" in sub:
                # VOL-5: a missing variable in subPathExpr fails the container's config.
                raise ConfigError(
                    f'failed to prepare subPath for volumeMount "{m.get("name")}"'
                    f' of container "{container.name}"'
                )
        mounts.append(
            ContainerMount(
                volume=m.get("name", ""),
                container_path=m.get("mountPath", ""),
                read_only=bool(m.get("readOnly")),
                sub_path=sub,
            )
        )
    return tuple(mounts)


def build_container_config(
    *,
    pod: PodSpec,
    container: ContainerSpec,
    attempt: int,
    objects: Objects,
    node: NodeFacts,
    pod_logs_dir: Path,
    labels: dict[str, str],
    policy: NodePolicy | None = None,
) -> ContainerConfig:
    """Everything the runtime needs to create one instance of ``container`` (attempt
    ``attempt``); its oom_score_adj from the pod's QoS class and the node's memory (QOS-3)."""
    env = resolve_env(pod.raw, container.raw, objects, node)
    raw = container.raw
    if isinstance(container, EphemeralSpec):
        oom_score = ephemeral_oom_score_adj(pod)
    else:
        oom_score = oom_score_adj(pod.raw.get("spec") or {}, container.name, to_int(node.memory))
    log_dir = pod_log_dir(pod_logs_dir, pod.namespace, pod.name, pod.uid)
    return ContainerConfig(
        name=container.name,
        attempt=attempt,
        image=container.image,
        command=tuple(raw.get("command") or ()),
        args=tuple(raw.get("args") or ()),
        env=tuple(env),
        working_dir=raw.get("workingDir", "") or "",
        mounts=container_mounts(container, dict(env)),
        log_path=container_log_path(log_dir, container.name, attempt),
        termination_message_path=raw.get("terminationMessagePath") or "/dev/termination-log",
        tty=bool(raw.get("tty")),
        stdin=bool(raw.get("stdin")),
        stdin_once=bool(raw.get("stdinOnce")),
        resources=container_resources(container, oom_score),
        security=security_context(pod, container, policy),
        labels=labels,
    )
