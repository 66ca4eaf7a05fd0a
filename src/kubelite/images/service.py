"""The ImageService: pull, status, list, remove, load and prune over one ImageStore.

A pull (1) normalises the reference, (2) joins a pull of the same image already under way,
(3) tries each source the registry configuration gives (mirrors, then upstream) with each
credential, (4) unpacks the layers not yet unpacked, (5) names the image. Errors come out
as the typed errors of ``images.interface`` with the message the kubelet prints after
``Failed to pull image "<img>": ``.

Garbage collection (``remove``, ``prune``) never runs while a pull of this process is
writing blobs, and never deletes a layer under a mounted root filesystem.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kubelite.images.gclock import CollectionGuard
from kubelite.images.interface import (
    ImageError,
    ImageInfo,
    ImageNotFound,
    ImageNotPresent,
    ImagePullFailed,
    ImageService,
    PullProgress,
    RegistryAuth,
    RootfsProvider,
)
from kubelite.images.overlay import mounted_layers
from kubelite.images.puller import Skopeo
from kubelite.images.reference import Reference, parse_reference
from kubelite.images.registries import RegistryConfig, load_registry_config
from kubelite.images.rootfs import OverlayRootfs
from kubelite.images.store import ImageStore
from kubelite.settings import Settings

ProgressFn = Callable[[PullProgress], None]
ImageList = list[ImageInfo]  # spelled once: inside Images, ``list`` is the method


@dataclass(frozen=True, slots=True)
class PruneResult:
    images: tuple[str, ...]  # image IDs removed
    items: int  # blobs and unpacked layers deleted
    bytes: int  # blob bytes freed


class Images:
    """ImageService over a store in ``images_dir``; ``rootfs`` is its RootfsProvider."""

    def __init__(
        self,
        *,
        images_dir: Path,
        registries: RegistryConfig | None = None,
        skopeo: str | None = None,
    ) -> None:
        self.store = ImageStore(images_dir)
        self.registries = registries or RegistryConfig()
        self.skopeo = Skopeo(blobs=self.store.blobs, scratch=self.store.tmp, binary=skopeo)
        self.rootfs = OverlayRootfs(store=self.store)
        self._inflight: dict[str, asyncio.Future[ImageInfo]] = {}
        self._layer_locks: dict[str, asyncio.Lock] = {}
        self._guard = CollectionGuard(images_dir / "gc.lock")

    @classmethod
    def from_settings(cls, settings: Settings) -> Images:
        """Raises RegistryConfigError if the registry configuration is malformed."""
        return cls(
            images_dir=settings.images_dir,
            registries=load_registry_config(settings.registry_config),
        )

    # -- ImageService ----------------------------------------------------------------

    async def pull(
        self,
        ref: str,
        *,
        auth: Sequence[RegistryAuth] = (),
        progress: ProgressFn | None = None,
    ) -> ImageInfo:
        parsed = parse_reference(ref)
        key = str(parsed)
        while (fut := self._inflight.get(key)) is not None:
            try:
                return await asyncio.shield(fut)
            except asyncio.CancelledError:
                if not fut.cancelled():
                    raise  # we were cancelled, not the pull we joined
        fut = asyncio.get_running_loop().create_future()
        self._inflight[key] = fut
        try:
            info = await self._pull(parsed, auth, progress)
        except BaseException as e:
            if isinstance(e, asyncio.CancelledError):
                fut.cancel()
            else:
                fut.set_exception(e)
                fut.exception()  # retrieved: joiners re-raise it, nobody else must
            raise
        finally:
            del self._inflight[key]
        fut.set_result(info)
        return info

    def status(self, ref: str) -> ImageInfo | None:
        digest = self.store.resolve(ref)
        return self.store.info(digest) if digest else None

    def list(self) -> ImageList:
        return [self.store.info(d) for d in sorted(set(self.store.refs().values()))]

    async def remove(self, ref: str) -> None:
        """Remove the image ``ref`` names (all its names) and its unused blobs. Removing
        an image that is not there is not an error (the CRI's RemoveImage contract)."""
        digest = self.store.resolve(ref)
        if digest is None:
            return
        async with self._collecting():
            self.store.untag(self.store.names_of(digest))
            await asyncio.to_thread(self._collect)

    # -- beyond the Protocol ---------------------------------------------------------

    async def load(self, archive: Path) -> ImageList:
        """Load a ``docker save`` tarball or an OCI archive; returns the images named."""
        entries = await asyncio.to_thread(_archive_entries, archive)
        infos = []
        async with self._pulling():
            self.store.ensure()
            for transport_ref, names in entries:
                layout = Path(tempfile.mkdtemp(dir=self.store.tmp, prefix="load-"))
                try:
                    await self.skopeo.copy_archive(transport_ref, layout, "image")
                    digest = _layout_manifest(layout)
                finally:
                    shutil.rmtree(layout, ignore_errors=True)
                await self._unpack_all(digest)
                if not names:
                    names = [f"import-{digest.removeprefix('sha256:')[:12]}:latest"]
                self.store.tag([str(parse_reference(n)) for n in names], digest)
                infos.append(self.store.info(digest))
        return infos

    async def prune(self, in_use: Iterable[str] = ()) -> PruneResult:
        """Remove every image that no mounted rootfs uses and ``in_use`` (names or IDs)
        does not name, then every blob and layer no remaining image needs."""
        keep = {d for d in (self.store.resolve(r) for r in in_use) if d}
        async with self._collecting():
            mounted = mounted_layers(self.store.layers_dir)
            removed = []
            for digest in sorted(set(self.store.refs().values())):
                img = self.store.image(digest)
                if digest in keep or (img.layers and set(img.layers) <= mounted):
                    continue
                self.store.untag(self.store.names_of(digest))
                removed.append(img.config_digest)
            items, freed = await asyncio.to_thread(self._collect)
        return PruneResult(images=tuple(removed), items=items, bytes=freed)

    # -- steps -----------------------------------------------------------------------

    async def _pull(
        self, ref: Reference, auth: Sequence[RegistryAuth], progress: ProgressFn | None
    ) -> ImageInfo:
        async with self._pulling():
            self.store.ensure()
            digest, target = await self._fetch(ref, auth, progress)
            await self._unpack_all(digest)
            # The name asked for, and the repository at the registry's digest of it: the
            # image's repo digest (CS-7), kept as containerd keeps it.
            self.store.tag(sorted({str(ref), str(ref.with_digest(target))}), digest)
            return self.store.info(digest)

    async def _fetch(
        self, ref: Reference, auth: Sequence[RegistryAuth], progress: ProgressFn | None
    ) -> tuple[str, str]:
        """Copy the manifest, config and missing layers; return the digest of the manifest
        stored and the registry's digest of ``ref`` (the index's, for a multi-platform
        image)."""
        failures: list[ImageError] = []
        for source in self.registries.sources_for(ref):
            creds: list[RegistryAuth | None] = [*auth, source.auth] if auth else [source.auth]
            for cred in creds:
                layout = Path(tempfile.mkdtemp(dir=self.store.tmp, prefix="pull-"))
                try:
                    target = await self.skopeo.copy_from_registry(
                        source, ref, layout, auth=cred, progress=progress
                    )
                    return _layout_manifest(layout), target
                except ImageError as e:
                    failures.append(e)
                finally:
                    shutil.rmtree(layout, ignore_errors=True)
        raise _pull_error(ref, failures)

    async def _unpack_all(self, manifest_digest: str) -> None:
        try:
            layers = self.store.image(manifest_digest).layers
        except (OSError, ValueError, KeyError) as e:
            raise ImagePullFailed(f"unreadable image manifest {manifest_digest}: {e}") from e
        await asyncio.gather(*(self._unpack(d) for d in layers))

    async def _unpack(self, digest: str) -> None:
        lock = self._layer_locks.setdefault(digest, asyncio.Lock())
        async with lock:
            await asyncio.to_thread(self.store.unpack, digest)

    def _collect(self) -> tuple[int, int]:
        """Runs only under the exclusive guard: no pull anywhere is using ``tmp/``."""
        self.store.clear_scratch()
        return self.store.collect(mounted_layers(self.store.layers_dir))

    def _pulling(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self._guard.writing()

    def _collecting(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self._guard.collecting()


def _conforms(images: Images) -> tuple[ImageService, RootfsProvider]:
    """Never called: mypy checks here that Images and OverlayRootfs meet the contracts."""
    return images, images.rootfs


def _pull_error(ref: Reference, failures: list[ImageError]) -> ImageError:
    """One error for all sources: "not found" if a source said so and none did better."""
    prefix = f'failed to pull and unpack image "{ref}": '
    not_found = [f for f in failures if isinstance(f, ImageNotFound)]
    if not_found:
        return ImageNotFound(prefix + str(not_found[0]))
    last = failures[-1] if failures else ImagePullFailed("no source to pull from")
    return ImagePullFailed(prefix + str(last))


def _layout_manifest(layout: Path) -> str:
    """The digest of the one manifest an OCI layout's index.json names."""
    index = json.loads((layout / "index.json").read_text())
    manifests = index.get("manifests") or []
    if len(manifests) != 1:
        raise ImagePullFailed(f"expected one manifest in the pulled layout, got {len(manifests)}")
    return str(manifests[0]["digest"])


def _archive_entries(archive: Path) -> list[tuple[str, list[str]]]:
    """(skopeo source, names) for each image in a docker-save or OCI archive."""
    try:
        with tarfile.open(archive) as tar:
            members = {m.name.removeprefix("./"): m for m in tar.getmembers()}
            if "oci-layout" in members and "index.json" in members:
                f = tar.extractfile(members["index.json"])
                index = json.loads(f.read()) if f else {}
                return _oci_entries(archive, index)
            if "manifest.json" in members:
                f = tar.extractfile(members["manifest.json"])
                manifest = json.loads(f.read()) if f else []
                return [
                    (f"docker-archive:{archive}:@{i}", list(entry.get("RepoTags") or []))
                    for i, entry in enumerate(manifest)
                ]
    except (OSError, tarfile.TarError, json.JSONDecodeError) as e:
        raise ImageNotPresent(f"cannot read image archive {archive}: {e}") from e
    raise ImageNotPresent(f"{archive} is neither a docker-save tarball nor an OCI archive")


def _oci_entries(archive: Path, index: dict[str, object]) -> list[tuple[str, list[str]]]:
    manifests = index.get("manifests") or []
    assert isinstance(manifests, list)
    out = []
    for desc in manifests:
        ann = desc.get("annotations") or {}
        ref_name = ann.get("org.opencontainers.image.ref.name") or ""
        full = ann.get("io.containerd.image.name") or ref_name
        names = [full] if full and ("/" in full or ":" in full) else []
        if ref_name:
            out.append((f"oci-archive:{archive}:{ref_name}", names))
        elif len(manifests) == 1:
            out.append((f"oci-archive:{archive}", names))
        else:
            raise ImageNotPresent(f"{archive}: an unnamed image among several; cannot pick it")
    return out
