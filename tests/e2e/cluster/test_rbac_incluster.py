"""RBAC for pods on a real node: ``kubectl`` inside a pod uses the in-cluster configuration
(its ServiceAccount's token), so a pod whose account is bound to a Role lists pods, and one
whose account has no binding gets the API server's 403, as on a cluster."""

from __future__ import annotations

import os
import shutil
import textwrap

import pytest

from tests.e2e.cluster.conftest import Cluster

pytestmark = pytest.mark.e2e


def kubectl_binary() -> str:
    found = shutil.which(os.environ.get("KUBELITE_TEST_KUBECTL", "kubectl"))
    assert found is not None
    return os.path.realpath(found)


def client(name: str, account: str) -> str:
    """A pod that keeps running, with the host's kubectl mounted and ``account`` as its
    ServiceAccount."""
    return textwrap.dedent(
        f"""
        apiVersion: v1
        kind: Pod
        metadata: {{name: {name}}}
        spec:
          serviceAccountName: {account}
          terminationGracePeriodSeconds: 1
          containers:
          - name: c
            image: busybox:1.36
            command: [sh, -c, 'trap "exit 0" TERM; sleep 3600 & wait']
            volumeMounts: [{{name: kubectl, mountPath: /usr/local/bin/kubectl}}]
          volumes:
          - name: kubectl
            hostPath: {{path: {kubectl_binary()}, type: File}}
        """
    )


@pytest.fixture(scope="module")
def pods(cluster: Cluster) -> Cluster:
    c = cluster
    c.kubectl("create", "serviceaccount", "reader")
    c.kubectl("create", "serviceaccount", "nobody")
    c.kubectl("create", "role", "pod-lister", "--verb=get,list", "--resource=pods")
    c.kubectl("create", "rolebinding", "reader-lists", "--role=pod-lister",
              "--serviceaccount=default:reader")  # fmt: skip
    c.apply(client("reader", "reader"))
    c.apply(client("nobody", "nobody"))
    c.wait("pod/reader", "condition=Ready")
    c.wait("pod/nobody", "condition=Ready")
    return c


def test_a_pod_whose_account_is_bound_to_a_role_lists_pods(pods: Cluster) -> None:
    listed = pods.exec("reader", "kubectl", "get", "pods", "-o", "name").stdout.split()
    assert {"pod/reader", "pod/nobody"} <= set(listed)
    who = pods.exec("reader", "kubectl", "auth", "whoami", "-o", "jsonpath={.status.userInfo}")
    assert '"username":"system:serviceaccount:default:reader"' in who.stdout
    assert '"authentication.kubernetes.io/pod-name":["reader"]' in who.stdout


def test_but_may_do_only_what_the_role_grants(pods: Cluster) -> None:
    r = pods.exec("reader", "kubectl", "delete", "pod", "nobody", check=False)
    assert r.returncode == 1
    assert r.stderr.splitlines()[0] + "\n" == (
        'Error from server (Forbidden): pods "nobody" is forbidden: User '
        '"system:serviceaccount:default:reader" cannot delete resource "pods" in API group "" '
        'in the namespace "default"\n'
    )
    can = pods.exec("reader", "kubectl", "auth", "can-i", "list", "pods", check=False)
    assert can.stdout == "yes\n"
    cannot = pods.exec("reader", "kubectl", "auth", "can-i", "list", "secrets", check=False)
    assert (cannot.returncode, cannot.stdout) == (1, "no\n")


def test_a_pod_whose_account_has_no_binding_is_forbidden(pods: Cluster) -> None:
    r = pods.exec("nobody", "kubectl", "get", "pods", check=False)
    assert r.returncode == 1  # the outer kubectl exec adds "command terminated with exit code 1"
    assert r.stderr.splitlines()[0] + "\n" == (
        "Error from server (Forbidden): pods is forbidden: User "
        '"system:serviceaccount:default:nobody" cannot list resource "pods" in API group "" in '
        'the namespace "default"\n'
    )
