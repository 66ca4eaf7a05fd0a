"""``--store etcd://…`` and its flags, parsed into the cluster kubelite talks to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubelite.store.etcdconfig import (
    DEFAULT_PREFIX,
    EtcdConfig,
    StoreURLError,
    parse_duration,
    parse_etcd_url,
)

URLS = [
    (
        "one member on the default port",
        "etcd://10.0.0.1",
        ("http://10.0.0.1:2379",),
        DEFAULT_PREFIX,
    ),
    (
        "several members, any of which serves",
        "etcd://127.0.0.1:2379,127.0.0.1:22379",
        ("http://127.0.0.1:2379", "http://127.0.0.1:22379"),
        DEFAULT_PREFIX,
    ),
    ("a path is the key prefix", "etcd://h:1/team-a", ("http://h:1",), "/team-a/"),
    ("a nested prefix keeps its parts", "etcd://h:1/a/b/", ("http://h:1",), "/a/b/"),
    ("an empty path is the default prefix", "etcd://h:1/", ("http://h:1",), DEFAULT_PREFIX),
    (
        "an IPv6 member keeps its brackets",
        "etcd://[::1]:2379",
        ("http://[::1]:2379",),
        DEFAULT_PREFIX,
    ),
]


@pytest.mark.parametrize(("case", "url", "endpoints", "prefix"), URLS, ids=[u[0] for u in URLS])
def test_an_etcd_url_names_its_members_and_prefix(
    case: str, url: str, endpoints: tuple[str, ...], prefix: str
) -> None:
    config = parse_etcd_url(url)
    assert (config.endpoints, config.prefix, config.tls) == (endpoints, prefix, False)


def test_tls_files_make_the_members_https() -> None:
    config = parse_etcd_url(
        "etcd://a:1,b:2", ca_file="/ca.crt", cert_file="/c.crt", key_file="/c.key"
    )
    assert config == EtcdConfig(
        endpoints=("https://a:1", "https://b:2"),
        ca_file=Path("/ca.crt"),
        cert_file=Path("/c.crt"),
        key_file=Path("/c.key"),
    )
    assert config.tls


BAD = [
    ("another scheme is refused", "http://h:2379", {}),
    ("no host is refused", "etcd://", {}),
    ("an empty member is refused", "etcd://a:1,,b:2", {}),
    ("a port that is not a number is refused", "etcd://a:x", {}),
    ("a port out of range is refused", "etcd://a:70000", {}),
    ("a prefix climbing up is refused", "etcd://a:1/../x", {}),
    ("a certificate without its key is refused", "etcd://a:1", {"cert_file": "/c.crt"}),
    ("a negative compaction interval is refused", "etcd://a:1", {"compaction_interval": -1.0}),
]


@pytest.mark.parametrize(("case", "url", "extra"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_store_is_refused_with_its_reason(case: str, url: str, extra: dict[str, Any]) -> None:
    with pytest.raises(StoreURLError):
        parse_etcd_url(url, **extra)


DURATIONS = [
    ("minutes", "5m", 300.0),
    ("minutes and seconds", "1m30s", 90.0),
    ("milliseconds", "500ms", 0.5),
    ("hours", "2h", 7200.0),
    ("a fraction", "1.5s", 1.5),
    ("zero without a unit", "0", 0.0),
]


@pytest.mark.parametrize(("case", "text", "seconds"), DURATIONS, ids=[d[0] for d in DURATIONS])
def test_a_go_duration_is_read_in_seconds(case: str, text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "m", "5x", "1..2s", "5mm", "-1s"])
def test_a_duration_without_a_valid_unit_is_refused(text: str) -> None:
    with pytest.raises(StoreURLError):
        parse_duration(text)
