"""Pod volumes resolved into what the runtime prepares (VOL-1, VOL-2, VOL-9)."""

import base64

import pytest

from kubelite.agent.envvars import ConfigError, NodeFacts, Objects
from kubelite.agent.podvolumes import pod_volumes
from kubelite.model.pod import PodSpec
from kubelite.runtime.interface import EmptyDirVolume, FilesVolume, HostPathVolume, ProjectedFile

OBJECTS = Objects(
    configmaps={"site": {"data": {"index.html": "<h1>hi</h1>", "extra": "x"}}},
    secrets={"tls": {"data": {"key": base64.b64encode(b"K").decode()}}},
)


def volumes(*vols: dict) -> list:
    pod = {
        "metadata": {"name": "p", "namespace": "ns", "labels": {"b": "2", "a": "1"}},
        "spec": {"volumes": list(vols)},
    }
    return pod_volumes(PodSpec.of(pod), OBJECTS, NodeFacts())


def test_empty_dir_memory_with_size_limit_in_bytes_vol_2() -> None:
    got = volumes({"name": "cache", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}})
    assert got == [EmptyDirVolume("cache", "Memory", 1048576)]


def test_host_path_passes_through_with_type() -> None:
    got = volumes({"name": "h", "hostPath": {"path": "/srv", "type": "Directory"}})
    assert got == [HostPathVolume("h", "/srv", "Directory")]


def test_config_map_items_select_keys_and_paths() -> None:
    got = volumes(
        {
            "name": "s",
            "configMap": {
                "name": "site",
                "items": [{"key": "index.html", "path": "i.html", "mode": 0o600}],
            },
        }
    )
    assert got == [FilesVolume("s", (ProjectedFile("i.html", b"<h1>hi</h1>", 0o600),), 0o644)]


def test_secret_data_is_decoded_and_default_mode_kept_on_a_tmpfs() -> None:
    got = volumes({"name": "t", "secret": {"secretName": "tls", "defaultMode": 0o400}})
    files = (ProjectedFile("key", b"K"),)
    assert got == [FilesVolume("t", files, 0o400, medium="Memory", size_limit=1024**3)]


def test_downward_api_labels_file_is_sorted_key_value_lines_vol_9() -> None:
    got = volumes(
        {
            "name": "d",
            "downwardAPI": {
                "items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]
            },
        }
    )
    assert got[0].files == (ProjectedFile("labels", b'a="1"\nb="2"'),)


def test_missing_config_map_fails_unless_optional() -> None:
    with pytest.raises(ConfigError):
        volumes({"name": "s", "configMap": {"name": "nope"}})
    assert volumes({"name": "s", "configMap": {"name": "nope", "optional": True}}) == [
        FilesVolume("s", (), 0o644)
    ]
