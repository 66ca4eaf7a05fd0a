"""The on-disk image store: content-addressed blobs, unpacked layers and image names.

Layout under ``Settings.images_dir``::

    blobs/sha256/<hex>    every manifest, config and layer blob, shared by all images
                          (skopeo writes here directly with --dest-shared-blob-dir)
    layers/<hex>/         a layer blob unpacked once, named by the blob's digest
    refs.json             {"docker.io/library/busybox:1.36": "sha256:<manifest digest>"}
    tmp/                  scratch: pull layouts, layers being unpacked

Blobs and layers are immutable once their final name exists (written elsewhere, renamed
in), so readers need no locks. ``refs.json`` is the one mutable file; writers hold an
``flock`` and replace it atomically, so the CLI and a running node can share a store.
Nothing here touches the network.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubelite.images.interface import (
    ImageConfig,
    ImageInfo,
    ImageNotPresent,
    InvalidImageName,
    digest_path,
)
from kubelite.images.reference import parse_reference
from kubelite.images.unpack import unpack_layer

INDEX_MEDIA_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)


@dataclass(frozen=True, slots=True)
class StoredImage:
    """One image's immutable facts, read from its manifest and config blobs."""

    manifest_digest: str
    config_digest: str
    layers: tuple[str, ...]  # layer blob digests, bottom first
    size: int  # compressed layer bytes
    config: ImageConfig


def image_config_from(doc: Mapping[str, Any]) -> ImageConfig:
    """The runtime-relevant part of an OCI/Docker image config document."""
    c = doc.get("config") or {}
    return ImageConfig(
        entrypoint=tuple(c.get("Entrypoint") or ()),
        cmd=tuple(c.get("Cmd") or ()),
        env=tuple(c.get("Env") or ()),
        working_dir=c.get("WorkingDir") or "",
        user=c.get("User") or "",
        stop_signal=c.get("StopSignal") or "",
        labels=dict(c.get("Labels") or {}),
    )


def repo_digests(names: list[str], manifest_digest: str) -> tuple[str, ...]:
    """An image's ``repository@digest`` names: the digested names it was stored under (the
    registry's digest of each pull), and ``repository@<manifest digest>`` for a repository
    it has only tags of (an image loaded from an archive). Pure."""
    digested = sorted({n for n in names if "@" in n})
    covered = {n.split("@", 1)[0] for n in digested}
    tagged = sorted({n.rsplit(":", 1)[0] for n in names if "@" not in n} - covered)
    return (*digested, *(f"{r}@{manifest_digest}" for r in tagged))


class ImageStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.blobs = root / "blobs"
        self.layers_dir = root / "layers"
        self.tmp = root / "tmp"
        self._refs_path = root / "refs.json"
        self._refs_cache: tuple[int, dict[str, str]] | None = None
        self._images: dict[str, StoredImage] = {}
        self._lock = threading.Lock()

    def ensure(self) -> None:
        for d in (self.blobs / "sha256", self.layers_dir, self.tmp):
            d.mkdir(parents=True, exist_ok=True)

    # -- blobs and images ------------------------------------------------------------

    def blob_path(self, digest: str) -> Path:
        return digest_path(self.blobs, digest)

    def has_blob(self, digest: str) -> bool:
        return self.blob_path(digest).exists()

    def read_json(self, digest: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.blob_path(digest).read_bytes())
        return data

    def image(self, manifest_digest: str) -> StoredImage:
        """The image whose manifest is ``manifest_digest`` (cached: content never changes)."""
        cached = self._images.get(manifest_digest)
        if cached is not None:
            return cached
        manifest = self.read_json(manifest_digest)
        if manifest.get("mediaType") in INDEX_MEDIA_TYPES or "manifests" in manifest:
            raise ValueError(f"{manifest_digest} is an index, not an image manifest")
        config_digest = manifest["config"]["digest"]
        layers = tuple(la["digest"] for la in manifest.get("layers") or ())
        img = StoredImage(
            manifest_digest=manifest_digest,
            config_digest=config_digest,
            layers=layers,
            size=sum(int(la.get("size", 0)) for la in manifest.get("layers") or ()),
            config=image_config_from(self.read_json(config_digest)),
        )
        self._images[manifest_digest] = img
        return img

    def info(self, manifest_digest: str) -> ImageInfo:
        img = self.image(manifest_digest)
        names = sorted(n for n, d in self.refs().items() if d == manifest_digest)
        return ImageInfo(
            id=img.config_digest,
            repo_tags=tuple(n for n in names if "@" not in n),
            repo_digests=repo_digests(names, manifest_digest),
            size=img.size,
            config=img.config,
        )

    def repo_digest(self, ref: str) -> str:
        """CS-7: the digested reference containerd reports as the image of a container made
        from ``ref`` (its ``imageID``): ``<repository>@<digest>`` for the repository the
        reference names, the digest being the registry's for what was pulled (an index's for
        a multi-platform image). An image ID finds the first of the image's repo digests;
        an image with no name at all is its ID. Raises ImageNotPresent."""
        digest = self.resolve(ref)
        if digest is None:
            raise ImageNotPresent(f'image "{ref}" is not present in the image store')
        names = self.names_of(digest)
        found = repo_digests(names, digest)
        try:
            parsed = parse_reference(ref)
        except InvalidImageName:
            parsed = None
        if parsed is None or str(parsed) not in names:  # resolved as an image ID
            return found[0] if found else self.image(digest).config_digest
        if parsed.digest:
            return str(parsed)
        mine = [d for d in found if d.split("@", 1)[0] == parsed.name]
        return mine[0] if mine else f"{parsed.name}@{digest}"

    # -- names -----------------------------------------------------------------------

    def refs(self) -> dict[str, str]:
        """name → manifest digest, re-read when another process changed the file."""
        try:
            mtime = self._refs_path.stat().st_mtime_ns
        except FileNotFoundError:
            return {}
        cache = self._refs_cache
        if cache is None or cache[0] != mtime:
            cache = (mtime, json.loads(self._refs_path.read_text()))
            self._refs_cache = cache
        return dict(cache[1])

    @contextlib.contextmanager
    def _editing_refs(self) -> Iterator[dict[str, str]]:
        self.ensure()
        with self._lock, open(self.root / "refs.lock", "a") as lockf:
            fcntl.flock(lockf, fcntl.LOCK_EX)
            self._refs_cache = None
            refs = self.refs()
            yield refs
            fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".refs.")
            with os.fdopen(fd, "w") as f:
                json.dump(refs, f, indent=1, sort_keys=True)
            os.replace(tmp, self._refs_path)
            self._refs_cache = None

    def tag(self, names: list[str], manifest_digest: str) -> None:
        with self._editing_refs() as refs:
            for name in names:
                refs[name] = manifest_digest

    def untag(self, names: list[str]) -> None:
        with self._editing_refs() as refs:
            for name in names:
                refs.pop(name, None)

    def resolve(self, ref: str) -> str | None:
        """The manifest digest for a name (any spelling) or an image ID (``sha256:…`` of the
        config, or an unambiguous hex prefix of at least 12 characters)."""
        refs = self.refs()
        try:
            digest = refs.get(str(parse_reference(ref)))
        except InvalidImageName:
            digest = None
        if digest is not None:
            return digest
        hexpart = ref.removeprefix("sha256:")
        if len(hexpart) < 12 or any(c not in "0123456789abcdef" for c in hexpart):
            return None
        matches = {d for d in set(refs.values()) if self._config_hex(d).startswith(hexpart)}
        return matches.pop() if len(matches) == 1 else None

    def _config_hex(self, manifest_digest: str) -> str:
        try:
            return self.image(manifest_digest).config_digest.removeprefix("sha256:")
        except (OSError, ValueError, KeyError):
            return ""

    def names_of(self, manifest_digest: str) -> list[str]:
        return sorted(n for n, d in self.refs().items() if d == manifest_digest)

    # -- layers ----------------------------------------------------------------------

    def layer_path(self, digest: str) -> Path:
        return self.layers_dir / digest_path(self.layers_dir, digest).name

    def unpack(self, digest: str) -> Path:
        """Unpack a layer blob once; later calls (from any process) return the same dir."""
        final = self.layer_path(digest)
        if final.is_dir():
            return final
        self.ensure()
        scratch = Path(tempfile.mkdtemp(dir=self.tmp, prefix="layer-"))
        try:
            unpack_layer(self.blob_path(digest), scratch)
            os.chmod(scratch, 0o755)
            try:
                os.rename(scratch, final)
            except OSError:
                if not final.is_dir():
                    raise
        finally:
            if scratch.exists():
                shutil.rmtree(scratch)
        return final

    # -- garbage collection ----------------------------------------------------------

    def clear_scratch(self) -> None:
        """Delete leftovers of interrupted pulls and unpacks (call with no pull running)."""
        for entry in os.scandir(self.tmp) if self.tmp.is_dir() else ():
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)

    def referenced(self) -> tuple[set[str], set[str]]:
        """(blob digests, layer digests) reachable from a name."""
        blobs: set[str] = set()
        layers: set[str] = set()
        for digest in set(self.refs().values()):
            try:
                img = self.image(digest)
            except (OSError, ValueError, KeyError):
                continue
            blobs |= {digest, img.config_digest, *img.layers}
            layers |= set(img.layers)
        return blobs, layers

    def collect(self, keep_layers: set[str]) -> tuple[int, int]:
        """Delete blobs and unpacked layers no name reaches and ``keep_layers`` does not
        hold (layers under a mounted rootfs). Returns (items removed, blob bytes freed)."""
        blobs, layers = self.referenced()
        blobs |= keep_layers
        layers |= keep_layers
        removed = freed = 0
        blob_dir = self.blobs / "sha256"
        for entry in os.scandir(blob_dir) if blob_dir.is_dir() else ():
            if f"sha256:{entry.name}" not in blobs:
                freed += entry.stat().st_size
                os.unlink(entry.path)
                self._images.pop(f"sha256:{entry.name}", None)
                removed += 1
        for entry in os.scandir(self.layers_dir) if self.layers_dir.is_dir() else ():
            if f"sha256:{entry.name}" not in layers:
                shutil.rmtree(entry.path)
                removed += 1
        return removed, freed
