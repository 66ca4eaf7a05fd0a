"""A pod's lifecycle record on a real node: ``kubelite up``, real containers, the real kubectl.

One pod with two init containers, a native sidecar and an app with probes and a preStop hook
is run, read through ``kubectl get podlifecycles`` while it runs, drawn with ``kubelite
timeline``, deleted (a finalizer keeps the pod object, so the finished record can be read), and
its record goes with it. Along the way: discovery, ``kubectl explain``, and RBAC (``view``
reads the records, and no user role writes them).
"""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kubelite.timeline import draw, layout
from kubelite.timeline import record as rec
from tests.e2e.cluster.conftest import Cluster

pytestmark = pytest.mark.e2e

POD = """
apiVersion: v1
kind: Pod
metadata:
  name: web
  finalizers: [kubelite.test/hold]
spec:
  terminationGracePeriodSeconds: 20
  initContainers:
  - name: init-1
    image: busybox:1.36
    command: [sh, -c, 'sleep 0.2']
  - name: init-2
    image: busybox:1.36
    command: [sh, -c, 'sleep 0.2']
  - name: monitor
    image: busybox:1.36
    restartPolicy: Always
    command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 1 & wait; done']
  containers:
  - name: app
    image: busybox:1.36
    command:
    - sh
    - -c
    - 'trap "sleep 1; exit 0" TERM; touch /tmp/ready; while true; do sleep 1 & wait; done'
    readinessProbe:
      exec: {command: [cat, /tmp/ready]}
      periodSeconds: 1
    livenessProbe:
      exec: {command: ['true']}
      periodSeconds: 2
    lifecycle:
      preStop:
        exec: {command: [sh, -c, 'sleep 0.3']}
"""


def record(cluster: Cluster) -> dict[str, Any]:
    return cluster.get("podlifecycles.kubelite.dev", "web")


def eventually(check: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def at(facts: list[dict[str, Any]], kind: str, container: str = "", **keys: Any) -> int:
    """When the first fact of this type (for this container, with these keys) happened."""
    for f in facts:
        mine = f["type"] == kind and f.get("container", "") == container
        if mine and all(f.get(k) == v for k, v in keys.items()):
            return int(f["at"])
    raise AssertionError(f"no {kind} {container} {keys} in {[f['type'] for f in facts]}")


@pytest.fixture(scope="module")
def web(cluster: Cluster) -> Cluster:
    cluster.apply(POD)
    cluster.wait("pod/web", "condition=Ready", timeout=120)
    return cluster


def test_the_running_pods_record_tells_the_start_in_order(web: Cluster) -> None:
    def ready() -> list[dict[str, Any]]:
        facts = record(web)["facts"]
        at(facts, rec.CONDITION_CHANGED, condition="Ready", status="True")
        return list(facts)

    facts = eventually(ready)
    assert [f["at"] for f in facts] == sorted(f["at"] for f in facts)
    order = [
        at(facts, rec.CONTAINER_STARTED, "init-1"),
        at(facts, rec.CONTAINER_EXITED, "init-1", exitCode=0),
        at(facts, rec.CONTAINER_STARTED, "init-2"),
        at(facts, rec.CONTAINER_EXITED, "init-2", exitCode=0),
        at(facts, rec.CONTAINER_STARTED, "monitor"),
        at(facts, rec.CONTAINER_STARTED, "app"),
        at(facts, rec.CONTAINER_READY, "app", ready=True),
    ]
    assert order == sorted(order)
    assert at(facts, rec.SANDBOX_READY) < order[0]
    assert at(facts, rec.PROBE, "app", probe="readiness", result="success") < order[-1]
    obj = record(web)
    assert [(c["name"], c["kind"], c["index"]) for c in obj["containers"]] == [
        ("init-1", "init", 0),
        ("init-2", "init", 1),
        ("monitor", "sidecar", 2),
        ("app", "app", 0),
    ]
    pod = web.get("pod", "web")
    assert obj["podUID"] == pod["metadata"]["uid"]
    assert obj["metadata"]["ownerReferences"][0]["uid"] == pod["metadata"]["uid"]


def test_probe_results_are_folded_while_the_pod_runs(web: Cluster) -> None:
    def folded() -> dict[str, Any]:
        facts = record(web)["facts"]
        liveness = [f for f in facts if f["type"] == rec.PROBE and f["probe"] == "liveness"]
        assert liveness and liveness[-1].get("count", 1) >= 3
        return liveness[-1]

    probe = eventually(folded)
    assert probe["result"] == "success" and probe["last"] > probe["at"]


def test_kubectl_lists_and_explains_the_records(web: Cluster) -> None:
    table = web.kubectl("get", "podlifecycles").stdout.splitlines()
    assert re.split(r"\s{2,}", table[0].strip()) == ["NAME", "FACTS", "LAST", "LAST SEEN", "AGE"]
    assert table[1].startswith("web ")
    wide = web.kubectl("get", "plc", "-o", "wide").stdout
    assert "POD UID" in wide
    resources = web.kubectl("api-resources", "--api-group=kubelite.dev", "--no-headers").stdout
    assert re.split(r"\s+", resources.strip()) == [
        "podlifecycles", "plc", "kubelite.dev/v1alpha1", "true", "PodLifecycle",
    ]  # fmt: skip
    explained = web.kubectl("explain", "podlifecycles.facts").stdout
    assert "microseconds since the epoch" in explained


def test_view_may_read_the_records_and_no_user_role_may_write_them(web: Cluster) -> None:
    web.kubectl("create", "rolebinding", "plc-reader", "--clusterrole=view", "--user=reader")
    web.kubectl("create", "rolebinding", "plc-editor", "--clusterrole=edit", "--user=editor")

    def can(user: str, verb: str) -> str:
        r = web.kubectl("auth", "can-i", verb, "podlifecycles.kubelite.dev", f"--as={user}",
                        check=False)  # fmt: skip
        return r.stdout.strip()

    assert eventually(lambda: _equal(can("reader", "list"), "yes")) == "yes"
    assert can("reader", "get") == "yes"
    assert can("reader", "create") == "no"
    assert can("editor", "update") == "no"
    assert can("someone-else", "get") == "no"


def _equal(value: str, expected: str) -> str:
    assert value == expected, value
    return value


def test_kubelite_timeline_draws_the_running_pod(web: Cluster, tmp_path: Path) -> None:
    out = tmp_path / "web.svg"
    web.kubelite("timeline", "web", "-o", str(out), "--kubeconfig", str(web.kubeconfig))
    ids = set(re.findall(r'<g id="([^"]+)"', out.read_text()))
    assert {"lane-init-1", "lane-init-2", "lane-monitor", "lane-app"} <= ids
    assert {"band-Phase", "band-Ready", "band-Initialized"} <= ids
    assert any(i.startswith("probe-readiness-app-") for i in ids)
    assert any(i.startswith("span-app-") for i in ids)


def test_on_deletion_the_app_stops_before_the_sidecar(web: Cluster) -> None:
    web.kubectl("delete", "pod", "web", "--wait=false")

    def finished() -> list[dict[str, Any]]:
        facts = record(web)["facts"]
        at(facts, rec.POD_FINISHED)
        return list(facts)

    facts = eventually(finished, timeout=90)
    deleted = at(facts, rec.DELETION_REQUESTED)
    kill = next(f for f in facts if f["type"] == rec.KILL_REQUESTED and f["container"] == "app")
    assert (kill["reason"], kill["gracePeriodSeconds"]) == ("PodDeletion", 20)
    order = [
        deleted,
        at(facts, rec.HOOK_STARTED, "app", hook="preStop"),
        at(facts, rec.HOOK_FINISHED, "app", hook="preStop", outcome="Succeeded"),
        at(facts, rec.SIGNAL_SENT, "app", signal="SIGTERM"),
        at(facts, rec.CONTAINER_EXITED, "app"),
        at(facts, rec.SIGNAL_SENT, "monitor", signal="SIGTERM"),
        at(facts, rec.CONTAINER_EXITED, "monitor"),
        at(facts, rec.POD_FINISHED),
    ]
    assert order == sorted(order), order
    # the app traps TERM and takes a second: the sidecar waits for it (SC-11)
    assert at(facts, rec.SIGNAL_SENT, "monitor") - at(facts, rec.SIGNAL_SENT, "app") >= 900_000


def test_kubelite_timeline_draws_the_finished_pod_as_png(web: Cluster, tmp_path: Path) -> None:
    from PIL import Image

    out = tmp_path / "web.png"
    web.kubelite("timeline", "web", "-o", str(out), "--kubeconfig", str(web.kubeconfig))
    image = Image.open(io.BytesIO(out.read_bytes()))
    image.load()
    assert image.format == "PNG"
    assert image.size == draw.pixel_size(layout.layout(record(web)))


def test_the_record_goes_with_the_pod(web: Cluster, tmp_path: Path) -> None:
    web.kubectl("patch", "pod", "web", "--type=json",
                "-p", json.dumps([{"op": "remove", "path": "/metadata/finalizers"}]))  # fmt: skip

    def gone() -> None:
        r = web.kubectl("get", "podlifecycles.kubelite.dev", "web", check=False)
        assert r.returncode != 0 and "NotFound" in r.stderr, r.stdout

    eventually(gone)
    r = web.kubelite("timeline", "web", "-o", str(tmp_path / "gone.svg"),
                     "--kubeconfig", str(web.kubeconfig), check=False)  # fmt: skip
    assert r.returncode == 1
    assert "pod default/web has no lifecycle record" in r.stderr
