"""The repo digest a container reports as its imageID (CS-7): containerd's, not the config's."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from kubelite.images.interface import ImageNotPresent
from kubelite.images.puller import inspect_args, inspect_failure, manifest_digest
from kubelite.images.rootfs import OverlayRootfs
from kubelite.images.store import ImageStore, repo_digests

INDEX = "sha256:" + "1" * 64  # what the registry gave for the tag: a multi-platform index
MANIFEST = "sha256:" + "2" * 64  # this platform's manifest, as stored
OTHER = "sha256:" + "3" * 64
BUSYBOX = "docker.io/library/busybox"


@pytest.mark.parametrize(
    ("case", "names", "digests"),
    [
        ("a pulled tag gives the registry's digest of it",
         [f"{BUSYBOX}:1.36", f"{BUSYBOX}@{INDEX}"], (f"{BUSYBOX}@{INDEX}",)),
        ("an image pulled by digest is that digest", [f"{BUSYBOX}@{INDEX}"],
         (f"{BUSYBOX}@{INDEX}",)),
        ("an image loaded from an archive has only tags: the manifest digest",
         ["docker.io/library/app:1"], (f"docker.io/library/app@{MANIFEST}",)),
        ("two repositories of one image each give theirs",
         [f"{BUSYBOX}:1.36", f"{BUSYBOX}@{INDEX}", "127.0.0.1:5000/tools/bb:1"],
         (f"{BUSYBOX}@{INDEX}", f"127.0.0.1:5000/tools/bb@{MANIFEST}")),
        ("no names, no repo digests", [], ()),
    ],
)  # fmt: skip
def test_cs7_an_images_repo_digests(case: str, names: list[str], digests: tuple[str, ...]) -> None:
    assert repo_digests(names, MANIFEST) == digests, case


def _blob(store: ImageStore, doc: dict[str, object]) -> str:
    data = json.dumps(doc).encode()
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = store.blob_path(digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return digest


@pytest.fixture
def store(tmp_path: Path) -> ImageStore:
    store = ImageStore(tmp_path / "images")
    store.ensure()
    return store


def _image(store: ImageStore) -> tuple[str, str]:
    config = _blob(store, {"architecture": "amd64", "config": {"Cmd": ["sh"]}})
    manifest = _blob(
        store,
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"digest": config, "size": 1},
            "layers": [],
        },
    )
    return manifest, config


@pytest.mark.parametrize(
    ("case", "asked", "expected"),
    [
        ("the tag the pod asked for", "busybox:1.36", f"{BUSYBOX}@{INDEX}"),
        ("any spelling of it", "index.docker.io/library/busybox:1.36", f"{BUSYBOX}@{INDEX}"),
        ("the digest the pod asked for", f"busybox@{INDEX}", f"{BUSYBOX}@{INDEX}"),
        ("another repository of the same image", "127.0.0.1:5000/tools/bb:1", None),
    ],
)
def test_cs7_the_image_id_of_a_container_is_the_repo_digest_of_the_repository_asked_for(
    store: ImageStore, case: str, asked: str, expected: str | None
) -> None:
    manifest, config = _image(store)
    store.tag([f"{BUSYBOX}:1.36", f"{BUSYBOX}@{INDEX}", "127.0.0.1:5000/tools/bb:1"], manifest)
    rootfs = OverlayRootfs(store=store)
    want = expected or f"127.0.0.1:5000/tools/bb@{manifest}"
    assert rootfs.image_id(asked) == want, case
    assert rootfs.image_id(asked) != config  # never the config digest any more
    assert store.info(manifest).id == config  # which stays the image's ID


def test_cs7_an_image_id_finds_the_first_repo_digest_and_a_missing_image_is_an_error(
    store: ImageStore,
) -> None:
    manifest, config = _image(store)
    store.tag([f"{BUSYBOX}:1.36", f"{BUSYBOX}@{INDEX}"], manifest)
    assert store.repo_digest(config) == f"{BUSYBOX}@{INDEX}"
    with pytest.raises(ImageNotPresent):
        store.repo_digest("nginx:1.25.3")


def test_a_tag_is_resolved_with_a_raw_inspect_and_its_digest_is_the_sha256_of_the_bytes() -> None:
    args = inspect_args(skopeo="skopeo", src="docker://h/p:t", tls_verify=False)
    assert args[:4] == ["skopeo", "--insecure-policy", "inspect", "--raw"]
    assert "--tls-verify=false" in args and "--no-creds" in args and args[-1] == "docker://h/p:t"
    with_auth = inspect_args(skopeo="s", src="x", auth_file=Path("/a.json"), cert_dir=Path("/c"))
    assert "--authfile" in with_auth and "--no-creds" not in with_auth and "--cert-dir" in with_auth
    assert manifest_digest(b"{}") == "sha256:" + hashlib.sha256(b"{}").hexdigest()


def test_a_failed_inspect_reads_as_the_copy_failing_would() -> None:
    src = "docker://127.0.0.1:5000/library/nosuch:1"
    stderr = (
        'time="t" level=fatal msg="Error parsing image name \\"' + src + '\\": reading manifest 1'
        ' in 127.0.0.1:5000/library/nosuch: manifest unknown: manifest unknown"'
    )
    failure = inspect_failure(stderr, src)
    assert failure.message == (
        f"initializing source {src}: reading manifest 1 in 127.0.0.1:5000/library/nosuch: "
        "manifest unknown: manifest unknown"
    )
    assert failure.not_found
