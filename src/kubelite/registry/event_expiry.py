"""Events expire: the API server keeps each one for an hour after its last change (its
``--event-ttl``), so a long-running node does not accumulate them forever. An event that makes
expiry raise is logged and skipped; the others still expire, and the loop goes on."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from kubelite.clock import parse_rfc3339
from kubelite.errors import KubeliteError
from kubelite.registry.events import EVENTS
from kubelite.registry.service import Registry
from kubelite.store.interface import make_key

log = logging.getLogger(__name__)

EVENT_TTL = 3600.0
PAGE = 500


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
            except Exception:
                log.exception("event expiry: a pass failed; trying again next round")

    async def expire(self) -> int:
        """Delete events whose last observation is older than the TTL; how many went. Events
        are read a page at a time, so a node with many events does not hold the loop."""
        now = self._registry.clock.now()
        gone, token = 0, ""
        while True:
            page = await self._registry.list_page(EVENTS, None, limit=PAGE, continue_token=token)
            gone += await self._expire_page(page.parsed(), now)
            token = page.continue_token
            if not token:
                return gone
            await asyncio.sleep(0)

    async def _expire_page(self, events: list[dict[str, Any]], now: float) -> int:
        gone = 0
        for ev in events:
            try:
                gone += await self._expire_one(ev, now)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                meta = ev.get("metadata")
                md: dict[str, Any] = meta if isinstance(meta, dict) else {}
                log.warning(
                    "event expiry: skipping event %s/%s: %r",
                    md.get("namespace"),
                    md.get("name"),
                    exc,
                )
        return gone

    async def _expire_one(self, ev: dict[str, Any], now: float) -> int:
        """1 if ``ev`` was past its time and is gone now, else 0."""
        series = ev.get("series")
        stamp = (
            (series.get("lastObservedTime") if isinstance(series, dict) else None)
            or ev.get("lastTimestamp")
            or ev.get("eventTime")
            or ev["metadata"].get("creationTimestamp")
        )
        try:
            last = parse_rfc3339(str(stamp))
        except ValueError:
            return 0
        if now - last <= self._ttl:
            return 0
        md = ev["metadata"]
        try:
            await self._registry.store.delete(
                make_key(EVENTS.qualified, md.get("namespace", ""), md["name"])
            )
        except KubeliteError:
            return 0
        return 1
