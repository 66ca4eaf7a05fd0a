"""The official Python client (CoreV1Api, watch, DynamicClient) against ``kubelite up``."""

from __future__ import annotations

import threading
import time

import pytest
from kubernetes import client, config, dynamic, watch
from kubernetes.client.rest import ApiException

from tests.e2e.api.conftest import Server

pytestmark = pytest.mark.e2e


@pytest.fixture
def core(server: Server) -> client.CoreV1Api:
    api_client = config.new_client_from_config(config_file=str(server.kubeconfig))
    yield client.CoreV1Api(api_client)
    api_client.close()


def body(name: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
    }


def test_crud(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_pod("default", body("py"))
    assert created.metadata.uid and created.status.phase == "Pending"
    with pytest.raises(ApiException) as err:
        core.create_namespaced_pod("default", body("py"))
    assert err.value.status == 409
    assert [p.metadata.name for p in core.list_namespaced_pod("default").items].count("py") == 1
    core.patch_namespaced_pod("py", "default", {"metadata": {"labels": {"a": "b"}}})
    assert core.read_namespaced_pod("py", "default").metadata.labels == {"a": "b"}
    cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="pycm"), data={"k": "v"})
    assert core.create_namespaced_config_map("default", cm).data == {"k": "v"}
    core.delete_namespaced_pod("py", "default", grace_period_seconds=0)
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod("py", "default")
    assert err.value.status == 404


def test_watch_sees_added_modified_deleted(core: client.CoreV1Api) -> None:
    seen: list[tuple[str, str]] = []

    def run() -> None:
        w = watch.Watch()
        for ev in w.stream(
            core.list_namespaced_pod,
            "default",
            timeout_seconds=4,
            field_selector="metadata.name=pyw",
        ):
            seen.append((ev["type"], ev["object"].metadata.name))
            if ev["type"] == "DELETED":
                w.stop()

    t = threading.Thread(target=run)
    t.start()
    time.sleep(0.7)  # let the watch connect first
    core.create_namespaced_pod("default", body("pyw"))
    core.patch_namespaced_pod("pyw", "default", {"metadata": {"labels": {"x": "1"}}})
    core.delete_namespaced_pod("pyw", "default")
    t.join(10)
    types = [s[0] for s in seen]  # the scheduler may add MODIFIED events of its own
    assert types[0] == "ADDED" and "MODIFIED" in types and types[-1] == "DELETED"


def test_dynamic_client_discovery(server: Server) -> None:
    api_client = config.new_client_from_config(config_file=str(server.kubeconfig))
    try:
        dyn = dynamic.DynamicClient(api_client)
        pods = dyn.resources.get(api_version="v1", kind="Pod")
        assert pods.namespaced
        leases = dyn.resources.get(api_version="coordination.k8s.io/v1", kind="Lease")
        assert leases.name == "leases"
    finally:
        api_client.close()
