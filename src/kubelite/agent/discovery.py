"""Token discovery, as ``kubeadm join`` does it: learn the cluster's CA without trusting the
network.

1. Read ``kube-public/cluster-info`` anonymously, without verifying the server (nothing is
   trusted yet);
2. check its ``jws-kubeconfig-<token id>`` signature with the token's secret: only someone who
   knows the token could have signed that kubeconfig;
3. check the CA it names against the ``--discovery-token-ca-cert-hash`` pins (the hash of the
   CA's public key, which the operator copied from the control plane): a man in the middle
   who knows the token still cannot substitute its own CA;
4. read ``cluster-info`` again, now verifying the server with that CA, and require the same
   kubeconfig.

A CA that was not pinned is never trusted. A signature not there yet (a token just made, not
yet signed) or a server not reachable yet is tried again every few seconds until the
discovery timeout; a bad signature or a CA that matches no pin ends the join at once.
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass

import aiohttp

from kubelite.clock import Clock
from kubelite.errors import KubeliteError
from kubelite.model import capin
from kubelite.model import clusterinfo as ci
from kubelite.model.bootstraptoken import Token

log = logging.getLogger(__name__)

CLUSTER_INFO_PATH = f"/api/v1/namespaces/{ci.NAMESPACE}/configmaps/{ci.NAME}"
RETRY_SECONDS = 5.0
DEFAULT_TIMEOUT = 300.0


class DiscoveryFailed(KubeliteError):
    """The cluster's CA could not be learned, or must not be trusted (the message says why)."""


class _Retry(Exception):
    """Worth trying again (not reachable, not signed yet)."""


@dataclass(frozen=True, slots=True)
class Discovered:
    ca_pem: bytes  # the pinned CA, verified
    kubeconfig: str  # cluster-info's, as signed


async def _fetch(server: str, ctx: ssl.SSLContext | bool) -> dict[str, object]:
    timeout = aiohttp.ClientTimeout(total=10)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(server.rstrip("/") + CLUSTER_INFO_PATH, ssl=ctx) as resp,
        ):
            if resp.status != 200:
                raise _Retry(f"the server answered {resp.status}: {(await resp.text())[:200]}")
            body = await resp.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as err:
        raise _Retry(f"failed to request cluster-info: {err}") from err
    if not isinstance(body, dict):
        raise _Retry("cluster-info is not an object")
    return body


def _verified(cm: dict[str, object], token: Token) -> str:
    try:
        return ci.verified_content(cm, token)
    except ci.DiscoveryError as err:
        if "is invalid for this cluster" in str(err):
            raise _Retry(str(err)) from err  # may be signed in a moment
        raise DiscoveryFailed(str(err)) from err


def _pinned_ca(content: str, pins: tuple[str, ...]) -> bytes:
    try:
        _, ca_pem = ci.cluster_of(content)
        capin.check_any(pins, capin.certificates_of_pem(ca_pem))
    except (ci.DiscoveryError, capin.PinError) as err:
        raise DiscoveryFailed(f"cluster CA found in {ci.NAME} configmap is invalid: {err}") from err
    return ca_pem


async def discover_once(server: str, token: Token, pins: tuple[str, ...]) -> Discovered:
    """One attempt: raises ``_Retry`` (try again) or ``DiscoveryFailed`` (give up)."""
    insecure = _verified(await _fetch(server, False), token)
    ca_pem = _pinned_ca(insecure, pins)
    ctx = ssl.create_default_context(cadata=ca_pem.decode())
    secure = await _fetch(server, ctx)
    data = secure.get("data")
    if not isinstance(data, dict) or data.get(ci.KUBECONFIG_KEY) != insecure:
        raise DiscoveryFailed(
            f"the second kubeconfig from the {ci.NAME} configmap (using validated TLS) was "
            "different from the first"
        )
    return Discovered(ca_pem, insecure)


async def discover(
    server: str, token: Token, pins: tuple[str, ...], *, clock: Clock,
    timeout: float = DEFAULT_TIMEOUT,
) -> Discovered:  # fmt: skip
    """The cluster's CA, verified by the token's signature and the pins."""
    if not pins:
        raise DiscoveryFailed(
            "token-based discovery without --discovery-token-ca-cert-hash would trust any CA; "
            "pass the hash 'kubelite token create' printed"
        )
    deadline = clock.monotonic() + timeout
    while True:
        try:
            found = await discover_once(server, token, pins)
        except _Retry as err:
            if clock.monotonic() >= deadline:
                raise DiscoveryFailed(
                    f"abort connecting to API servers after timeout of {timeout:g}s: {err}"
                ) from err
            log.info("[discovery] failed to connect to API Server %s: %s", server, err)
            await clock.sleep(RETRY_SECONDS)
            continue
        log.info(
            "[discovery] cluster info signature and contents are valid and TLS certificate "
            "validates against pinned roots, will use API Server %s",
            server,
        )
        return found
