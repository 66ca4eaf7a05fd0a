import asyncio

from kubelite.clock import ManualClock, parse_rfc3339, rfc3339


async def test_sleepers_wake_in_deadline_order_when_time_is_advanced() -> None:
    clock = ManualClock()
    woke: list[str] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append(name)

    tasks = [asyncio.create_task(sleeper("late", 300)), asyncio.create_task(sleeper("soon", 10))]
    await asyncio.sleep(0)
    await clock.advance(9)
    assert woke == []
    await clock.advance(1)
    assert woke == ["soon"]
    await clock.advance(290)
    assert woke == ["soon", "late"]
    await asyncio.gather(*tasks)


def test_rfc3339_round_trips_at_second_resolution() -> None:
    assert rfc3339(1700000000.7) == "2023-11-14T22:13:20Z"
    assert parse_rfc3339("2023-11-14T22:13:20Z") == 1700000000.0
    assert parse_rfc3339("2023-11-14T22:13:20.123456789Z") == 1700000000.123456
