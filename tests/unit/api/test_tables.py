"""Table rows per kind: the columns kubectl prints and the cells under them."""

from __future__ import annotations

from kubelite.api.tables import table, wants_table
from kubelite.clock import parse_rfc3339
from kubelite.registry.configmaps import CONFIGMAPS
from kubelite.registry.events import EVENTS
from kubelite.registry.namespaces import NAMESPACES
from kubelite.registry.nodes import NODES
from kubelite.registry.pods import PODS
from kubelite.registry.secrets import SECRETS

NOW = parse_rfc3339("2025-01-01T00:10:00Z")
META = {"name": "x", "namespace": "default", "creationTimestamp": "2025-01-01T00:05:00Z"}


def names(kind) -> list[str]:
    return [c["name"] for c in table(kind, [], NOW)["columnDefinitions"]]


def test_kubectl_get_accept_header_asks_for_a_table() -> None:
    accept = (
        "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;"
        "v=v1beta1;g=meta.k8s.io,application/json"
    )
    assert wants_table(accept)
    assert not wants_table("application/json")


def test_pod_columns_and_wide_columns() -> None:
    cols = table(PODS, [], NOW)["columnDefinitions"]
    assert [c["name"] for c in cols if c["priority"] == 0] == [
        "Name",
        "Ready",
        "Status",
        "Restarts",
        "Age",
    ]
    assert [c["name"] for c in cols if c["priority"] == 1] == [
        "IP",
        "Node",
        "Nominated Node",
        "Readiness Gates",
    ]


def test_a_new_pod_row() -> None:
    pod = {
        "metadata": META,
        "spec": {"containers": [{"name": "a"}]},
        "status": {"phase": "Pending"},
    }
    row = table(PODS, [pod], NOW)["rows"][0]
    assert row["cells"] == [
        "x",
        "0/1",
        "Pending",
        "0",
        "5m",
        "<none>",
        "<none>",
        "<none>",
        "<none>",
    ]
    assert row["object"]["kind"] == "PartialObjectMetadata"
    assert row["object"]["metadata"]["namespace"] == "default"


def test_other_kinds_columns() -> None:
    assert names(NAMESPACES) == ["Name", "Status", "Age"]
    assert names(CONFIGMAPS) == ["Name", "Data", "Age"]
    assert names(SECRETS) == ["Name", "Type", "Data", "Age"]
    assert names(EVENTS) == [
        "Last Seen",
        "Type",
        "Reason",
        "Object",
        "Subobject",
        "Source",
        "Message",
        "First Seen",
        "Count",
        "Name",
    ]
    assert names(NODES)[:5] == ["Name", "Status", "Roles", "Age", "Version"]


def test_event_row_counts_repeats() -> None:
    ev = {
        "metadata": {**META, "name": "web.1"},
        "involvedObject": {"kind": "Pod", "name": "web", "fieldPath": "spec.containers{app}"},
        "reason": "BackOff",
        "type": "Warning",
        "message": "Back-off restarting ",
        "source": {"component": "kubelet", "host": "n1"},
        "firstTimestamp": "2025-01-01T00:00:00Z",
        "lastTimestamp": "2025-01-01T00:09:00Z",
        "count": 3,
    }
    cells = table(EVENTS, [ev], NOW)["rows"][0]["cells"]
    assert cells == [
        "60s (x3 over 10m)",
        "Warning",
        "BackOff",
        "pod/web",
        "spec.containers{app}",
        "kubelet, n1",
        "Back-off restarting",
        "10m",
        3,
        "web.1",
    ]


def test_secret_and_configmap_cells() -> None:
    cm = {"metadata": META, "data": {"a": "1", "b": "2"}}
    sec = {"metadata": META, "type": "Opaque", "data": {"a": "MQ=="}}
    assert table(CONFIGMAPS, [cm], NOW)["rows"][0]["cells"] == ["x", 2, "5m"]
    assert table(SECRETS, [sec], NOW)["rows"][0]["cells"] == ["x", "Opaque", 1, "5m"]
