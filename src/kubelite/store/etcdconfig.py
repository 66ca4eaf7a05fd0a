"""Where the etcd store lives: the ``--store etcd://…`` URL and the TLS files, parsed once.

``etcd://host:2379[,host2:2379…][/prefix]`` names the members of one etcd cluster (any of
them serves any request; the client moves to the next when one fails) and, optionally, the
key prefix kubelite keeps its objects under (``/kubelite/`` by default), so that several
kubelite clusters can share one etcd. With a CA or a client certificate the members are
reached over HTTPS (``--etcd-cafile``, ``--etcd-certfile``, ``--etcd-keyfile``: the
kube-apiserver's flags); without, over plain HTTP, which only makes sense on 127.0.0.1.

Pure: no I/O (the files are only named here; they are read when the client connects).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kubelite.errors import KubeliteError

SCHEME = "etcd://"
DEFAULT_PREFIX = "/kubelite/"
DEFAULT_PORT = 2379
# The kube-apiserver's --etcd-compaction-interval default: every 5 minutes, history older than
# the previous round is compacted away.
DEFAULT_COMPACTION_INTERVAL = 300.0


class StoreURLError(KubeliteError):
    """A ``--store`` value (or its TLS flags) that names no usable store."""


@dataclass(frozen=True, slots=True)
class EtcdConfig:
    endpoints: tuple[str, ...]  # base URLs: http(s)://host:port
    prefix: str = DEFAULT_PREFIX  # always starts and ends with "/"
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    compaction_interval: float = DEFAULT_COMPACTION_INTERVAL  # seconds; 0: never compact

    @property
    def tls(self) -> bool:
        return self.ca_file is not None or self.cert_file is not None


_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(text: str) -> float:
    """Seconds in a Go duration as the kube-apiserver's flags take them (``5m``, ``1m30s``,
    ``500ms``, ``0``); ``StoreURLError`` otherwise."""
    rest, total = text.strip(), 0.0
    if rest == "0":
        return 0.0
    if not rest:
        raise StoreURLError("an empty duration")
    while rest:
        digits = len(rest) - len(rest.lstrip("0123456789."))
        unit_end = digits + len(rest[digits:]) - len(rest[digits:].lstrip("hms"))
        number, unit = rest[:digits], rest[digits:unit_end]
        if not number or number.count(".") > 1 or unit not in _UNITS:
            raise StoreURLError(f"invalid duration {text!r} (examples: 5m, 1m30s, 0)")
        total += float(number) * _UNITS[unit]
        rest = rest[unit_end:]
    return total


def is_etcd_url(value: str) -> bool:
    return value.startswith(SCHEME)


def parse_etcd_url(
    url: str,
    *,
    ca_file: str | None = None,
    cert_file: str | None = None,
    key_file: str | None = None,
    compaction_interval: float = DEFAULT_COMPACTION_INTERVAL,
) -> EtcdConfig:
    """The etcd cluster ``url`` names; ``StoreURLError`` says what is wrong with it."""
    if not is_etcd_url(url):
        raise StoreURLError(f"{url!r} is not an etcd URL (etcd://host:port[,host:port…])")
    rest = url[len(SCHEME) :]
    hosts, slash, path = rest.partition("/")
    if (cert_file is None) != (key_file is None):
        raise StoreURLError("--etcd-certfile and --etcd-keyfile go together")
    if compaction_interval < 0:
        raise StoreURLError("the etcd compaction interval cannot be negative")
    tls = ca_file is not None or cert_file is not None
    endpoints = tuple(_endpoint(h, tls) for h in hosts.split(","))
    return EtcdConfig(
        endpoints=endpoints,
        prefix=_prefix(path) if slash else DEFAULT_PREFIX,
        ca_file=Path(ca_file) if ca_file else None,
        cert_file=Path(cert_file) if cert_file else None,
        key_file=Path(key_file) if key_file else None,
        compaction_interval=compaction_interval,
    )


def _endpoint(hostport: str, tls: bool) -> str:
    hostport = hostport.strip()
    if not hostport:
        raise StoreURLError("an etcd URL needs at least one host (etcd://host:port)")
    host, port = hostport, DEFAULT_PORT
    if hostport.startswith("["):  # [v6]:port
        end = hostport.find("]")
        if end < 0:
            raise StoreURLError(f"bad etcd member address {hostport!r}")
        host, tail = hostport[: end + 1], hostport[end + 1 :]
        if tail:
            port = _port(hostport, tail)
    elif ":" in hostport:
        host, _, tail = hostport.rpartition(":")
        port = _port(hostport, ":" + tail)
    if not host or any(c in host for c in "/?#@ "):
        raise StoreURLError(f"bad etcd member address {hostport!r}")
    return f"{'https' if tls else 'http'}://{host}:{port}"


def _port(hostport: str, tail: str) -> int:
    digits = tail[1:] if tail.startswith(":") else ""
    if not digits.isdigit() or not 0 < int(digits) < 65536:
        raise StoreURLError(f"bad port in etcd member address {hostport!r}")
    return int(digits)


def _prefix(path: str) -> str:
    parts = [p for p in path.split("/") if p]
    if not parts:
        return DEFAULT_PREFIX
    if any(p in (".", "..") for p in parts) or any(c in path for c in "?#"):
        raise StoreURLError(f"bad etcd key prefix {path!r}")
    return "/" + "/".join(parts) + "/"
