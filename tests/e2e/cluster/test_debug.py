"""``kubectl debug`` on a real node, as a user types it: an ephemeral container in the target's
process namespace (``-it --target``), the profiles, a debug container with forbidden fields
(the API server's 422), a copy of the pod sharing its processes (``--copy-to``, a protobuf
Pod), and a pod on the node itself (``debug node/…``)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cluster.conftest import Cluster
from tests.e2e.cluster.test_streams import in_a_terminal, kubectl_argv

pytestmark = pytest.mark.e2e

WEB = """
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: nginx
    image: nginx:1.25.3
    readinessProbe: {tcpSocket: {port: 80}, periodSeconds: 1}
"""


@pytest.fixture(scope="module")
def web(cluster: Cluster) -> Cluster:
    cluster.apply(WEB)
    cluster.wait("pod/web", "condition=Ready", timeout=120)
    return cluster


def ephemeral_status(cluster: Cluster, pod: str, name: str) -> dict[str, Any]:
    statuses = cluster.get("pod", pod)["status"].get("ephemeralContainerStatuses") or []
    return next((dict(s) for s in statuses if s["name"] == name), {})


def wait_terminated(cluster: Cluster, pod: str, name: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = ephemeral_status(cluster, pod, name).get("state") or {}
        if "terminated" in state:
            return dict(state["terminated"])
        time.sleep(0.5)
    raise AssertionError(f"{name} never ended: {ephemeral_status(cluster, pod, name)}")


def test_debug_it_with_a_target_sees_the_targets_processes(web: Cluster) -> None:
    c = web
    argv = kubectl_argv(c, "debug", "-it", "web", "--image=busybox:1.36", "--target=nginx",
                        "--profile=general", "--", "sh")  # fmt: skip
    text, code = in_a_terminal(argv, [b"ps -o pid,args\r", b"echo done-$((6*7))\r", b"exit\r"],
                               b"done-42")  # fmt: skip
    assert code == 0, text
    assert "nginx: master process" in text, text
    pod = c.get("pod", "web")
    (debugger,) = [e for e in pod["spec"]["ephemeralContainers"] if e.get("targetContainerName")]
    assert debugger["name"].startswith("debugger-") and debugger["targetContainerName"] == "nginx"
    assert wait_terminated(c, "web", debugger["name"])["exitCode"] == 0
    assert pod["status"]["phase"] == "Running"
    row = c.kubectl("get", "pod", "web", "--no-headers").stdout.split()
    assert row[1:3] == ["1/1", "Running"]


NET_ADMIN = 1 << 12


def host_bounding_set() -> int:
    status = Path("/proc/self/status").read_text()
    return int(next(ln for ln in status.splitlines() if ln.startswith("CapBnd:")).split()[1], 16)


def effective_caps(cluster: Cluster, profile: str) -> int:
    name = f"probe-{profile}"
    cluster.kubectl("debug", "web", "--image=busybox:1.36", f"--profile={profile}", "-c", name,
                    "--", "sh", "-c", "grep CapEff /proc/self/status")  # fmt: skip
    wait_terminated(cluster, "web", name)
    return int(cluster.logs("web", container=name).split()[1], 16)


def test_debug_profiles_set_the_capabilities_kubectl_asks_for(web: Cluster) -> None:
    """netadmin adds NET_ADMIN (and NET_RAW) to the runtime's default set; sysadmin is
    privileged (every capability the node has); baseline adds nothing."""
    baseline = effective_caps(web, "baseline")
    netadmin = effective_caps(web, "netadmin")
    assert not baseline & NET_ADMIN and netadmin == baseline | NET_ADMIN
    assert effective_caps(web, "sysadmin") == host_bounding_set()


def test_the_restricted_profile_refuses_a_root_image(web: Cluster) -> None:
    c = web
    c.kubectl("debug", "web", "--image=busybox:1.36", "--profile=restricted", "-c", "strict",
              "--", "true")  # fmt: skip
    deadline = time.monotonic() + 60
    waiting: dict[str, Any] = {}
    while time.monotonic() < deadline and not waiting.get("reason"):
        state = ephemeral_status(c, "web", "strict").get("state") or {}
        waiting = state.get("waiting") or {}
        time.sleep(0.5)
    assert waiting["reason"] == "CreateContainerConfigError"
    assert "runAsNonRoot" in waiting["message"]


def test_a_debug_container_with_forbidden_fields_is_refused_and_the_server_goes_on(
    web: Cluster, tmp_path: Path
) -> None:
    custom = tmp_path / "custom.json"
    custom.write_text(json.dumps({"ports": [{"containerPort": 8080}],
                                  "readinessProbe": {"tcpSocket": {"port": 8080}}}))  # fmt: skip
    r = web.kubectl("debug", "web", "--image=busybox:1.36", "-c", "bad", f"--custom={custom}",
                    "--", "true", check=False)  # fmt: skip
    assert r.returncode != 0
    assert 'The Pod "web" is invalid:' in r.stderr, r.stderr
    assert (
        "* spec.ephemeralContainers[" in r.stderr
        and "].ports: Forbidden: cannot be set for an Ephemeral Container" in r.stderr
    ), r.stderr
    assert "readinessProbe: Forbidden: cannot be set for an Ephemeral Container" in r.stderr
    names = [c["name"] for c in web.get("pod", "web")["spec"].get("ephemeralContainers", [])]
    assert "bad" not in names
    assert web.kubectl("get", "pod", "web", "-o", "name").stdout.strip() == "pod/web"


def test_debug_copy_to_shares_the_copys_processes(web: Cluster) -> None:
    web.kubectl("debug", "web", "--copy-to=web-debug", "--share-processes",
                "--image=busybox:1.36", "-c", "shell", "--", "sleep", "3600")  # fmt: skip
    try:
        web.wait("pod/web-debug", "condition=Ready", timeout=120)
        copy = web.get("pod", "web-debug")
        assert copy["spec"]["shareProcessNamespace"] is True
        assert [c["name"] for c in copy["spec"]["containers"]] == ["nginx", "shell"]
        ps = web.exec("web-debug", "ps", "-o", "args", container="shell").stdout
        assert "nginx: master process" in ps, ps
    finally:
        web.kubectl("delete", "pod", "web-debug", "--wait=false")


def test_debug_node_runs_a_pod_on_the_nodes_namespaces_with_its_root(web: Cluster) -> None:
    node = web.kubectl("get", "nodes", "-o", "jsonpath={.items[0].metadata.name}").stdout
    script = "cat /host/etc/hostname; echo pid1=$(cat /proc/1/comm)"
    r = web.kubectl("debug", f"node/{node}", "--image=busybox:1.36", "--profile=sysadmin",
                    "--", "sh", "-c", script)  # fmt: skip
    name = next(w for w in r.stdout.split() if w.startswith("node-debugger-"))
    try:
        web.wait(f"pod/{name}", "jsonpath={.status.phase}=Succeeded", timeout=120)
        spec = web.get("pod", name)["spec"]
        assert spec["hostPID"] and spec["hostNetwork"] and spec["nodeName"] == node
        out = web.logs(name)
        assert out.startswith(Path("/etc/hostname").read_text().strip()), out
        assert "pid1=" in out and "pid1=sh" not in out, out  # the node's init, not the shell
    finally:
        web.kubectl("delete", "pod", name, "--wait=false")
