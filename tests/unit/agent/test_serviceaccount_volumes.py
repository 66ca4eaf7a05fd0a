"""Projected serviceAccountToken sources on the node: which tokens a pod needs, the files they
become (with the kubelet's modes), a failing volume named in the error, and when a kept
token is asked for again."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.agent.apiclient import needs_refresh
from kubelite.agent.envvars import ConfigError, NodeFacts, Objects
from kubelite.agent.podvolumes import (
    TokenKey,
    VolumeError,
    pod_volumes,
    token_file_mode,
    token_requests,
)
from kubelite.agent.sources import ServiceAccountToken
from kubelite.model.pod import PodSpec
from kubelite.registry.pod_defaults import token_volume
from kubelite.runtime.interface import FilesVolume, ProjectedFile

CA = "-----BEGIN CERTIFICATE-----\n"
OBJECTS = Objects(configmaps={"kube-root-ca.crt": {"data": {"ca.crt": CA}}})
API = TokenKey("", 3607)


def access_volume(name: str = "kube-api-access-abcde") -> dict[str, Any]:
    """The volume ServiceAccount admission adds."""
    return token_volume(name)


def pod(*volumes: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "namespace": "shop", "uid": "u1"},
        "spec": {"serviceAccountName": "default", "volumes": list(volumes), **spec},
    }


def test_the_admission_volume_becomes_token_ca_and_namespace_files() -> None:
    got = pod_volumes(PodSpec.of(pod(access_volume())), OBJECTS, NodeFacts(), {API: "jwt"})
    assert got == [
        FilesVolume(
            "kube-api-access-abcde",
            (
                ProjectedFile("token", b"jwt", 0o644),
                ProjectedFile("ca.crt", CA.encode()),
                ProjectedFile("namespace", b"shop"),
            ),
            0o644,
            medium="Memory",  # a token is a secret: on a tmpfs, never on the node's disk
            size_limit=1024**3,  # the node's memory (VOL-2)
        )
    ]


def test_tokens_are_asked_once_per_audience_and_lifetime_with_the_first_volume_asking() -> None:
    vault = {
        "name": "vault",
        "projected": {
            "sources": [
                {"serviceAccountToken": {"audience": "vault", "path": "t"}},
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "api"}},
            ]
        },
    }
    got = token_requests(pod(access_volume(), vault, {"name": "e", "emptyDir": {}}))
    assert got == {API: "kube-api-access-abcde", TokenKey("vault", 3600): "vault"}


def container(name: str, run_as: int | None = None) -> dict[str, Any]:
    security = {} if run_as is None else {"securityContext": {"runAsUser": run_as}}
    return {"name": name, "image": "busybox", **security}


@pytest.mark.parametrize(
    ("security", "containers", "mode", "owner"),
    [
        ({}, [container("a")], 0o644, None),  # the volume's default mode
        ({"fsGroup": 2000}, [container("a")], 0o640, None),  # group-readable by the fsGroup
        ({"runAsUser": 1000}, [container("a")], 0o600, 1000),  # the pod's one user's
        ({}, [container("a", 1000), container("b", 1000)], 0o600, 1000),
        ({"runAsUser": 7}, [container("a"), container("b", 1000)], 0o644, None),  # two users
        ({}, [container("a", 1000), container("b")], 0o644, None),  # one names no user
        ({"runAsUser": 0}, [container("a")], 0o600, 0),  # root is one user too
        ({"runAsUser": 1000, "fsGroup": 2000}, [container("a")], 0o640, 1000),
    ],
)
def test_the_token_file_mode_and_owner_are_the_kubelets(
    security: dict[str, int], containers: list[dict[str, Any]], mode: int, owner: int | None
) -> None:
    manifest = pod(access_volume(), securityContext=security, containers=containers)
    (volume,) = pod_volumes(PodSpec.of(manifest), OBJECTS, NodeFacts(), {API: "jwt"})
    assert isinstance(volume, FilesVolume)
    token = volume.files[0]
    assert (token.path, token.mode, token.owner) == ("token", mode, owner)
    assert token_file_mode(manifest, 0o644) == mode


def test_a_missing_token_fails_its_volume_by_name() -> None:
    with pytest.raises(VolumeError) as caught:
        pod_volumes(PodSpec.of(pod(access_volume())), OBJECTS, NodeFacts(), {})
    assert caught.value.volume == "kube-api-access-abcde"
    assert isinstance(caught.value, ConfigError)


def test_a_missing_root_ca_configmap_fails_the_volume_as_the_kubelet_says() -> None:
    with pytest.raises(VolumeError) as caught:
        pod_volumes(PodSpec.of(pod(access_volume())), Objects(), NodeFacts(), {API: "jwt"})
    assert (caught.value.volume, str(caught.value)) == (
        "kube-api-access-abcde",
        'configmap "kube-root-ca.crt" not found',
    )


ISSUED = 1_700_000_000.0


@pytest.mark.parametrize(
    ("lifetime", "age", "refresh"),
    [
        (3607, 0, False),
        (3607, 2885, False),  # just inside 80% of its life
        (3607, 2886, True),  # past 80%
        (600, 479, False),
        (600, 481, True),
        (10 * 86400, 86400 - 1, False),
        (10 * 86400, 86400 + 1, True),  # a day old, however long it lives
    ],
)
def test_a_kept_token_is_refreshed_past_80_percent_of_its_life_or_after_a_day(
    lifetime: int, age: float, refresh: bool
) -> None:
    token = ServiceAccountToken("jwt", expires=ISSUED + lifetime, lifetime=lifetime)
    assert needs_refresh(token, ISSUED + age) is refresh
