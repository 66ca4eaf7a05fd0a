"""The kubelet's event reasons, types and message texts (§9, EV-*) as small functions.

Events are data: the decision core returns them inside plans and probe outcomes, and the
executor posts them. Texts that users and tests match on are byte-identical to the kubelet's
(v1.33 wording where releases differ, VER-2). Container events carry the fieldPath of EV-1;
pod events have none.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubelite.agent.gotext import go_duration_ms
from kubelite.model.pod import ContainerSpec, PodSpec

NORMAL = "Normal"
WARNING = "Warning"


@dataclass(frozen=True, slots=True)
class Event:
    type: str  # Normal | Warning
    reason: str
    message: str
    field_path: str = ""  # "" for pod events (EV-1)
    source: str = "kubelet"


def _c(type_: str, reason: str, message: str, container: ContainerSpec) -> Event:
    return Event(type_, reason, message, container.field_path)


# -------------------------------------------------------------------------- pod events


def scheduled(pod: PodSpec, node: str) -> Event:
    msg = f"Successfully assigned {pod.namespace}/{pod.name} to {node}"
    return Event(NORMAL, "Scheduled", msg, source="default-scheduler")


def sandbox_changed() -> Event:
    return Event(NORMAL, "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.")


def failed_create_sandbox(err: str) -> Event:
    return Event(WARNING, "FailedCreatePodSandBox", f"Failed to create pod sandbox: {err}")


def dns_warning(pod: PodSpec, reason: str, message: str) -> Event:
    """MissingClusterDNS names the pod first, DNSConfigForming does not (dnsconfig)."""
    if reason == "MissingClusterDNS":
        message = f'pod: "{pod.full_name}". {message}'
    return Event(WARNING, reason, message)


DEADLINE_REASON = "DeadlineExceeded"
DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline"


def deadline_exceeded() -> Event:
    """PH-4: a Normal event, as the kubelet's active deadline handler records it."""
    return Event(NORMAL, DEADLINE_REASON, DEADLINE_MESSAGE)


def evicted(message: str) -> Event:
    return Event(WARNING, "Evicted", message)  # PH-5


def failed_mount(volume: str, err: str) -> Event:
    return Event(WARNING, "FailedMount", f'MountVolume.SetUp failed for volume "{volume}" : {err}')


def lifecycle_http_fallback(host: str) -> Event:
    msg = f"request to HTTPS lifecycle hook {host} got HTTP response, retry with HTTP succeeded"
    return Event(WARNING, "LifecycleHTTPFallback", msg)  # HK-6


# -------------------------------------------------------------------- image events


def pulling(c: ContainerSpec) -> Event:
    return _c(NORMAL, "Pulling", f'Pulling image "{c.image}"', c)


def pulled(c: ContainerSpec, pull_seconds: float, total_seconds: float, size: int) -> Event:
    """EV-2 newer wording, with durations truncated to milliseconds and the image size."""
    msg = (
        f'Successfully pulled image "{c.image}" in {go_duration_ms(pull_seconds)} '
        f"({go_duration_ms(total_seconds)} including waiting). Image size: {size} bytes."
    )
    return _c(NORMAL, "Pulled", msg, c)


def already_present(c: ContainerSpec) -> Event:
    return _c(NORMAL, "Pulled", f'Container image "{c.image}" already present on machine', c)


def failed_pull(c: ContainerSpec, err: str) -> Event:
    return _c(WARNING, "Failed", f'Failed to pull image "{c.image}": {err}', c)


def pull_backoff(c: ContainerSpec) -> Event:
    return _c(NORMAL, "BackOff", f'Back-off pulling image "{c.image}"', c)  # BackOff is Normal


def never_pull(c: ContainerSpec) -> Event:
    msg = f'Container image "{c.image}" is not present with pull policy of Never'
    return _c(WARNING, "ErrImageNeverPull", msg, c)


def failed(c: ContainerSpec, detail: str) -> Event:
    """``Error: <detail>``: after pull, config, create and start failures (EV-2)."""
    return _c(WARNING, "Failed", f"Error: {detail}", c)


# -------------------------------------------------------------------- container events


def created(c: ContainerSpec) -> Event:
    return _c(NORMAL, "Created", f"Created container: {c.name}", c)  # v1.33 wording (VER-2)


def started(c: ContainerSpec) -> Event:
    return _c(NORMAL, "Started", f"Started container {c.name}", c)


def killing(c: ContainerSpec, message: str) -> Event:
    """TERM-2 step 1: the kill message, e.g. ``Stopping container <name>``."""
    return _c(NORMAL, "Killing", message, c)


def crash_backoff(c: ContainerSpec, pod: PodSpec) -> Event:
    msg = f"Back-off restarting failed container {c.name} in pod {pod.full_name}"
    return _c(WARNING, "BackOff", msg, c)  # BO-5


def unhealthy(c: ContainerSpec, probe_type: str, output: str) -> Event:
    return _c(WARNING, "Unhealthy", f"{probe_type} probe failed: {output}", c)  # PR-7


def probe_errored(c: ContainerSpec, probe_type: str, result: str, err: str) -> Event:
    msg = f"{probe_type} probe errored and resulted in {result} state: {err}"
    return _c(WARNING, "Unhealthy", msg, c)  # PR-5


def probe_warning(c: ContainerSpec, probe_type: str, output: str) -> Event:
    return _c(WARNING, "ProbeWarning", f"{probe_type} probe warning: {output}", c)


def failed_post_start(c: ContainerSpec) -> Event:
    return _c(WARNING, "FailedPostStartHook", "PostStartHook failed", c)  # HK-3, newer text


def failed_pre_stop(c: ContainerSpec) -> Event:
    return _c(WARNING, "FailedPreStopHook", "PreStopHook failed", c)  # HK-4, newer text


# ------------------------------------------------------------------- kill messages (EV-2)


def stopping_message(c: ContainerSpec) -> str:
    return f"Stopping container {c.name}"


def liveness_kill_message(c: ContainerSpec, *, restart: bool) -> str:
    if c.is_sidecar:
        return f"Init container {c.name} failed liveness probe"  # SC-5: no suffix
    return _restart_suffix(f"Container {c.name} failed liveness probe", restart)  # APP-3


def startup_kill_message(c: ContainerSpec, *, restart: bool) -> str:
    if c.is_sidecar:
        return f"Init container {c.name} failed startup probe"
    return _restart_suffix(f"Container {c.name} failed startup probe", restart)


def changed_kill_message(c: ContainerSpec) -> str:
    if c.is_sidecar:
        return f"Init container {c.name} definition changed"  # SC-6
    return f"Container {c.name} definition changed, will be restarted"  # APP-3


def unknown_kill_message(c: ContainerSpec) -> str:
    prefix = "Init container" if c.kind.is_init_list else "Container"
    return f'{prefix} is in "unknown" state, try killing it before restart'  # INIT-5, APP-2


POST_START_KILL_MESSAGE = "FailedPostStartHook"  # HK-3


def _restart_suffix(message: str, restart: bool) -> str:
    return f"{message}, will be restarted" if restart else message
