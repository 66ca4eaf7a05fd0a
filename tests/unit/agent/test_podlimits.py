"""The pod cgroup's memory limit and CPU quota (RES-3), as the kubelet's ResourceConfigForPod
sets them, and their way into the sandbox."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.agent.dnsconfig import ClusterDNS
from kubelite.agent.podlimits import PodCgroupLimits, cpu_quota, pod_cgroup_limits
from kubelite.agent.sandboxconfig import build_sandbox_config
from kubelite.model.pod import PodSpec
from kubelite.runtime.interface import DNSConfig

Mi = 1024 * 1024
UNLIMITED = PodCgroupLimits()


def c(name: str, memory: str | None = None, cpu: str | None = None, **extra: Any) -> Any:
    limits = {k: v for k, v in (("memory", memory), ("cpu", cpu)) if v is not None}
    return {
        "name": name,
        "image": "i",
        **({"resources": {"limits": limits}} if limits else {}),
        **extra,
    }


def sidecar(name: str, memory: str | None = None, cpu: str | None = None) -> Any:
    return c(name, memory, cpu, restartPolicy="Always")


def pod(containers: list[Any], init: list[Any] | None = None, **spec: Any) -> PodSpec:
    body = {"containers": containers, "initContainers": init or [], **spec}
    return PodSpec.of({"metadata": {"name": "p", "namespace": "ns", "uid": "u"}, "spec": body})


def memory(n: int) -> PodCgroupLimits:
    return PodCgroupLimits(memory_limit=n)


def cpu(quota: int) -> PodCgroupLimits:
    return PodCgroupLimits(cpu_quota=quota, cpu_period=100_000)


@pytest.mark.parametrize(
    ("case", "spec", "expected"),
    [
        ("a pod without limits has none", pod([c("a"), c("b")]), UNLIMITED),
        (
            "every app container limited: the sum",
            pod([c("a", "100Mi"), c("b", "50Mi")]),
            memory(150 * Mi),
        ),
        (
            "one app container without a limit leaves the pod unlimited",
            pod([c("a", "100Mi"), c("b")]),
            UNLIMITED,
        ),
        (
            "an init container without a limit leaves the pod unlimited too",
            pod([c("a", "100Mi")], init=[c("setup")]),
            UNLIMITED,
        ),
        (
            "a larger init container sets the limit",
            pod([c("a", "100Mi")], init=[c("setup", "1Gi")]),
            memory(1024 * Mi),
        ),
        (
            "an init container after a limited sidecar counts as limited",
            pod([c("a", "128Mi")], init=[sidecar("proxy", "64Mi"), c("setup")]),
            memory(192 * Mi),
        ),
        (
            "an unlimited sidecar leaves the pod unlimited",
            pod([c("a", "128Mi")], init=[sidecar("proxy")]),
            UNLIMITED,
        ),
        ("a zero limit counts as none", pod([c("a", "100Mi"), c("b", "0")]), UNLIMITED),
        (
            "overhead is added to a limit",
            pod([c("a", "100Mi")], overhead={"memory": "10Mi"}),
            memory(110 * Mi),
        ),
        (
            "overhead alone sets nothing",
            pod([c("a"), c("b", "100Mi")], overhead={"memory": "10Mi"}),
            UNLIMITED,
        ),
        ("cpu limits become a quota", pod([c("a", cpu="500m"), c("b", cpu="250m")]), cpu(75_000)),
        ("the smallest quota is 1 ms", pod([c("a", cpu="1m")]), cpu(1_000)),
        (
            "memory and cpu are decided each on its own",
            pod([c("a", "100Mi", "1"), c("b", "100Mi")]),
            memory(200 * Mi),
        ),
        (
            "a guaranteed pod limits both",
            pod([c("a", "64Mi", "250m")], init=[c("setup", "32Mi", "100m")]),
            PodCgroupLimits(memory_limit=64 * Mi, cpu_quota=25_000, cpu_period=100_000),
        ),
    ],
)
def test_res3_the_pod_cgroup_is_limited_only_when_every_container_is(
    case: str, spec: PodSpec, expected: PodCgroupLimits
) -> None:
    assert pod_cgroup_limits(spec) == expected, case


@pytest.mark.parametrize(("milli", "quota"), [(0, None), (1, 1_000), (10, 1_000), (1500, 150_000)])
def test_a_cpu_limit_is_a_quota_over_100_ms_of_at_least_1_ms(milli: int, quota: int | None) -> None:
    assert cpu_quota(milli) == quota


def test_res3_the_pod_cgroup_limits_reach_the_sandbox() -> None:
    spec = pod([c("a", "100Mi", "500m")], init=[sidecar("proxy", "28Mi", "100m")])
    config = build_sandbox_config(
        spec, 0, node_name="n", cluster_dns=ClusterDNS(), host_dns=DNSConfig()
    ).config
    assert (config.memory_limit, config.cpu_quota, config.cpu_period) == (128 * Mi, 60_000, 100_000)
    unlimited = build_sandbox_config(
        pod([c("a")]), 0, node_name="n", cluster_dns=ClusterDNS(), host_dns=DNSConfig()
    ).config
    assert (unlimited.memory_limit, unlimited.cpu_quota, unlimited.cpu_period) == (None, None, None)
