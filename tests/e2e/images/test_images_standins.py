"""The local registry fixture serves both stand-ins, labelled as stand-ins."""

from __future__ import annotations

import json
import urllib.request

import pytest

pytestmark = pytest.mark.e2e


def _get(url: str, accept: str) -> dict[str, object]:
    req = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.loads(resp.read())


def test_the_local_registry_serves_busybox_as_a_multi_platform_index(local_registry: str) -> None:
    index = _get(
        f"http://{local_registry}/v2/library/busybox/manifests/1.36",
        "application/vnd.oci.image.index.v1+json",
    )
    arches = {m["platform"]["architecture"] for m in index["manifests"]}  # type: ignore[index]
    assert len(arches) == 2


def test_the_nginx_stand_in_shares_its_first_layer_with_busybox(local_registry: str) -> None:
    accept = "application/vnd.oci.image.manifest.v1+json"
    nginx = _get(f"http://{local_registry}/v2/library/nginx/manifests/1.25.3", accept)
    index = _get(
        f"http://{local_registry}/v2/library/busybox/manifests/1.36",
        "application/vnd.oci.image.index.v1+json",
    )
    digests = [m["digest"] for m in index["manifests"]]  # type: ignore[index]
    layers = set()
    for d in digests:
        layers |= {
            la["digest"]
            for la in _get(f"http://{local_registry}/v2/library/busybox/manifests/{d}", accept)[
                "layers"
            ]
        }  # type: ignore[index]
    assert nginx["layers"][0]["digest"] in layers  # type: ignore[index]


def test_the_registry_config_file_mirrors_docker_io(registry_config_file, local_registry) -> None:  # type: ignore[no-untyped-def]
    assert f"http://{local_registry}" in registry_config_file.read_text()
