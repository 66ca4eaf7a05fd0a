"""From the pod spec and the node's policy to the runtime's confinement: the seccomp profile
of each container, the host namespaces and pids limit of the sandbox, and the size of memory-
backed volumes (VOL-2)."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.agent.containerconfig import seccomp_profile
from kubelite.agent.dnsconfig import ClusterDNS
from kubelite.agent.envvars import ConfigError, NodeFacts, Objects
from kubelite.agent.nodepolicy import NodePolicy
from kubelite.agent.podvolumes import memory_volume_size, pod_volumes
from kubelite.agent.sandboxconfig import build_sandbox_config
from kubelite.model.pod import PodSpec
from kubelite.runtime.interface import DNSConfig, EmptyDirVolume, SeccompProfile

ROOT = "/var/lib/kubelite/seccomp"
OFF = NodePolicy(seccomp_profile_root=ROOT)
ON = NodePolicy(seccomp_default=True, seccomp_profile_root=ROOT)
Mi = 1024 * 1024


def manifest(*containers: dict[str, Any], **spec: Any) -> dict[str, Any]:
    body = {"containers": list(containers) or [{"name": "app", "image": "i"}], **spec}
    return {"metadata": {"name": "p", "namespace": "ns", "uid": "u"}, "spec": body}


def profile(kind: str, name: str = "") -> dict[str, Any]:
    return {"type": kind, **({"localhostProfile": name} if name else {})}


@pytest.mark.parametrize(
    ("pod_profile", "container_profile", "policy", "expected"),
    [
        (None, None, OFF, SeccompProfile("Unconfined")),  # the kubelet's default
        (None, None, ON, SeccompProfile("RuntimeDefault")),  # --seccomp-default
        (profile("RuntimeDefault"), None, OFF, SeccompProfile("RuntimeDefault")),
        (profile("RuntimeDefault"), profile("Unconfined"), ON, SeccompProfile("Unconfined")),
        (
            None,
            profile("Localhost", "profiles/a.json"),
            OFF,
            SeccompProfile("Localhost", f"{ROOT}/profiles/a.json"),
        ),
        (profile("Localhost", "p.json"), None, OFF, SeccompProfile("Localhost", f"{ROOT}/p.json")),
    ],
)
def test_the_container_profile_wins_over_the_pods_then_the_nodes_default(
    pod_profile: dict[str, Any] | None,
    container_profile: dict[str, Any] | None,
    policy: NodePolicy,
    expected: SeccompProfile,
) -> None:
    c: dict[str, Any] = {"name": "app", "image": "i"}
    if container_profile:
        c["securityContext"] = {"seccompProfile": container_profile}
    spec: dict[str, Any] = (
        {"securityContext": {"seccompProfile": pod_profile}} if pod_profile else {}
    )
    view = PodSpec.of(manifest(c, **spec))
    assert seccomp_profile(view, view.containers[0], policy) == expected


@pytest.mark.parametrize("name", ["", "../../etc/passwd"])
def test_a_localhost_profile_must_name_a_file_below_the_profile_root(name: str) -> None:
    c = {"name": "app", "securityContext": {"seccompProfile": profile("Localhost", name)}}
    view = PodSpec.of(manifest(c))
    with pytest.raises(ConfigError):
        seccomp_profile(view, view.containers[0], OFF)


def sandbox(pids: int | None = None, **spec: Any) -> Any:
    return build_sandbox_config(
        PodSpec.of(manifest(**spec)), 0, node_name="n", cluster_dns=ClusterDNS(),
        host_dns=DNSConfig(), pids_limit=pids,
    ).config  # fmt: skip


def test_host_pid_and_host_ipc_reach_the_sandbox_and_are_off_by_default() -> None:
    assert (sandbox().host_pid, sandbox().host_ipc) == (False, False)
    cfg = sandbox(hostPID=True, hostIPC=True)
    assert (cfg.host_pid, cfg.host_ipc) == (True, True)


def test_the_nodes_pod_pids_limit_goes_on_the_sandbox() -> None:
    assert sandbox(4096).pids_limit == 4096 and sandbox().pids_limit is None


def limits(memory: str | None) -> dict[str, Any]:
    return {"resources": {"limits": {"memory": memory}}} if memory else {}


@pytest.mark.parametrize(
    ("pod_limit", "size_limit", "node", "expected"),
    [
        (None, None, "8Gi", 8 * 1024 * Mi),  # the node's memory
        (256 * Mi, None, "8Gi", 256 * Mi),  # the pod's limit
        (256 * Mi, 64 * Mi, "8Gi", 64 * Mi),  # a smaller sizeLimit
        (256 * Mi, 512 * Mi, "8Gi", 256 * Mi),  # a larger one is cut to the pod's limit
        (None, 16 * 1024 * Mi, "8Gi", 8 * 1024 * Mi),  # … or to the node's memory
    ],
)
def test_a_memory_backed_volume_is_sized_as_the_kubelet_sizes_it_vol_2(
    pod_limit: int | None, size_limit: int | None, node: str, expected: int
) -> None:
    assert memory_volume_size(pod_limit, size_limit, node) == expected


def test_a_memory_empty_dir_without_a_size_limit_gets_the_pods_memory_limit_vol_2() -> None:
    pod = manifest({"name": "a", "image": "i", **limits("128Mi")},
                   volumes=[{"name": "m", "emptyDir": {"medium": "Memory"}},
                            {"name": "d", "emptyDir": {"sizeLimit": "1Gi"}}])  # fmt: skip
    got = pod_volumes(PodSpec.of(pod), Objects(), NodeFacts(memory="8Gi"))
    assert got == [EmptyDirVolume("m", "Memory", 128 * Mi), EmptyDirVolume("d", "", 1024 * Mi)]
