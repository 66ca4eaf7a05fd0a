"""Offline stand-ins for ``busybox:1.36`` and ``nginx:1.25.3``, built from Debian packages.

There is no Docker Hub here, so tests and the demo pull these from a local registry instead
(see ``devtools.registry`` and ``devtools.fixtures``). They are honest about what they are:
every image carries ``org.kubelite.standin=true`` and the Debian package and version it was
built from. The nginx image's first layer is byte-identical to the busybox layer, so the two
images share a blob (what the store's layer sharing is tested with), and nginx has a shell.

busybox is BusyBox built from Debian's source package with upstream's default applet set
(``devtools.busybox_build``), laid out like the upstream image: every applet a link in /bin,
buildroot's users and groups, /etc/nsswitch.conf, /etc/localtime (UTC). nginx is Debian's
nginx with the upstream image's nginx.conf and default.conf: the ``main`` access log in
/var/log/nginx, whose two log files are links to /dev/stdout and /dev/stderr, and an
``nginx`` user (101).

busybox is pushed as a multi-platform index: this machine's image plus a tiny placeholder for
another architecture (a README, no binaries), so pulls exercise platform selection.

CLI: ``python3 -m devtools.standins push --registry 127.0.0.1:5000``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from devtools import busybox_build
from devtools.ocilayout import (
    Entry,
    Image,
    Layer,
    build_image,
    build_index,
    build_layer,
    host_arch,
    write_layout,
)

PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BUSYBOX_TAGS = ("1.36", "latest")
NGINX_TAGS = ("1.25.3", "latest")


@dataclass(frozen=True, slots=True)
class Dir:
    mode: int = 0o755
    uid: int = 0
    gid: int = 0


# The upstream busybox image's directories: buildroot's skeleton and device table, plus a
# home directory for every user in /etc/passwd (owned by that user when it was created).
_BASE_DIRS = {
    "bin": Dir(),
    "dev": Dir(),
    "etc": Dir(),
    "etc/network": Dir(),
    "etc/network/if-down.d": Dir(),
    "etc/network/if-post-down.d": Dir(),
    "etc/network/if-pre-up.d": Dir(),
    "etc/network/if-up.d": Dir(),
    "home": Dir(uid=65534, gid=65534),
    "root": Dir(0o700),
    "tmp": Dir(0o1777),
    "usr": Dir(),
    "usr/bin": Dir(),
    "usr/sbin": Dir(uid=1, gid=1),
    "var": Dir(),
    "var/spool": Dir(),
    "var/spool/mail": Dir(uid=8, gid=8),
    "var/www": Dir(uid=33, gid=33),
}

# buildroot's skeleton, as the upstream busybox image ships it (root's password locked).
_PASSWD = """\
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
"""
_GROUP = """\
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nobody:x:65534:
"""
_SHADOW = "".join(
    f"{user}:*:::::::\n"
    for user in ("root", "daemon", "bin", "sys", "sync", "mail", "www-data", "operator", "nobody")
)

# The upstream nginx image's user and group (Debian's useradd --system, uid/gid 101).
NGINX_USER = "nginx:x:101:101:nginx user:/nonexistent:/bin/false\n"
NGINX_GROUP = "nginx:x:101:\n"

# nginx.conf and conf.d/default.conf as the upstream image ships them (nginx.org's package).
# Debian's nginx reads them the same way; its compiled-in paths that differ from upstream's
# (temp files under /var/lib/nginx, early errors to stderr) exist in the layer below.
NGINX_CONF = """\

user  nginx;
worker_processes  auto;

error_log  /var/log/nginx/error.log notice;
pid        /var/run/nginx.pid;


events {
    worker_connections  1024;
}


http {
    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;

    log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';

    access_log  /var/log/nginx/access.log  main;

    sendfile        on;
    #tcp_nopush     on;

    keepalive_timeout  65;

    #gzip  on;

    include /etc/nginx/conf.d/*.conf;
}
"""

# As packaged; upstream's entrypoint adds "listen [::]:80;" at start when the pod has IPv6.
# This image has no entrypoint, so it listens on IPv4 only.
DEFAULT_SITE = """\
server {
    listen       80;
    server_name  localhost;

    #access_log  /var/log/nginx/host.access.log  main;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }

    #error_page  404              /404.html;

    # redirect server error pages to the static page /50x.html
    #
    error_page   500 502 503 504  /50x.html;
    location = /50x.html {
        root   /usr/share/nginx/html;
    }

    # proxy the PHP scripts to Apache listening on 127.0.0.1:80
    #
    #location ~ \\.php$ {
    #    proxy_pass   http://127.0.0.1;
    #}

    # pass PHP scripts to FastCGI server listening on 127.0.0.1:9000
    #
    #location ~ \\.php$ {
    #    root           html;
    #    fastcgi_pass   127.0.0.1:9000;
    #    fastcgi_index  index.php;
    #    fastcgi_param  SCRIPT_FILENAME  /scripts$fastcgi_script_name;
    #    include        fastcgi_params;
    #}

    # deny access to .ht files, if Apache's document root
    # concurs with nginx's one
    #
    #location ~ /\\.ht {
    #    deny  all;
    #}
}
"""

ERROR_PAGE = """\
<!DOCTYPE html>
<html>
<head>
<title>Error</title>
</head>
<body>
<h1>An error occurred.</h1>
<p>Sorry, the page you are looking for is currently unavailable.<br/>
Please try again later.</p>
</body>
</html>
"""


def package_version(package: str) -> str:
    """The installed version of a Debian package (dpkg-query)."""
    out = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", package],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def package_file(package: str, suffix: str) -> Path:
    """The one file of ``package`` whose path ends with ``suffix`` (dpkg -L)."""
    out = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True, check=True)
    for line in out.stdout.splitlines():
        if line.endswith(suffix) and Path(line).is_file():
            return Path(line)
    raise FileNotFoundError(f"{package} has no file ending in {suffix}")


def _dirs(paths: list[str], known: set[str]) -> list[Entry]:
    """Directory entries for every missing parent of ``paths``."""
    out = []
    for p in paths:
        parent = Path(p).parent
        while str(parent) != ".":
            if str(parent) not in known:
                known.add(str(parent))
                out.append(Entry(str(parent), "dir", mode=0o755))
            parent = parent.parent
    return out


def applets(binary: Path) -> list[str]:
    """The applet names ``binary`` was built with (``busybox --list``), without itself."""
    out = subprocess.run([str(binary), "--list"], capture_output=True, text=True, check=True)
    return sorted(name for name in out.stdout.split() if name != "busybox")


def busybox_layer(binary: Path) -> Layer:
    """/bin/busybox with every applet a link beside it in /bin (as upstream installs them),
    /usr/bin/env, buildroot's users and groups, Debian's nsswitch.conf and UTC localtime."""
    entries = [Entry(d, "dir", mode=m.mode, uid=m.uid, gid=m.gid) for d, m in _BASE_DIRS.items()]
    entries.append(Entry("bin/busybox", data=binary.read_bytes(), mode=0o755))
    for applet in applets(binary):
        entries.append(Entry(f"bin/{applet}", "symlink", link="/bin/busybox", mode=0o777))
    entries += [
        Entry("usr/bin/env", "symlink", link="../../bin/env", mode=0o777),
        Entry("etc/passwd", data=_PASSWD.encode()),
        Entry("etc/group", data=_GROUP.encode()),
        Entry("etc/shadow", data=_SHADOW.encode(), mode=0o600),
        Entry("etc/nsswitch.conf", data=package_file("libc-bin", "/nsswitch.conf").read_bytes()),
        Entry("etc/localtime", data=package_file("tzdata", "/zoneinfo/UTC").read_bytes()),
    ]
    return build_layer(entries)


def _shared_libraries(binary: Path) -> list[tuple[str, Path]]:
    """(path inside the image, file on this machine) for every library ``ldd`` lists."""
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True)
    libs = []
    for line in out.stdout.splitlines():
        m = re.search(r"(?:=>\s*)?(/\S+)\s+\(0x", line)
        if m:
            libs.append((m.group(1).lstrip("/"), Path(m.group(1)).resolve()))
    return libs


def nginx_layer() -> Layer:
    """Debian's nginx and its libraries with upstream's configuration, log links, default
    page and ``nginx`` user, over the busybox layer."""
    binary = package_file("nginx", "/sbin/nginx")
    files: list[Entry] = [Entry("usr/sbin/nginx", data=binary.read_bytes(), mode=0o755)]
    for inside, host in _shared_libraries(binary):
        files.append(Entry(inside, data=host.read_bytes(), mode=0o755))
    for name in ("mime.types", "fastcgi_params", "scgi_params", "uwsgi_params"):
        data = package_file("nginx-common", f"/etc/nginx/{name}").read_bytes()
        files.append(Entry(f"etc/nginx/{name}", data=data))
    index = package_file("nginx-common", "/html/index.html")
    files += [
        Entry("etc/nginx/nginx.conf", data=NGINX_CONF.encode()),
        Entry("etc/nginx/conf.d", "dir", mode=0o755),
        Entry("etc/nginx/conf.d/default.conf", data=DEFAULT_SITE.encode()),
        Entry("usr/share/nginx/html/index.html", data=index.read_bytes()),
        Entry("usr/share/nginx/html/50x.html", data=ERROR_PAGE.encode()),
        # Upstream's links: `kubectl logs` shows both logs; an emptyDir mounted here hides
        # them, and nginx then writes real files there (for a logging sidecar).
        Entry("var/log/nginx", "dir", mode=0o755),
        Entry("var/log/nginx/access.log", "symlink", link="/dev/stdout", mode=0o777),
        Entry("var/log/nginx/error.log", "symlink", link="/dev/stderr", mode=0o777),
        # Debian's compiled-in temp paths (/var/lib/nginx/body…): nginx makes the last
        # component itself, owned by the worker user; upstream's cache dir for scripts.
        Entry("var/lib/nginx", "dir", mode=0o755),
        Entry("var/cache/nginx", "dir", mode=0o755),
        # pid /var/run/nginx.pid, with /var/run a link to /run as in Debian.
        Entry("run", "dir", mode=0o755),
        Entry("var/run", "symlink", link="/run", mode=0o777),
        Entry("etc/passwd", data=(_PASSWD + NGINX_USER).encode()),
        Entry("etc/group", data=(_GROUP + NGINX_GROUP).encode()),
    ]
    known = set(_BASE_DIRS) | {e.path for e in files if e.kind == "dir"}
    return build_layer(files + _dirs([e.path for e in files], known))


def _standin_labels(image: str, package: str, built_from: str) -> dict[str, str]:
    return {
        "org.kubelite.standin": "true",
        "org.kubelite.standin-for": f"docker.io/library/{image}",
        "org.kubelite.debian-package": package,
        "org.opencontainers.image.description": (
            f"kubelite test stand-in for {image}, built from {built_from}; not the upstream image"
        ),
    }


def busybox_labels(recipe: busybox_build.Recipe) -> dict[str, str]:
    labels = _standin_labels(
        "busybox:1.36",
        f"busybox {recipe.version} (source)",
        f"Debian's busybox source package {recipe.version}",
    )
    labels["org.kubelite.busybox-config"] = recipe.describe()
    return labels


def nginx_labels() -> dict[str, str]:
    labels = _standin_labels(
        "nginx:1.25.3",
        f"nginx-light {package_version('nginx-light')}",
        "Debian's nginx-light",
    )
    labels["org.kubelite.debian-binary-package"] = f"nginx {package_version('nginx')}"
    return labels


def _placeholder_arch() -> str:
    return "arm64" if host_arch() != "arm64" else "amd64"


def build_busybox(base: Layer, labels: dict[str, str]) -> tuple[Image, Image]:
    """(this machine's image, a placeholder image for another architecture)."""
    real = build_image([base], config={"Env": [PATH_ENV], "Cmd": ["sh"], "Labels": labels})
    readme = Entry(
        "README",
        data=b"kubelite stand-in placeholder: no binaries for this platform.\n",
    )
    other = build_image(
        [build_layer([readme])],
        config={"Env": [PATH_ENV], "Cmd": ["sh"], "Labels": labels},
        arch=_placeholder_arch(),
    )
    return real, other


def build_nginx(base: Layer) -> Image:
    config: dict[str, object] = {
        "Env": [PATH_ENV],
        "Cmd": ["nginx", "-g", "daemon off;"],
        "ExposedPorts": {"80/tcp": {}},
        "StopSignal": "SIGQUIT",
        "Labels": nginx_labels(),
    }
    return build_image([base, nginx_layer()], config=config)


def build_layouts(out: Path, *, busybox: busybox_build.Built | None = None) -> dict[str, Path]:
    """Write one OCI layout per repository under ``out``: {"busybox": path, "nginx": path}.

    ``busybox`` is the built binary to use (built or taken from the cache by default)."""
    built = busybox or busybox_build.ensure_busybox()
    base = busybox_layer(built.binary)
    real, other = build_busybox(base, busybox_labels(built.recipe))
    index = build_index([real, other])
    nginx = build_nginx(base)
    return {
        "busybox": write_layout(out / "busybox", {t: (index, [real, other]) for t in BUSYBOX_TAGS}),
        "nginx": write_layout(out / "nginx", {t: (nginx.manifest, [nginx]) for t in NGINX_TAGS}),
    }


def push(registry: str, *, workdir: Path | None = None) -> list[str]:
    """Build both stand-ins and push every tag to ``registry`` (plain HTTP). Returns the refs."""
    skopeo = shutil.which("skopeo")
    if skopeo is None:
        raise RuntimeError("skopeo is not installed")
    pushed = []
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        layouts = build_layouts(Path(tmp))
        for repo, tags in (("busybox", BUSYBOX_TAGS), ("nginx", NGINX_TAGS)):
            for tag in tags:
                dest = f"{registry}/library/{repo}:{tag}"
                subprocess.run(
                    [
                        skopeo,
                        "--insecure-policy",
                        "copy",
                        "--quiet",
                        "--all",
                        "--preserve-digests",
                        "--dest-tls-verify=false",
                        "--dest-no-creds",
                        f"oci:{layouts[repo]}:{tag}",
                        f"docker://{dest}",
                    ],
                    check=True,
                    capture_output=True,
                )
                pushed.append(dest)
    return pushed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m devtools.standins", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("push", help="build the stand-ins and push them to a registry")
    p.add_argument("--registry", required=True, help="host:port, e.g. 127.0.0.1:5000")
    b = sub.add_parser("build", help="write the OCI layouts into a directory")
    b.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    if args.cmd == "push":
        for ref in push(args.registry):
            print(ref)
    else:
        for repo, path in build_layouts(args.out).items():
            print(f"{repo}\t{path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
