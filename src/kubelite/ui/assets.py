"""The web view's files, shipped in the package (``kubelite/ui/static``) and read once, and the
headers every web view response carries.

Nothing comes from the internet: the pages load only these files and call only this server,
which the Content-Security-Policy enforces (``default-src 'self'``, no inline script or style,
no plugins, no framing). Pages are ``no-store`` (the login page handles a secret); scripts,
styles and images are revalidated on every load (``no-cache`` with an ETag), so a new
kubelite's files are used at once without a build step that renames them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import PurePosixPath

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

# On every response of the web view (pages, files, its /ui/api answers).
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


@dataclass(frozen=True, slots=True)
class Asset:
    name: str
    body: bytes
    content_type: str
    etag: str  # a strong validator, quoted

    @property
    def cache_control(self) -> str:
        return "no-store" if self.content_type.startswith("text/html") else "no-cache"

    def headers(self) -> dict[str, str]:
        return {
            **SECURITY_HEADERS,
            "Content-Type": self.content_type,
            "Cache-Control": self.cache_control,
            "ETag": self.etag,
        }


def make_asset(name: str, body: bytes) -> Asset:
    content_type = CONTENT_TYPES.get(PurePosixPath(name).suffix, "application/octet-stream")
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return Asset(name=name, body=body, content_type=content_type, etag=etag)


def load_assets(package: str = "kubelite.ui", folder: str = "static") -> dict[str, Asset]:
    """Every file of the package's static folder by its name there (``app.js``)."""
    root = resources.files(package) / folder
    return {
        entry.name: make_asset(entry.name, entry.read_bytes())
        for entry in root.iterdir()
        if entry.is_file() and PurePosixPath(entry.name).suffix in CONTENT_TYPES
    }


def not_modified(asset: Asset, if_none_match: str) -> bool:
    """``If-None-Match`` names this asset's ETag (or ``*``)."""
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or asset.etag in tags
