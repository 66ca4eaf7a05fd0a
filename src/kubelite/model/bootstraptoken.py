"""Bootstrap tokens: the shared secrets a new node joins with (``<id>.<secret>``), kept as
Secrets of type ``bootstrap.kubernetes.io/token`` named ``bootstrap-token-<id>`` in
``kube-system``, as kubeadm writes them and the API server's bootstrap-token authenticator,
the bootstrap signer and the token cleaner read them. Pure.

* ``parse_token``: the bearer token's two halves, or None if it is not of the form
  ``[a-z0-9]{6}.[a-z0-9]{16}`` (such a token is not a bootstrap token at all);
* ``authenticate``: the user a token names, if its Secret is in order (right type, not being
  deleted, the same id and secret, not expired, ``usage-bootstrap-authentication: "true"``,
  valid ``auth-extra-groups``), else the reason it is refused (for the log only: the client
  just gets a 401);
* ``signing_secret``: the secret of a token that may sign the ``cluster-info`` ConfigMap
  (``usage-bootstrap-signing: "true"``), keyed by its id;
* ``expiration``/``expired``: an unparseable expiration counts as expired, as upstream;
* ``token_secret``: the Secret ``kubelite token create`` writes; ``new_token``: a random one.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubelite.clock import parse_rfc3339, rfc3339

SECRET_TYPE = "bootstrap.kubernetes.io/token"
NAMESPACE = "kube-system"
SECRET_PREFIX = "bootstrap-token-"
ID_KEY = "token-id"
SECRET_KEY = "token-secret"
EXPIRATION_KEY = "expiration"
DESCRIPTION_KEY = "description"
EXTRA_GROUPS_KEY = "auth-extra-groups"
USAGE_AUTHENTICATION = "usage-bootstrap-authentication"
USAGE_SIGNING = "usage-bootstrap-signing"
USER_PREFIX = "system:bootstrap:"
DEFAULT_GROUP = "system:bootstrappers"
# The group kubelite's tokens add, bound to node bootstrapping and CSR auto-approval (as
# kubeadm's ``system:bootstrappers:kubeadm:default-node-token``).
NODE_TOKEN_GROUP = "system:bootstrappers:kubelite:default-node-token"
DEFAULT_TTL = 24 * 3600.0

_TOKEN = re.compile(r"\A([a-z0-9]{6})\.([a-z0-9]{16})\Z")
_ID = re.compile(r"\A[a-z0-9]{6}\Z")
_SECRET_NAME = re.compile(r"\A" + re.escape(SECRET_PREFIX) + r"([a-z0-9]{6})\Z")
_GROUP = re.compile(r"\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\Z")
_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True, slots=True)
class Token:
    id: str
    secret: str

    def __str__(self) -> str:
        return f"{self.id}.{self.secret}"


@dataclass(frozen=True, slots=True)
class BootstrapUser:
    name: str  # system:bootstrap:<id>
    groups: tuple[str, ...]  # system:bootstrappers and the extra groups, sorted


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: str


def parse_token(text: str) -> Token | None:
    m = _TOKEN.match(text)
    return Token(m.group(1), m.group(2)) if m else None


def is_token_id(text: str) -> bool:
    return _ID.match(text) is not None


def secret_name(token_id: str) -> str:
    return SECRET_PREFIX + token_id


def id_from_secret_name(name: str) -> str | None:
    m = _SECRET_NAME.match(name)
    return m.group(1) if m else None


def new_token() -> Token:
    """A random token (both halves from [a-z0-9], as kubeadm generates them)."""

    def pick(n: int) -> str:
        return "".join(secrets.choice(_ALPHABET) for _ in range(n))

    return Token(pick(6), pick(16))


def data_value(secret: Mapping[str, Any], key: str) -> str:
    """A key of the Secret's ``data``, decoded ("" if absent or not base64)."""
    data = secret.get("data") or {}
    raw = data.get(key) if isinstance(data, Mapping) else None
    if not isinstance(raw, str):
        return ""
    try:
        return base64.b64decode(raw, validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return ""


def expiration(secret: Mapping[str, Any]) -> float | None:
    """When the token expires (seconds since the epoch); None if it never does. An expiration
    that cannot be parsed is the epoch: the token counts as expired."""
    text = data_value(secret, EXPIRATION_KEY)
    if not text:
        return None
    try:
        return parse_rfc3339(text)
    except ValueError:
        return 0.0


def expired(secret: Mapping[str, Any], now: float) -> bool:
    at = expiration(secret)
    return at is not None and at - now <= 0


def extra_groups(secret: Mapping[str, Any]) -> tuple[str, ...] | Refusal:
    """``system:bootstrappers`` and the ``auth-extra-groups``, sorted and without repeats, or
    the refusal of a group outside ``system:bootstrappers:``."""
    groups = {DEFAULT_GROUP}
    text = data_value(secret, EXTRA_GROUPS_KEY)
    if text:
        for group in text.split(","):
            if not _GROUP.match(group):
                return Refusal(
                    f"has invalid value for key {EXTRA_GROUPS_KEY}: bootstrap group {group!r} "
                    f"is invalid (must match {_GROUP.pattern})"
                )
            groups.add(group)
    return tuple(sorted(groups))


def authenticate(
    token: Token, secret: Mapping[str, Any] | None, now: float
) -> BootstrapUser | Refusal:
    """The bootstrap authenticator's checks of ``secret`` (the one named after the token's
    id), in upstream's order."""
    if secret is None:
        return Refusal(f"no secret of name {secret_name(token.id)} to match bootstrap token")
    md = secret.get("metadata") or {}
    if md.get("deletionTimestamp"):
        return Refusal("is deleted and awaiting removal")
    if secret.get("type") != SECRET_TYPE or not secret.get("data"):
        return Refusal(f"has invalid type, expected {SECRET_TYPE}.")
    if not secrets.compare_digest(data_value(secret, SECRET_KEY), token.secret):
        return Refusal(f"has invalid value for key {SECRET_KEY}.")
    if data_value(secret, ID_KEY) != token.id:
        return Refusal(f"has invalid value for key {ID_KEY}.")
    if expired(secret, now):
        return Refusal("has expired.")
    if data_value(secret, USAGE_AUTHENTICATION) != "true":
        return Refusal(f"not marked {USAGE_AUTHENTICATION}=true.")
    groups = extra_groups(secret)
    if isinstance(groups, Refusal):
        return groups
    return BootstrapUser(USER_PREFIX + token.id, groups)


def signing_secret(secret: Mapping[str, Any], now: float) -> Token | None:
    """The token of a Secret that may sign ``cluster-info`` (the bootstrap signer's check):
    a ``bootstrap-token-<id>`` name matching its ``token-id``, a secret, not expired, and
    ``usage-bootstrap-signing: "true"``."""
    if secret.get("type") != SECRET_TYPE:
        return None
    name_id = id_from_secret_name(str((secret.get("metadata") or {}).get("name") or ""))
    token_id = data_value(secret, ID_KEY)
    token_secret = data_value(secret, SECRET_KEY)
    if name_id is None or not token_id or name_id != token_id or not token_secret:
        return None
    if expired(secret, now) or data_value(secret, USAGE_SIGNING) != "true":
        return None
    return Token(token_id, token_secret)


def token_secret(
    token: Token,
    *,
    now: float,
    ttl: float | None = DEFAULT_TTL,
    groups: tuple[str, ...] = (NODE_TOKEN_GROUP,),
    description: str = "",
    usages: tuple[str, ...] = ("authentication", "signing"),
) -> dict[str, Any]:
    """The Secret that makes ``token`` valid; ``ttl`` None or 0 never expires."""
    string_data = {ID_KEY: token.id, SECRET_KEY: token.secret}
    if ttl:
        string_data[EXPIRATION_KEY] = rfc3339(now + ttl)
    if description:
        string_data[DESCRIPTION_KEY] = description
    for usage in usages:
        string_data[f"usage-bootstrap-{usage}"] = "true"
    if groups:
        string_data[EXTRA_GROUPS_KEY] = ",".join(groups)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": secret_name(token.id), "namespace": NAMESPACE},
        "type": SECRET_TYPE,
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in string_data.items()},
    }
