"""The informer's cache outlives a bad moment of its watch."""

from __future__ import annotations

import asyncio


async def test_an_informer_lists_again_after_an_unreadable_watch_event() -> None:
    """A consumer's cache must not end with one bad event: the informer lists again."""
    from kubelite.client import informer as inf
    from kubelite.client.rest import PODS, WatchEvent

    calls: list[str] = []

    class Flaky:
        async def list(self, res: object, ns: object) -> dict[str, object]:
            calls.append("list")
            return {"metadata": {"resourceVersion": "1"}, "items": []}

        async def watch(self, res: object, ns: object, rv: str):  # type: ignore[no-untyped-def]
            calls.append("watch")
            if calls.count("watch") == 1:
                raise ValueError("Expecting value: line 1 column 1 (char 0)")
            yield WatchEvent(
                "ADDED", {"metadata": {"namespace": "a", "name": "b", "resourceVersion": "2"}}
            )
            await asyncio.sleep(3600)

    informer = inf.Informer(Flaky(), PODS)  # type: ignore[arg-type]
    old = inf.RETRY_SECONDS
    inf.RETRY_SECONDS = 0.01
    task = asyncio.ensure_future(informer.run())
    try:
        for _ in range(100):
            if informer.get("a", "b") is not None:
                break
            await asyncio.sleep(0.01)
    finally:
        inf.RETRY_SECONDS = old
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert calls[:4] == ["list", "watch", "list", "watch"]
    assert informer.get("a", "b") is not None
