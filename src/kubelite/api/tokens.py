"""Service-account tokens: the signed JWTs the API server issues through TokenRequest, and the
checks its authenticator makes on them before any object is read.

The claims are the API server's: ``iss``, ``sub`` (``system:serviceaccount:<ns>:<name>``),
``aud``, ``exp``, ``iat``, ``nbf``, ``jti`` and the private ``kubernetes.io`` claim naming the
namespace, the ServiceAccount (name and uid) and the object the token is bound to (a pod, with
the node it runs on; a secret; or a node). Tokens are signed ES256 with the key in the PKI
directory (``sa.key``); the header's ``kid`` is derived from the public key as upstream does.

Lifetimes (``token_lifetime``): at least 10 minutes, at most 2^32 s, 1 h when not asked. A
request for exactly 3607 s bound to a pod for the API server's own audiences is the kubelet
filling the admission plugin's ``kube-api-access-*`` volume: the token then lives a year and
carries ``warnafter`` at the asked 3607 s (``--service-account-extend-token-expiration``, on
by default), while ``status.expirationTimestamp`` still says 3607 s, so the kubelet refreshes
it on the usual schedule.

Pure apart from ``ServiceAccountIssuer`` (which holds the key): ``claims``, ``token_lifetime``
and ``check_claims`` take every input as data, the clock included.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from kubelite.errors import KubeliteError

ALGORITHM = "ES256"
DEFAULT_CLUSTER_DOMAIN = "cluster.local"
DEFAULT_SECONDS = 3600  # TokenRequestSpec.expirationSeconds when not given
MIN_SECONDS = 600
MAX_SECONDS = 1 << 32
BOUND_VOLUME_SECONDS = 3607  # what the admission plugin's volume asks for (kubelet-style)
EXTENDED_SECONDS = 365 * 24 * 3600
LEEWAY_SECONDS = 60  # clock skew allowed on exp, nbf and iat (go-jose's default leeway)
PRIVATE_CLAIM = "kubernetes.io"


def issuer_for(cluster_domain: str = DEFAULT_CLUSTER_DOMAIN) -> str:
    """The issuer kind and kubeadm clusters use; the API's audiences default to it."""
    return f"https://kubernetes.default.svc.{cluster_domain.strip('.')}"


def username(namespace: str, name: str) -> str:
    return f"system:serviceaccount:{namespace}:{name}"


@dataclass(frozen=True, slots=True)
class ObjectRef:
    name: str
    uid: str


@dataclass(frozen=True, slots=True)
class TokenSubject:
    """Who a token speaks for and what it is bound to (at most a pod, a secret or a node; a
    pod-bound token may also name the pod's node)."""

    namespace: str
    service_account: ObjectRef
    pod: ObjectRef | None = None
    secret: ObjectRef | None = None
    node: ObjectRef | None = None


@dataclass(frozen=True, slots=True)
class Lifetime:
    seconds: int  # how long the JWT itself is valid
    warn_after: int | None = None  # the asked lifetime, when it was extended


def token_lifetime(
    requested: int,
    *,
    bound_to_pod: bool,
    audiences: Sequence[str],
    api_audiences: Sequence[str],
    extend: bool = True,
) -> Lifetime:
    """The JWT's lifetime for a validated request of ``requested`` seconds."""
    if (
        extend
        and bound_to_pod
        and requested == BOUND_VOLUME_SECONDS
        and set(audiences) <= set(api_audiences)
    ):
        return Lifetime(EXTENDED_SECONDS, requested)
    return Lifetime(requested)


def _ref(r: ObjectRef) -> dict[str, str]:
    return {k: v for k, v in (("name", r.name), ("uid", r.uid)) if v}


def claims(
    subject: TokenSubject,
    *,
    issuer: str,
    audiences: Sequence[str],
    now: int,
    lifetime: Lifetime,
    jti: str,
) -> dict[str, Any]:
    """The JWT claims the API server signs, in its key order."""
    private: dict[str, Any] = {"namespace": subject.namespace}
    if subject.node is not None:
        private["node"] = _ref(subject.node)
    if subject.pod is not None:
        private["pod"] = _ref(subject.pod)
    if subject.secret is not None:
        private["secret"] = _ref(subject.secret)
    private["serviceaccount"] = _ref(subject.service_account)
    if lifetime.warn_after is not None:
        private["warnafter"] = now + lifetime.warn_after
    return {
        "aud": list(audiences),
        "exp": now + lifetime.seconds,
        "iat": now,
        "iss": issuer,
        "jti": jti,
        PRIVATE_CLAIM: private,
        "nbf": now,
        "sub": username(subject.namespace, subject.service_account.name),
    }


# -- verification ---------------------------------------------------------------------------------


class TokenError(KubeliteError):
    """The token is not a valid service-account token of this issuer (a 401, never detailed to
    the client)."""


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    subject: TokenSubject
    audiences: tuple[str, ...]
    expires: int
    jti: str


def _opt_ref(value: Any) -> ObjectRef | None:
    if not isinstance(value, Mapping):
        return None
    return ObjectRef(str(value.get("name") or ""), str(value.get("uid") or ""))


def _number(payload: Mapping[str, Any], key: str) -> int | None:
    value = payload.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenError(f"claim {key} is not a number")
    return int(value)


def check_claims(
    payload: Mapping[str, Any], *, issuer: str, api_audiences: Sequence[str], now: float
) -> VerifiedToken:
    """The checks on a token whose signature is good: issuer, times (with a minute's leeway),
    an audience shared with the API's, and a well-formed ``kubernetes.io`` claim."""
    if payload.get("iss") != issuer:
        raise TokenError("token issuer is not this server")
    exp, nbf, iat = _number(payload, "exp"), _number(payload, "nbf"), _number(payload, "iat")
    if exp is None or now - LEEWAY_SECONDS >= exp:
        raise TokenError("service account token has expired")
    if nbf is not None and now + LEEWAY_SECONDS < nbf:
        raise TokenError("service account token is not valid yet")
    if iat is not None and now + LEEWAY_SECONDS < iat:
        raise TokenError("service account token is issued in the future")
    aud = payload.get("aud")
    audiences = (aud,) if isinstance(aud, str) else tuple(str(a) for a in aud or ())
    if not set(audiences) & set(api_audiences):
        raise TokenError(f"token audiences {list(audiences)} are invalid for {list(api_audiences)}")
    private = payload.get(PRIVATE_CLAIM)
    account = _opt_ref(private.get("serviceaccount")) if isinstance(private, Mapping) else None
    if not isinstance(private, Mapping) or account is None or not account.name:
        raise TokenError("token has no service account claim")
    namespace = str(private.get("namespace") or "")
    if not namespace or payload.get("sub") != username(namespace, account.name):
        raise TokenError("token subject does not match its service account claim")
    subject = TokenSubject(
        namespace=namespace,
        service_account=account,
        pod=_opt_ref(private.get("pod")),
        secret=_opt_ref(private.get("secret")),
        node=_opt_ref(private.get("node")),
    )
    return VerifiedToken(subject, audiences, exp, str(payload.get("jti") or ""))


# -- the key ---------------------------------------------------------------------------------------


def key_id(public: ec.EllipticCurvePublicKey) -> str:
    """Upstream's ``kid``: unpadded base64url of the SHA-256 of the DER public key."""
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()


def write_signing_key(path: Path) -> None:
    """A new P-256 signing key, mode 0600 (``sa.key``), and its public half beside it."""
    key = ec.generate_private_key(ec.SECP256R1())
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    path.with_suffix(".pub").write_bytes(public)


class ServiceAccountIssuer:
    """Signs and verifies this server's service-account tokens."""

    def __init__(
        self,
        *,
        key: ec.EllipticCurvePrivateKey,
        issuer: str,
        audiences: Sequence[str] | None = None,
        extend_expiration: bool = True,
    ) -> None:
        self._key = key
        self._public = key.public_key()
        self.issuer = issuer
        self.audiences: tuple[str, ...] = tuple(audiences or (issuer,))
        self.extend_expiration = extend_expiration
        self.kid = key_id(self._public)

    @classmethod
    def from_key_file(cls, path: Path, *, issuer: str) -> ServiceAccountIssuer:
        loaded = serialization.load_pem_private_key(path.read_bytes(), None)
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{path} is not an EC private key")
        return cls(key=loaded, issuer=issuer)

    @classmethod
    def ephemeral(cls, issuer: str | None = None) -> ServiceAccountIssuer:
        """A key that lives in memory only (tests, servers built without a PKI)."""
        key = ec.generate_private_key(ec.SECP256R1())
        return cls(key=key, issuer=issuer or issuer_for())

    def lifetime(self, requested: int, *, bound_to_pod: bool, audiences: Sequence[str]) -> Lifetime:
        return token_lifetime(
            requested,
            bound_to_pod=bound_to_pod,
            audiences=audiences,
            api_audiences=self.audiences,
            extend=self.extend_expiration,
        )

    def issue(
        self, subject: TokenSubject, *, audiences: Sequence[str], now: float, lifetime: Lifetime
    ) -> str:
        body = claims(
            subject,
            issuer=self.issuer,
            audiences=audiences,
            now=int(now),
            lifetime=lifetime,
            jti=str(uuid.uuid4()),
        )
        payload = json.dumps(body, separators=(",", ":")).encode()
        headers = {"kid": self.kid, "typ": None}
        return jwt.api_jws.PyJWS().encode(payload, self._key, ALGORITHM, headers=headers)

    def verify(self, token: str, *, now: float) -> VerifiedToken:
        """Signature, then ``check_claims``; ``TokenError`` for anything wrong."""
        if token.count(".") != 2:
            raise TokenError("not a JWT")
        try:
            raw = jwt.api_jws.PyJWS().decode(token, self._public, algorithms=[ALGORITHM])
            payload = json.loads(raw)
        except (jwt.PyJWTError, ValueError) as exc:
            raise TokenError(f"invalid token: {exc}") from exc
        if not isinstance(payload, dict):
            raise TokenError("token claims are not an object")
        return check_claims(payload, issuer=self.issuer, api_audiences=self.audiences, now=now)
