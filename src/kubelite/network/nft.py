"""The one edge that runs nftables: apply a script in one transaction, delete a table, ask
whether a table exists, read a table's set elements. Everything else about the rules is
decided by pure renderers (``proxyrules``); this module only carries their text to the kernel.

Scripts go to libnftables, the library behind the ``nft`` command, through one context kept
for the process: the same parser and the same single transaction as ``nft -f -``, without
starting a process, loading its libraries, fetching the table into a fresh cache and freeing
it all again on every sync (about a third of an update's cost; see bench/proxy.py). Without
the library, and whenever ``netns`` names a network namespace to run in (``ip netns exec``,
as the tests and the benchmark do), the ``nft`` command runs with the script on stdin.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import functools
import json
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from kubelite.errors import KubeliteError

NFT = "/usr/sbin/nft"
TIMEOUT = 30.0  # seconds; a transaction of a few thousand lines takes milliseconds
_OUTPUT_JSON = 1 << 4  # NFT_CTX_OUTPUT_JSON in <nftables/libnftables.h>


class NftError(KubeliteError):
    """nftables refused a script or could not run. ``message`` is nft's own text (for a
    rejected script it names the line and the offending words); retrying the same script
    cannot help, a later sync with new rules may."""

    def __init__(self, message: str, *, argv: Sequence[str], returncode: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.argv = tuple(argv)
        self.returncode = returncode


class _Library:
    """One libnftables context. Calls are serialised (a context is not thread-safe) and made
    from worker threads, so the event loop never waits on the kernel."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        lib.nft_ctx_new.restype = ctypes.c_void_p
        lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
        for name in ("nft_ctx_buffer_output", "nft_ctx_buffer_error"):
            getattr(lib, name).argtypes = [ctypes.c_void_p]
        for name in ("nft_ctx_get_output_buffer", "nft_ctx_get_error_buffer"):
            getattr(lib, name).argtypes = [ctypes.c_void_p]
            getattr(lib, name).restype = ctypes.c_char_p
        lib.nft_ctx_output_set_flags.argtypes = [ctypes.c_void_p, ctypes.c_uint]
        lib.nft_ctx_set_dry_run.argtypes = [ctypes.c_void_p, ctypes.c_bool]
        lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        self._lib = lib
        self._ctx = lib.nft_ctx_new(0)
        if not self._ctx:
            raise OSError("nft_ctx_new failed")
        lib.nft_ctx_buffer_output(self._ctx)
        lib.nft_ctx_buffer_error(self._ctx)
        self._lock = threading.Lock()

    def run(self, script: str, *, as_json: bool, dry_run: bool) -> tuple[int, bytes, bytes]:
        lib, ctx = self._lib, self._ctx
        with self._lock:
            lib.nft_ctx_output_set_flags(ctx, _OUTPUT_JSON if as_json else 0)
            lib.nft_ctx_set_dry_run(ctx, dry_run)
            try:
                rc = lib.nft_run_cmd_from_buffer(ctx, script.encode())
            finally:
                out = lib.nft_ctx_get_output_buffer(ctx) or b""
                err = lib.nft_ctx_get_error_buffer(ctx) or b""
                lib.nft_ctx_set_dry_run(ctx, False)
        return rc, out, err


def _open(path: str) -> _Library | None:
    try:
        return _Library(ctypes.CDLL(path))
    except (OSError, AttributeError):
        return None


@functools.cache
def _library() -> _Library | None:
    """The process's libnftables context, made on first use; None without the library."""
    found = _open("libnftables.so.1")
    if found is None and (path := ctypes.util.find_library("nftables")):  # runs ldconfig
        found = _open(path)
    return found


async def _execute(
    script: str, *, as_json: bool = False, dry_run: bool = False, netns: str | None = None
) -> bytes:
    """Run ``script`` in one transaction; a refusal raises NftError with nft's message."""
    library = None if netns else _library()
    if library is not None:
        rc, out, err = await asyncio.to_thread(
            library.run, script, as_json=as_json, dry_run=dry_run
        )
        if rc != 0:
            text = err.decode(errors="replace").strip() or f"error {rc}"
            raise NftError(text, argv=("libnftables",), returncode=rc)
        return out
    if as_json:  # with -f, -j would read the script as JSON: a one-line query goes as argv
        return await _command(["-j", *script.split()], "", netns)
    return await _command([*(["-c"] if dry_run else []), "-f", "-"], script, netns)


async def _command(args: Sequence[str], stdin: str, netns: str | None) -> bytes:
    """The nft command, run to completion; a non-zero exit raises NftError."""
    argv = [*(["ip", "netns", "exec", netns] if netns else []), NFT, *args]
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as err:
        raise NftError(f"{argv[0]}: {err.strerror}", argv=argv, returncode=None) from err
    try:
        async with asyncio.timeout(TIMEOUT):
            out, errout = await proc.communicate(stdin.encode())
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise
    if proc.returncode != 0:
        text = (errout or out).decode(errors="replace").strip() or f"exit {proc.returncode}"
        raise NftError(text, argv=argv, returncode=proc.returncode)
    return out


async def apply(script: str, *, netns: str | None = None) -> None:
    """Run ``script`` (as ``nft -f -`` would): all of it in one transaction, or nothing."""
    await _execute(script, netns=netns)


async def check(script: str, *, netns: str | None = None) -> None:
    """``nft -c``: whether the kernel would accept ``script``, changing nothing."""
    await _execute(script, dry_run=True, netns=netns)


async def delete_table(family: str, name: str, *, netns: str | None = None) -> None:
    """Delete the table; an absent table is fine (it is added first, in the same
    transaction, so the delete always finds it)."""
    await apply(f"add table {family} {name}\ndelete table {family} {name}\n", netns=netns)


def _objects(out: bytes) -> list[Mapping[str, Any]]:
    try:
        items = json.loads(out or b"{}").get("nftables") or []
    except (ValueError, AttributeError) as err:
        raise NftError(f"unreadable nft JSON: {err}", argv=(), returncode=0) from err
    return [i for i in items if isinstance(i, dict)]


async def table_exists(family: str, name: str, *, netns: str | None = None) -> bool:
    out = await _execute(f"list tables {family}\n", as_json=True, netns=netns)
    return any((i.get("table") or {}).get("name") == name for i in _objects(out))


async def set_elements(
    family: str, table: str, prefix: str = "", *, netns: str | None = None
) -> dict[str, tuple[tuple[str, int], ...]]:
    """The elements of the table's sets whose name starts with ``prefix``, as
    (value, seconds until it expires; 0 without a timeout) per set. An absent table has none.
    Used to carry ClientIP affinity across a sync (``proxyrules.render(affinity=...)``)."""
    if not await table_exists(family, table, netns=netns):
        return {}
    out = await _execute(f"list sets table {family} {table}\n", as_json=True, netns=netns)
    found: dict[str, tuple[tuple[str, int], ...]] = {}
    for item in _objects(out):
        s = item.get("set") or {}
        name = str(s.get("name") or "")
        if not name.startswith(prefix) or s.get("table") != table:
            continue
        entries = []
        for e in s.get("elem") or ():
            body = e.get("elem") if isinstance(e, dict) else None
            if isinstance(body, dict):
                entries.append((str(body.get("val")), int(body.get("expires") or 0)))
            elif isinstance(e, str):
                entries.append((e, 0))
        found[name] = tuple(entries)
    return found
