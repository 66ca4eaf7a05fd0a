"""Effective pod resources (RES-2..RES-4) and QoS (QOS-1..QOS-4)."""

from fractions import Fraction
from typing import Any

import pytest

from kubelite.model.resources import oom_score_adj, pod_limits, pod_requests, qos_class


def ctr(
    name: str,
    req: dict[str, str] | None = None,
    lim: dict[str, str] | None = None,
    *,
    sidecar: bool = False,
) -> dict[str, Any]:
    c: dict[str, Any] = {"name": name, "image": "x", "resources": {}}
    if req:
        c["resources"]["requests"] = req
    if lim:
        c["resources"]["limits"] = lim
    if sidecar:
        c["restartPolicy"] = "Always"
    return c


def spec(
    containers: list[dict[str, Any]], init: list[dict[str, Any]] | None = None, **extra: Any
) -> dict[str, Any]:
    return {"containers": containers, "initContainers": init or [], **extra}


def cpu(value: str) -> dict[str, str]:
    return {"cpu": value}


@pytest.mark.parametrize(
    ("case", "pod", "expected"),
    [
        (
            "RES-4: a sidecar declared after init1 is not added to init1's use",
            spec(
                [ctr("app", cpu("200m"))],
                [
                    ctr("init1", cpu("500m")),
                    ctr("sc", cpu("100m"), sidecar=True),
                    ctr("init2", cpu("300m")),
                ],
            ),
            Fraction(1, 2),
        ),
        (
            "RES-4: a sidecar declared first is added to every later init container",
            spec(
                [ctr("app", cpu("200m"))],
                [
                    ctr("sc", cpu("100m"), sidecar=True),
                    ctr("init1", cpu("500m")),
                    ctr("init2", cpu("300m")),
                ],
            ),
            Fraction(3, 5),
        ),
        (
            "RES-2: app containers and sidecars add up when they exceed every init use",
            spec([ctr("a", cpu("1")), ctr("b", cpu("1"))], [ctr("sc", cpu("500m"), sidecar=True)]),
            Fraction(5, 2),
        ),
        (
            "RES-2: overhead is added",
            spec([ctr("a", cpu("1"))], overhead={"cpu": "250m"}),
            Fraction(5, 4),
        ),
    ],
)
def test_res2_effective_cpu_requests(case: str, pod: dict[str, Any], expected: Fraction) -> None:
    assert pod_requests(pod)["cpu"] == expected, case


def test_res3_a_resource_nobody_limits_is_left_out() -> None:
    limits = pod_limits(spec([ctr("a", lim={"memory": "64Mi"})]))
    assert limits == {"memory": Fraction(64 * 2**20)}


@pytest.mark.parametrize(
    ("case", "pod", "qos"),
    [
        ("QOS-1: nothing set is BestEffort", spec([ctr("a")]), "BestEffort"),
        (
            "QOS-2: only ephemeral-storage is still BestEffort",
            spec([ctr("a", {"ephemeral-storage": "1Gi"})]),
            "BestEffort",
        ),
        (
            "QOS-1: equal cpu and memory requests and limits everywhere is Guaranteed",
            spec([ctr("a", {"cpu": "1", "memory": "1Gi"}, {"cpu": "1", "memory": "1Gi"})]),
            "Guaranteed",
        ),
        (
            "QOS-1: a sidecar without limits makes the pod Burstable",
            spec(
                [ctr("a", {"cpu": "1", "memory": "1Gi"}, {"cpu": "1", "memory": "1Gi"})],
                [ctr("sc", sidecar=True)],
            ),
            "Burstable",
        ),
        (
            "QOS-1: only a cpu limit is Burstable",
            spec([ctr("a", {"cpu": "1"}, {"cpu": "1"})]),
            "Burstable",
        ),
        (
            "QOS-1: an explicit zero request with a limit is Burstable",
            spec([ctr("a", {"cpu": "0", "memory": "1Gi"}, {"cpu": "1", "memory": "1Gi"})]),
            "Burstable",
        ),
    ],
)
def test_qos1_class(case: str, pod: dict[str, Any], qos: str) -> None:
    assert qos_class(pod) == qos, case


GI = 2**30


@pytest.mark.parametrize(
    ("case", "pod", "name", "score"),
    [
        (
            "QOS-3: Guaranteed is -997",
            spec([ctr("a", {"cpu": "1", "memory": "1Gi"}, {"cpu": "1", "memory": "1Gi"})]),
            "a",
            -997,
        ),
        ("QOS-3: BestEffort is 1000", spec([ctr("a")]), "a", 1000),
        ("QOS-3: Burstable with 1 of 4 GiB is 750", spec([ctr("a", {"memory": "1Gi"})]), "a", 750),
        (
            "QOS-3: Burstable with no memory request is 999",
            spec([ctr("a", {"cpu": "1"})]),
            "a",
            999,
        ),
        (
            "QOS-3: Burstable using the whole node is at least 3",
            spec([ctr("a", {"memory": "4Gi"})]),
            "a",
            3,
        ),
        (
            "QOS-4: a sidecar is capped at the app container with the smallest memory request",
            spec(
                [ctr("a", {"memory": "2Gi"}), ctr("b", {"memory": "1Gi"})],
                [ctr("sc", {"cpu": "1"}, sidecar=True)],
            ),
            "sc",
            750,
        ),
    ],
)
def test_qos3_qos4_oom_score_adj(case: str, pod: dict[str, Any], name: str, score: int) -> None:
    assert oom_score_adj(pod, name, 4 * GI) == score, case
