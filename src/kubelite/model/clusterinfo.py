"""The ``kube-public/cluster-info`` ConfigMap a joining node discovers the cluster from, and
the detached JWS signatures that let it trust what it read anonymously. Pure.

The ConfigMap holds a kubeconfig (key ``kubeconfig``) naming the API server and its CA; the
bootstrap signer adds one ``jws-kubeconfig-<token id>`` key per signing token: a compact JWS
(RFC 7515) over the kubeconfig text with the payload left out (``<header>..<signature>``,
Appendix F), HS256 keyed with the token's secret padded with zero bytes to 32, the header
``{"alg":"HS256","kid":"<token id>"}``, exactly as cluster-bootstrap's ``jws`` computes it,
so a node holding the token can check the kubeconfig was written by someone who knows it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

import yaml

from kubelite.model.bootstraptoken import Token

NAMESPACE = "kube-public"
NAME = "cluster-info"
KUBECONFIG_KEY = "kubeconfig"
SIGNATURE_PREFIX = "jws-kubeconfig-"
_KEY_BYTES = 32  # go-jose's minimum HS256 key length


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def detached_signature(content: str, token: Token) -> str:
    """The detached JWS of ``content`` for ``token``."""
    header = json.dumps({"alg": "HS256", "kid": token.id}, separators=(",", ":"))
    signing_input = f"{_b64url(header.encode())}.{_b64url(content.encode())}"
    key = token.secret.encode().ljust(_KEY_BYTES, b"\0")
    mac = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{_b64url(header.encode())}..{_b64url(mac)}"


def signature_valid(signature: str, content: str, token: Token) -> bool:
    return hmac.compare_digest(signature, detached_signature(content, token))


def kubeconfig(server: str, ca_pem: bytes) -> str:
    """The kubeconfig ``cluster-info`` carries: one unnamed cluster, no user, as kubeadm's."""
    doc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "",
                "cluster": {
                    "certificate-authority-data": base64.b64encode(ca_pem).decode(),
                    "server": server,
                },
            }
        ],
        "contexts": None,
        "current-context": "",
        "preferences": {},
        "users": None,
    }
    return str(yaml.safe_dump(doc, sort_keys=True))


def config_map(server: str, ca_pem: bytes) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": NAME, "namespace": NAMESPACE},
        "data": {KUBECONFIG_KEY: kubeconfig(server, ca_pem)},
    }


def signed_data(data: Mapping[str, str], tokens: Mapping[str, Token]) -> dict[str, str] | None:
    """``data`` with exactly one signature per token in ``tokens`` (by id) over its
    kubeconfig, or None if it already has exactly those (nothing to write). No kubeconfig:
    None (nothing can be signed)."""
    content = data.get(KUBECONFIG_KEY)
    if content is None:
        return None
    kept = {k: v for k, v in data.items() if not k.startswith(SIGNATURE_PREFIX)}
    wanted = {SIGNATURE_PREFIX + i: detached_signature(content, t) for i, t in tokens.items()}
    have = {k: v for k, v in data.items() if k.startswith(SIGNATURE_PREFIX)}
    if have == wanted:
        return None
    return {**kept, **wanted}


class DiscoveryError(ValueError):
    """What was read cannot be trusted or used (the message says why, in kubeadm's words)."""


def cluster_of(content: str) -> tuple[str, bytes]:
    """The server and the CA (PEM) of the kubeconfig in ``cluster-info``."""
    try:
        doc = yaml.safe_load(content)
        cluster = doc["clusters"][0]["cluster"]
        server = str(cluster["server"])
        ca = base64.b64decode(cluster["certificate-authority-data"], validate=True)
    except (yaml.YAMLError, KeyError, IndexError, TypeError, ValueError) as err:
        raise DiscoveryError(
            f"couldn't parse the kubeconfig file in the cluster-info ConfigMap: {err}"
        ) from err
    return server, ca


def verified_content(config_map: Mapping[str, Any], token: Token) -> str:
    """The kubeconfig of ``cluster-info`` once the token's signature over it checks out."""
    data = config_map.get("data") or {}
    content = data.get(KUBECONFIG_KEY)
    if not isinstance(content, str):
        raise DiscoveryError(
            f"there is no {KUBECONFIG_KEY} key in the {NAME} ConfigMap. This API Server isn't "
            "set up for token bootstrapping, can't connect"
        )
    signature = data.get(SIGNATURE_PREFIX + token.id)
    if not isinstance(signature, str):
        raise DiscoveryError(
            f"token id {token.id!r} is invalid for this cluster or it has expired. Use "
            '"kubelite token create" on the control-plane node to create a new valid token'
        )
    if not signature_valid(signature, content, token):
        raise DiscoveryError(
            "failed to verify JWS signature of received cluster info object, can't trust "
            "this API Server"
        )
    return content
