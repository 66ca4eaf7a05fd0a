"""The token cleaner (the controller manager's ``tokencleaner``): deletes bootstrap token
Secrets once their ``expiration`` has passed (an unparseable one counts as passed), with a uid
precondition so a Secret made again meanwhile stays; a token not yet expired is looked at
again when it expires.
"""

from __future__ import annotations

import logging

from kubelite.client.rest import ApiClient, ApiError
from kubelite.clock import Clock, SystemClock
from kubelite.controllers.bootstrapsigner import SECRETS
from kubelite.controllers.informerset import InformerSet
from kubelite.controllers.workqueue import WorkQueue
from kubelite.model import bootstraptoken as bt
from kubelite.model.objects import Obj

log = logging.getLogger(__name__)


class TokenCleaner:
    def __init__(
        self, client: ApiClient, *, clock: Clock | None = None, informers: InformerSet | None = None
    ) -> None:
        self._client = client
        self._informers = informers or InformerSet(client)
        self._clock = clock or SystemClock()
        self.secrets = self._informers.get(SECRETS, namespace=bt.NAMESPACE)
        self.queue: WorkQueue[str] = WorkQueue(clock=self._clock)
        self.secrets.add_handler(self._on_secret)

    def _on_secret(self, kind: str, obj: Obj) -> None:
        if kind != "DELETED" and obj.get("type") == bt.SECRET_TYPE:
            self.queue.add(str(obj["metadata"].get("name") or ""))

    async def run(self) -> None:
        async with self._informers.running(self.secrets):
            await self.queue.run(self.reconcile, name="tokencleaner")

    async def reconcile(self, name: str) -> None:
        secret = self.secrets.get(bt.NAMESPACE, name)
        if secret is None or secret.get("type") != bt.SECRET_TYPE:
            return
        at = bt.expiration(secret)
        if at is None:
            return
        now = self._clock.now()
        if at > now:
            self.queue.add_after(name, at - now + 0.5)
            return
        uid = str(secret["metadata"].get("uid") or "")
        log.info("tokencleaner: deleting expired bootstrap token %s/%s", bt.NAMESPACE, name)
        path = SECRETS.path(bt.NAMESPACE, name)
        try:
            await self._client.request("DELETE", path, {"preconditions": {"uid": uid}})
        except ApiError as err:
            if not (err.not_found or err.conflict):
                raise
        self.secrets.assume_deleted(bt.NAMESPACE, name)
