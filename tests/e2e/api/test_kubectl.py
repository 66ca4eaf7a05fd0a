"""The real kubectl against ``kubelite up``: the commands users and the acceptance suite run."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from tests.e2e.api.conftest import KUBECTL, Server

pytestmark = pytest.mark.e2e

POD = """apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{app: {name}}}
spec:
  containers:
  - name: app
    image: {image}
    command: [sh, -c, "sleep 3600"]
"""


def manifest(name: str, image: str = "busybox:1.36") -> str:
    return POD.format(name=name, image=image)


def test_get_pods_headers_and_apply(server: Server) -> None:
    r = server.kubectl("get", "pods")
    assert r.returncode == 0 and "No resources found in default namespace." in r.stderr
    r = server.kubectl("apply", "-f", "-", input=manifest("web"))
    assert r.stdout.strip() == "pod/web created", r.stderr
    r = server.kubectl("apply", "-f", "-", input=manifest("web"))
    assert r.stdout.strip() == "pod/web unchanged"
    r = server.kubectl("apply", "-f", "-", input=manifest("web", "busybox:1.37"))
    assert r.stdout.strip() == "pod/web configured"
    r = server.kubectl("get", "pods", check=True)
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert lines[1].split()[:4] == ["web", "0/1", "Pending", "0"]
    r = server.kubectl("get", "pod", "web", "-o", "wide", check=True)
    assert r.stdout.splitlines()[0].split()[5:] == [
        "IP",
        "NODE",
        "NOMINATED",
        "NODE",
        "READINESS",
        "GATES",
    ]
    r = server.kubectl("get", "pod", "web", "-o", "jsonpath={.spec.containers[0].image}")
    assert r.stdout == "busybox:1.37"
    pod = json.loads(server.kubectl("get", "pod", "web", "-o", "json", check=True).stdout)
    assert pod["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
    assert "kind: Pod" in server.kubectl("get", "pod", "web", "-o", "yaml").stdout


def test_create_and_errors(server: Server) -> None:
    r = server.kubectl("create", "-f", "-", input=manifest("made"))
    assert r.stdout.strip() == "pod/made created"
    r = server.kubectl("create", "-f", "-", input=manifest("made"))
    assert r.returncode == 1
    assert 'pods "made" already exists' in r.stderr
    assert r.stderr.startswith("Error from server (AlreadyExists)")
    r = server.kubectl("get", "pod", "nope")
    assert r.stderr.strip() == 'Error from server (NotFound): pods "nope" not found'
    r = server.kubectl("apply", "-f", "-", input=manifest("Bad_Name"))
    assert r.stderr.startswith('The Pod "Bad_Name" is invalid: metadata.name: Invalid value')
    r = server.kubectl(
        "apply", "-f", "-", input="apiVersion: v1\nkind: Foo\nmetadata:\n  name: x\n"
    )
    assert 'no matches for kind "Foo" in version "v1"' in r.stderr
    r = server.kubectl("create", "-f", "-", input=manifest("foo") + "  foo: 1\n")
    assert r.stderr.strip() == (
        'Error from server (BadRequest): error when creating "STDIN": Pod in version "v1" '
        'cannot be handled as a Pod: strict decoding error: unknown field "spec.foo"'
    )
    r = server.kubectl("create", "--validate=warn", "-f", "-", input=manifest("foo") + "  foo: 1\n")
    assert 'Warning: unknown field "spec.foo"' in r.stderr and "pod/foo created" in r.stdout
    r = server.kubectl("apply", "-f", "-", input="a: [\n")
    assert r.returncode == 1 and "error converting YAML to JSON" in r.stderr


def test_patch_types_and_finalizers(server: Server) -> None:
    server.kubectl("apply", "-f", "-", input=manifest("pt"), check=True)
    for ptype, body in [
        ("json", '[{"op":"add","path":"/metadata/finalizers","value":["e2e.example.com/hold"]}]'),
        ("merge", '{"metadata":{"labels":{"m":"1"}}}'),
        ("strategic", '{"spec":{"containers":[{"name":"app","image":"busybox:1.35"}]}}'),
    ]:
        r = server.kubectl("patch", "pod", "pt", f"--type={ptype}", "-p", body)
        assert r.stdout.strip() == "pod/pt patched", r.stderr
    r = server.kubectl("delete", "pod", "pt", "--wait=false", check=True)
    assert r.stdout.strip() == 'pod "pt" deleted'
    r = server.kubectl("get", "pod", "pt", "-o", "jsonpath={.metadata.deletionTimestamp}")
    assert r.stdout  # held by the finalizer
    server.kubectl(
        "patch", "pod", "pt", "--type=merge", "-p", '{"metadata":{"finalizers":null}}', check=True
    )
    assert server.kubectl("get", "pod", "pt").returncode == 1


def test_delete_force_and_grace(server: Server) -> None:
    server.kubectl("apply", "-f", "-", input=manifest("dg"), check=True)
    r = server.kubectl("delete", "pod", "dg", "--grace-period=0", "--force", check=True)
    assert r.stdout.strip() == 'pod "dg" force deleted'
    server.kubectl("apply", "-f", "-", input=manifest("dg2"), check=True)
    r = server.kubectl("delete", "pod", "dg2", "--grace-period=5", check=True, timeout=20)
    assert r.stdout.strip() == 'pod "dg2" deleted'  # unbound: gone at once, the wait ends
    r = server.kubectl("delete", "pod", "nope")
    assert r.stderr.strip() == 'Error from server (NotFound): pods "nope" not found'


def test_get_watch_streams_changes(server: Server) -> None:
    server.kubectl("apply", "-f", "-", input=manifest("wt"), check=True)
    base = [
        KUBECTL,
        "--kubeconfig",
        str(server.kubeconfig),
        "--cache-dir",
        str(server.data_dir / "kcache"),
    ]
    single = subprocess.Popen([*base, "get", "pod", "wt", "-w"], stdout=subprocess.PIPE, text=True)
    events = subprocess.Popen(
        [*base, "get", "pods", "-w", "-o", "json", "--output-watch-events"],
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.5)
    server.kubectl("label", "pod", "wt", "x=1", check=True)
    server.kubectl("delete", "pod", "wt", "--wait=false", check=True)
    time.sleep(1.5)
    for p in (single, events):
        p.send_signal(signal.SIGINT)
    out_single = single.communicate(timeout=10)[0]
    out_events = events.communicate(timeout=10)[0]
    rows = [line.split() for line in out_single.splitlines()]
    assert rows[0][:3] == ["NAME", "READY", "STATUS"]
    # the initial row, then at least the label change and the deletion
    assert len(rows) >= 4 and {r[0] for r in rows[1:]} == {"wt"}
    decoder, pos, types = json.JSONDecoder(), 0, []
    text = out_events.strip()
    while pos < len(text):
        obj, end = decoder.raw_decode(text, pos)
        types.append((obj["type"], obj["object"]["metadata"]["name"]))
        pos = end
        while pos < len(text) and text[pos].isspace():
            pos += 1
    assert ("MODIFIED", "wt") in types and ("DELETED", "wt") in types


def test_namespaces_configmaps_secrets_imperative(server: Server) -> None:
    assert server.kubectl("create", "namespace", "n2").stdout.strip() == "namespace/n2 created"
    r = server.kubectl("create", "configmap", "c1", "--from-literal=a=b", "-n", "n2")
    assert r.stdout.strip() == "configmap/c1 created", r.stderr
    r = server.kubectl("create", "secret", "generic", "s1", "--from-literal=p=q", "-n", "n2")
    assert r.stdout.strip() == "secret/s1 created", r.stderr
    r = server.kubectl("create", "serviceaccount", "robot", "-n", "n2")
    assert r.stdout.strip() == "serviceaccount/robot created", r.stderr
    r = server.kubectl("get", "cm,secret", "-n", "n2", check=True)
    rows = [line.split() for line in r.stdout.splitlines()]
    assert rows[rows.index(["NAME", "DATA", "AGE"]) + 1][:2] == ["configmap/c1", "1"], rows
    assert any(row[:2] == ["configmap/kube-root-ca.crt", "1"] for row in rows), rows
    assert "Opaque" in r.stdout
    r = server.kubectl("get", "ns", check=True)
    assert r.stdout.splitlines()[0].split() == ["NAME", "STATUS", "AGE"]
    r = server.kubectl("delete", "ns", "n2", timeout=30, check=True)
    assert r.stdout.strip() == 'namespace "n2" deleted'
    assert server.kubectl("get", "ns", "n2").returncode == 1


def test_events_describe_explain_run(server: Server) -> None:
    server.kubectl("apply", "-f", "-", input=manifest("ds"), check=True)
    uid = server.kubectl("get", "pod", "ds", "-o", "jsonpath={.metadata.uid}").stdout
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "ds.1", "namespace": "default"},
        "involvedObject": {
            "kind": "Pod",
            "name": "ds",
            "namespace": "default",
            "uid": uid,
            "apiVersion": "v1",
        },
        "reason": "Scheduled",
        "message": "Successfully assigned default/ds to n1",
        "type": "Normal",
        "source": {"component": "default-scheduler"},
        "firstTimestamp": "2025-01-01T00:00:00Z",
        "lastTimestamp": "2025-01-01T00:00:00Z",
        "count": 1,
    }
    server.kubectl("create", "-f", "-", input=json.dumps(event), check=True)
    r = server.kubectl("get", "events", check=True)
    assert r.stdout.splitlines()[0].split() == [
        "LAST",
        "SEEN",
        "TYPE",
        "REASON",
        "OBJECT",
        "MESSAGE",
    ]
    assert "pod/ds" in r.stdout
    r = server.kubectl("describe", "pod", "ds", check=True)
    assert "Name:             ds" in r.stdout
    assert "Successfully assigned default/ds to n1" in r.stdout
    r = server.kubectl("explain", "pod.spec.initContainers", check=True)
    assert "FIELD: initContainers <[]Container>" in r.stdout
    assert "DESCRIPTION:" in r.stdout and "FIELDS:" in r.stdout
    r = server.kubectl("run", "r1", "--image=busybox:1.36", "--dry-run=client", "-o", "yaml")
    assert "name: r1" in r.stdout
    r = server.kubectl("run", "r2", "--image=busybox:1.36", "--", "sh", "-c", "x")
    assert r.stdout.strip() == "pod/r2 created", r.stderr


def test_anonymous_requests_are_401(server: Server) -> None:
    import ssl
    import urllib.error
    import urllib.request

    ctx = ssl.create_default_context(cafile=str(server.data_dir / "pki" / "ca.crt"))
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(
            f"https://127.0.0.1:{server.port}/api/v1/pods", context=ctx, timeout=5
        )
    assert err.value.code == 401
    assert json.loads(err.value.read())["reason"] == "Unauthorized"


def test_version_and_health_are_public(server: Server) -> None:
    import ssl
    import urllib.request

    ctx = ssl.create_default_context(cafile=str(server.data_dir / "pki" / "ca.crt"))
    with urllib.request.urlopen(
        f"https://127.0.0.1:{server.port}/version", context=ctx, timeout=5
    ) as resp:
        assert json.loads(resp.read())["minor"] == "32"
    with urllib.request.urlopen(
        f"https://127.0.0.1:{server.port}/healthz", context=ctx, timeout=5
    ) as resp:
        assert resp.read() == b"ok"
