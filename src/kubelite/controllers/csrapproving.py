"""The CSR approving controller (the controller manager's ``csrapproving``): auto-approves a
kubelet's client certificate request once a SubjectAccessReview says its requester may create
``certificatesigningrequests/nodeclient`` (bootstrapping) or ``/selfnodeclient`` (renewing);
the decisions are ``csrdecisions``'. A request recognized but not allowed is left pending, for
``kubectl certificate approve``.

A node's serving certificate request (``kubernetes.io/kubelet-serving``) is approved when
``csrdecisions.serving_refusal`` finds nothing wrong with it against the requesting node's own
Node object (upstream leaves these to the operator or a separate approver; kubelite checks
them as such an approver does). One whose Node is not registered yet is looked at again
after ``NODE_WAIT`` seconds.

An API client like any controller: an informer of CertificateSigningRequests and a work queue
of names; the approval is a PUT to ``/approval``.
"""

from __future__ import annotations

import asyncio
import logging

from cryptography import x509

from kubelite.client.informer import Informer
from kubelite.client.rest import ApiClient, ApiError, Resource
from kubelite.clock import Clock, SystemClock, rfc3339
from kubelite.controllers import csrdecisions as d
from kubelite.controllers.workqueue import WorkQueue
from kubelite.model import csr as c
from kubelite.model.objects import Obj
from kubelite.model.survival import keep_running

log = logging.getLogger(__name__)

CSRS = Resource(c.GROUP, "v1", "certificatesigningrequests", "CertificateSigningRequest",
                namespaced=False)  # fmt: skip
NODES = Resource("", "v1", "nodes", "Node", namespaced=False)
SUBJECT_ACCESS_REVIEWS = "/apis/authorization.k8s.io/v1/subjectaccessreviews"
NODE_WAIT = 10.0  # seconds before a serving request whose Node is missing is looked at again


class CsrApprovingController:
    def __init__(self, client: ApiClient, *, clock: Clock | None = None) -> None:
        self._client = client
        self._clock = clock or SystemClock()
        self.csrs = Informer(client, CSRS)
        self.queue: WorkQueue[str] = WorkQueue(clock=self._clock)
        self.csrs.add_handler(self._on_csr)

    def _on_csr(self, kind: str, obj: Obj) -> None:
        if kind != "DELETED" and d.undecided(obj):
            self.queue.add(str(obj["metadata"].get("name") or ""))

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(keep_running(self.csrs.run, name="the CSR informer", log=log))
            await self.csrs.synced.wait()
            await self.queue.run(self.reconcile, name="csrapproving")

    async def reconcile(self, name: str) -> None:
        csr = self.csrs.get("", name)
        if csr is None or not d.undecided(csr):
            return
        try:
            req = c.parse_request(c.request_bytes(csr))
        except c.CsrError as err:
            log.info("csrapproving: unable to parse csr %q: %s", name, err)
            return
        if d.is_serving_request(csr):
            await self._serving(name, csr, req)
            return
        tried = []
        for sub in d.recognized_as(csr, req):
            tried.append(sub)
            review = await self._client.request(
                "POST", SUBJECT_ACCESS_REVIEWS, d.subject_access_review(csr, sub)
            )
            if (review.get("status") or {}).get("allowed"):
                await self._approve(csr, sub)
                log.info("csrapproving: approved %s (%s)", name, sub)
                return
        if tried:
            log.info(
                "csrapproving: recognized csr %q as %s but subject access review was not approved",
                name,
                tried,
            )

    async def _serving(self, name: str, csr: Obj, req: x509.CertificateSigningRequest) -> None:
        node_name = d.requesting_node(csr)
        node = None
        if node_name:
            try:
                node = await self._client.get(NODES, None, node_name)
            except ApiError as err:
                if not err.not_found:
                    raise
        refusal = d.serving_refusal(csr, req, node)
        if refusal:
            log.info("csrapproving: serving certificate request %s left pending: %s", name, refusal)
            if node is None and node_name:
                self.queue.add_after(name, NODE_WAIT)
            return
        await self._approve(csr, d.NODE_SERVING)
        log.info("csrapproving: approved %s (kubelet serving, node %s)", name, node_name)

    async def _approve(self, csr: Obj, sub: str) -> None:
        body = d.approved(csr, sub, rfc3339(self._clock.now()))
        try:
            self.csrs.assume(await self._client.replace(CSRS, body, sub="approval"))
        except ApiError as err:
            if not err.not_found:
                raise
