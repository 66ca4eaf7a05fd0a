"""Service-account tokens: the claims and lifetimes the API server gives them, the JWT checks
(signature, times, audience, issuer) and the authenticator's checks of the objects a token
names, all on a fake clock."""

from __future__ import annotations

import base64
import json
from typing import Any

import jwt
import pytest

from kubelite.api.auth import ServiceAccountAuthenticator, service_account_user
from kubelite.api.tokens import (
    EXTENDED_SECONDS,
    Lifetime,
    ObjectRef,
    ServiceAccountIssuer,
    TokenError,
    TokenSubject,
    check_claims,
    claims,
    issuer_for,
    token_lifetime,
)
from kubelite.clock import ManualClock, rfc3339
from kubelite.registry.nodes import NODES
from kubelite.registry.pods import PODS
from kubelite.registry.secrets import SECRETS
from kubelite.registry.serviceaccounts import SERVICEACCOUNTS
from kubelite.store.interface import NotFound

NOW = 1_700_000_000
ISSUER = "https://kubernetes.default.svc.cluster.local"
SA = ObjectRef("default", "sa-uid")
POD = ObjectRef("web", "pod-uid")
NODE = ObjectRef("node-1", "node-uid")
BOUND = TokenSubject("ns", SA, pod=POD, node=NODE)


def test_the_issuer_is_the_kubernetes_services_name_in_the_cluster_domain() -> None:
    assert issuer_for() == ISSUER
    assert issuer_for("example.org.") == "https://kubernetes.default.svc.example.org"


def test_claims_are_the_api_servers_for_a_pod_bound_token() -> None:
    got = claims(
        BOUND,
        issuer=ISSUER,
        audiences=[ISSUER],
        now=NOW,
        lifetime=Lifetime(EXTENDED_SECONDS, 3607),
        jti="id-1",
    )
    assert got == {
        "aud": [ISSUER],
        "exp": NOW + EXTENDED_SECONDS,
        "iat": NOW,
        "iss": ISSUER,
        "jti": "id-1",
        "kubernetes.io": {
            "namespace": "ns",
            "node": {"name": "node-1", "uid": "node-uid"},
            "pod": {"name": "web", "uid": "pod-uid"},
            "serviceaccount": {"name": "default", "uid": "sa-uid"},
            "warnafter": NOW + 3607,
        },
        "nbf": NOW,
        "sub": "system:serviceaccount:ns:default",
    }
    assert list(got) == sorted(got)  # the key order go-jose writes
    assert list(got["kubernetes.io"]) == sorted(got["kubernetes.io"])


def test_an_unbound_token_names_only_the_account() -> None:
    got = claims(
        TokenSubject("ns", SA), issuer=ISSUER, audiences=["a"], now=NOW,
        lifetime=Lifetime(600), jti="j",
    )  # fmt: skip
    assert got["kubernetes.io"] == {
        "namespace": "ns",
        "serviceaccount": {"name": "default", "uid": "sa-uid"},
    }
    assert got["exp"] == NOW + 600


@pytest.mark.parametrize(
    ("requested", "pod", "audiences", "expected"),
    [
        (3607, True, [ISSUER], Lifetime(EXTENDED_SECONDS, 3607)),  # the kubelet's volume
        (3607, False, [ISSUER], Lifetime(3607)),  # not bound to a pod
        (3600, True, [ISSUER], Lifetime(3600)),  # any other lifetime
        (3607, True, ["vault"], Lifetime(3607)),  # for someone else's audience
        (3607, True, [ISSUER, "vault"], Lifetime(3607)),
    ],
)
def test_only_the_kubelets_3607_second_pod_tokens_for_the_api_live_a_year(
    requested: int, pod: bool, audiences: list[str], expected: Lifetime
) -> None:
    got = token_lifetime(requested, bound_to_pod=pod, audiences=audiences, api_audiences=[ISSUER])
    assert got == expected


def test_extension_can_be_turned_off() -> None:
    got = token_lifetime(
        3607, bound_to_pod=True, audiences=[ISSUER], api_audiences=[ISSUER], extend=False
    )
    assert got == Lifetime(3607)


# -- verification ---------------------------------------------------------------------------------


def issue(issuer: ServiceAccountIssuer, subject: TokenSubject = BOUND, **kw: Any) -> str:
    kw.setdefault("audiences", [ISSUER])
    kw.setdefault("now", NOW)
    kw.setdefault("lifetime", Lifetime(3600))
    return issuer.issue(subject, **kw)


def test_a_token_verifies_and_its_header_names_the_key() -> None:
    issuer = ServiceAccountIssuer.ephemeral()
    token = issue(issuer)
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": issuer.kid}
    got = issuer.verify(token, now=NOW + 10)
    assert got.subject == BOUND and got.audiences == (ISSUER,) and got.expires == NOW + 3600


def _tampered(token: str) -> str:
    head, body, sig = token.split(".")
    claims_ = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims_["sub"] = "system:serviceaccount:kube-system:admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims_).encode()).rstrip(b"=").decode()
    return f"{head}.{forged}.{sig}"


@pytest.mark.parametrize(
    "case",
    ["signed by another key", "tampered claims", "not a JWT", "garbage in three parts"],
)
def test_a_token_that_is_not_ours_is_refused(case: str) -> None:
    issuer = ServiceAccountIssuer.ephemeral()
    token = {
        "signed by another key": issue(ServiceAccountIssuer.ephemeral()),
        "tampered claims": _tampered(issue(issuer)),
        "not a JWT": "abc",
        "garbage in three parts": "a.b.c",
    }[case]
    with pytest.raises(TokenError):
        issuer.verify(token, now=NOW)


def payload(**changes: Any) -> dict[str, Any]:
    base = claims(BOUND, issuer=ISSUER, audiences=[ISSUER], now=NOW,
                  lifetime=Lifetime(3600), jti="j")  # fmt: skip
    return {**base, **changes}


@pytest.mark.parametrize(
    ("body", "now", "message"),
    [
        (payload(), NOW + 3600 + 60, "service account token has expired"),
        (payload(nbf=NOW + 120), NOW, "service account token is not valid yet"),
        (payload(iat=NOW + 120, nbf=NOW), NOW, "service account token is issued in the future"),
        (payload(aud=["vault"]), NOW, "token audiences ['vault'] are invalid"),
        (payload(iss="https://elsewhere"), NOW, "token issuer is not this server"),
        (payload(sub="system:serviceaccount:ns:other"), NOW, "token subject does not match"),
        ({k: v for k, v in payload().items() if k != "kubernetes.io"}, NOW, "no service account"),
        ({k: v for k, v in payload().items() if k != "exp"}, NOW, "has expired"),
    ],
)
def test_claims_that_fail_a_check_say_which(body: dict[str, Any], now: int, message: str) -> None:
    with pytest.raises(TokenError, match=message.replace("[", r"\[").replace("]", r"\]")):
        check_claims(body, issuer=ISSUER, api_audiences=[ISSUER], now=now)


@pytest.mark.parametrize("now", [NOW + 3600 + 59, NOW - 59])
def test_a_minute_of_clock_skew_is_allowed(now: int) -> None:
    check_claims(payload(), issuer=ISSUER, api_audiences=[ISSUER], now=now)


def test_one_shared_audience_is_enough() -> None:
    got = check_claims(payload(aud=["vault", ISSUER]), issuer=ISSUER, api_audiences=[ISSUER],
                       now=NOW)  # fmt: skip
    assert got.audiences == ("vault", ISSUER)


def test_the_user_is_the_accounts_with_its_groups_and_the_pod_in_extra() -> None:
    issuer = ServiceAccountIssuer.ephemeral()
    user = service_account_user(issuer.verify(issue(issuer), now=NOW))
    assert user.name == "system:serviceaccount:ns:default"
    assert user.uid == "sa-uid"
    assert user.groups == (
        "system:serviceaccounts",
        "system:serviceaccounts:ns",
        "system:authenticated",
    )
    prefix = "authentication.kubernetes.io/"
    assert user.extra[prefix + "pod-name"] == ("web",)
    assert user.extra[prefix + "node-uid"] == ("node-uid",)
    assert user.extra[prefix + "credential-id"][0].startswith("JTI=")


# -- the authenticator: the objects a token names must still be there ------------------------------


class Objects:
    def __init__(self, *objects: tuple[Any, dict[str, Any]]) -> None:
        self.objects = {
            (kind.plural, o["metadata"].get("namespace", ""), o["metadata"]["name"]): o
            for kind, o in objects
        }
        self.reads = 0

    async def get(self, kind: Any, namespace: str, name: str) -> dict[str, Any]:
        self.reads += 1
        try:
            return self.objects[(kind.plural, namespace, name)]
        except KeyError:
            raise NotFound(name) from None


def obj(name: str, uid: str, namespace: str = "ns", deleted: float | None = None) -> dict[str, Any]:
    md: dict[str, Any] = {"name": name, "uid": uid, "namespace": namespace}
    if deleted is not None:
        md["deletionTimestamp"] = rfc3339(deleted)
    return {"metadata": md}


KEEP: dict[str, Any] = {}


def world(
    sa: dict[str, Any] | None = KEEP,
    pod: dict[str, Any] | None = KEEP,
    node: dict[str, Any] | None = KEEP,
) -> Objects:
    """The account, its pod and the pod's node; ``None`` leaves one out."""
    sa = obj("default", "sa-uid") if sa is KEEP else sa
    pod = obj("web", "pod-uid") if pod is KEEP else pod
    node = obj("node-1", "node-uid", namespace="") if node is KEEP else node
    pairs = [(SERVICEACCOUNTS, sa), (PODS, pod), (NODES, node)]
    return Objects(*((kind, o) for kind, o in pairs if o is not None))


async def authenticate(objects: Objects, token: str, clock: ManualClock) -> str | None:
    auth = ServiceAccountAuthenticator(
        issuer=ISSUERS["main"],
        registry=objects,
        clock=clock,  # type: ignore[arg-type]
    )
    user = await auth.authenticate(token)
    return None if user is None else user.name


ISSUERS = {"main": ServiceAccountIssuer.ephemeral()}


@pytest.mark.parametrize(
    ("objects", "accepted"),
    [
        (world(), True),
        (world(pod=None), False),  # the bound pod was deleted
        (world(pod=obj("web", "another-uid")), False),  # and made again under the same name
        (world(pod=obj("web", "pod-uid", deleted=NOW - 30)), True),  # within the leeway
        (world(pod=obj("web", "pod-uid", deleted=NOW - 120)), False),
        (world(sa=None), False),  # the account is gone
        (world(sa=obj("default", "new-uid")), False),
        (world(node=None), True),  # a pod-bound token only names its node
    ],
)
async def test_a_token_is_good_while_the_objects_it_names_are(
    objects: Objects, accepted: bool
) -> None:
    clock = ManualClock(NOW)
    token = issue(ISSUERS["main"])
    got = await authenticate(objects, token, clock)
    assert (got == "system:serviceaccount:ns:default") is accepted


@pytest.mark.parametrize(
    ("subject", "objects", "accepted"),
    [
        (TokenSubject("ns", SA, secret=ObjectRef("s", "s-uid")), ("s", "s-uid"), True),
        (TokenSubject("ns", SA, secret=ObjectRef("s", "s-uid")), ("s", "x"), False),
        (TokenSubject("ns", SA, node=NODE), None, True),
        (TokenSubject("ns", SA, node=ObjectRef("gone", "u")), None, False),
    ],
)
async def test_secret_and_node_bound_tokens_need_their_object(
    subject: TokenSubject, objects: tuple[str, str] | None, accepted: bool
) -> None:
    clock = ManualClock(NOW)
    found = world()
    if objects is not None:
        found.objects[(SECRETS.plural, "ns", objects[0])] = obj(*objects)
    token = issue(ISSUERS["main"], subject)
    assert (await authenticate(found, token, clock) is not None) is accepted


async def test_a_good_token_is_remembered_for_ten_seconds() -> None:
    clock = ManualClock(NOW)
    objects = world()
    auth = ServiceAccountAuthenticator(
        issuer=ISSUERS["main"],
        registry=objects,
        clock=clock,  # type: ignore[arg-type]
    )
    token = issue(ISSUERS["main"])
    assert await auth.authenticate(token) is not None
    reads = objects.reads
    del objects.objects[("pods", "ns", "web")]
    assert await auth.authenticate(token) is not None  # from the cache
    assert objects.reads == reads
    await clock.advance(10.5)
    assert await auth.authenticate(token) is None


async def test_an_expired_token_is_refused_by_the_authenticator() -> None:
    clock = ManualClock(NOW + 3600 + 61)
    assert await authenticate(world(), issue(ISSUERS["main"]), clock) is None
