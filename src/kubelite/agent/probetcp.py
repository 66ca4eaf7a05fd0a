"""The tcpSocket probe (PR-6): success iff a connection opens within the timeout."""

from __future__ import annotations

import asyncio

from kubelite.agent.gotext import dial_error, join_host_port
from kubelite.agent.probestate import Outcome, RawResult
from kubelite.agent.probetarget import Dial, open_tcp


async def tcp_probe(host: str, port: int, timeout: float, dial: Dial = open_tcp) -> RawResult:
    """PR-6 tcpSocket: success iff the connection opens in time; it is closed at once."""
    try:
        async with asyncio.timeout(timeout):
            _, writer = await dial(host, port)
    except TimeoutError:
        return RawResult(Outcome.FAILURE, f"dial tcp {join_host_port(host, port)}: i/o timeout")
    except OSError as e:
        return RawResult(Outcome.FAILURE, dial_error(e, host, port))
    writer.close()
    return RawResult(Outcome.SUCCESS)
