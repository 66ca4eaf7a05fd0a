"""From a container of the pod spec to the runtime's ContainerConfig (the kubelet's
``generateContainerConfig``): environment, mounts, resources, security context, log path.

Pure apart from the inputs it is handed. Errors that make the container impossible to
configure are ``ConfigError`` (waiting reason CreateContainerConfigError).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kubelite.agent.envvars import ConfigError, NodeFacts, Objects, resolve_env
from kubelite.model.expansion import expand
from kubelite.model.quantity import to_int, to_milli
from kubelite.runtime.interface import ContainerConfig, ContainerMount, Resources, SecurityContext

CPU_PERIOD = 100_000  # microseconds, the kubelet's default CFS period
MIN_SHARES = 2
MIN_QUOTA = 1_000


def pod_log_dir(pod_logs_dir: Path, pod: Mapping[str, Any]) -> Path:
    """``<podLogsDir>/<ns>_<pod>_<uid>`` (SYNC-7)."""
    meta = pod.get("metadata", {})
    folder = f"{meta.get('namespace', 'default')}_{meta.get('name', '')}_{meta.get('uid', '')}"
    return pod_logs_dir / folder


def log_path(pod_logs_dir: Path, pod: dict[str, Any], container: str, attempt: int) -> Path:
    """``<podLogsDir>/<ns>_<pod>_<uid>/<container>/<restartCount>.log`` (SYNC-7)."""
    return pod_log_dir(pod_logs_dir, pod) / container / f"{attempt}.log"


def container_resources(container: dict[str, Any], oom_score_adj: int | None) -> Resources:
    res = container.get("resources") or {}
    requests, limits = res.get("requests") or {}, res.get("limits") or {}
    cpu_request = requests.get("cpu", limits.get("cpu"))
    shares = MIN_SHARES
    if cpu_request is not None:
        shares = max(MIN_SHARES, to_milli(cpu_request) * 1024 // 1000)
    quota = None
    if "cpu" in limits:
        quota = max(MIN_QUOTA, to_milli(limits["cpu"]) * CPU_PERIOD // 1000)
    memory = to_int(limits["memory"]) if "memory" in limits else None
    return Resources(
        cpu_shares=shares,
        cpu_quota=quota,
        cpu_period=CPU_PERIOD if quota is not None else None,
        memory_limit=memory,
        oom_score_adj=oom_score_adj,
    )


def security_context(pod: dict[str, Any], container: dict[str, Any]) -> SecurityContext:
    """The container's securityContext over the pod's (container fields win)."""
    psc = pod.get("spec", {}).get("securityContext") or {}
    csc = container.get("securityContext") or {}

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
    )


def container_mounts(container: dict[str, Any], env: dict[str, str]) -> tuple[ContainerMount, ...]:
    mounts = []
    for m in container.get("volumeMounts") or []:
        sub = m.get("subPath", "") or ""
        if m.get("subPathExpr"):
            sub = expand(m["subPathExpr"], env)
            if "$(" in sub:
                # VOL-5: a missing variable in subPathExpr fails the container's config.
                raise ConfigError(
                    f'failed to prepare subPath for volumeMount "{m.get("name")}"'
                    f' of container "{container.get("name")}"'
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
    pod: dict[str, Any],
    container: dict[str, Any],
    attempt: int,
    objects: Objects,
    node: NodeFacts,
    pod_logs_dir: Path,
    labels: dict[str, str],
    oom_score_adj: int | None = None,
) -> ContainerConfig:
    env = resolve_env(pod, container, objects, node)
    name = container.get("name", "")
    return ContainerConfig(
        name=name,
        attempt=attempt,
        image=container.get("image", ""),
        command=tuple(container.get("command") or ()),
        args=tuple(container.get("args") or ()),
        env=tuple(env),
        working_dir=container.get("workingDir", "") or "",
        mounts=container_mounts(container, dict(env)),
        log_path=log_path(pod_logs_dir, pod, name, attempt),
        termination_message_path=container.get("terminationMessagePath") or "/dev/termination-log",
        tty=bool(container.get("tty")),
        stdin=bool(container.get("stdin")),
        stdin_once=bool(container.get("stdinOnce")),
        resources=container_resources(container, oom_score_adj),
        security=security_context(pod, container),
        labels=labels,
    )
