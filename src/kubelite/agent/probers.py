"""Probe mechanisms (PR-6): run one exec, httpGet, tcpSocket or grpc check, report a raw result.

``run_probe`` picks the probe's one handler (PR-2) and hands it to its protocol's module
(``probeexec``, ``probehttp``, ``probetcp``, ``probegrpc``). Each does one attempt and returns
a ``RawResult`` (Success/Failure/Unknown/Warning, the output message and, for machinery errors,
``error``); thresholds, retries and events belong to ``probestate``. Messages a user sees are
worded as the kubelet (a Go program) words them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubelite.agent.probeexec import exec_probe
from kubelite.agent.probegrpc import grpc_probe
from kubelite.agent.probehttp import http_probe
from kubelite.agent.probestate import Outcome, RawResult
from kubelite.agent.probetarget import MachineryError, ProbeTarget, resolve_port
from kubelite.agent.probetcp import tcp_probe
from kubelite.model.expansion import expand
from kubelite.runtime.interface import Runtime


async def run_probe(
    handler: Mapping[str, Any], target: ProbeTarget, *, runtime: Runtime, timeout: float
) -> RawResult:
    """Run the one handler a probe has (PR-2) with ``timeoutSeconds`` = ``timeout``."""
    try:
        if "exec" in handler:
            argv = [expand(a, target.env) for a in handler["exec"].get("command") or ()]
            return await exec_probe(runtime, target.container_id, argv, timeout)
        if "httpGet" in handler:
            return await http_probe(handler["httpGet"], target, timeout)
        if "tcpSocket" in handler:
            spec = handler["tcpSocket"]
            port = resolve_port(spec.get("port"), target.ports)
            return await tcp_probe(spec.get("host") or target.host, port, timeout, target.dial)
        if "grpc" in handler:
            spec = handler["grpc"]
            port = spec.get("port")
            if not isinstance(port, int):
                raise MachineryError(f"grpc probe port must be a number, got {port!r}")
            service = str(spec.get("service") or "")
            return await grpc_probe(target.host, port, service, timeout, target.dial)
    except MachineryError as e:
        return RawResult(Outcome.UNKNOWN, "", str(e))
    return RawResult(Outcome.UNKNOWN, "", "missing probe handler")
