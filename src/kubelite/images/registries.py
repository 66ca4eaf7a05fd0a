"""The registry configuration: one YAML file in k3s' ``registries.yaml`` format.

It says where to pull from (``mirrors:`` per registry host, an ordered ``endpoint:`` list and
optional ``rewrite:`` rules for the repository path) and how to talk to each host
(``configs:`` per host: ``auth:`` and ``tls:``)::

    mirrors:
      docker.io:
        endpoint: ["http://127.0.0.1:5000"]     # http:// = plain HTTP
    configs:
      "127.0.0.1:5000":
        auth: {username: u, password: p}
        tls: {insecure_skip_verify: true, ca_file: /path/ca.pem}

``sources_for`` turns a reference into the ordered list of places to try: the mirrors in
order, then the upstream registry itself (unless a mirror already is it). Parsing is strict:
an unknown key or a wrong type is an error naming the file and the key, because a silently
ignored mirror sends pulls to the internet.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from kubelite.errors import KubeliteError
from kubelite.images.interface import RegistryAuth
from kubelite.images.reference import DEFAULT_DOMAIN, Reference

WILDCARD = "*"


class RegistryConfigError(KubeliteError):
    """The registry configuration file is unreadable or malformed."""


@dataclass(frozen=True, slots=True)
class TLSConfig:
    insecure_skip_verify: bool = False
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None


@dataclass(frozen=True, slots=True)
class HostConfig:
    auth: RegistryAuth | None = None
    tls: TLSConfig = field(default_factory=TLSConfig)


@dataclass(frozen=True, slots=True)
class Endpoint:
    host: str  # "127.0.0.1:5000", "mirror.example.com"
    plain_http: bool


@dataclass(frozen=True, slots=True)
class Mirror:
    endpoints: tuple[Endpoint, ...] = ()
    rewrites: tuple[tuple[re.Pattern[str], str], ...] = ()

    def rewrite(self, path: str) -> str:
        """Apply the first matching rewrite rule to a repository path."""
        for pattern, replacement in self.rewrites:
            if pattern.search(path):
                return pattern.sub(replacement, path, count=1)
        return path


@dataclass(frozen=True, slots=True)
class Source:
    """One place to pull a reference from: ``docker://host/path`` with its settings."""

    host: str
    path: str
    plain_http: bool = False
    tls: TLSConfig = field(default_factory=TLSConfig)
    auth: RegistryAuth | None = None
    is_mirror: bool = False


@dataclass(frozen=True, slots=True)
class RegistryConfig:
    mirrors: Mapping[str, Mirror] = field(default_factory=dict)
    configs: Mapping[str, HostConfig] = field(default_factory=dict)

    def sources_for(self, ref: Reference) -> list[Source]:
        """Mirrors of ``ref.domain`` (or of ``*``) in order, then the upstream registry."""
        mirror = self.mirrors.get(ref.domain) or self.mirrors.get(WILDCARD)
        sources: list[Source] = []
        upstream = _upstream_hosts(ref.domain)
        if mirror is not None:
            path = mirror.rewrite(ref.path)
            for ep in mirror.endpoints:
                if ep.host in upstream and not ep.plain_http:
                    continue  # the upstream itself comes last, with its own path
                cfg = self.configs.get(ep.host, HostConfig())
                sources.append(
                    Source(ep.host, path, ep.plain_http, cfg.tls, cfg.auth, is_mirror=True)
                )
        cfg = self.configs.get(ref.domain, HostConfig())
        sources.append(Source(ref.domain, ref.path, False, cfg.tls, cfg.auth))
        return sources


def _upstream_hosts(domain: str) -> set[str]:
    if domain == DEFAULT_DOMAIN:
        return {DEFAULT_DOMAIN, "registry-1.docker.io", "index.docker.io"}
    return {domain}


def load_registry_config(path: Path | None) -> RegistryConfig:
    """Read ``path``; ``None`` means no configuration (pull from each upstream)."""
    if path is None:
        return RegistryConfig()
    try:
        text = path.read_text()
    except OSError as e:
        raise RegistryConfigError(f"registry config {path}: cannot read: {e.strerror}") from e
    return parse_registry_config(text, source=str(path))


def parse_registry_config(text: str, *, source: str = "registries.yaml") -> RegistryConfig:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise RegistryConfigError(f"registry config {source}: invalid YAML: {e}") from e
    if doc is None:
        return RegistryConfig()
    p = _Parser(source)
    top = p.mapping(doc, "", {"mirrors", "configs"})
    mirrors = {
        host: p.mirror(value, f"mirrors.{host}")
        for host, value in p.mapping(top.get("mirrors") or {}, "mirrors").items()
    }
    configs = {
        host: p.host_config(value, f"configs.{host}")
        for host, value in p.mapping(top.get("configs") or {}, "configs").items()
    }
    return RegistryConfig(mirrors=mirrors, configs=configs)


class _Parser:
    """Checks shapes and types; every error names the file and the dotted key."""

    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, key: str, message: str) -> RegistryConfigError:
        where = f" {key}" if key else ""
        return RegistryConfigError(f"registry config {self.source}:{where}: {message}")

    def mapping(self, value: Any, key: str, allowed: set[str] | None = None) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(key, f"must be a mapping, not {type(value).__name__}")
        for k in value:
            if not isinstance(k, str):
                raise self.error(key, f"key {k!r} must be a string")
            if allowed is not None and k not in allowed:
                expected = ", ".join(sorted(allowed))
                raise self.error(_join(key, k), f"unknown key (expected one of: {expected})")
        return value

    def string(self, value: Any, key: str) -> str:
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, not {type(value).__name__}")
        return value

    def mirror(self, value: Any, key: str) -> Mirror:
        m = self.mapping(value or {}, key, {"endpoint", "rewrite"})
        raw = m.get("endpoint") or []
        if not isinstance(raw, list):
            raise self.error(f"{key}.endpoint", "must be a list of URLs")
        endpoints = tuple(
            self.endpoint(self.string(u, f"{key}.endpoint[{i}]"), f"{key}.endpoint[{i}]")
            for i, u in enumerate(raw)
        )
        rewrites = []
        for pattern, repl in self.mapping(m.get("rewrite") or {}, f"{key}.rewrite").items():
            rkey = f"{key}.rewrite.{pattern}"
            try:
                compiled = re.compile(pattern)
            except re.error as e:
                raise self.error(rkey, f"invalid regular expression: {e}") from e
            # k3s writes Go-style "$1"; Python's re wants "\1".
            rewrites.append((compiled, re.sub(r"\$(\d+)", r"\\\1", self.string(repl, rkey))))
        return Mirror(endpoints=endpoints, rewrites=tuple(rewrites))

    def endpoint(self, url: str, key: str) -> Endpoint:
        parts = urlsplit(url if "://" in url else f"https://{url}")
        if parts.scheme not in ("http", "https"):
            raise self.error(key, f"{url!r}: scheme must be http or https")
        if not parts.netloc:
            raise self.error(key, f"{url!r}: no host")
        if parts.path.rstrip("/") not in ("", "/v2") or parts.query or parts.fragment:
            raise self.error(key, f"{url!r}: only a host[:port] (optionally /v2) is supported")
        return Endpoint(host=parts.netloc, plain_http=parts.scheme == "http")

    def host_config(self, value: Any, key: str) -> HostConfig:
        m = self.mapping(value or {}, key, {"auth", "tls"})
        auth = self.auth(m["auth"], f"{key}.auth") if m.get("auth") else None
        tls = self.tls(m.get("tls") or {}, f"{key}.tls")
        return HostConfig(auth=auth, tls=tls)

    def auth(self, value: Any, key: str) -> RegistryAuth:
        fields = {"username", "password", "auth", "identitytoken", "identity_token"}
        m = self.mapping(value, key, fields)
        user = self.string(m.get("username", ""), f"{key}.username")
        password = self.string(m.get("password", ""), f"{key}.password")
        if m.get("auth"):
            try:
                decoded = base64.b64decode(self.string(m["auth"], f"{key}.auth")).decode()
            except (ValueError, UnicodeDecodeError) as e:
                raise self.error(f"{key}.auth", "must be base64 of user:password") from e
            user, sep, password = decoded.partition(":")
            if not sep:
                raise self.error(f"{key}.auth", "must be base64 of user:password")
        token = m.get("identitytoken") or m.get("identity_token") or ""
        return RegistryAuth(user, password, self.string(token, f"{key}.identitytoken"))

    def tls(self, value: Any, key: str) -> TLSConfig:
        m = self.mapping(value, key, {"insecure_skip_verify", "ca_file", "cert_file", "key_file"})
        skip = m.get("insecure_skip_verify", False)
        if not isinstance(skip, bool):
            raise self.error(f"{key}.insecure_skip_verify", "must be true or false")
        paths = {
            name: Path(self.string(m[name], f"{key}.{name}")) if m.get(name) else None
            for name in ("ca_file", "cert_file", "key_file")
        }
        if (paths["cert_file"] is None) != (paths["key_file"] is None):
            raise self.error(key, "cert_file and key_file must be given together")
        return TLSConfig(skip, paths["ca_file"], paths["cert_file"], paths["key_file"])


def _join(key: str, sub: str) -> str:
    return f"{key}.{sub}" if key else sub
