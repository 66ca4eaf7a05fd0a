"""Pod networking through the CNI reference plugins: ADD when a sandbox is made, DEL (with
the cached result) when it goes, and a sweep at start-up that DELs every attachment whose
sandbox no longer exists, so a killed kubelite leaks no address, veth or portmap rule.

This is the runtime side of CNI (what libcni does for containerd), written for kubelite: each
plugin of the list is executed in order with the previous one's result; the final result is
cached per sandbox under the network's state folder *before* the ADD starts (marked pending)
and completed after it, so even a kill in the middle of an ADD is undone by the next sweep. A
failed ADD is rolled back with a DEL of the whole list, as containerd does.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from kubelite.network import cniconfig
from kubelite.network.layout import CNI_BIN_DIRS, NETWORK_NAME, POD_IFNAME, NetworkLayout
from kubelite.runtime.interface import SandboxConfig, SandboxError
from kubelite.runtime.network import Attachment

log = logging.getLogger(__name__)

PLUGIN_TIMEOUT = 60.0
CACHE_KIND = "cniCacheV1"
_OPS = {"ADD": "add", "DEL": "delete"}
_HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class CniError(SandboxError):
    """A plugin failed; the message names the plugin and the operation as kubelets do."""

    reason = "FailedCreatePodSandBox"


@dataclass(frozen=True, slots=True)
class PluginFailure(Exception):
    plugin: str
    code: int
    msg: str
    details: str = ""
    op: str = "add"  # libcni's word for the command: "add" or "delete"

    def __str__(self) -> str:
        detail = f"; {self.details}" if self.details and self.details != self.msg else ""
        return (
            f'plugin type="{self.plugin}" name="{NETWORK_NAME}" failed ({self.op}): '
            f"{self.msg}{detail}"
        )


def _ns_alive(netns: str) -> bool:
    """The namespace file still has a namespace bound on it (a bind mount shows another
    device than its folder): only then may a plugin enter it."""
    if not netns:
        return False
    try:
        return os.stat(netns).st_dev != os.stat(os.path.dirname(netns)).st_dev
    except OSError:
        return False


class CniNetwork:
    """``runtime.network.PodNetwork`` over the CNI plugins."""

    def __init__(self, layout: NetworkLayout, *, bin_dirs: Sequence[Path] = CNI_BIN_DIRS) -> None:
        self._layout = layout
        self._bin_dirs = tuple(bin_dirs)
        self._cache = layout.cni_cache_dir

    # ------------------------------------------------------------------ PodNetwork

    async def attach(self, sandbox_id: str, netns_path: str, config: SandboxConfig) -> Attachment:
        conf = cniconfig.network_config_list(self._layout, port_mappings=bool(config.port_mappings))
        args = cniconfig.cni_args(
            namespace=config.namespace, name=config.pod_name, uid=config.pod_uid,
            sandbox_id=sandbox_id,
        )  # fmt: skip
        caps = cniconfig.capability_args(config.port_mappings)
        entry: dict[str, Any] = {
            "kind": CACHE_KIND, "containerId": sandbox_id, "ifName": POD_IFNAME,
            "networkName": NETWORK_NAME, "netns": netns_path, "config": conf,
            "cniArgs": [list(a) for a in args], "capabilityArgs": caps, "result": None,
        }  # fmt: skip
        self._write(sandbox_id, entry)  # pending: a crash from here on is swept
        result: dict[str, Any] | None = None
        try:
            for plugin in conf["plugins"]:
                stdin = cniconfig.plugin_input(
                    conf, plugin, prev_result=result, capability_args=caps
                )
                result = await self._exec("ADD", plugin["type"], stdin, entry)
        except PluginFailure as failure:
            entry["result"] = result
            await self._delete(sandbox_id, entry)
            raise CniError(
                f'failed to setup network for sandbox "{sandbox_id}": {failure}'
            ) from failure
        entry["result"] = result
        self._write(sandbox_id, entry)
        return Attachment(ip=cniconfig.pod_ip(result or {}))

    async def detach(self, sandbox_id: str, netns_path: str) -> None:
        entry = self._read(sandbox_id)
        if entry is None:
            return
        entry["netns"] = netns_path
        await self._delete(sandbox_id, entry)

    # ------------------------------------------------------------------ start-up

    def attached(self) -> list[str]:
        """The sandboxes that have (or may have, if an ADD was cut short) an attachment."""
        try:
            names = os.listdir(self._cache)
        except FileNotFoundError:
            return []
        prefix = f"{NETWORK_NAME}-"
        suffix = f"-{POD_IFNAME}"
        return [
            n[len(prefix) : -len(suffix)]
            for n in names
            if n.startswith(prefix) and n.endswith(suffix)
        ]

    async def sweep(self, live: set[str]) -> list[str]:
        """DEL every attachment whose sandbox is not in ``live``; returns their ids."""
        gone = [sid for sid in self.attached() if sid not in live]
        for sid in gone:
            entry = self._read(sid)
            if entry is None:
                continue
            try:
                await self._delete(sid, entry)
            except CniError as err:
                log.warning("sweeping the network of sandbox %s: %s", sid[:12], err)
        return gone

    # ------------------------------------------------------------------ plumbing

    async def _delete(self, sandbox_id: str, entry: Mapping[str, Any]) -> None:
        """DEL the plugins in reverse order with the cached result; forget the cache entry
        once every plugin succeeded (a failure keeps it for the next sweep)."""
        conf = entry.get("config") or cniconfig.network_config_list(self._layout)
        caps = entry.get("capabilityArgs") or {}
        prev = entry.get("result")
        failures: list[PluginFailure] = []
        for plugin in reversed(conf["plugins"]):
            stdin = cniconfig.plugin_input(conf, plugin, prev_result=prev, capability_args=caps)
            try:
                await self._exec("DEL", plugin["type"], stdin, entry)
            except PluginFailure as failure:
                failures.append(failure)
        if failures:
            raise CniError(f'failed to destroy network for sandbox "{sandbox_id}": {failures[0]}')
        self._path(sandbox_id).unlink(missing_ok=True)

    async def _exec(
        self, command: str, plugin: str, stdin: Mapping[str, Any], entry: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        binary = self._find(plugin, command)
        netns = str(entry.get("netns") or "")
        if command == "DEL" and not _ns_alive(netns):
            netns = ""  # the namespace is gone: plugins release what lives outside it
        env = {
            "CNI_COMMAND": command,
            "CNI_CONTAINERID": str(entry["containerId"]),
            "CNI_NETNS": netns,
            "CNI_IFNAME": str(entry.get("ifName") or POD_IFNAME),
            "CNI_ARGS": cniconfig.encode_args([(k, v) for k, v in entry.get("cniArgs") or ()]),
            "CNI_PATH": ":".join(str(d) for d in self._bin_dirs),
            "PATH": _HOST_PATH,
        }
        proc = await asyncio.create_subprocess_exec(
            str(binary), env=env, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            async with asyncio.timeout(PLUGIN_TIMEOUT):
                out, err = await proc.communicate(cniconfig.dumps(stdin))
        except TimeoutError:
            proc.kill()
            await proc.wait()
            msg = f"timed out after {PLUGIN_TIMEOUT:g}s"
            raise PluginFailure(plugin, 0, msg, op=_OPS[command]) from None
        if proc.returncode != 0:
            raise replace(_failure(plugin, out, err), op=_OPS[command])
        if not out.strip():
            return None
        try:
            parsed = json.loads(out)
        except ValueError:
            msg = f"unparsable result: {out[:200]!r}"
            raise PluginFailure(plugin, 0, msg, op=_OPS[command]) from None
        return parsed if isinstance(parsed, dict) else None

    def _find(self, plugin: str, command: str) -> Path:
        for d in self._bin_dirs:
            candidate = d / plugin
            if os.access(candidate, os.X_OK):
                return candidate
        dirs = ", ".join(str(d) for d in self._bin_dirs)
        msg = f"failed to find plugin {plugin!r} in path [{dirs}]"
        raise PluginFailure(plugin, 0, msg, op=_OPS[command])

    def _path(self, sandbox_id: str) -> Path:
        return self._cache / f"{NETWORK_NAME}-{sandbox_id}-{POD_IFNAME}"

    def _write(self, sandbox_id: str, entry: Mapping[str, Any]) -> None:
        self._cache.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self._path(sandbox_id)
        tmp = path.with_name(f".{path.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(cniconfig.dumps(entry))
        os.replace(tmp, path)

    def _read(self, sandbox_id: str) -> dict[str, Any] | None:
        try:
            data = json.loads(self._path(sandbox_id).read_bytes())
        except (FileNotFoundError, ValueError):
            return None
        return data if isinstance(data, dict) and data.get("kind") == CACHE_KIND else None


def _failure(plugin: str, out: bytes, err: bytes) -> PluginFailure:
    """A plugin's error: the CNI error object on stdout, else whatever it printed."""
    try:
        obj = json.loads(out)
        if isinstance(obj, dict) and "msg" in obj:
            return PluginFailure(
                plugin, int(obj.get("code") or 0), str(obj["msg"]), str(obj.get("details") or "")
            )
    except ValueError:
        pass
    text = (out or err).decode(errors="replace").strip()[:500]
    return PluginFailure(plugin, 0, text or "exited with an error and no message")
