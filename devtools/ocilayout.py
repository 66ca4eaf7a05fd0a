"""Write OCI image layouts from Python: deterministic layers, configs, manifests and indexes.

The stand-in images (``devtools.standins``) are built with this instead of a container
engine, so tests need nothing but skopeo and Debian packages. Layers are reproducible
(fixed mtimes, sorted entries, gzip without a timestamp), so a layer built twice has one
digest and two images that share it share a blob in any registry or store.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import platform
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
EPOCH = 1_700_000_000  # fixed mtime of every entry: reproducible layers

_GO_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le"}


def host_arch() -> str:
    """This machine's architecture in OCI (Go) spelling."""
    machine = platform.machine()
    return _GO_ARCH.get(machine, machine)


@dataclass(frozen=True, slots=True)
class Entry:
    """One tar entry. ``kind`` is "file", "dir", "symlink" or "hardlink"."""

    path: str  # relative, no leading slash: "bin/sh"
    kind: str = "file"
    data: bytes = b""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    link: str = ""  # symlink target or hardlink source path


@dataclass(frozen=True, slots=True)
class Blob:
    media_type: str
    data: bytes
    annotations: dict[str, str] = field(default_factory=dict)
    platform: dict[str, str] | None = None

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.data).hexdigest()

    def descriptor(self) -> dict[str, object]:
        d: dict[str, object] = {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": len(self.data),
        }
        if self.platform:
            d["platform"] = self.platform
        if self.annotations:
            d["annotations"] = self.annotations
        return d


@dataclass(frozen=True, slots=True)
class Layer:
    blob: Blob  # compressed
    diff_id: str  # sha256 of the uncompressed tar


def build_layer(entries: list[Entry]) -> Layer:
    """A gzip-compressed tar of ``entries``, sorted by path, reproducible byte for byte."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for e in sorted(entries, key=lambda e: e.path):
            info = tarfile.TarInfo(e.path)
            info.mtime = EPOCH
            info.mode = e.mode
            info.uid, info.gid = e.uid, e.gid
            info.uname = info.gname = ""
            if e.kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif e.kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, e.link
                tar.addfile(info)
            elif e.kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, e.link
                tar.addfile(info)
            else:
                info.size = len(e.data)
                tar.addfile(info, io.BytesIO(e.data))
    tar_bytes = raw.getvalue()
    compressed = gzip.compress(tar_bytes, compresslevel=6, mtime=0)
    return Layer(
        blob=Blob(OCI_LAYER_GZIP, compressed),
        diff_id="sha256:" + hashlib.sha256(tar_bytes).hexdigest(),
    )


def _canonical(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class Image:
    """One platform's image: a config blob, its layers and the manifest tying them."""

    config: Blob
    layers: tuple[Layer, ...]
    manifest: Blob


def build_image(
    layers: list[Layer],
    *,
    config: dict[str, object],
    arch: str | None = None,
    history: str = "built by kubelite devtools",
) -> Image:
    """Config + manifest for ``layers``; ``config`` is the OCI ``config`` object
    (Env, Entrypoint, Cmd, WorkingDir, User, StopSignal, Labels…)."""
    arch = arch or host_arch()
    config_doc = {
        "architecture": arch,
        "os": "linux",
        "created": "2023-11-14T22:13:20Z",
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": [la.diff_id for la in layers]},
        "history": [{"created": "2023-11-14T22:13:20Z", "created_by": history}] * len(layers),
    }
    config_blob = Blob(OCI_CONFIG, _canonical(config_doc))
    manifest_doc = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config_blob.descriptor(),
        "layers": [la.blob.descriptor() for la in layers],
    }
    manifest = Blob(
        OCI_MANIFEST,
        _canonical(manifest_doc),
        platform={"architecture": arch, "os": "linux"},
    )
    return Image(config=config_blob, layers=tuple(layers), manifest=manifest)


def build_index(images: list[Image]) -> Blob:
    """A multi-platform image index over ``images``."""
    doc = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [img.manifest.descriptor() for img in images],
    }
    return Blob(OCI_INDEX, _canonical(doc))


def write_layout(root: Path, tagged: dict[str, tuple[Blob, list[Image]]]) -> Path:
    """Write an OCI layout at ``root``. ``tagged`` maps a ref name (e.g. "1.36") to the
    top-level blob (a manifest or an index) and the images it covers."""
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    (root / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))

    def put(blob: Blob) -> None:
        path = blobs / blob.digest.split(":", 1)[1]
        if not path.exists():
            path.write_bytes(blob.data)

    manifests = []
    for name, (top, images) in sorted(tagged.items()):
        for img in images:
            put(img.config)
            for layer in img.layers:
                put(layer.blob)
            put(img.manifest)
        put(top)
        desc = top.descriptor()
        desc.pop("platform", None)
        desc["annotations"] = {"org.opencontainers.image.ref.name": name}
        manifests.append(desc)
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}
    (root / "index.json").write_text(json.dumps(index, indent=2))
    return root
