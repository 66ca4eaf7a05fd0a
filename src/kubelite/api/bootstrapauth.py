"""The bootstrap-token authenticator: ``Authorization: Bearer <id>.<secret>`` is the user
``system:bootstrap:<id>`` in ``system:bootstrappers`` (and the token's ``auth-extra-groups``)
when ``kube-system/bootstrap-token-<id>`` says so (``model.bootstraptoken.authenticate``:
type, secret, expiry, ``usage-bootstrap-authentication``). It is how a new node proves it
may join, before it has a certificate of its own.

A token that is not of the bootstrap form is none of this authenticator's business (the next
one is asked); one of that form that fails a check is refused (logged with the reason, a 401
for the client).
"""

from __future__ import annotations

import logging

from kubelite.clock import Clock
from kubelite.model import bootstraptoken as bt
from kubelite.registry.secrets import SECRETS
from kubelite.registry.service import Registry
from kubelite.store.interface import NotFound

log = logging.getLogger(__name__)


class BootstrapTokenAuthenticator:
    def __init__(self, *, registry: Registry, clock: Clock) -> None:
        self._registry = registry
        self._clock = clock

    @staticmethod
    def claims(given: str) -> bool:
        """Whether ``given`` is of the bootstrap token's form (then only this one decides)."""
        return bt.parse_token(given) is not None

    async def authenticate(self, given: str) -> bt.BootstrapUser | None:
        token = bt.parse_token(given)
        if token is None:
            return None
        try:
            secret = await self._registry.get(SECRETS, bt.NAMESPACE, bt.secret_name(token.id))
        except NotFound:
            secret = None
        result = bt.authenticate(token, secret, self._clock.now())
        if isinstance(result, bt.Refusal):
            log.info(
                "bootstrap secret %s/%s matching bearer token %s",
                bt.NAMESPACE,
                bt.secret_name(token.id),
                result.reason,
            )
            return None
        return result
