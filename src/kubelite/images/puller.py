"""Copying an image from a registry (or an archive) into the store's blobs with skopeo.

skopeo does the registry protocol: token auth, redirects, retries, multi-platform index →
this machine's platform, digest verification. It writes an OCI layout whose blobs live in
the store's shared ``blobs/`` (``--dest-shared-blob-dir``), so a blob already present is
never fetched again. This module builds the command lines (pure), runs skopeo, turns its
output into progress reports and its failures into typed errors.

Before copying by tag, the tag is resolved to the digest the registry gives for it (``skopeo
inspect --raw``; for a multi-platform image that is the index's digest) and the copy asks for
exactly that digest: the store keeps it as the image's repo digest, which is what containerd
reports as a container's ``imageID`` (CS-7), and a tag moved between the two requests cannot
mix two images.

skopeo is run hermetically: ``--insecure-policy`` (kubelite does no signature policy), its
own empty ``registries.conf`` (the host's mirrors and short-name aliases must not apply; our
mirrors come from kubelite's registry configuration), and credentials only from what the
caller passes (``--src-authfile`` we write, else ``--src-no-creds``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kubelite.images.interface import (
    ImageNotFound,
    ImagePullFailed,
    PullProgress,
    RegistryAuth,
)
from kubelite.images.reference import Reference
from kubelite.images.registries import Source

_NOT_FOUND = re.compile(
    r"manifest unknown|name unknown|not found|repository name not known|"
    r"requested access to the resource is denied|NAME_UNKNOWN|MANIFEST_UNKNOWN",
    re.IGNORECASE,
)
_FATAL_MSG = re.compile(r'level=fatal msg="((?:[^"\\]|\\.)*)"')
_COPYING_BLOB = re.compile(r"Copying blob (?:sha256:)?([0-9a-f]{12,64})")


@dataclass(frozen=True, slots=True)
class CopyFailure:
    """What a failed skopeo run said, reduced to the message and whether it was 'not found'."""

    message: str
    not_found: bool


def source_url(source: Source, ref: Reference) -> str:
    suffix = f"@{ref.digest}" if ref.digest else f":{ref.tag}"
    return f"docker://{source.host}/{source.path}{suffix}"


def auth_file_doc(host: str, auth: RegistryAuth) -> dict[str, object]:
    """A containers auth.json holding one credential for ``host``."""
    entry: dict[str, str] = {}
    if auth.username or auth.password:
        entry["auth"] = base64.b64encode(f"{auth.username}:{auth.password}".encode()).decode()
    if auth.identity_token:
        entry["identitytoken"] = auth.identity_token
    return {"auths": {host: entry}}


def copy_args(
    *,
    skopeo: str,
    src: str,
    dest: str,
    shared_blobs: Path | None,
    tls_verify: bool = True,
    cert_dir: Path | None = None,
    auth_file: Path | None = None,
    registry_source: bool = True,
) -> list[str]:
    """The skopeo command line for one copy. Pure."""
    args = [skopeo, "--insecure-policy", "copy", "--retry-times", "2"]
    if registry_source:
        args.append(f"--src-tls-verify={'true' if tls_verify else 'false'}")
        if cert_dir is not None:
            args += ["--src-cert-dir", str(cert_dir)]
        if auth_file is not None:
            args += ["--src-authfile", str(auth_file)]
        else:
            args.append("--src-no-creds")
    if shared_blobs is not None:
        args += ["--dest-shared-blob-dir", str(shared_blobs)]
    return [*args, src, dest]


def inspect_args(
    *,
    skopeo: str,
    src: str,
    tls_verify: bool = True,
    cert_dir: Path | None = None,
    auth_file: Path | None = None,
) -> list[str]:
    """The skopeo command line that prints the raw manifest ``src`` names. Pure."""
    args = [skopeo, "--insecure-policy", "inspect", "--raw", "--retry-times", "2"]
    args.append(f"--tls-verify={'true' if tls_verify else 'false'}")
    if cert_dir is not None:
        args += ["--cert-dir", str(cert_dir)]
    args += ["--authfile", str(auth_file)] if auth_file is not None else ["--no-creds"]
    return [*args, src]


def manifest_digest(raw: bytes) -> str:
    """A registry's digest of a manifest or index: sha256 of its exact bytes."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def inspect_failure(stderr: str, src: str) -> CopyFailure:
    """A failed ``inspect`` of ``src``, worded as the copy of it would have failed (the
    message users see after ``Failed to pull image``): the same cause either way."""
    failure = parse_failure(stderr)
    prefix = f'Error parsing image name "{src}": '
    if failure.message.startswith(prefix):
        message = f"initializing source {src}: " + failure.message.removeprefix(prefix)
        return CopyFailure(message=message, not_found=failure.not_found)
    return failure


def parse_failure(stderr: str) -> CopyFailure:
    """The useful sentence of skopeo's error output."""
    m = _FATAL_MSG.search(stderr)
    if m:
        text = m.group(1).replace('\\"', '"')
    else:
        lines = stderr.strip().splitlines()
        text = lines[-1] if lines else "skopeo failed"
    return CopyFailure(message=text, not_found=bool(_NOT_FOUND.search(text)))


class Skopeo:
    """Runs skopeo copies into a store's blob directory."""

    def __init__(self, *, blobs: Path, scratch: Path, binary: str | None = None) -> None:
        self.blobs = blobs
        self.scratch = scratch
        self.binary = binary or shutil.which("skopeo") or "skopeo"

    def _env(self) -> dict[str, str]:
        conf = self.scratch / "registries.conf"
        if not conf.exists():
            conf.parent.mkdir(parents=True, exist_ok=True)
            conf.write_text("# kubelite: no host mirrors or aliases\n")
        return {**os.environ, "CONTAINERS_REGISTRIES_CONF": str(conf)}

    async def copy_from_registry(
        self,
        source: Source,
        ref: Reference,
        layout: Path,
        *,
        auth: RegistryAuth | None,
        progress: Callable[[PullProgress], None] | None = None,
    ) -> str:
        """Copy ``ref`` from ``source`` into the OCI layout ``layout`` (tag "image").

        Returns the registry's digest of what ``ref`` names (a tag is resolved first and the
        copy is made of that digest): for a multi-platform image the index's digest, of
        which the layout holds this machine's platform manifest."""
        work = layout.with_name(layout.name + ".cfg")
        work.mkdir(parents=True, exist_ok=True)
        auth_file = cert_dir = None
        if auth is not None and (auth.username or auth.password or auth.identity_token):
            auth_file = work / "auth.json"
            auth_file.write_text(json.dumps(auth_file_doc(source.host, auth)))
            auth_file.chmod(0o600)
        if source.tls.ca_file or source.tls.cert_file:
            cert_dir = work / "certs"
            cert_dir.mkdir(exist_ok=True)
            if source.tls.ca_file:
                shutil.copyfile(source.tls.ca_file, cert_dir / "ca.crt")
            if source.tls.cert_file and source.tls.key_file:
                shutil.copyfile(source.tls.cert_file, cert_dir / "client.cert")
                shutil.copyfile(source.tls.key_file, cert_dir / "client.key")
        tls_verify = not (source.plain_http or source.tls.insecure_skip_verify)
        try:
            target = ref.digest
            if not target:
                src = source_url(source, ref)
                raw = await self._output(
                    inspect_args(
                        skopeo=self.binary, src=src, tls_verify=tls_verify,
                        cert_dir=cert_dir, auth_file=auth_file,
                    ), src,
                )  # fmt: skip
                target = manifest_digest(raw)
            args = copy_args(
                skopeo=self.binary,
                src=source_url(source, ref.with_digest(target)),
                dest=f"oci:{layout}:image",
                shared_blobs=self.blobs,
                tls_verify=tls_verify,
                cert_dir=cert_dir,
                auth_file=auth_file,
            )
            await self._run(args, layout, progress)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return target

    async def _output(self, args: list[str], src: str) -> bytes:
        """Run a skopeo command about ``src`` that prints its answer; its stdout."""
        proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._env(),
        )
        try:
            stdout, stderr = await proc.communicate()
        except BaseException:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            raise
        if proc.returncode != 0:
            failure = inspect_failure(stderr.decode(errors="replace"), src)
            raise (ImageNotFound if failure.not_found else ImagePullFailed)(failure.message)
        return stdout

    async def copy_archive(self, src: str, layout: Path, tag: str) -> None:
        """Copy from a ``docker-archive:``/``oci-archive:`` source into ``layout``."""
        args = copy_args(
            skopeo=self.binary,
            src=src,
            dest=f"oci:{layout}:{tag}",
            shared_blobs=self.blobs,
            registry_source=False,
        )
        await self._run(args, layout, None)

    async def _run(
        self,
        args: list[str],
        layout: Path,
        progress: Callable[[PullProgress], None] | None,
    ) -> None:
        proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._env(),
        )
        assert proc.stdout is not None and proc.stderr is not None
        tracker = _ProgressTracker(self.blobs, layout, progress)
        ticker = asyncio.ensure_future(tracker.tick()) if progress is not None else None
        try:
            stderr_task = asyncio.ensure_future(proc.stderr.read())
            async for line in proc.stdout:
                tracker.line(line.decode(errors="replace"))
            stderr = (await stderr_task).decode(errors="replace")
            await proc.wait()
        except BaseException:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            stderr_task.cancel()
            raise
        finally:
            if ticker is not None:
                ticker.cancel()
                await asyncio.gather(ticker, return_exceptions=True)
        if proc.returncode != 0:
            failure = parse_failure(stderr)
            raise (ImageNotFound if failure.not_found else ImagePullFailed)(failure.message)
        tracker.finish()


class _ProgressTracker:
    """Progress from skopeo's "Copying blob <digest>" lines plus the sizes on disk."""

    def __init__(
        self, blobs: Path, layout: Path, report: Callable[[PullProgress], None] | None
    ) -> None:
        self.blobs = blobs / "sha256"
        self.layout = layout
        self.report = report
        self.layers: list[str] = []

    def line(self, text: str) -> None:
        m = _COPYING_BLOB.search(text)
        if m:
            self.layers.append(m.group(1))
        self.emit()

    def emit(self, done: bool = False) -> None:
        if self.report is None:
            return
        present = {e.name: e.stat().st_size for e in _scan(self.blobs)}
        layers_done = bytes_done = 0
        for short in self.layers:
            size = next((s for n, s in present.items() if n.startswith(short)), None)
            if size is not None:
                layers_done += 1
                bytes_done += size
        bytes_done += sum(e.stat().st_size for e in _scan(self.layout) if e.is_file())
        total = bytes_done if done else None
        self.report(PullProgress(len(self.layers), layers_done, bytes_done, total))

    async def tick(self, interval: float = 0.2) -> None:
        while True:
            await asyncio.sleep(interval)
            self.emit()

    def finish(self) -> None:
        self.emit(done=True)


def _scan(path: Path) -> list[os.DirEntry[str]]:
    try:
        return list(os.scandir(path))
    except FileNotFoundError:
        return []
