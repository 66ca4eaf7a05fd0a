"""The exec probe (PR-6): run a command in the container; exit 0 is success.

One attempt, a ``RawResult`` back; thresholds, retries and events belong to ``probestate``.
"""

from __future__ import annotations

from collections.abc import Sequence

from kubelite.agent.gotext import go_quote
from kubelite.agent.probestate import Outcome, RawResult
from kubelite.agent.probetarget import MAX_OUTPUT
from kubelite.runtime.interface import Runtime, RuntimeError_


async def exec_probe(
    runtime: Runtime, container_id: str, argv: Sequence[str], timeout: float
) -> RawResult:
    """PR-6 exec: success iff exit 0; stdout+stderr (10 KiB) is the message; timeout fails."""
    try:
        r = await runtime.exec_sync(container_id, argv, timeout=timeout)
    except RuntimeError_ as e:
        return RawResult(Outcome.UNKNOWN, "", str(e))
    if r.timed_out:
        return RawResult(Outcome.FAILURE, f"command {go_quote(' '.join(argv))} timed out")
    output = (r.stdout + r.stderr)[:MAX_OUTPUT].decode(errors="replace")
    return RawResult(Outcome.SUCCESS if r.exit_code == 0 else Outcome.FAILURE, output)
