"""Offline stand-ins for ``busybox:1.36`` and ``nginx:1.25.3``, built from Debian packages.

There is no Docker Hub here, so tests and the demo pull these from a local registry instead
(see ``devtools.registry`` and ``devtools.fixtures``). They are honest about what they are:
every image carries ``org.kubelite.standin=true`` and the Debian package and version it was
built from. The nginx image's first layer is byte-identical to the busybox layer, so the two
images share a blob (what the store's layer sharing is tested with), and nginx has a shell.

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
from pathlib import Path

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

_BASE_DIRS = {
    "bin": 0o755,
    "dev": 0o755,
    "etc": 0o755,
    "home": 0o755,
    "root": 0o700,
    "run": 0o755,
    "sbin": 0o755,
    "tmp": 0o1777,
    "usr": 0o755,
    "usr/bin": 0o755,
    "usr/sbin": 0o755,
    "var": 0o755,
}
_PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"
_GROUP = "root:x:0:\nnobody:x:65534:\n"

NGINX_CONF = """\
# kubelite stand-in: Debian's nginx, configured like the upstream image (foreground via the
# image's CMD -g 'daemon off;', logs to stdout/stderr, pid under /run).
user  www-data;
worker_processes  auto;
error_log  /dev/stderr notice;
pid        /run/nginx.pid;

events {
    worker_connections  1024;
}

http {
    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;
    access_log    /dev/stdout;
    sendfile      on;
    keepalive_timeout  65;
    include /etc/nginx/conf.d/*.conf;
}
"""

DEFAULT_SITE = """\
server {
    listen       80;
    server_name  localhost;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }

    error_page   500 502 503 504  /50x.html;
    location = /50x.html {
        root   /usr/share/nginx/html;
    }
}
"""

ERROR_PAGE = "<!DOCTYPE html>\n<html><body><h1>An error occurred.</h1></body></html>\n"


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


def busybox_layer() -> Layer:
    """/bin/busybox, its applet links, /etc/passwd+group (root, nobody) and /tmp 1777."""
    binary = package_file("busybox-static", "/bin/busybox")
    applets = subprocess.run(
        [str(binary), "--list-full"], capture_output=True, text=True, check=True
    ).stdout.split()
    entries = [Entry(d, "dir", mode=m) for d, m in _BASE_DIRS.items()]
    entries.append(Entry("bin/busybox", data=binary.read_bytes(), mode=0o755))
    for applet in applets:
        if applet != "bin/busybox":
            entries.append(Entry(applet, "symlink", link="/bin/busybox", mode=0o777))
    entries += _dirs(applets, set(_BASE_DIRS))
    entries.append(Entry("etc/passwd", data=_PASSWD.encode()))
    entries.append(Entry("etc/group", data=_GROUP.encode()))
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
    """nginx, its libraries, a foreground-friendly config, the default page, www-data."""
    binary = package_file("nginx", "/sbin/nginx")
    files: list[Entry] = [Entry("usr/sbin/nginx", data=binary.read_bytes(), mode=0o755)]
    for inside, host in _shared_libraries(binary):
        files.append(Entry(inside, data=host.read_bytes(), mode=0o755))
    mime = package_file("nginx-common", "/mime.types")
    index = package_file("nginx-common", "/html/index.html")
    files += [
        Entry("etc/nginx/nginx.conf", data=NGINX_CONF.encode()),
        Entry("etc/nginx/mime.types", data=mime.read_bytes()),
        Entry("etc/nginx/conf.d/default.conf", data=DEFAULT_SITE.encode()),
        Entry("usr/share/nginx/html/index.html", data=index.read_bytes()),
        Entry("usr/share/nginx/html/50x.html", data=ERROR_PAGE.encode()),
        Entry("var/log/nginx/access.log", "symlink", link="/dev/stdout", mode=0o777),
        Entry("var/log/nginx/error.log", "symlink", link="/dev/stderr", mode=0o777),
        Entry("var/lib/nginx", "dir", mode=0o755),
        Entry("var/cache/nginx", "dir", mode=0o755),
        Entry("var/www", "dir", mode=0o755),
        Entry(
            "etc/passwd",
            data=(_PASSWD + "www-data:x:33:33:www-data:/var/www:/bin/false\n").encode(),
        ),
        Entry("etc/group", data=(_GROUP + "www-data:x:33:\n").encode()),
    ]
    known = set(_BASE_DIRS) | {e.path for e in files if e.kind == "dir"}
    return build_layer(files + _dirs([e.path for e in files], known))


def _labels(image: str, package: str, binary_package: str) -> dict[str, str]:
    return {
        "org.kubelite.standin": "true",
        "org.kubelite.standin-for": f"docker.io/library/{image}",
        "org.kubelite.debian-package": f"{package} {package_version(package)}",
        "org.kubelite.debian-binary-package": f"{binary_package} {package_version(binary_package)}",
        "org.opencontainers.image.description": (
            f"kubelite test stand-in for {image}, built from Debian's {package}; "
            "not the upstream image"
        ),
    }


def _placeholder_arch() -> str:
    return "arm64" if host_arch() != "arm64" else "amd64"


def build_busybox(base: Layer) -> tuple[Image, Image]:
    """(this machine's image, a placeholder image for another architecture)."""
    labels = _labels("busybox:1.36", "busybox-static", "busybox-static")
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
    labels = _labels("nginx:1.25.3", "nginx-light", "nginx")
    config = {
        "Env": [PATH_ENV],
        "Cmd": ["nginx", "-g", "daemon off;"],
        "ExposedPorts": {"80/tcp": {}},
        "StopSignal": "SIGQUIT",
        "Labels": labels,
    }
    return build_image([base, nginx_layer()], config=config)


def build_layouts(out: Path) -> dict[str, Path]:
    """Write one OCI layout per repository under ``out``: {"busybox": path, "nginx": path}."""
    base = busybox_layer()
    real, other = build_busybox(base)
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
