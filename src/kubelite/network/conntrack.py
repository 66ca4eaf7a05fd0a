"""Stale UDP connection tracking after a Service's endpoints change (kube-proxy's conntrack
clean-up). UDP has no connection to close, so a client that keeps its source port keeps
its conntrack entry, and with it the old DNAT: to an endpoint that is gone, or to the reject
of a Service that had no endpoints. kube-proxy deletes those entries after each sync; so does
this module.

``stale`` is pure: from the UDP endpoints in use before and after a sync, the entries to
delete. ``flush`` is the edge: ``conntrack -D`` from Debian's conntrack (tools), once per
entry; without the tool nothing is flushed (a warning once, and the stale flows time out on
their own, in 30 to 120 s).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kubelite.model.service import EndpointSliceView, ServiceView
from kubelite.network.proxytargets import index_slices, targets, usable

log = logging.getLogger(__name__)

# (cluster IP, service port) -> the endpoint addresses traffic may go to
UdpTable = Mapping[tuple[str, int], frozenset[str]]


@dataclass(frozen=True, slots=True)
class Flush:
    """Delete UDP entries to ``service_ip``:``port``; only those whose reply comes from
    ``endpoint`` when one is named (a gone endpoint), else all (the port had none)."""

    service_ip: str
    port: int
    endpoint: str = ""

    def argv(self) -> list[str]:
        argv = ["conntrack", "-D", "-p", "udp", "--orig-dst", self.service_ip,
                "--orig-port-dst", str(self.port)]  # fmt: skip
        if self.endpoint:
            argv += ["--reply-src", self.endpoint]
        return argv


def udp_table(
    services: Sequence[ServiceView], slices: Sequence[EndpointSliceView], node_name: str = ""
) -> dict[tuple[str, int], frozenset[str]]:
    """The endpoint addresses each UDP ClusterIP port sends to now."""
    index = index_slices(slices)
    table: dict[tuple[str, int], frozenset[str]] = {}
    for svc in services:
        for ip in svc.cluster_ips:
            for port in svc.ports:
                if port.protocol == "UDP":
                    found = usable(targets(svc, port, index, node_name))
                    table[(ip, port.port)] = frozenset(t.ip for t in found)
    return table


def stale(before: UdpTable, after: UdpTable) -> list[Flush]:
    """What to flush after going from ``before`` to ``after``."""
    out: list[Flush] = []
    for key, now in sorted(after.items()):
        was = before.get(key)
        if was is None:
            continue  # a new Service port: nothing can be stale yet
        if not was and now:
            out.append(Flush(key[0], key[1]))  # it rejected; now it has endpoints
        out += [Flush(key[0], key[1], ep) for ep in sorted(was - now)]
    for key, was in sorted(before.items()):
        if key not in after:
            out += [Flush(key[0], key[1], ep) for ep in sorted(was)]
    return out


class ConntrackFlusher:
    def __init__(self) -> None:
        self._tool = shutil.which("conntrack")
        self._warned = False

    async def flush(self, entries: Sequence[Flush]) -> None:
        if not entries:
            return
        if self._tool is None:
            if not self._warned:
                log.warning("conntrack (Debian package conntrack) is missing: stale UDP flows "
                            "to changed Service endpoints are not cleared")  # fmt: skip
                self._warned = True
            return
        for entry in entries:
            proc = await asyncio.create_subprocess_exec(
                *entry.argv(), stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            await proc.wait()  # exit 1 when nothing matched: fine
