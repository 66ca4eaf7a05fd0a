"""subPath checks (VOL-5), process identity and runAsNonRoot texts, per-pod /etc files."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelite.runtime.etcfiles import render_host_network_hosts, render_hosts, render_resolv_conf
from kubelite.runtime.interface import (
    CreateContainerConfigError,
    DNSConfig,
    HostAlias,
    SecurityContext,
)
from kubelite.runtime.users import (
    AccountFiles,
    ProcessUser,
    check_run_as_non_root,
    resolve_user,
)
from kubelite.runtime.volumes import check_sub_path, is_within, resolve_sub_path


@pytest.mark.parametrize(
    ("sub_path", "parts"),
    [("a", ("a",)), ("a/b/", ("a", "b")), ("./a//b", ("a", "b")), ("", ()), ("a..b", ("a..b",))],
)
def test_valid_sub_paths(sub_path: str, parts: tuple[str, ...]) -> None:
    assert check_sub_path(sub_path) == parts


@pytest.mark.parametrize("sub_path", ["/abs", "..", "a/../b", "a/..", "../x"])
def test_absolute_or_dotdot_sub_paths_are_refused(sub_path: str) -> None:
    with pytest.raises(CreateContainerConfigError):
        check_sub_path(sub_path)


@pytest.mark.parametrize(
    ("root", "candidate", "inside"),
    [("/v", "/v", True), ("/v", "/v/a", True), ("/v", "/vv", False), ("/v", "/", False),
     ("/", "/x", True)],
)  # fmt: skip
def test_is_within(root: str, candidate: str, inside: bool) -> None:
    assert is_within(root, candidate) is inside


def test_resolution_follows_inner_symlinks_and_refuses_escapes(tmp_path: Path) -> None:
    vol = tmp_path / "vol"
    (vol / "real").mkdir(parents=True)
    (vol / "inner").symlink_to("real")
    (vol / "out").symlink_to(tmp_path)
    (vol / "abs").symlink_to("/etc")
    assert resolve_sub_path(vol, "inner") == vol / "real"
    assert resolve_sub_path(vol, "new/dir") == vol / "new" / "dir"
    assert (vol / "new" / "dir").is_dir()
    for bad in ("out", "abs", "abs/x"):
        with pytest.raises(CreateContainerConfigError, match="outside its volume"):
            resolve_sub_path(vol, bad)


FILES = AccountFiles(
    passwd="root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
    group="root:x:0:\napp:x:1000:\nextra:x:2000:app,other\nwheel:x:10:root\n",
)


@pytest.mark.parametrize(
    ("image_user", "sec", "expected"),
    [
        ("", SecurityContext(), ProcessUser(0, 0, (10,), "root")),
        ("app", SecurityContext(), ProcessUser(1000, 1000, (2000,), "app")),
        ("1000", SecurityContext(), ProcessUser(1000, 1000, (2000,), "app")),
        ("app:extra", SecurityContext(), ProcessUser(1000, 2000, (), "app")),
        ("4242:7", SecurityContext(), ProcessUser(4242, 7, (), "")),
        ("app", SecurityContext(run_as_user=5, supplemental_groups=(8,), fs_group=9),
         ProcessUser(5, 0, (8, 9), "")),
        ("app", SecurityContext(run_as_group=77), ProcessUser(1000, 77, (2000,), "app")),
    ],
)  # fmt: skip
def test_resolve_user(image_user: str, sec: SecurityContext, expected: ProcessUser) -> None:
    assert resolve_user(image_user, sec, FILES) == expected


def test_an_unknown_user_name_is_a_config_error() -> None:
    with pytest.raises(CreateContainerConfigError, match="unable to find user ghost"):
        resolve_user("ghost", SecurityContext(), FILES)


POD = "web_default(u1)"


@pytest.mark.parametrize(
    ("image_user", "sec", "message"),
    [
        ("", SecurityContext(run_as_non_root=True),
         'container has runAsNonRoot and image will run as root (pod: "web_default(u1)", '
         "container: app)"),
        ("0:0", SecurityContext(run_as_non_root=True),
         'container has runAsNonRoot and image will run as root (pod: "web_default(u1)", '
         "container: app)"),
        ("nobody", SecurityContext(run_as_non_root=True),
         "container has runAsNonRoot and image has non-numeric user (nobody), cannot verify "
         'user is non-root (pod: "web_default(u1)", container: app)'),
        ("1000", SecurityContext(run_as_non_root=True, run_as_user=0),
         'container\'s runAsUser breaks non-root policy (pod: "web_default(u1)", container: app)'),
    ],
)  # fmt: skip
def test_run_as_non_root_refusals(image_user: str, sec: SecurityContext, message: str) -> None:
    with pytest.raises(CreateContainerConfigError) as err:
        check_run_as_non_root(image_user, sec, POD, "app")
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("image_user", "sec"),
    [("1000", SecurityContext(run_as_non_root=True)),
     ("", SecurityContext(run_as_non_root=True, run_as_user=7)),
     ("", SecurityContext())],
)  # fmt: skip
def test_run_as_non_root_allowed(image_user: str, sec: SecurityContext) -> None:
    check_run_as_non_root(image_user, sec, POD, "app")


def test_hosts_file_has_loopback_ip_and_aliases() -> None:
    text = render_hosts("web", "10.0.0.5", (HostAlias("1.2.3.4", ("a", "b")),))
    assert text.startswith("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n")
    assert "10.0.0.5\tweb\n" in text
    assert text.endswith("# Entries added by HostAliases.\n1.2.3.4\ta\tb\n")
    assert "\tweb" not in render_hosts("web", None, ())


def test_resolv_conf_from_dns_config_or_host() -> None:
    assert render_resolv_conf(DNSConfig(), "nameserver 9.9.9.9\n") == "nameserver 9.9.9.9\n"
    dns = DNSConfig(nameservers=("1.1.1.1",), searches=("a.svc", "svc"), options=("ndots:5",))
    # containerd's order: search, nameservers, options
    assert render_resolv_conf(dns, "ignored") == (
        "search a.svc svc\nnameserver 1.1.1.1\noptions ndots:5\n"
    )


def test_a_pod_with_a_subdomain_has_its_fqdn_then_its_short_name_in_hosts() -> None:
    text = render_hosts("web-0", "10.0.0.5", (), "web-0.web.default.svc.cluster.local")
    assert "10.0.0.5\tweb-0.web.default.svc.cluster.local\tweb-0\n" in text


def test_a_host_network_pod_gets_the_nodes_hosts_file_and_its_aliases() -> None:
    text = render_host_network_hosts("127.0.0.1 localhost\n", (HostAlias("1.2.3.4", ("a",)),))
    assert text == "127.0.0.1 localhost\n\n# Entries added by HostAliases.\n1.2.3.4\ta\n"
