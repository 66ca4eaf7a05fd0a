"""The local registry fixture serves both stand-ins, labelled as stand-ins, holding what the
upstream images hold where manifests notice it; nginx starts from the image's files."""

from __future__ import annotations

import gzip
import io
import json
import re
import subprocess
import tarfile
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from devtools import busybox_build
from devtools.ocilayout import host_arch

pytestmark = pytest.mark.e2e


def _get(url: str, accept: str) -> dict[str, Any]:
    req = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(req, timeout=5) as resp:
        doc: dict[str, Any] = json.loads(resp.read())
    return doc


def test_the_local_registry_serves_busybox_as_a_multi_platform_index(local_registry: str) -> None:
    index = _get(
        f"http://{local_registry}/v2/library/busybox/manifests/1.36",
        "application/vnd.oci.image.index.v1+json",
    )
    arches = {m["platform"]["architecture"] for m in index["manifests"]}
    assert len(arches) == 2


def test_the_nginx_stand_in_shares_its_first_layer_with_busybox(local_registry: str) -> None:
    accept = "application/vnd.oci.image.manifest.v1+json"
    nginx = _get(f"http://{local_registry}/v2/library/nginx/manifests/1.25.3", accept)
    index = _get(
        f"http://{local_registry}/v2/library/busybox/manifests/1.36",
        "application/vnd.oci.image.index.v1+json",
    )
    digests = [m["digest"] for m in index["manifests"]]
    layers = set()
    for d in digests:
        layers |= {
            la["digest"]
            for la in _get(f"http://{local_registry}/v2/library/busybox/manifests/{d}", accept)[
                "layers"
            ]
        }
    assert nginx["layers"][0]["digest"] in layers


def test_the_registry_config_file_mirrors_docker_io(
    registry_config_file: Path, local_registry: str
) -> None:
    assert f"http://{local_registry}" in registry_config_file.read_text()


# --- what the images hold ------------------------------------------------------------------------

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"


def _blob(registry: str, repo: str, digest: str) -> bytes:
    url = f"http://{registry}/v2/library/{repo}/blobs/{digest}"
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.read()  # type: ignore[no-any-return]


def _this_platform(registry: str, repo: str, tag: str) -> dict[str, Any]:
    """The manifest of ``repo:tag`` for this machine (through the index when there is one)."""
    top = _get(f"http://{registry}/v2/library/{repo}/manifests/{tag}", f"{INDEX}, {MANIFEST}")
    if top.get("mediaType") == INDEX:
        arch = host_arch()
        digest = next(
            m["digest"] for m in top["manifests"] if m["platform"]["architecture"] == arch
        )
        top = _get(f"http://{registry}/v2/library/{repo}/manifests/{digest}", MANIFEST)
    return top


def _config(registry: str, repo: str, tag: str) -> dict[str, Any]:
    manifest = _this_platform(registry, repo, tag)
    doc: dict[str, Any] = json.loads(_blob(registry, repo, manifest["config"]["digest"]))
    return doc


def _layers(registry: str, repo: str, tag: str) -> list[tarfile.TarFile]:
    manifest = _this_platform(registry, repo, tag)
    return [
        tarfile.open(fileobj=io.BytesIO(gzip.decompress(_blob(registry, repo, la["digest"]))))
        for la in manifest["layers"]
    ]


def _files(layers: list[tarfile.TarFile]) -> dict[str, tuple[tarfile.TarInfo, bytes]]:
    """Path -> (entry, content) of the image's filesystem, upper layers winning."""
    out: dict[str, tuple[tarfile.TarInfo, bytes]] = {}
    for layer in layers:
        for member in layer.getmembers():
            f = layer.extractfile(member) if member.isfile() else None
            out[member.name] = (member, f.read() if f else b"")
    return out


@pytest.fixture(scope="module")
def busybox_files(local_registry: str) -> dict[str, tuple[tarfile.TarInfo, bytes]]:
    return _files(_layers(local_registry, "busybox", "1.36"))


@pytest.fixture(scope="module")
def nginx_files(local_registry: str) -> dict[str, tuple[tarfile.TarInfo, bytes]]:
    return _files(_layers(local_registry, "nginx", "1.25.3"))


def _words(text: bytes) -> str:
    """``text`` with every run of blanks made one space: config compares without alignment."""
    return "\n".join(" ".join(line.split()) for line in text.decode().splitlines())


def test_the_busybox_image_is_labelled_with_its_source_and_config(local_registry: str) -> None:
    recipe = busybox_build.current_recipe()
    config = _config(local_registry, "busybox", "1.36")["config"]
    labels = config["Labels"]
    assert labels["org.kubelite.standin"] == "true"
    assert labels["org.kubelite.debian-package"] == f"busybox {recipe.version} (source)"
    assert labels["org.kubelite.busybox-config"] == recipe.describe()
    assert labels["org.kubelite.busybox-config"].startswith("defconfig CONFIG_STATIC=y")
    assert config["Cmd"] == ["sh"]


@pytest.mark.parametrize("applet", ["sh", "nc", "nslookup", "wget", "httpd", "ip", "traceroute"])
def test_every_busybox_applet_is_a_link_in_bin(
    busybox_files: dict[str, tuple[tarfile.TarInfo, bytes]], applet: str
) -> None:
    entry, _ = busybox_files[f"bin/{applet}"]
    assert entry.issym() and entry.linkname == "/bin/busybox"


def test_the_busybox_image_has_upstreams_users_and_files(
    busybox_files: dict[str, tuple[tarfile.TarInfo, bytes]],
) -> None:
    passwd = busybox_files["etc/passwd"][1].decode()
    users = [line.split(":")[0] for line in passwd.splitlines()]
    assert users == [
        "root", "daemon", "bin", "sys", "sync", "mail", "www-data", "operator", "nobody",
    ]  # fmt: skip
    assert "root:x:0:0:root:/root:/bin/sh" in passwd
    assert "nobody:x:65534:65534:nobody:/home:/bin/false" in passwd
    assert "wheel:x:10:root" in busybox_files["etc/group"][1].decode()
    shadow, text = busybox_files["etc/shadow"]
    assert shadow.mode == 0o600 and text.startswith(b"root:*:")
    assert "hosts: files dns" in _words(busybox_files["etc/nsswitch.conf"][1])
    assert busybox_files["etc/localtime"][1].startswith(b"TZif")
    env = busybox_files["usr/bin/env"][0]
    assert env.issym() and env.linkname == "../../bin/env"
    assert busybox_files["tmp"][0].mode == 0o1777
    assert (busybox_files["var/www"][0].uid, busybox_files["home"][0].uid) == (33, 65534)


def test_the_nginx_log_files_are_links_to_stdout_and_stderr(
    nginx_files: dict[str, tuple[tarfile.TarInfo, bytes]],
) -> None:
    access, _ = nginx_files["var/log/nginx/access.log"]
    error, _ = nginx_files["var/log/nginx/error.log"]
    assert access.issym() and access.linkname == "/dev/stdout"
    assert error.issym() and error.linkname == "/dev/stderr"


@pytest.mark.parametrize(
    "line",
    [
        "user nginx;",
        "error_log /var/log/nginx/error.log notice;",
        "pid /var/run/nginx.pid;",
        "log_format main '$remote_addr - $remote_user [$time_local] \"$request\" '",
        "'$status $body_bytes_sent \"$http_referer\" '",
        '\'"$http_user_agent" "$http_x_forwarded_for"\';',
        "access_log /var/log/nginx/access.log main;",
        "include /etc/nginx/conf.d/*.conf;",
    ],
)
def test_nginx_conf_is_upstreams(
    nginx_files: dict[str, tuple[tarfile.TarInfo, bytes]], line: str
) -> None:
    assert line in _words(nginx_files["etc/nginx/nginx.conf"][1]).splitlines()


def test_the_default_site_serves_the_welcome_page_on_port_80(
    nginx_files: dict[str, tuple[tarfile.TarInfo, bytes]],
) -> None:
    site = _words(nginx_files["etc/nginx/conf.d/default.conf"][1]).splitlines()
    assert "listen 80;" in site and "root /usr/share/nginx/html;" in site
    assert "error_page 500 502 503 504 /50x.html;" in site
    assert b"Welcome to nginx!" in nginx_files["usr/share/nginx/html/index.html"][1]


def test_the_nginx_image_has_an_nginx_user_and_its_paths(
    nginx_files: dict[str, tuple[tarfile.TarInfo, bytes]],
) -> None:
    assert (
        "nginx:x:101:101:nginx user:/nonexistent:/bin/false"
        in nginx_files["etc/passwd"][1].decode().splitlines()
    )
    assert "nginx:x:101:" in nginx_files["etc/group"][1].decode().splitlines()
    run = nginx_files["var/run"][0]
    assert run.issym() and run.linkname == "/run"
    for d in ("run", "var/lib/nginx", "var/cache/nginx", "etc/nginx/conf.d"):
        assert nginx_files[d][0].isdir(), d
    assert "fastcgi_param" in nginx_files["etc/nginx/fastcgi_params"][1].decode()


# --- nginx starts from the image's files ---------------------------------------------------------

_NGINX_SCRIPT = """
set -e
ip link set lo up
chroot "$1" /usr/sbin/nginx -g 'daemon off;' &
nginx=$!
for i in $(seq 50); do chroot "$1" nc -z 127.0.0.1 80 && break; sleep 0.1; done
chroot "$1" wget -q -O - http://127.0.0.1/ >&2
kill -QUIT $nginx
wait $nginx
"""


def _run_nginx(root: Path) -> subprocess.CompletedProcess[str]:
    """Start the image's nginx chrooted in ``root``, in namespaces of its own (network, mount,
    pid: all gone when it ends), fetch / once, stop it with its stop signal."""
    (root / "dev/stdout").symlink_to("/proc/self/fd/1")
    (root / "dev/stderr").symlink_to("/proc/self/fd/2")
    (root / "proc").mkdir()
    namespaces = ["unshare", "--net", "--mount", "--pid", "--fork", f"--mount-proc={root}/proc"]
    return subprocess.run(
        [*namespaces, "--", "sh", "-c", _NGINX_SCRIPT, "nginx-test", str(root)],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def nginx_root(local_registry: str, tmp_path: Path) -> Path:
    root = tmp_path / "root"
    for layer in _layers(local_registry, "nginx", "1.25.3"):
        layer.extractall(root, filter="tar")
    return root


ACCESS_LINE = re.compile(
    r'^127\.0\.0\.1 - - \[[^]]+\] "GET / HTTP/1\.1" 200 \d+ "-" "Wget" "-"$', re.MULTILINE
)


def test_nginx_logs_its_access_log_to_stdout_through_the_links(nginx_root: Path) -> None:
    done = _run_nginx(nginx_root)
    assert done.returncode == 0, done.stderr
    assert "Welcome to nginx!" in done.stderr
    assert ACCESS_LINE.search(done.stdout), done.stdout
    assert "[notice]" in done.stderr and "start worker process" in done.stderr


def test_nginx_writes_real_log_files_into_an_empty_var_log_nginx(nginx_root: Path) -> None:
    logs = nginx_root / "var/log/nginx"
    for link in logs.iterdir():
        link.unlink()  # what an emptyDir mounted there shows
    done = _run_nginx(nginx_root)
    assert done.returncode == 0, done.stderr
    assert "Welcome to nginx!" in done.stderr
    assert not ACCESS_LINE.search(done.stdout)
    assert ACCESS_LINE.search((logs / "access.log").read_text())
    assert "start worker process" in (logs / "error.log").read_text()
