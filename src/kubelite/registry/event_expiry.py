"""Events expire: the API server keeps each one for an hour after its last change (its
``--event-ttl``), so a long-running node does not accumulate them forever."""

from __future__ import annotations

import asyncio
import logging

from kubelite.clock import parse_rfc3339
from kubelite.errors import KubeliteError
from kubelite.registry.events import EVENTS
from kubelite.registry.service import Registry
from kubelite.store.interface import make_key

log = logging.getLogger(__name__)

EVENT_TTL = 3600.0


class EventExpiry:
    def __init__(self, *, registry: Registry, ttl: float = EVENT_TTL, interval: float = 60.0):
        self._registry = registry
        self._ttl = ttl
        self._interval = interval

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.expire()
            except KubeliteError as exc:
                log.debug("event expiry: %s", exc)

    async def expire(self) -> int:
        """Delete events whose last observation is older than the TTL; how many went."""
        now = self._registry.clock.now()
        events, _ = await self._registry.list(EVENTS, None)
        gone = 0
        for ev in events:
            stamp = (
                (ev.get("series") or {}).get("lastObservedTime")
                or ev.get("lastTimestamp")
                or ev.get("eventTime")
                or ev["metadata"].get("creationTimestamp")
            )
            try:
                last = parse_rfc3339(str(stamp))
            except ValueError:
                continue
            if now - last > self._ttl:
                md = ev["metadata"]
                try:
                    await self._registry.store.delete(
                        make_key(EVENTS.qualified, md.get("namespace", ""), md["name"])
                    )
                    gone += 1
                except KubeliteError:
                    continue
        return gone
