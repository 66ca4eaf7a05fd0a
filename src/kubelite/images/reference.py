"""Image references, normalised the way the kubelet and containerd see them. Pure.

``busybox`` and ``busybox:1.36`` and ``index.docker.io/library/busybox:1.36`` are one image,
``docker.io/library/busybox:1.36``; the store, the pull locks and ``repoTags`` all key on that
spelling. The grammar is the Docker distribution reference grammar (lowercase path
components with ``.``/``_``/``__``/``-`` separators, a tag of up to 128 word characters, a
``algo:hex`` digest), re-implemented here from its published description.

Also the default pull policy, which depends only on the reference: ``:latest`` or no tag
means Always, anything else IfNotPresent (the API server's defaulting rule).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kubelite.images.interface import InvalidImageName

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_REPO_PREFIX = "library/"
DEFAULT_TAG = "latest"
MAX_NAME_LENGTH = 255

_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH_RE = re.compile(rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*")
_HOST_LABEL = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_RE = re.compile(rf"(?:{_HOST_LABEL}(?:\.{_HOST_LABEL})*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?")
_TAG_RE = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST_RE = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")
_SHA256_HEX_RE = re.compile(r"[a-f0-9]{64}")


@dataclass(frozen=True, slots=True)
class Reference:
    """A fully qualified reference: ``domain/path[:tag][@digest]``."""

    domain: str  # "docker.io", "127.0.0.1:5000", "localhost"
    path: str  # "library/busybox"
    tag: str = ""  # empty when only a digest is given
    digest: str = ""  # "sha256:<hex>" or empty

    @property
    def name(self) -> str:
        """``docker.io/library/busybox``: the repository, without tag or digest."""
        return f"{self.domain}/{self.path}"

    def with_digest(self, digest: str) -> Reference:
        return Reference(self.domain, self.path, "", digest)

    def __str__(self) -> str:
        if self.digest:
            return f"{self.name}@{self.digest}"
        return f"{self.name}:{self.tag}"


def _invalid(ref: str, why: str = "invalid reference format") -> InvalidImageName:
    return InvalidImageName(f'couldn\'t parse image name "{ref}": {why}')


def _split_domain(name: str) -> tuple[str, str]:
    """(domain, remainder). The first component is a domain only if it looks like one."""
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        domain = DEFAULT_DOMAIN if first == LEGACY_DEFAULT_DOMAIN else first
        return domain, rest
    return DEFAULT_DOMAIN, name


def parse_reference(ref: str) -> Reference:
    """Normalise any spelling of an image reference; raise InvalidImageName if malformed.

    ``busybox`` → ``docker.io/library/busybox:latest``; ``name:tag@digest`` keeps only the
    digest (the digest decides what is pulled).
    """
    if not ref or ref != ref.strip():
        raise _invalid(ref)
    remainder, _, digest = ref.partition("@")
    if digest and not _DIGEST_RE.fullmatch(digest):
        raise _invalid(ref, "invalid digest format")
    if digest.startswith("sha256:") and not _SHA256_HEX_RE.fullmatch(digest[7:]):
        raise _invalid(ref, "invalid checksum digest format")
    name, tag = remainder, ""
    colon = remainder.rfind(":")
    if colon > remainder.rfind("/"):
        name, tag = remainder[:colon], remainder[colon + 1 :]
        if not _TAG_RE.fullmatch(tag):
            raise _invalid(ref)
    if _SHA256_HEX_RE.fullmatch(name):
        raise _invalid(
            ref, f"invalid repository name ({name}), cannot specify 64-byte hexadecimal strings"
        )
    domain, path = _split_domain(name)
    if not _DOMAIN_RE.fullmatch(domain):
        raise _invalid(ref)
    if path != path.lower() and _PATH_RE.fullmatch(path.lower()):
        raise _invalid(ref, f"repository name ({path}) must be lowercase")
    if not _PATH_RE.fullmatch(path):
        raise _invalid(ref)
    if domain == DEFAULT_DOMAIN and "/" not in path:
        path = OFFICIAL_REPO_PREFIX + path
    if len(domain) + 1 + len(path) > MAX_NAME_LENGTH:
        raise _invalid(ref, f"repository name must not be more than {MAX_NAME_LENGTH} characters")
    if digest:
        tag = ""
    elif not tag:
        tag = DEFAULT_TAG
    return Reference(domain=domain, path=path, tag=tag, digest=digest)


def normalise(ref: str) -> str:
    """``parse_reference(ref)`` as a string: the one spelling the store keys on."""
    return str(parse_reference(ref))


def familiar(ref: Reference) -> str:
    """The short spelling users type: ``busybox:1.36`` for ``docker.io/library/busybox:1.36``."""
    name = ref.name
    if ref.domain == DEFAULT_DOMAIN:
        name = ref.path.removeprefix(OFFICIAL_REPO_PREFIX)
    return f"{name}@{ref.digest}" if ref.digest else f"{name}:{ref.tag}"


def default_pull_policy(image: str) -> str:
    """``Always`` for ``:latest`` or an untagged, undigested image, else ``IfNotPresent``.

    Decided on the image as written (before normalisation), like the API server does; a
    digest counts as a version.
    """
    remainder, _, digest = image.partition("@")
    if digest:
        return "IfNotPresent"
    colon = remainder.rfind(":")
    tag = remainder[colon + 1 :] if colon > remainder.rfind("/") else ""
    return "Always" if tag in ("", DEFAULT_TAG) else "IfNotPresent"
