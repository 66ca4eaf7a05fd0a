"""Reading a kubeconfig as kubectl does, for kubelite's own commands that talk to a running
API server (``kubelite token create``): the current context's cluster (server, CA) and user
(client certificate and key, or a bearer token), inline (``*-data``) or in files.

``default_path``: ``--kubeconfig``, else the first file of ``$KUBECONFIG``, else
``~/.kube/config``.
"""

from __future__ import annotations

import base64
import binascii
import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kubelite.client.rest import Credentials
from kubelite.errors import KubeliteError


class KubeconfigError(KubeliteError):
    """The kubeconfig cannot be read or names no usable cluster and user."""


@dataclass(frozen=True, slots=True)
class ClusterAccess:
    server: str
    ca_pem: bytes
    credentials: Credentials


def default_path(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    env = os.environ.get("KUBECONFIG", "")
    first = next((p for p in env.split(os.pathsep) if p), "")
    return Path(first) if first else Path.home() / ".kube" / "config"


def _named(items: Any, name: str, what: str) -> dict[str, Any]:
    for item in items or []:
        if isinstance(item, dict) and item.get("name") == name:
            body = item.get(what)
            return body if isinstance(body, dict) else {}
    raise KubeconfigError(f"no {what} named {name!r} in the kubeconfig")


def _data(section: dict[str, Any], key: str, base: Path) -> bytes:
    """``<key>-data`` (base64) or the file ``<key>`` names (relative to the kubeconfig)."""
    inline = section.get(f"{key}-data")
    if inline:
        try:
            return base64.b64decode(str(inline), validate=True)
        except (binascii.Error, ValueError) as err:
            raise KubeconfigError(f"{key}-data is not base64") from err
    path = section.get(key)
    if not path:
        return b""
    full = Path(str(path))
    return (full if full.is_absolute() else base / full).read_bytes()


def _load_chain(ctx: ssl.SSLContext, cert: bytes, key: bytes) -> None:
    """ssl wants files: the pair goes through a private temporary file, removed at once."""
    fd, name = tempfile.mkstemp(prefix="kubelite-kubeconfig-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(cert + b"\n" + key)
        ctx.load_cert_chain(name)
    finally:
        os.unlink(name)


def load(path: Path) -> ClusterAccess:
    """The current context's cluster and user."""
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise KubeconfigError(f"cannot read the kubeconfig {path}: {err}") from err
    if not isinstance(doc, dict):
        raise KubeconfigError(f"{path} is not a kubeconfig")
    context = _named(doc.get("contexts"), str(doc.get("current-context") or ""), "context")
    cluster = _named(doc.get("clusters"), str(context.get("cluster") or ""), "cluster")
    user = _named(doc.get("users"), str(context.get("user") or ""), "user")
    server = str(cluster.get("server") or "")
    if not server:
        raise KubeconfigError(f"the cluster of the current context in {path} has no server")
    base = path.parent
    ca = _data(cluster, "certificate-authority", base)
    ctx = ssl.create_default_context(cadata=ca.decode() if ca else None)
    cert, key = _data(user, "client-certificate", base), _data(user, "client-key", base)
    if cert and key:
        _load_chain(ctx, cert, key)
    token = str(user.get("token") or "")
    return ClusterAccess(server, ca, Credentials(server, Path(""), token, ctx))
