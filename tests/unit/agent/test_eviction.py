"""Local-storage eviction decided from measured usage (VOL-3, PH-5): which check trips first,
and the kubelet's messages byte for byte."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from kubelite.agent.eviction import (
    Eviction,
    Usage,
    active,
    evictions,
    format_quantity,
    pod_eviction,
    watched,
)

Mi = 1024 * 1024


def pod(
    *containers: dict[str, Any], volumes: list[dict[str, Any]] | None = None, **meta: Any
) -> dict[str, Any]:
    return {
        "metadata": {"name": "p", "uid": "u1", **meta},
        "spec": {"containers": list(containers) or [c("app")], "volumes": volumes or []},
    }


def c(name: str, storage: str | None = None) -> dict[str, Any]:
    limits = {"resources": {"limits": {"ephemeral-storage": storage}}} if storage else {}
    return {"name": name, "image": "i", **limits}


def empty_dir(name: str, size: str | None = None, medium: str = "") -> dict[str, Any]:
    ed: dict[str, Any] = {"medium": medium} if medium else {}
    if size:
        ed["sizeLimit"] = size
    return {"name": name, "emptyDir": ed}


def usage(volumes: dict[str, int] | None = None, **containers: int) -> Usage:
    return Usage(volumes or {}, containers)


@pytest.mark.parametrize(
    ("manifest", "used", "message"),
    [
        pytest.param(
            pod(volumes=[empty_dir("cache", "10Mi")]),
            usage({"cache": 50 * Mi}),
            'Usage of EmptyDir volume "cache" exceeds the limit "10Mi". ',
            id="an emptyDir over its sizeLimit",
        ),
        pytest.param(
            pod(volumes=[empty_dir("cache", "10Mi")]),
            usage({"cache": 10 * Mi}),
            None,
            id="an emptyDir exactly at its limit is not over it",
        ),
        pytest.param(
            pod(volumes=[empty_dir("cache", "1Mi", medium="Memory")]),
            usage({"cache": 9 * Mi}),
            None,
            id="a memory-backed emptyDir is held by its tmpfs, not evicted",
        ),
        pytest.param(
            pod(c("a", "1Gi"), c("b", "500Mi")),
            usage(a=1000 * Mi, b=600 * Mi),
            "Pod ephemeral local storage usage exceeds the total limit of containers 1524Mi. ",
            id="the pod over the sum of its containers' limits",
        ),
        pytest.param(
            pod(c("a", "2Gi"), c("b", "500Mi")),
            usage(a=10 * Mi, b=600 * Mi),
            'Container b exceeded its local ephemeral storage limit "500Mi". ',
            id="one container over its own limit",
        ),
        pytest.param(
            pod(c("a", "1Gi"), c("b")),
            usage(a=10 * Mi, b=5000 * Mi),
            "Pod ephemeral local storage usage exceeds the total limit of containers 1Gi. ",
            id="the pod-wide limit is the sum of the limits set, as the kubelet adds them",
        ),
        pytest.param(
            pod(c("a", "100Mi"), volumes=[empty_dir("d", "1Mi")]),
            usage({"d": 200 * Mi}, a=1),
            'Usage of EmptyDir volume "d" exceeds the limit "1Mi". ',
            id="the emptyDir check comes first",
        ),
        pytest.param(
            pod(c("a", "100Mi"), volumes=[empty_dir("d")]),
            usage({"d": 200 * Mi}, a=1),
            "Pod ephemeral local storage usage exceeds the total limit of containers 100Mi. ",
            id="emptyDirs count towards the pod's total",
        ),
    ],
)
def test_the_first_check_that_trips_decides_the_message(
    manifest: dict[str, Any], used: Usage, message: str | None
) -> None:
    assert pod_eviction(manifest, used) == message


def test_evictions_name_each_pod_once_in_order() -> None:
    over = pod(volumes=[empty_dir("v", "1Mi")], uid="over")
    fine = pod(volumes=[empty_dir("v", "1Gi")], uid="fine")
    got = evictions([(fine, usage({"v": 2 * Mi})), (over, usage({"v": 2 * Mi}))])
    assert got == [Eviction("over", 'Usage of EmptyDir volume "v" exceeds the limit "1Mi". ')]


def test_only_pods_with_a_local_storage_limit_are_measured() -> None:
    assert not watched(pod(volumes=[empty_dir("v")]))
    assert not watched(pod(volumes=[empty_dir("m", "1Mi", medium="Memory")]))
    assert watched(pod(volumes=[empty_dir("v", "1Mi")]))
    assert watched(pod(c("a", "1Gi")))


def test_pods_being_deleted_or_finished_are_not_looked_at() -> None:
    limited = [empty_dir("v", "1Mi")]
    deleting = pod(volumes=limited, deletionTimestamp="2024-01-01T00:00:00Z")
    done = {**pod(volumes=limited), "status": {"phase": "Failed"}}
    running = {**pod(volumes=limited), "status": {"phase": "Running"}}
    assert active([deleting, done, running]) == [running]


@pytest.mark.parametrize(
    ("value", "like", "text"),
    [
        (1524 * Mi, "1Gi", "1524Mi"),
        (2 * 1024 * Mi, "1Gi", "2Gi"),
        (1500 * 1000 * 1000, "1G", "1500M"),
        (100, "50", "100"),
        (1000, "1Ki", "1000"),  # not a multiple of 1024: a plain number
    ],
)
def test_a_sum_of_limits_is_printed_as_kubernetes_prints_quantities(
    value: int, like: str, text: str
) -> None:
    assert format_quantity(Fraction(value), like) == text
