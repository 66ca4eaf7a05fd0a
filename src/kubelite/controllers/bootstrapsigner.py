"""The bootstrap signer (the controller manager's ``bootstrapsigner``): keeps one
``jws-kubeconfig-<token id>`` signature in ``kube-public/cluster-info`` for every bootstrap
token that may sign (``usage-bootstrap-signing``, not expired), and none for any other, so a
joining node can check with its token that the kubeconfig it read anonymously is the cluster's
(``model.clusterinfo``).

Informers on kube-system's Secrets and kube-public's ConfigMaps; any change queues the one
ConfigMap; a token's signature also goes when it expires, without waiting for the token
cleaner.
"""

from __future__ import annotations

import logging

from kubelite.client.rest import ApiClient, ApiError, Resource
from kubelite.clock import Clock, SystemClock
from kubelite.controllers.informerset import InformerSet
from kubelite.controllers.workqueue import WorkQueue
from kubelite.model import bootstraptoken as bt
from kubelite.model import clusterinfo as ci
from kubelite.model.objects import Obj

log = logging.getLogger(__name__)

SECRETS = Resource("", "v1", "secrets", "Secret")
CONFIGMAPS = Resource("", "v1", "configmaps", "ConfigMap")


def signing_tokens(secrets: list[Obj], now: float) -> dict[str, bt.Token]:
    tokens: dict[str, bt.Token] = {}
    for secret in secrets:
        token = bt.signing_secret(secret, now)
        if token is not None and token.id not in tokens:
            tokens[token.id] = token
    return tokens


def next_expiry(secrets: list[Obj], now: float) -> float | None:
    """When the next signing token still valid at ``now`` expires."""
    times = [t for s in secrets if (t := bt.expiration(s)) is not None and t > now]
    return min(times) if times else None


class BootstrapSigner:
    def __init__(
        self, client: ApiClient, *, clock: Clock | None = None, informers: InformerSet | None = None
    ) -> None:
        self._client = client
        self._informers = informers or InformerSet(client)
        self._clock = clock or SystemClock()
        self.secrets = self._informers.get(SECRETS, namespace=bt.NAMESPACE)
        self.configmaps = self._informers.get(CONFIGMAPS, namespace=ci.NAMESPACE)
        self.queue: WorkQueue[str] = WorkQueue(clock=self._clock)
        self.secrets.add_handler(lambda kind, obj: self.queue.add(ci.NAME))
        self.configmaps.add_handler(self._on_configmap)

    def _on_configmap(self, kind: str, obj: Obj) -> None:
        if (obj.get("metadata") or {}).get("name") == ci.NAME:
            self.queue.add(ci.NAME)

    async def run(self) -> None:
        async with self._informers.running(self.secrets, self.configmaps):
            self.queue.add(ci.NAME)
            await self.queue.run(self.reconcile, name="bootstrapsigner")

    async def reconcile(self, key: str) -> None:
        now = self._clock.now()
        secrets = self.secrets.items()
        expiry = next_expiry(secrets, now)
        if expiry is not None:
            self.queue.add_after(key, expiry - now + 0.5)
        cm = self.configmaps.get(ci.NAMESPACE, ci.NAME)
        if cm is None:
            return
        data = ci.signed_data(cm.get("data") or {}, signing_tokens(secrets, now))
        if data is None:
            return
        try:
            self.configmaps.assume(await self._client.replace(CONFIGMAPS, {**cm, "data": data}))
        except ApiError as err:
            if not (err.conflict or err.not_found):
                raise
