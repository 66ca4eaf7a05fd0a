"""Image references normalise as the kubelet and containerd do; bad ones are InvalidImageName."""

from __future__ import annotations

import pytest

from kubelite.images.interface import InvalidImageName
from kubelite.images.reference import (
    default_pull_policy,
    familiar,
    normalise,
    parse_reference,
)

DIGEST = "sha256:" + "a" * 64

NORMALISED = [
    (
        "a bare name gets docker.io, library/ and latest",
        "busybox",
        "docker.io/library/busybox:latest",
    ),
    ("a tag is kept", "busybox:1.36", "docker.io/library/busybox:1.36"),
    ("a user repository gets no library/", "bitnami/nginx:1.25", "docker.io/bitnami/nginx:1.25"),
    (
        "docker.io spelled out is unchanged",
        "docker.io/library/busybox:1.36",
        "docker.io/library/busybox:1.36",
    ),
    ("docker.io without library/ gets it", "docker.io/busybox", "docker.io/library/busybox:latest"),
    (
        "index.docker.io is docker.io",
        "index.docker.io/library/busybox:1",
        "docker.io/library/busybox:1",
    ),
    (
        "a registry with a port",
        "127.0.0.1:5000/library/busybox:1.36",
        "127.0.0.1:5000/library/busybox:1.36",
    ),
    ("a registry with a port and no tag", "myreg:5000/app", "myreg:5000/app:latest"),
    ("localhost is a registry", "localhost/app:v1", "localhost/app:v1"),
    ("localhost with a port", "localhost:5000/app", "localhost:5000/app:latest"),
    (
        "a dotted first component is a registry",
        "quay.io/coreos/etcd:v3.5",
        "quay.io/coreos/etcd:v3.5",
    ),
    (
        "a non-docker.io single path gets no library/",
        "registry.k8s.io/pause:3.9",
        "registry.k8s.io/pause:3.9",
    ),
    (
        "a digest replaces the default tag",
        f"busybox@{DIGEST}",
        f"docker.io/library/busybox@{DIGEST}",
    ),
    (
        "a tag and a digest keep only the digest",
        f"busybox:1.36@{DIGEST}",
        f"docker.io/library/busybox@{DIGEST}",
    ),
    (
        "separators inside path components",
        "my_org/my-app.web__x:1",
        "docker.io/my_org/my-app.web__x:1",
    ),
    ("deep paths", "ghcr.io/a/b/c/d:tag_1.2-3", "ghcr.io/a/b/c/d:tag_1.2-3"),
    ("an IPv6 registry", "[::1]:5000/app:1", "[::1]:5000/app:1"),
]


@pytest.mark.parametrize(("case", "ref", "want"), NORMALISED, ids=[c[0] for c in NORMALISED])
def test_references_normalise(case: str, ref: str, want: str) -> None:
    assert normalise(ref) == want


INVALID = [
    ("an empty name", ""),
    ("uppercase in the repository", "Busybox"),
    ("uppercase in a user repository", "docker.io/library/BusyBox:1"),
    ("a trailing colon", "busybox:"),
    ("a tag with a bad character", "busybox:1.36!"),
    ("a tag starting with a dot", "busybox:.1"),
    ("a 129-character tag", "busybox:" + "a" * 129),
    ("a short digest", "busybox@sha256:abc"),
    ("a digest without an algorithm", "busybox@" + "a" * 64),
    ("a 64-hex repository name", "a" * 64),
    ("a leading slash", "/busybox"),
    ("a double slash", "docker.io//busybox"),
    ("spaces", "busy box"),
    ("surrounding whitespace", " busybox"),
    ("a separator at the end of a component", "busybox-:1"),
    ("a name longer than 255 characters", "docker.io/" + "a" * 250 + "/b"),
]


@pytest.mark.parametrize(("case", "ref"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_references_are_invalid_image_name(case: str, ref: str) -> None:
    with pytest.raises(InvalidImageName) as info:
        parse_reference(ref)
    assert info.value.reason == "InvalidImageName"
    assert not info.value.retriable


def test_a_parsed_reference_exposes_its_parts() -> None:
    ref = parse_reference("127.0.0.1:5000/team/app:v2")
    assert (ref.domain, ref.path, ref.tag, ref.digest) == ("127.0.0.1:5000", "team/app", "v2", "")
    assert ref.name == "127.0.0.1:5000/team/app"


@pytest.mark.parametrize(
    ("ref", "short"),
    [
        ("docker.io/library/busybox:1.36", "busybox:1.36"),
        ("docker.io/bitnami/nginx:1", "bitnami/nginx:1"),
        ("quay.io/a/b:1", "quay.io/a/b:1"),
    ],
)
def test_familiar_names_drop_the_defaults(ref: str, short: str) -> None:
    assert familiar(parse_reference(ref)) == short


POLICY = [
    ("no tag means Always", "busybox", "Always"),
    (":latest means Always", "busybox:latest", "Always"),
    ("a registry port is not a tag", "localhost:5000/app", "Always"),
    ("a registry port with latest", "localhost:5000/app:latest", "Always"),
    ("a version tag means IfNotPresent", "busybox:1.36", "IfNotPresent"),
    ("a digest means IfNotPresent", f"busybox@{DIGEST}", "IfNotPresent"),
    ("a tag on a registry with a port", "localhost:5000/app:v1", "IfNotPresent"),
]


@pytest.mark.parametrize(("case", "image", "want"), POLICY, ids=[c[0] for c in POLICY])
def test_default_pull_policy(case: str, image: str, want: str) -> None:
    assert default_pull_policy(image) == want
