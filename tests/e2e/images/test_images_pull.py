"""Pulling from the local registry through a docker.io mirror: platform selection, shared
layers fetched once, concurrent pulls joined, missing images reported as the kubelet does."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import pytest

from devtools.ocilayout import host_arch
from devtools.registry import LocalRegistry
from kubelite.images.interface import ImageNotFound, ImagePullFailed
from kubelite.images.registries import parse_registry_config
from kubelite.images.service import Images

pytestmark = pytest.mark.e2e


class RegistryLog:
    """Requests the registry logged since this object was made."""

    def __init__(self, server: LocalRegistry) -> None:
        self.path = server.log
        self.start = self.path.stat().st_size

    def requests(self, pattern: str) -> list[str]:
        time.sleep(0.2)  # the registry writes its access log asynchronously
        with open(self.path, "rb") as f:
            f.seek(self.start)
            new = f.read().decode(errors="replace")
        return [line for line in new.splitlines() if re.search(pattern, line)]


async def test_busybox_resolves_to_docker_io_and_comes_from_the_mirror(
    images: Images, local_registry_server: LocalRegistry
) -> None:
    log = RegistryLog(local_registry_server)
    info = await images.pull("busybox:1.36")
    assert info.repo_tags == ("docker.io/library/busybox:1.36",)
    assert info.repo_digests[0].startswith("docker.io/library/busybox@sha256:")
    assert info.config.labels["org.kubelite.standin"] == "true"
    assert info.config.cmd == ("sh",)
    assert info.size > 500_000
    assert log.requests(r"GET /v2/library/busybox/manifests/1\.36")
    config = json.loads(images.store.blob_path(info.id).read_bytes())
    assert config["architecture"] == host_arch()  # picked from the multi-platform index
    assert images.status("docker.io/library/busybox:1.36") == info


async def test_a_layer_shared_with_a_pulled_image_is_not_fetched_again(
    images: Images, local_registry_server: LocalRegistry
) -> None:
    busybox = await images.pull("busybox:1.36")
    shared = images.store.image(images.store.resolve("busybox:1.36") or "").layers[0]
    log = RegistryLog(local_registry_server)
    nginx = await images.pull("nginx:1.25.3")
    nginx_layers = images.store.image(images.store.resolve("nginx:1.25.3") or "").layers
    assert nginx_layers[0] == shared
    assert log.requests(f"GET /v2/library/nginx/blobs/{nginx_layers[1]}")
    assert not log.requests(f"GET /v2/library/[a-z]+/blobs/{shared}")
    assert {i.id for i in images.list()} == {busybox.id, nginx.id}


async def test_concurrent_pulls_of_one_image_happen_once(
    images: Images, local_registry_server: LocalRegistry
) -> None:
    log = RegistryLog(local_registry_server)
    infos = await asyncio.gather(
        images.pull("nginx:latest"),
        images.pull("docker.io/library/nginx:latest"),
        images.pull("index.docker.io/library/nginx"),
    )
    assert len({i.id for i in infos}) == 1
    assert len(log.requests(r"GET /v2/library/nginx/manifests/latest")) == 1


async def test_a_pull_by_digest_is_stored_under_its_digest(images: Images) -> None:
    first = await images.pull("busybox:1.36")
    by_digest = first.repo_digests[0]
    info = await images.pull(by_digest)
    assert info.id == first.id
    assert images.status(by_digest) is not None


async def test_a_missing_tag_is_image_not_found_with_the_kubelet_reason(
    images: Images, local_registry: str, tmp_path: Path
) -> None:
    # A registry named directly (not docker.io): no fallback to the internet.
    direct = Images(
        images_dir=tmp_path / "direct",
        registries=parse_registry_config(
            f'configs:\n  "{local_registry}":\n    tls:\n      insecure_skip_verify: true\n'
        ),
    )
    ref = f"{local_registry}/library/nosuch:1"
    with pytest.raises(ImageNotFound) as info:
        await direct.pull(ref)
    assert info.value.reason == "ErrImagePull"
    assert str(info.value).startswith(f'failed to pull and unpack image "{ref}": ')
    assert "manifest unknown" in str(info.value)
    assert direct.status(ref) is None


async def test_an_unreachable_registry_is_a_pull_failure(tmp_path: Path) -> None:
    images = Images(
        images_dir=tmp_path / "images",
        registries=parse_registry_config(
            'configs:\n  "127.0.0.1:9":\n    tls:\n      insecure_skip_verify: true\n'
        ),
    )
    with pytest.raises(ImagePullFailed) as info:
        await images.pull("127.0.0.1:9/library/busybox:1.36")
    assert info.value.reason == "ErrImagePull"
    assert "connection refused" in str(info.value)
