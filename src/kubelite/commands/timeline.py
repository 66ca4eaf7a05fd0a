"""``kubelite timeline POD [-n NS] -o pod.svg|pod.png``: draw a pod's lifecycle.

The picture is drawn from the pod's ``PodLifecycle`` record (kubelite.dev/v1alpha1), read
through the API like kubectl reads anything: with the kubeconfig of ``--kubeconfig``,
``$KUBECONFIG`` or ``~/.kube/config`` (its current context: server, CA, client certificate or
token), or else the local ``kubelite up`` of ``--data-dir`` with its admin credential. So the
pod may have run on any kubelite node the kubeconfig reaches. A pod still running is drawn up
to now.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import ssl
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

from kubelite.settings import Settings
from kubelite.timeline import Format
from kubelite.timeline import record as rec

NAME = "timeline"
HELP = "draw a pod's lifecycle (containers, probes, hooks, conditions) as SVG or PNG"
FORMATS = ("svg", "png")
TIMEOUT = 30.0


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("pod", metavar="POD", help="the pod's name")
    parser.add_argument("-n", "--namespace", default="", help="its namespace (default: the "
                        "kubeconfig context's, else default)")  # fmt: skip
    parser.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="where to write it: a .svg or .png"
    )
    parser.add_argument("--format", choices=FORMATS, help="svg or png (default: from FILE)")
    parser.add_argument("--kubeconfig", metavar="FILE", help="the kubeconfig to read it with")
    parser.add_argument("--context", default="", help="the kubeconfig context to use")


class TimelineError(Exception):
    """Why the picture could not be made (printed as is)."""


@dataclass(frozen=True, slots=True)
class Access:
    """How to reach the API: its URL, the CA to trust (PEM; "" for the system's, None to not
    verify), and a client certificate (PEM) and key, or a bearer token."""

    server: str
    namespace: str = ""
    ca: str | None = ""
    cert: str = ""
    key: str = ""
    token: str = ""


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        fmt = output_format(args.output, args.format)
        access = find_access(args.kubeconfig, args.context, settings)
        namespace = args.namespace or access.namespace or "default"
        record = fetch(access, namespace, args.pod)
        from kubelite.timeline import render

        now = None if finished(record) else time.time()
        picture = render(record, fmt, now=now)
        if args.output == "-":
            sys.stdout.buffer.write(picture)
        else:
            Path(args.output).write_bytes(picture)
    except TimelineError as err:
        print(f"kubelite timeline: {err}", file=sys.stderr)
        return 1
    return 0


def output_format(path: str, given: str | None) -> Format:
    """The picture's format: ``given``, else the file's suffix."""
    suffix = given or Path(path).suffix.lower().lstrip(".")
    if suffix == "svg":
        return "svg"
    if suffix == "png":
        return "png"
    raise TimelineError(f"cannot tell the format of {path!r}: name a .svg or .png file")


def finished(record: dict[str, Any]) -> bool:
    return any(f.get("type") == rec.POD_FINISHED for f in rec.facts(record))


# ---------------------------------------------------------------------------- access


def find_access(kubeconfig: str | None, context: str, settings: Settings) -> Access:
    """The kubeconfig's current (or named) context, else the local API server's admin."""
    paths = [kubeconfig] if kubeconfig else _kubeconfig_paths()
    for path in paths:
        if path and Path(path).is_file():
            return from_kubeconfig(Path(path), context)
    if kubeconfig:
        raise TimelineError(f"no kubeconfig at {kubeconfig}")
    return _local(settings)


def _kubeconfig_paths() -> list[str]:
    env = os.environ.get("KUBECONFIG", "")
    if env:
        return [p for p in env.split(os.pathsep) if p]
    return [str(Path.home() / ".kube" / "config")]


def _local(settings: Settings) -> Access:
    from kubelite.api.assembly import DEFAULT_PORT
    from kubelite.api.pki import Pki

    pki = Pki(settings.pki_dir)
    if not pki.ca_cert.is_file() or not pki.token_file.is_file():
        raise TimelineError(
            "no kubeconfig found (--kubeconfig, $KUBECONFIG, ~/.kube/config) and no local "
            f"kubelite up in {settings.data_dir}"
        )
    return Access(
        server=f"https://127.0.0.1:{DEFAULT_PORT}", ca=pki.ca_cert.read_text(), token=pki.token()
    )


def _named(items: Any, name: str, what: str) -> dict[str, Any]:
    for item in items or ():
        if isinstance(item, dict) and item.get("name") == name:
            return dict(item.get(what) or {})
    raise TimelineError(f"the kubeconfig has no {what} {name!r}")


def _data(entry: dict[str, Any], key: str, base: Path) -> str:
    """``<key>-data`` (base64) or the file ``<key>`` names, as text; "" if neither."""
    if entry.get(f"{key}-data"):
        return base64.b64decode(entry[f"{key}-data"]).decode()
    if entry.get(key):
        path = Path(os.path.expanduser(str(entry[key])))
        return (path if path.is_absolute() else base / path).read_text()
    return ""


def from_kubeconfig(path: Path, context: str = "") -> Access:
    try:
        config = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as err:
        raise TimelineError(f"cannot read the kubeconfig {path}: {err}") from err
    name = context or str(config.get("current-context") or "")
    if not name:
        raise TimelineError(f"the kubeconfig {path} has no current context")
    ctx = _named(config.get("contexts"), name, "context")
    cluster = _named(config.get("clusters"), str(ctx.get("cluster", "")), "cluster")
    user = _named(config.get("users"), str(ctx.get("user", "")), "user")
    base = path.parent
    ca: str | None = _data(cluster, "certificate-authority", base)
    if cluster.get("insecure-skip-tls-verify"):
        ca = None
    return Access(
        server=str(cluster.get("server", "")).rstrip("/"),
        namespace=str(ctx.get("namespace") or ""),
        ca=ca,
        cert=_data(user, "client-certificate", base),
        key=_data(user, "client-key", base),
        token=str(user.get("token") or ""),
    )


# ---------------------------------------------------------------------------- reading


def _ssl_context(access: Access, folder: Path) -> ssl.SSLContext:
    if access.ca is None:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ctx = ssl.create_default_context(cadata=access.ca or None)
    if access.cert and access.key:
        cert, key = folder / "client.crt", folder / "client.key"
        cert.write_text(access.cert)
        key.write_text(access.key)
        ctx.load_cert_chain(cert, key)
    return ctx


def fetch(access: Access, namespace: str, pod: str) -> dict[str, Any]:
    """The pod's PodLifecycle object."""
    path = (
        f"/apis/{rec.GROUP}/{rec.VERSION}/namespaces/{quote(namespace)}/{rec.PLURAL}/{quote(pod)}"
    )
    request = urllib.request.Request(access.server + path, headers={"Accept": "application/json"})
    if access.token:
        request.add_header("Authorization", f"Bearer {access.token}")
    with tempfile.TemporaryDirectory(prefix="kubelite-timeline-") as folder:
        os.chmod(folder, 0o700)
        try:
            ctx = _ssl_context(access, Path(folder))
            with urllib.request.urlopen(request, timeout=TIMEOUT, context=ctx) as resp:
                body = json.loads(resp.read())
        except urllib.error.HTTPError as err:
            if err.code == 404:
                raise TimelineError(
                    f"pod {namespace}/{pod} has no lifecycle record (podlifecycles.kubelite.dev "
                    f'"{pod}" not found): it does not exist, or no kubelite node has run it'
                ) from err
            raise TimelineError(f"reading the record of {namespace}/{pod}: {_status(err)}") from err
        except (urllib.error.URLError, OSError, ssl.SSLError, ValueError) as err:
            raise TimelineError(f"cannot reach the API at {access.server}: {err}") from err
    if not isinstance(body, dict) or body.get("kind") != rec.KIND:
        raise TimelineError(f"the API answered something else than a {rec.KIND}")
    return body


def _status(err: urllib.error.HTTPError) -> str:
    try:
        status = json.loads(err.read())
        return f"{err.code} {status.get('reason', '')}: {status.get('message', '')}"
    except (ValueError, OSError):
        return f"{err.code} {err.reason}"
