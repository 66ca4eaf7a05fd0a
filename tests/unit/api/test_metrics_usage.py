"""PodMetrics and NodeMetrics from two samples, as metrics-server computes and writes them."""

from __future__ import annotations

import pytest

from kubelite.api.metrics import Point, Samples
from kubelite.api.metrics_usage import (
    cpu_quantity,
    go_duration,
    memory_quantity,
    node_metrics,
    pod_metrics,
    usage,
)

T0 = 1_700_000_000.0
MI = 1024 * 1024


def samples(cpu0: int, cpu1: int, window: float = 10.0, mem: int = 8 * MI, start: float = 1.0):
    return Samples(Point(T0 + window, start, cpu1, mem), Point(T0, start, cpu0, mem))


@pytest.mark.parametrize(
    ("case", "s", "expected"),
    [
        ("half a core over ten seconds", samples(0, 5_000_000_000), 500_000_000),
        ("no CPU used", samples(7, 7), 0),
        ("a fraction of a nanocore rounds down", samples(0, 5, window=10.0), 0),
    ],
)
def test_cpu_is_the_time_used_between_two_samples_over_the_window(
    case: str, s: Samples, expected: int
) -> None:
    u = usage(s)
    assert u is not None and u.cpu_nanocores == expected and u.window == 10.0


@pytest.mark.parametrize(
    ("case", "s"),
    [
        ("one sample only", Samples(Point(T0, 1.0, 5, 0))),
        ("CPU time went back", samples(9, 3)),
        ("the start went back", Samples(Point(T0 + 1, 1.0, 9, 0), Point(T0, 2.0, 3, 0))),
        ("the samples were read at the same time", samples(1, 2, window=0.0)),
    ],
)  # fmt: skip
def test_there_is_no_usage_without_a_valid_pair_of_samples(case: str, s: Samples) -> None:
    assert usage(s) is None


@pytest.mark.parametrize(
    ("nanocores", "text"),
    [
        (1_127_409, "1127409n"),
        (5_000_000, "5m"),
        (0, "0"),
        (2_000_000_000, "2"),
        (1_500_000, "1500u"),
    ],
)
def test_cpu_is_written_in_nanocores_as_the_api_canonicalises_it(nanocores: int, text: str) -> None:
    assert cpu_quantity(nanocores) == text


@pytest.mark.parametrize(
    ("size", "text"),
    [(7_856_128, "7672Ki"), (2 * MI, "2Mi"), (1024 * MI, "1Gi"), (1000, "1000"), (0, "0"),
     (1025, "1025")],
)  # fmt: skip
def test_memory_is_written_in_binary_units(size: int, text: str) -> None:
    assert memory_quantity(size) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(15.042, "15.042s"), (60.5, "1m0.5s"), (0.35, "350ms"), (0, "0s"), (3725, "1h2m5s"),
     (10, "10s")],
)  # fmt: skip
def test_the_window_is_a_go_duration(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text


def running_pod(phase: str = "Running") -> dict:
    return {
        "metadata": {"name": "web", "namespace": "default", "uid": "u1", "labels": {"app": "w"}},
        "status": {"phase": phase},
    }


def test_a_running_pods_metrics_name_each_container_with_its_usage() -> None:
    got = pod_metrics(
        running_pod(),
        {"nginx": samples(0, 1_000_000_000), "sidecar": samples(0, 0, mem=4096)},
        T0 + 20,
    )
    assert got == {
        "kind": "PodMetrics",
        "apiVersion": "metrics.k8s.io/v1beta1",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "creationTimestamp": "2023-11-14T22:13:40Z",
            "labels": {"app": "w"},
        },
        "timestamp": "2023-11-14T22:13:30Z",
        "window": "10s",
        "containers": [
            {"name": "nginx", "usage": {"cpu": "100m", "memory": "8Mi"}},
            {"name": "sidecar", "usage": {"cpu": "0", "memory": "4Ki"}},
        ],
    }


@pytest.mark.parametrize(
    ("case", "phase", "containers"),
    [
        ("a pending pod", "Pending", {"app": samples(0, 1)}),
        ("a finished pod", "Succeeded", {"app": samples(0, 1)}),
        ("no container sampled yet", "Running", {}),
        ("one container with a single sample", "Running",
         {"app": samples(0, 1), "side": Samples(Point(T0, 1.0, 0, 0))}),
    ],
)  # fmt: skip
def test_a_pod_has_no_metrics_until_every_running_container_has_two_samples(
    case: str, phase: str, containers: dict
) -> None:
    assert pod_metrics(running_pod(phase), containers, T0) is None


def test_a_nodes_metrics_are_its_usage_between_two_samples() -> None:
    node = {"metadata": {"name": "n1", "labels": {"kubernetes.io/hostname": "n1"}}}
    got = node_metrics(node, samples(0, 20_000_000_000, mem=512 * MI), T0 + 10)
    assert got is not None
    assert got["usage"] == {"cpu": "2", "memory": "512Mi"}
    assert got["metadata"]["labels"] == {"kubernetes.io/hostname": "n1"}
    assert "namespace" not in got["metadata"]
    assert node_metrics(node, None, T0) is None
