"""What the rest of kubelite may know about images: typed records and two Protocols.

``ImageService`` is the image half of the runtime (the CRI image service's role): pull,
inspect, list, remove. ``RootfsProvider`` gives a container its root filesystem: an overlay
mount of an image's unpacked layers with a writable upper layer of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from kubelite.errors import KubeliteError


@dataclass(frozen=True, slots=True)
class ImageConfig:
    """The parts of an OCI image config that decide how a container runs."""

    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: tuple[str, ...] = ()  # "KEY=value" strings, in image order
    working_dir: str = ""
    user: str = ""
    stop_signal: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ImageInfo:
    id: str  # "sha256:<config digest>": the image ID (`kubelite image ls`, crictl's IMAGE ID)
    repo_tags: tuple[str, ...]  # normalised, e.g. "docker.io/library/busybox:1.36"
    repo_digests: tuple[str, ...]  # e.g. "docker.io/library/busybox@sha256:…"
    size: int  # bytes of the compressed layers, as the Pulled event reports
    config: ImageConfig


@dataclass(frozen=True, slots=True)
class RegistryAuth:
    """Credentials for one pull, from an imagePullSecret or the registry configuration."""

    username: str = ""
    password: str = ""
    identity_token: str = ""


@dataclass(frozen=True, slots=True)
class PullProgress:
    layers_total: int
    layers_done: int
    bytes_done: int
    bytes_total: int | None


class ImageError(KubeliteError):
    """Base of image errors; ``reason`` is the kubelet's waiting reason it maps to."""

    reason = "ErrImagePull"
    retriable = True


class InvalidImageName(ImageError):
    reason = "InvalidImageName"
    retriable = False


class ImageNotFound(ImageError):
    """The registry answered that the repository or tag does not exist."""


class ImagePullFailed(ImageError):
    """Any other failure to pull: network, auth, a broken manifest or blob."""


class ImageNotPresent(ImageError):
    """Asked for an image that is not in the store (pull policy Never)."""

    reason = "ErrImageNeverPull"
    retriable = False


class ImageService(Protocol):
    async def pull(
        self,
        ref: str,
        *,
        auth: Sequence[RegistryAuth] = (),
        progress: Callable[[PullProgress], None] | None = None,
    ) -> ImageInfo:
        """Pull ``ref`` (any spelling; normalised inside). Concurrent pulls of one image
        happen once; blobs already in the store are not fetched again."""
        ...

    def status(self, ref: str) -> ImageInfo | None:
        """The image if it is in the store, else None. No network."""
        ...

    def list(self) -> list[ImageInfo]: ...

    async def remove(self, ref: str) -> None: ...


class RootfsProvider(Protocol):
    async def mount_rootfs(self, image_ref: str, container_dir: Path) -> Path:
        """Mount an overlay of the image's layers with a writable upper layer kept in
        ``container_dir``; return the merged directory. The image must be in the store."""
        ...

    async def unmount_rootfs(self, container_dir: Path) -> None:
        """Unmount and delete the upper layer. Idempotent."""
        ...

    def image_config(self, image_ref: str) -> ImageConfig:
        """The config of a stored image (raises ImageNotPresent)."""
        ...

    def image_id(self, image_ref: str) -> str:
        """What a container of the stored image ``image_ref`` reports as its image (the API's
        ``imageID``, CS-7): the repo digest as containerd gives it,
        ``docker.io/library/busybox@sha256:<the registry's digest>``, for the repository the
        reference names, also when the image came through a mirror (raises
        ImageNotPresent)."""
        ...


def digest_path(root: Path, digest: str) -> Path:
    """``<root>/sha256/<hex>`` for a ``sha256:<hex>`` digest: the store's one layout rule."""
    algo, _, hexpart = digest.partition(":")
    if algo != "sha256" or len(hexpart) != 64 or not all(c in "0123456789abcdef" for c in hexpart):
        raise InvalidImageName(f"invalid digest {digest!r}")
    return root / algo / hexpart
