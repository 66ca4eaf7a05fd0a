"""Typed pod views: defaults, sidecars, probes, deletion (PR-3, SC-1, VAL-7, VAL-8, EV-1)."""

import pytest

from kubelite.model.pod import ContainerKind, PodSpec, ProbeType, RestartPolicy, parse_time

POD = {
    "metadata": {"name": "web", "namespace": "prod", "uid": "u1"},
    "spec": {
        "initContainers": [
            {"name": "setup", "image": "busybox", "livenessProbe": {"exec": {"command": ["x"]}}},
            {
                "name": "proxy",
                "image": "envoy",
                "restartPolicy": "Always",
                "startupProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 1},
                "lifecycle": {"preStop": {"sleep": {"seconds": 3}}},
            },
        ],
        "containers": [
            {
                "name": "app",
                "image": "nginx",
                "readinessProbe": {"httpGet": {"port": 80}, "successThreshold": 2},
                "livenessProbe": {"httpGet": {"port": 80}, "terminationGracePeriodSeconds": 5},
            }
        ],
    },
}


def test_sc1_an_init_container_with_restart_policy_always_is_a_sidecar() -> None:
    spec = PodSpec.of(POD)
    kinds = [c.kind for c in spec.all_containers]
    assert kinds == [ContainerKind.INIT, ContainerKind.SIDECAR, ContainerKind.APP]
    assert [c.name for c in spec.sidecars] == ["proxy"]


def test_val7_val8_restart_policy_and_grace_default_to_always_and_30() -> None:
    spec = PodSpec.of(POD)
    assert spec.restart_policy is RestartPolicy.ALWAYS
    assert spec.termination_grace_period_seconds == 30


def test_pr3_unset_probe_fields_take_the_api_defaults() -> None:
    startup = PodSpec.of(POD).init_containers[1].probe(ProbeType.STARTUP)
    assert startup is not None
    assert (
        startup.initial_delay_seconds,
        startup.timeout_seconds,
        startup.period_seconds,
        startup.success_threshold,
        startup.failure_threshold,
        startup.termination_grace_period_seconds,
    ) == (0, 1, 1, 1, 3, None)


def test_pr3_pr4_readiness_keeps_its_success_threshold_and_liveness_its_grace() -> None:
    app = PodSpec.of(POD).containers[0]
    readiness, liveness = app.probe(ProbeType.READINESS), app.probe(ProbeType.LIVENESS)
    assert readiness is not None and readiness.success_threshold == 2
    assert liveness is not None and liveness.termination_grace_period_seconds == 5


def test_pr1_hk1_regular_init_containers_have_no_probes_or_hooks() -> None:
    setup = PodSpec.of(POD).init_containers[0]
    assert setup.probes == {} and setup.pre_stop is None


def test_sidecar_hooks_are_visible() -> None:
    assert PodSpec.of(POD).init_containers[1].pre_stop == {"sleep": {"seconds": 3}}


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("setup", "spec.initContainers{setup}"),
        ("proxy", "spec.initContainers{proxy}"),
        ("app", "spec.containers{app}"),
    ],
)
def test_ev1_field_paths_name_the_list_the_container_is_in(name: str, path: str) -> None:
    container = PodSpec.of(POD).container(name)
    assert container is not None and container.field_path == path


def test_bo5_full_name_is_name_namespace_and_uid() -> None:
    assert PodSpec.of(POD).full_name == "web_prod(u1)"


def test_term1_deletion_timestamp_and_grace_are_read() -> None:
    deleted = {
        **POD,
        "metadata": {
            **POD["metadata"],
            "deletionTimestamp": "2024-01-01T00:00:10Z",
            "deletionGracePeriodSeconds": 7,
        },
    }
    spec = PodSpec.of(deleted)
    assert spec.being_deleted
    assert spec.deletion_timestamp == parse_time("2024-01-01T00:00:10Z")
    assert spec.deletion_grace_period_seconds == 7
