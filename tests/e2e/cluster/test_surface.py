"""The API surface a user meets first, on a real node: ``kubectl api-resources`` as a 1.32
cluster lists the same kinds, ``get all``, ``top pod --containers`` and ``top node`` from the
node's cgroups, ``describe`` and ``get events`` in the order events happened, Prometheus text,
``kubelite up``'s line for a pod failing to start, and the other Python clients (the official
one, lightkube, kr8s) each running a pod, exec'ing with stdin, reading logs and forwarding a
port (lightkube has no port-forward; kr8s cannot send stdin to any API server).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any

import pytest

from tests.e2e.cluster.conftest import Cluster

pytestmark = pytest.mark.e2e

WEB = """
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: nginx
    image: nginx:1.25.3
    ports: [{containerPort: 80}]
    readinessProbe: {tcpSocket: {port: 80}, periodSeconds: 1}
  - name: spinner
    image: busybox:1.36
    command: [sh, -c, 'while true; do :; done']
    resources: {limits: {cpu: 100m}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
"""

# What a 1.32 cluster lists for the kinds kubelite serves (kubectl api-resources -o wide):
# name, short names, namespaced, kind, verbs, categories.
ALL_VERBS = "create,delete,deletecollection,get,list,patch,update,watch"
UPSTREAM: dict[tuple[str, str], tuple[str, bool, str, str, str]] = {
    ("v1", "configmaps"): ("cm", True, "ConfigMap", ALL_VERBS, ""),
    ("v1", "endpoints"): ("ep", True, "Endpoints", ALL_VERBS, ""),
    ("v1", "events"): ("ev", True, "Event", ALL_VERBS, ""),
    ("v1", "namespaces"): ("ns", False, "Namespace",
                           "create,delete,get,list,patch,update,watch", ""),
    ("v1", "nodes"): ("no", False, "Node", ALL_VERBS, ""),
    ("v1", "persistentvolumeclaims"): ("pvc", True, "PersistentVolumeClaim", ALL_VERBS, ""),
    ("v1", "persistentvolumes"): ("pv", False, "PersistentVolume", ALL_VERBS, ""),
    ("v1", "pods"): ("po", True, "Pod", ALL_VERBS, "all"),
    ("v1", "podtemplates"): ("", True, "PodTemplate", ALL_VERBS, ""),
    ("v1", "replicationcontrollers"): ("rc", True, "ReplicationController", ALL_VERBS, "all"),
    ("v1", "secrets"): ("", True, "Secret", ALL_VERBS, ""),
    ("v1", "serviceaccounts"): ("sa", True, "ServiceAccount", ALL_VERBS, ""),
    ("v1", "services"): ("svc", True, "Service", "create,delete,get,list,patch,update,watch",
                         "all"),
    ("apps/v1", "controllerrevisions"): ("", True, "ControllerRevision", ALL_VERBS, ""),
    ("apps/v1", "daemonsets"): ("ds", True, "DaemonSet", ALL_VERBS, "all"),
    ("apps/v1", "deployments"): ("deploy", True, "Deployment", ALL_VERBS, "all"),
    ("apps/v1", "replicasets"): ("rs", True, "ReplicaSet", ALL_VERBS, "all"),
    ("apps/v1", "statefulsets"): ("sts", True, "StatefulSet", ALL_VERBS, "all"),
    ("authentication.k8s.io/v1", "selfsubjectreviews"): ("", False, "SelfSubjectReview",
                                                         "create", ""),
    ("authentication.k8s.io/v1", "tokenreviews"): ("", False, "TokenReview", "create", ""),
    ("authorization.k8s.io/v1", "localsubjectaccessreviews"): (
        "", True, "LocalSubjectAccessReview", "create", ""),
    ("authorization.k8s.io/v1", "selfsubjectaccessreviews"): (
        "", False, "SelfSubjectAccessReview", "create", ""),
    ("authorization.k8s.io/v1", "selfsubjectrulesreviews"): (
        "", False, "SelfSubjectRulesReview", "create", ""),
    ("authorization.k8s.io/v1", "subjectaccessreviews"): (
        "", False, "SubjectAccessReview", "create", ""),
    ("batch/v1", "cronjobs"): ("cj", True, "CronJob", ALL_VERBS, "all"),
    ("batch/v1", "jobs"): ("", True, "Job", ALL_VERBS, "all"),
    ("coordination.k8s.io/v1", "leases"): ("", True, "Lease", ALL_VERBS, ""),
    ("discovery.k8s.io/v1", "endpointslices"): ("", True, "EndpointSlice", ALL_VERBS, ""),
    ("events.k8s.io/v1", "events"): ("ev", True, "Event", ALL_VERBS, ""),
    ("metrics.k8s.io/v1beta1", "nodes"): ("", False, "NodeMetrics", "get,list", ""),
    ("metrics.k8s.io/v1beta1", "pods"): ("", True, "PodMetrics", "get,list", ""),
    ("rbac.authorization.k8s.io/v1", "clusterrolebindings"): (
        "", False, "ClusterRoleBinding", ALL_VERBS, ""),
    ("rbac.authorization.k8s.io/v1", "clusterroles"): ("", False, "ClusterRole", ALL_VERBS, ""),
    ("rbac.authorization.k8s.io/v1", "rolebindings"): ("", True, "RoleBinding", ALL_VERBS, ""),
    ("rbac.authorization.k8s.io/v1", "roles"): ("", True, "Role", ALL_VERBS, ""),
    ("storage.k8s.io/v1", "storageclasses"): ("sc", False, "StorageClass", ALL_VERBS, ""),
}  # fmt: skip


# Differences waiting for a change in the kind's own module; each is allowed until it is
# fixed, and nothing else is.
PENDING: dict[tuple[str, str], tuple[str, bool, str, str, str]] = {}


@pytest.fixture(scope="module")
def web(cluster: Cluster) -> Cluster:
    cluster.apply(WEB)
    cluster.wait("pod/web", "condition=Ready", timeout=120)
    return cluster


def eventually(check: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def api_resources(cluster: Cluster) -> dict[tuple[str, str], tuple[str, bool, str, str, str]]:
    """``kubectl api-resources -o wide``, read from its discovery cache as kubectl read it."""
    out = cluster.kubectl("api-resources", "-o", "wide", "--no-headers").stdout
    assert out.strip()
    rows: dict[tuple[str, str], tuple[str, bool, str, str, str]] = {}
    for gv, resource in _discovered(cluster):
        rows[(gv, resource["name"])] = (
            ",".join(resource.get("shortNames") or []),
            bool(resource["namespaced"]),
            resource["kind"],
            ",".join(sorted(resource["verbs"])),
            ",".join(resource.get("categories") or []),
        )
        assert resource["name"] in out
    return rows


def _discovered(cluster: Cluster) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    core = json.loads(cluster.kubectl("get", "--raw", "/api/v1").stdout)
    groups = json.loads(cluster.kubectl("get", "--raw", "/apis").stdout)["groups"]
    lists = [core] + [
        json.loads(cluster.kubectl("get", "--raw", f"/apis/{v['groupVersion']}").stdout)
        for g in groups
        for v in g["versions"]
    ]
    for listing in lists:
        for r in listing["resources"]:
            if "/" not in r["name"]:
                found.append((listing["groupVersion"], r))
    return found


def test_api_resources_list_what_a_132_cluster_lists_for_the_same_kinds(cluster: Cluster) -> None:
    served = api_resources(cluster)
    assert ("metrics.k8s.io/v1beta1", "pods") in served
    differences = {
        key: (served[key], UPSTREAM[key])
        for key in served
        if key in UPSTREAM and served[key] != UPSTREAM[key] and served[key] != PENDING.get(key)
    }
    assert not differences, differences


def test_get_all_shows_pods_and_services(web: Cluster) -> None:
    names = web.kubectl("get", "all", "-o", "name").stdout.split()
    assert "pod/web" in names and "service/web" in names


def test_top_pod_and_node_read_the_nodes_cgroups(web: Cluster) -> None:
    def top_pod() -> str:
        r = web.kubectl("top", "pod", "web", "--containers", check=False)
        assert r.returncode == 0, r.stderr
        return r.stdout

    out = eventually(top_pod)
    rows = {line.split()[1]: line.split() for line in out.splitlines()[1:]}
    assert set(rows) == {"nginx", "spinner"}
    spinner_cpu = rows["spinner"][2]
    assert spinner_cpu.endswith("m") and 50 <= int(spinner_cpu[:-1]) <= 110, out
    assert rows["nginx"][3].endswith("Mi")
    node = eventually(lambda: web.kubectl("top", "node").stdout)
    header, line = node.splitlines()[:2]
    assert header.split()[:3] == ["NAME", "CPU(cores)", "CPU(%)"] or "CPU" in header
    assert line.split()[1].endswith("m")
    path = "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web"
    raw = json.loads(web.kubectl("get", "--raw", path).stdout)
    assert raw["kind"] == "PodMetrics" and raw["window"].endswith("s")


def test_describe_and_get_events_list_events_in_the_order_they_happened(web: Cluster) -> None:
    listed = json.loads(web.kubectl("get", "events", "-o", "json").stdout)["items"]
    mine = [e for e in listed if e["involvedObject"].get("name") == "web"
            and e["involvedObject"]["kind"] == "Pod"]  # fmt: skip
    names = [e["metadata"]["name"] for e in mine]
    assert names == sorted(names)
    assert all(n.startswith("web.") and int(n.split(".")[1], 16) > 0 for n in names)
    reasons = [e["reason"] for e in mine]
    assert reasons.index("Scheduled") < reasons.index("Started")
    described = web.kubectl("describe", "pod", "web").stdout.split("Events:", 1)[1]
    assert described.index("Scheduled") < described.index("Started")


def test_prometheus_text_for_kubelite_and_the_kubelets_resource_metrics(web: Cluster) -> None:
    own = web.kubectl("get", "--raw", "/metrics").stdout
    assert "apiserver_request_total{" in own and 'verb="LIST"' in own
    assert "kubelet_pod_start_duration_seconds_count" in own
    running = [line for line in own.splitlines() if line.startswith("kubelet_running_pods ")]
    assert running and float(running[0].split()[1]) >= 1
    node = web.kubectl("get", "nodes", "-o", "jsonpath={.items[0].metadata.name}").stdout
    res = web.kubectl("get", "--raw", f"/api/v1/nodes/{node}/proxy/metrics/resource").stdout
    assert (
        'container_cpu_usage_seconds_total{container="spinner",namespace="default",pod="web"}'
        in res
    )
    assert "node_memory_working_set_bytes " in res and "resource_scrape_error 0.0" in res


def test_kubelite_up_prints_a_line_for_a_pod_failing_to_start(cluster: Cluster) -> None:
    cluster.kubectl("run", "broken", "--image=busybox:0.0-missing", "--restart=Never")

    def logged() -> None:
        assert "pod default/broken (broken) failed to start: Failed" in cluster.log_text()

    eventually(logged, timeout=90)
    cluster.kubectl("delete", "pod", "broken", "--wait=false")


# ---------------------------------------------------------------------------- other clients


def pod_manifest(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"client": name}},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [{
                "name": "app", "image": "busybox:1.36",
                "command": ["sh", "-c", f"echo hello from {name}; exec httpd -f -p 8080 -h /etc"],
                "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1},
            }],
        },
    }  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(port: int) -> bytes:
    try:
        conn = socket.create_connection(("127.0.0.1", port), timeout=10)
    except ConnectionRefusedError as err:  # not listening yet
        raise AssertionError(str(err)) from err
    with conn as s:
        s.sendall(b"GET /hostname HTTP/1.0\r\n\r\n")
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    return answer


def test_the_official_python_client_runs_a_pod_reads_its_logs_and_execs(cluster: Cluster) -> None:
    from kubernetes import client, config
    from kubernetes.stream import stream

    api_client = config.new_client_from_config(str(cluster.kubeconfig))
    try:
        api = client.CoreV1Api(api_client)
        api.create_namespaced_pod("default", pod_manifest("official"))
        cluster.wait("pod/official", "condition=Ready", timeout=120)
        assert "hello from official" in api.read_namespaced_pod_log("official", "default")
        resp = stream(api.connect_get_namespaced_pod_exec, "official", "default",
                      command=["sh", "-c", "read l; echo \"got $l\""], stdin=True, stdout=True,
                      stderr=True, tty=False, _preload_content=False)  # fmt: skip
        resp.write_stdin("typed\n")
        resp.run_forever(timeout=30)
        try:
            assert resp.read_stdout() == "got typed\n"
        finally:
            resp.close()
            resp.sock.shutdown()
        api.delete_namespaced_pod("official", "default", grace_period_seconds=0)
    finally:
        api_client.close()


def test_lightkube_runs_a_pod_reads_its_logs_and_execs_with_stdin(cluster: Cluster) -> None:
    from lightkube import Client, KubeConfig
    from lightkube.codecs import from_dict
    from lightkube.resources.core_v1 import Pod

    lk = Client(config=KubeConfig.from_file(str(cluster.kubeconfig)))
    try:
        lk.create(from_dict(pod_manifest("lightkube")))
        lk.wait(Pod, "lightkube", for_conditions=["Ready"], namespace="default")
        logs = "".join(lk.log("lightkube", namespace="default"))
        assert "hello from lightkube" in logs
        threads = threading.active_count()
        done = lk.exec("lightkube", namespace="default", command=["cat"], stdin="from lightkube",
                       stdout=True, stderr=True)  # fmt: skip
        assert done.stdout == "from lightkube" and done.exit_code == 0

        # lightkube's WebSocket session (httpx2) closes its socket while its reader thread may
        # still be in a read on it; a connection opened meanwhile can get the same descriptor
        # and lose its TLS handshake to that read (WRONG_VERSION_NUMBER, seen once in CI). The
        # server sends its close frame right after the status, which ends that read: wait for
        # the reader to be gone before the next request.
        def reader_gone() -> None:
            assert threading.active_count() <= threads

        eventually(reader_gone, timeout=10)
        lk.delete(Pod, "lightkube", namespace="default", grace_period=0)
    finally:
        lk._client._client.close()


def test_kr8s_connects_runs_a_pod_reads_logs_execs_and_forwards_a_port(cluster: Cluster) -> None:
    import kr8s
    from kr8s.objects import Pod

    api = kr8s.api(kubeconfig=str(cluster.kubeconfig))
    assert api.version()["minor"] == "32"  # GET /version/, with its trailing slash
    pod = Pod(pod_manifest("kr8s"), api=api)
    pod.create()
    pod.wait("condition=Ready", timeout=120)
    assert "hello from kr8s" in "".join(pod.logs())
    done = pod.exec(["sh", "-c", "echo kr8s ran; exit 3"], check=False)
    assert done.stdout == b"kr8s ran\n" and done.returncode == 3
    # kr8s offers only v4.channel.k8s.io and then refuses stdin on it (its own test of stdin is
    # an expected failure): against any API server it stops here, before sending a byte.
    with pytest.raises(ExceptionGroup) as refused:  # kr8s's own TaskGroup around its ExecError
        pod.exec(["cat"], stdin="typed")
    assert refused.group_contains(kr8s.ExecError, match=r"only with v5\.channel\.k8s\.io")
    port = free_port()
    forward = pod.portforward(8080, local_port=port)
    forward.start()  # its own thread, as kr8s's sync API runs it
    try:
        answer = eventually(lambda: http_get(port), timeout=30)
        assert answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b"\r\n\r\nkr8s\n")
    finally:
        forward.stop()
    pod.delete(grace_period=0)
