"""The routes to other nodes' pods (kindnetd's routing, on this node): watches the Nodes and
keeps, in this network namespace, a route of every other node's ``podCIDR`` via its
``InternalIP`` (``noderoutes`` decides), so that pods on different nodes reach each other by
their own addresses, with no tunnel: the nodes must share a link, as kind's nodes share
Docker's bridge.

The routes carry the protocol number ``ROUTE_PROTOCOL``: what is listed with it is kubelite's,
and nothing else is ever changed. A range some other route already holds is left alone (a
warning says so). The interface the routes leave by forwards packets (its ``forwarding``
switch is turned on, and back off when the routes go), so the other nodes' pods' packets are
passed on to the bridge; its ``route_localnet`` too, for NodePorts on 127.0.0.1 whose
endpoint is elsewhere. Changes are applied as they come, and everything is checked again
every ``RESYNC_SECONDS`` (a route someone removed comes back); when the sync stops, its routes
go. ``remove_routes`` is the clean-up after a crash (``hostsetup.teardown`` calls it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from pathlib import Path

from kubelite.client.informer import Cache
from kubelite.errors import KubeliteError
from kubelite.model.objects import Obj
from kubelite.network.layout import ROUTE_PROTOCOL, NetworkLayout
from kubelite.network.noderoutes import Route, parse_routes, plan_routes, wanted_routes

log = logging.getLogger(__name__)

RESYNC_SECONDS = 30.0
RETRY_SECONDS = 2.0
PROC_CONF = Path("/proc/sys/net/ipv4/conf")
FORWARDING_RECORD = "switched-on"  # under the layout's state dir: "<link> <switch>" lines


class RouteError(KubeliteError):
    """``ip`` refused a change (the message says which and why)."""


async def _ip(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        "ip", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace")


async def present_routes(cluster_cidr: str) -> dict[str, Route]:
    """kubelite's routes in this namespace (inside the cluster's range), by destination."""
    code, out, err = await _ip("-j", "-4", "route", "show", "proto", str(ROUTE_PROTOCOL))
    if code != 0:
        raise RouteError(f"ip route show: {err.strip()}")
    return parse_routes(out, cluster_cidr)


async def local_addresses() -> set[str]:
    """Every IPv4 address of this namespace."""
    code, out, _ = await _ip("-j", "-4", "addr", "show")
    found: set[str] = set()
    with contextlib.suppress(ValueError):
        for link in json.loads(out or "[]") if code == 0 else ():
            for info in link.get("addr_info") or ():
                if info.get("local"):
                    found.add(str(info["local"]))
    return found


async def _device_to(address: str) -> str | None:
    code, out, _ = await _ip("-j", "-4", "route", "get", address)
    with contextlib.suppress(ValueError, IndexError, AttributeError):
        if code == 0:
            return str(json.loads(out)[0]["dev"])
    return None


class RouteSync:
    def __init__(self, *, nodes: Cache, layout: NetworkLayout, node_name: str) -> None:
        self._nodes = nodes
        self._layout = layout
        self._node = node_name
        self._dirty = asyncio.Event()
        self._warned: set[str] = set()
        self._forwarding: dict[str, str] = {}  # gateway -> the link it is reached by
        nodes.add_handler(self._changed)
        self.syncs = 0  # completed syncs (for tests)

    def _changed(self, kind: str, obj: Obj) -> None:
        self._dirty.set()

    async def run(self) -> None:
        """Keep the routes until cancelled, then remove them."""
        try:
            await self._nodes.synced.wait()
            while True:
                self._dirty.clear()
                try:
                    await self.sync()
                except RouteError as err:
                    log.warning("routes to other nodes not applied: %s", err)
                    await asyncio.sleep(RETRY_SECONDS)
                    continue
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(RESYNC_SECONDS):
                        await self._dirty.wait()
        finally:
            await asyncio.shield(remove_routes(self._layout))

    async def sync(self) -> None:
        cluster = str(self._layout.pod_cidr)
        present = await present_routes(cluster)
        wanted = wanted_routes(
            self._nodes.items(), node_name=self._node, cluster_cidr=cluster,
            own_subnet=str(self._layout.node_subnet), local_addresses=await local_addresses(),
        )  # fmt: skip
        plan = plan_routes(wanted, present)
        for route in plan.put:
            await self._put(route, replace=route.destination in present)
        for route in wanted.values():
            await self._forward_to(route.gateway)
        for destination in plan.delete:
            code, _, err = await _ip("route", "del", destination, "proto", str(ROUTE_PROTOCOL))
            if code != 0 and "No such process" not in err:
                raise RouteError(f"ip route del {destination}: {err.strip()}")
            log.info("route to %s removed (its node is gone)", destination)
        self.syncs += 1

    async def _put(self, route: Route, *, replace: bool) -> None:
        verb = "replace" if replace else "add"
        args = (route.destination, "via", route.gateway, "proto", str(ROUTE_PROTOCOL))
        code, _, err = await _ip("route", verb, *args)
        if code != 0:
            if "File exists" in err:  # someone else's route holds the range
                if route.destination not in self._warned:
                    log.warning(
                        "the pod range %s is routed here already, not by kubelite: it is not "
                        "routed to %s",
                        route.destination,
                        route.gateway,
                    )
                    self._warned.add(route.destination)
                return
            raise RouteError(f"ip route {verb} {' '.join(args)}: {err.strip()}")
        log.info("route to %s via %s", route.destination, route.gateway)

    async def _forward_to(self, gateway: str) -> None:
        if gateway in self._forwarding:
            return
        device = await _device_to(gateway)
        if device is not None:
            _forward(self._layout, device)
            self._forwarding[gateway] = device


SWITCHES = ("forwarding", "route_localnet")


def _forward(layout: NetworkLayout, device: str) -> None:
    """Let packets arriving on ``device`` be routed (to the pods' bridge), and packets from
    127.0.0.1 translated to another node's pod leave by it (a NodePort on loopback, as on
    the bridge; the proxy's rules keep outside packets off 127.0.0.0/8); each switch turned
    on is remembered under the state dir so that ``remove_routes`` turns it off again."""
    record = layout.state_dir / FORWARDING_RECORD
    for name in SWITCHES:
        switch = PROC_CONF / device / name
        try:
            if switch.read_text().strip() == "1":
                continue
            record.parent.mkdir(parents=True, exist_ok=True)
            with record.open("a") as f:
                f.write(f"{device} {name}\n")
            switch.write_text("1")
        except OSError as err:
            raise RouteError(f"cannot set {name} on {device}: {err}") from err


async def remove_routes(layout: NetworkLayout) -> None:
    """Every route of kubelite's inside the cluster's range, and the forwarding it switched
    on (best effort: what is already gone is fine)."""
    try:
        present = await present_routes(str(layout.pod_cidr))
    except RouteError as err:
        log.warning("routes to other nodes not removed: %s", err)
        present = {}
    for destination in present:
        await _ip("route", "del", destination, "proto", str(ROUTE_PROTOCOL))
    record = layout.state_dir / FORWARDING_RECORD
    with contextlib.suppress(OSError):
        for line in dict.fromkeys(record.read_text().splitlines()):
            device, _, name = line.partition(" ")
            if name in SWITCHES:
                with contextlib.suppress(OSError):
                    (PROC_CONF / device / name).write_text("0")
        record.unlink()
