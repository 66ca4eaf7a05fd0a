"""The CSR signing controller (the controller manager's ``csrsigning``): signs approved
requests for ``kubernetes.io/kube-apiserver-client-kubelet`` and
``kubernetes.io/kube-apiserver-client`` with the cluster CA, for the duration the request asks
within the signing duration (``--cluster-signing-duration``, a year), and writes the
certificate through ``/status``; a request its signer's rules refuse gets a ``Failed``
condition (``SignerValidationFailure``) instead (``csrdecisions.signing_step``).

The CA's key stays with whoever owns it: the controller is given a ``Signer`` (``kubelite up``
passes ``api.pki.CaSigner``), and reaches the API only as a client.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Iterable
from typing import Protocol

from kubelite.client.informer import Informer
from kubelite.client.rest import ApiClient, ApiError
from kubelite.clock import Clock, SystemClock, rfc3339
from kubelite.controllers import csrdecisions as d
from kubelite.controllers.csrapproving import CSRS
from kubelite.controllers.workqueue import WorkQueue
from kubelite.model import csr as c
from kubelite.model.objects import Obj
from kubelite.model.survival import keep_running

log = logging.getLogger(__name__)


class Signer(Protocol):
    def sign(
        self, request_pem: bytes, usages: Iterable[str], seconds: float, now: float
    ) -> bytes: ...


class CsrSigningController:
    def __init__(
        self,
        client: ApiClient,
        *,
        signer: Signer,
        clock: Clock | None = None,
        duration: float = c.DEFAULT_SIGNING_SECONDS,
    ) -> None:
        self._client = client
        self._signer = signer
        self._clock = clock or SystemClock()
        self._duration = duration
        self.csrs = Informer(client, CSRS)
        self.queue: WorkQueue[str] = WorkQueue(clock=self._clock)
        self.csrs.add_handler(self._on_csr)

    def _on_csr(self, kind: str, obj: Obj) -> None:
        if kind != "DELETED" and d.signing_step(obj, self._duration) is not None:
            self.queue.add(str(obj["metadata"].get("name") or ""))

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(keep_running(self.csrs.run, name="the CSR informer", log=log))
            await self.csrs.synced.wait()
            await self.queue.run(self.reconcile, name="csrsigning")

    async def reconcile(self, name: str) -> None:
        csr = self.csrs.get("", name)
        if csr is None:
            return
        step = d.signing_step(csr, self._duration)
        now = self._clock.now()
        if isinstance(step, d.Fail):
            log.info("csrsigning: %s failed: %s", name, step.message)
            body = d.with_condition(
                csr, c.FAILED, d.SIGNER_VALIDATION_FAILURE, step.message, rfc3339(now)
            )
        elif isinstance(step, d.Sign):
            pem = self._signer.sign(step.request_pem, step.usages, step.seconds, now)
            body = {**csr, "status": {**(csr.get("status") or {}),
                                      "certificate": base64.b64encode(pem).decode()}}  # fmt: skip
            log.info("csrsigning: signed %s for %.0f s", name, step.seconds)
        else:
            return
        try:
            self.csrs.assume(await self._client.replace(CSRS, body, sub="status"))
        except ApiError as err:
            if not err.not_found:
                raise
