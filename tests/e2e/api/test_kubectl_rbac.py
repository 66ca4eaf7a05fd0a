"""RBAC with the real kubectl against ``kubelite up --no-agent``: users made with ``kubelite
kubeconfig --user NAME --group G``, what a ``view`` binding allows and the exact 403 kubectl
prints otherwise, ``kubectl auth can-i`` / ``--list`` / ``whoami``, impersonation (``--as``),
the imperative ``kubectl create role|clusterrole|rolebinding|clusterrolebinding`` (protobuf
bodies), their columns and ``describe``, and the escalation check."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.api.conftest import KUBECTL, Server

pytestmark = pytest.mark.e2e


def user_kubeconfig(server: Server, name: str, *groups: str) -> Path:
    argv = [sys.executable, "-m", "kubelite", "kubeconfig", "--data-dir", str(server.data_dir),
            "--port", str(server.port), "--user", name,
            *(f"--group={g}" for g in groups)]  # fmt: skip
    text = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True).stdout
    path = server.data_dir / f"{name}.kubeconfig"
    path.write_text(text)
    return path


def as_(server: Server, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [KUBECTL, "--kubeconfig", str(config), "--cache-dir",
            str(server.data_dir / f"kcache-{config.stem}"), *args]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


def ok(server: Server, *args: str) -> str:
    return server.kubectl(*args, check=True).stdout


@pytest.fixture(scope="module")
def bob(server: Server) -> Path:
    """``bob`` in group ``dev``, with ``view`` in the default namespace."""
    ok(server, "create", "rolebinding", "bob-view", "--clusterrole=view", "--user=bob")
    ok(server, "run", "web", "--image=busybox:1.36")
    return user_kubeconfig(server, "bob", "dev")


def test_a_user_with_a_view_binding_reads_but_cannot_create_pods(server: Server, bob: Path) -> None:
    listed = as_(server, bob, "get", "pods", "-o", "name")
    assert (listed.returncode, listed.stdout) == (0, "pod/web\n"), listed.stderr
    created = as_(server, bob, "run", "x", "--image=busybox:1.36")
    assert created.returncode == 1
    assert created.stderr == (
        'Error from server (Forbidden): pods is forbidden: User "bob" cannot create resource '
        '"pods" in API group "" in the namespace "default"\n'
    )
    deleted = as_(server, bob, "delete", "pod", "web")
    assert deleted.stderr == (
        'Error from server (Forbidden): pods "web" is forbidden: User "bob" cannot delete '
        'resource "pods" in API group "" in the namespace "default"\n'
    )
    nodes = as_(server, bob, "get", "nodes")
    assert nodes.stderr == (
        'Error from server (Forbidden): nodes is forbidden: User "bob" cannot list resource '
        '"nodes" in API group "" at the cluster scope\n'
    )
    raw = as_(server, bob, "get", "--raw", "/metrics")
    assert raw.stderr == (
        'Error from server (Forbidden): forbidden: User "bob" cannot get path "/metrics"\n'
    )


def test_auth_can_i_answers_yes_and_no(server: Server, bob: Path) -> None:
    yes = as_(server, bob, "auth", "can-i", "list", "pods")
    assert (yes.returncode, yes.stdout) == (0, "yes\n")
    no = as_(server, bob, "auth", "can-i", "create", "pods")
    assert (no.returncode, no.stdout) == (1, "no\n")
    other_ns = as_(server, bob, "auth", "can-i", "list", "pods", "-n", "kube-system")
    assert other_ns.stdout == "no\n"
    assert as_(server, bob, "auth", "can-i", "get", "pods", "--subresource=log").stdout == "yes\n"
    assert as_(server, bob, "auth", "can-i", "get", "/healthz").stdout == "yes\n"
    assert ok(server, "auth", "can-i", "delete", "nodes") == "yes\n"  # the admin


def test_auth_can_i_list_prints_the_users_rules(server: Server, bob: Path) -> None:
    out = as_(server, bob, "auth", "can-i", "--list").stdout
    lines = [" ".join(line.split()) for line in out.splitlines()]
    assert lines[0] == "Resources Non-Resource URLs Resource Names Verbs"
    assert "pods [] [] [get list watch]" in lines
    assert "selfsubjectaccessreviews.authorization.k8s.io [] [] [create]" in lines
    assert "[/healthz] [] [get]" in lines
    assert not any(line.startswith("secrets ") for line in lines)


def test_auth_whoami_shows_the_certificates_user_and_groups(server: Server, bob: Path) -> None:
    lines = [" ".join(x.split()) for x in as_(server, bob, "auth", "whoami").stdout.splitlines()]
    assert lines == ["ATTRIBUTE VALUE", "Username bob", "Groups [dev system:authenticated]"]
    admin = [" ".join(x.split()) for x in ok(server, "auth", "whoami").splitlines()]
    assert admin[1:] == ["Username kubelite-admin",
                         "Groups [system:masters system:authenticated]"]  # fmt: skip


def test_impersonation_with_as(server: Server, bob: Path) -> None:
    assert ok(server, "auth", "can-i", "list", "pods", "--as=bob") == "yes\n"
    r = server.kubectl("auth", "can-i", "create", "pods", "--as=bob")
    assert r.stdout == "no\n"
    denied = as_(server, bob, "get", "pods", "--as=alice")
    assert denied.stderr == (
        'Error from server (Forbidden): users "alice" is forbidden: User "bob" cannot '
        'impersonate resource "users" in API group "" at the cluster scope\n'
    )


def test_imperative_rbac_objects_and_their_columns(server: Server) -> None:
    ok(server, "create", "role", "pod-reader", "--verb=get,list", "--resource=pods,pods/log",
       "--resource-name=web")  # fmt: skip
    ok(server, "create", "clusterrole", "log-reader", "--verb=get", "--non-resource-url=/logs/*")
    ok(server, "create", "clusterrolebinding", "devs-logs", "--clusterrole=log-reader",
       "--group=dev", "--serviceaccount=default:default")  # fmt: skip
    ok(server, "create", "rolebinding", "amy-reads", "--role=pod-reader", "--user=amy")
    path = "jsonpath={.rules[0].resources} {.rules[0].resourceNames} {.rules[0].verbs}"
    rules = ok(server, "get", "role", "pod-reader", "-o", path)
    assert rules == '["pods","pods/log"] ["web"] ["get","list"]'
    wide = ok(server, "get", "clusterrolebinding", "devs-logs", "-o", "wide").splitlines()
    assert wide[0].split() == ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"]
    assert wide[1].split()[:2] == ["devs-logs", "ClusterRole/log-reader"]
    assert wide[1].split()[-2:] == ["dev", "default/default"]
    header = ok(server, "get", "clusterrole", "view").splitlines()[0]
    assert header.split() == ["NAME", "CREATED", "AT"]
    described = ok(server, "describe", "role", "pod-reader")
    assert "pods/log   []                 [web]           [get list]" in described


def test_the_default_cluster_roles_are_aggregated(server: Server) -> None:
    view = ok(server, "get", "clusterrole", "view", "-o", "jsonpath={.aggregationRule}")
    assert "rbac.authorization.k8s.io/aggregate-to-view" in view
    described = ok(server, "describe", "clusterrole", "edit")
    assert "pods/exec" in described and "secrets" in described
    ok(server, "create", "clusterrole", "lease-reader", "--verb=get", "--resource=leases")
    assert "leases" not in ok(server, "get", "clusterrole", "view", "-o", "jsonpath={.rules}")
    ok(server, "label", "clusterrole", "lease-reader",
       "rbac.authorization.k8s.io/aggregate-to-view=true")  # fmt: skip
    deadline = time.monotonic() + 10
    while "leases" not in ok(server, "get", "clusterrole", "view", "-o", "jsonpath={.rules}"):
        assert time.monotonic() < deadline, "view never aggregated the labelled role"
        time.sleep(0.1)


def test_a_namespace_admin_cannot_grant_cluster_admin(server: Server) -> None:
    ok(server, "create", "namespace", "team")
    ok(server, "create", "rolebinding", "carol-admin", "--clusterrole=admin", "--user=carol",
       "-n", "team")  # fmt: skip
    carol = user_kubeconfig(server, "carol")
    fine = as_(server, carol, "create", "rolebinding", "dan-view", "--clusterrole=view",
               "--user=dan", "-n", "team")  # fmt: skip
    assert fine.returncode == 0, fine.stderr
    refused = as_(server, carol, "create", "rolebinding", "dan-root",
                  "--clusterrole=cluster-admin", "--user=dan", "-n", "team")  # fmt: skip
    assert refused.stderr == (
        'error: failed to create rolebinding: rolebindings.rbac.authorization.k8s.io "dan-root" '
        'is forbidden: user "carol" (groups=["system:authenticated"]) is attempting to grant '
        "RBAC permissions not currently held:\n"
        '{APIGroups:["*"], Resources:["*"], Verbs:["*"]}\n'
        '{NonResourceURLs:["*"], Verbs:["*"]}\n'
    )
