"""VOL-9 / SA-5: a running pod's ConfigMap, Secret, downward API and projected volumes are written
again on the periodic syncs (a minute apart at the earliest) and at once when the pod's labels
or annotations change; a required object that went away keeps the files as they were and is
told as FailedMount. On FakeRuntime and virtual time: ``runtime.volumes`` holds what the agent
asked the runtime to write last."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from kubelite.agent import volumerefresh
from kubelite.runtime.interface import FilesVolume
from tests.component.agent.harness import Node, c, pod


def configmap(value: str) -> dict[str, Any]:
    meta = {"name": "settings", "namespace": "default"}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"mode": value}}


def files(node: Node, uid: str, volume: str) -> dict[str, bytes]:
    vol = node.runtime.volumes[uid][volume]
    assert isinstance(vol, FilesVolume)
    return {f.path: f.data for f in vol.files}


def app_running(node: Node) -> bool:
    try:
        return node.state("web", "app")[0] == "running"
    except KeyError:  # no status yet
        return False


async def started(node: Node) -> str:
    """The web pod, its ConfigMap saying "blue", running; its uid."""
    uid = node.add(web(), configmap("blue"))
    await node.until(lambda: app_running(node))
    return uid


VOLUMES = [
    {"name": "cfg", "configMap": {"name": "settings"}},
    {"name": "info", "downwardAPI": {"items": [
        {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
    {"name": "scratch", "emptyDir": {}},
]  # fmt: skip


def web() -> dict[str, Any]:
    mounts = [{"name": "cfg", "mountPath": "/etc/app"}, {"name": "info", "mountPath": "/info"}]
    manifest = pod("web", [{**c("app"), "volumeMounts": mounts}], volumes=VOLUMES)
    manifest["metadata"]["labels"] = {"tier": "web"}
    return manifest


def test_only_files_from_objects_or_the_pod_are_refreshed() -> None:
    kept = volumerefresh.with_refreshed_volumes_only({"spec": {"volumes": VOLUMES}})
    assert [v["name"] for v in kept["spec"]["volumes"]] == ["cfg", "info"]
    assert volumerefresh.refresh_due(None, 5.0, metadata_moved=False)
    assert not volumerefresh.refresh_due(0.0, 59.9, metadata_moved=False)
    assert volumerefresh.refresh_due(0.0, 60.0, metadata_moved=False)
    assert volumerefresh.refresh_due(0.0, 1.0, metadata_moved=True)


async def test_an_edited_configmap_reaches_the_running_pods_volume_on_the_next_periodic_sync(
    tmp_path: Path,
) -> None:
    async with Node.running(tmp_path) as node:
        uid = await started(node)
        assert files(node, uid, "cfg") == {"mode": b"blue"}
        node.pods.add_object(configmap("green"))
        await node.advance(30)
        assert files(node, uid, "cfg") == {"mode": b"blue"}  # not before the periodic sync
        at = await node.until(lambda: files(node, uid, "cfg") == {"mode": b"green"}, within=120)
        assert 60 <= at <= 95, at  # the resync, 60-90 s after the last (SYNC-1)
        assert node.state("web", "app")[0] == "running"  # the containers are not touched
        assert node.reasons("web").count("FailedMount") == 0


async def test_a_label_change_reaches_a_downward_api_file_at_once(tmp_path: Path) -> None:
    async with Node.running(tmp_path) as node:
        uid = await started(node)
        assert files(node, uid, "info") == {"labels": b'tier="web"'}
        relabelled = copy.deepcopy(node.pod("web"))
        assert relabelled is not None
        relabelled["metadata"]["labels"] = {"tier": "web", "track": "canary"}
        node.pods.add_pod(relabelled)
        await node.advance(0.5)
        assert files(node, uid, "info") == {"labels": b'tier="web"\ntrack="canary"'}


async def test_a_deleted_configmap_keeps_the_files_and_is_told_as_failed_mount(
    tmp_path: Path,
) -> None:
    async with Node.running(tmp_path) as node:
        uid = await started(node)
        node.pods._configmaps.clear()  # kubectl delete configmap settings
        await node.until(lambda: "FailedMount" in node.reasons("web"), within=120)
        assert node.messages("web", "FailedMount")[0].endswith('configmap "settings" not found')
        assert files(node, uid, "cfg") == {"mode": b"blue"}
        assert node.state("web", "app")[0] == "running"
