"""registries.yaml (k3s format): mirrors in order then upstream, auth and TLS per host,
and errors that name the file and the key."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from kubelite.images.interface import RegistryAuth
from kubelite.images.reference import parse_reference
from kubelite.images.registries import (
    RegistryConfigError,
    load_registry_config,
    parse_registry_config,
)

CONFIG = """
mirrors:
  docker.io:
    endpoint:
      - "http://127.0.0.1:5000"
      - "https://mirror.example.com/v2"
  quay.io:
    endpoint: ["mirror.example.com:8443"]
    rewrite:
      "^coreos/(.*)": "mirrored/coreos/$1"
configs:
  "mirror.example.com":
    auth:
      username: alice
      password: s3cret
    tls:
      ca_file: /certs/ca.pem
  "mirror.example.com:8443":
    auth:
      auth: "Ym9iOmh1bnRlcjI="
    tls:
      insecure_skip_verify: true
"""


def test_mirrors_come_in_order_then_the_upstream_registry() -> None:
    cfg = parse_registry_config(CONFIG)
    sources = cfg.sources_for(parse_reference("busybox:1.36"))
    assert [(s.host, s.path, s.plain_http, s.is_mirror) for s in sources] == [
        ("127.0.0.1:5000", "library/busybox", True, True),
        ("mirror.example.com", "library/busybox", False, True),
        ("docker.io", "library/busybox", False, False),
    ]


def test_auth_and_tls_come_from_the_endpoint_host() -> None:
    cfg = parse_registry_config(CONFIG)
    _, mirror, _ = cfg.sources_for(parse_reference("busybox"))
    assert mirror.auth == RegistryAuth("alice", "s3cret")
    assert mirror.tls.ca_file == Path("/certs/ca.pem")
    assert not mirror.tls.insecure_skip_verify


def test_base64_auth_and_rewrites_apply_to_mirrors_only() -> None:
    cfg = parse_registry_config(CONFIG)
    mirror, upstream = cfg.sources_for(parse_reference("quay.io/coreos/etcd:v3"))
    assert (mirror.host, mirror.path) == ("mirror.example.com:8443", "mirrored/coreos/etcd")
    assert mirror.auth == RegistryAuth("bob", "hunter2")
    assert mirror.tls.insecure_skip_verify
    assert (upstream.host, upstream.path) == ("quay.io", "coreos/etcd")


def test_a_registry_without_mirrors_is_pulled_from_directly() -> None:
    cfg = parse_registry_config(CONFIG)
    assert [s.host for s in cfg.sources_for(parse_reference("ghcr.io/a/b"))] == ["ghcr.io"]


def test_a_wildcard_mirror_applies_to_every_registry() -> None:
    cfg = parse_registry_config('mirrors:\n  "*":\n    endpoint: ["http://10.0.0.1:5000"]\n')
    hosts = [s.host for s in cfg.sources_for(parse_reference("ghcr.io/a/b"))]
    assert hosts == ["10.0.0.1:5000", "ghcr.io"]


def test_the_upstream_listed_as_a_mirror_is_tried_once_and_last() -> None:
    cfg = parse_registry_config(
        'mirrors:\n  docker.io:\n    endpoint: ["https://registry-1.docker.io", "http://m:1"]\n'
    )
    assert [s.host for s in cfg.sources_for(parse_reference("busybox"))] == ["m:1", "docker.io"]


def test_an_empty_file_and_no_file_mean_no_configuration(tmp_path: Path) -> None:
    assert parse_registry_config("").mirrors == {}
    assert load_registry_config(None).configs == {}


def test_a_file_is_read_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "registries.yaml"
    path.write_text(CONFIG)
    assert set(load_registry_config(path).mirrors) == {"docker.io", "quay.io"}


ERRORS = [
    ("an unknown top-level key", "mirror:\n  docker.io: {}\n", "mirror: unknown key"),
    ("mirrors not a mapping", "mirrors: [a]\n", "mirrors: must be a mapping"),
    (
        "an endpoint that is not a list",
        "mirrors:\n  docker.io:\n    endpoint: http://x\n",
        "mirrors.docker.io.endpoint: must be a list",
    ),
    (
        "an endpoint with a bad scheme",
        "mirrors:\n  docker.io:\n    endpoint: [ftp://x]\n",
        "mirrors.docker.io.endpoint[0]: 'ftp://x': scheme must be http or https",
    ),
    (
        "an endpoint with a path",
        "mirrors:\n  docker.io:\n    endpoint: [http://x/prefix]\n",
        "mirrors.docker.io.endpoint[0]",
    ),
    (
        "an unknown mirror key",
        "mirrors:\n  docker.io:\n    endpoints: [http://x]\n",
        "mirrors.docker.io.endpoints: unknown key",
    ),
    (
        "insecure_skip_verify not a boolean",
        "configs:\n  x:\n    tls:\n      insecure_skip_verify: yes please\n",
        "configs.x.tls.insecure_skip_verify: must be true or false",
    ),
    (
        "a password that is a number",
        "configs:\n  x:\n    auth:\n      username: a\n      password: 123\n",
        "configs.x.auth.password: must be a string",
    ),
    (
        "auth that is not base64 of user:password",
        "configs:\n  x:\n    auth:\n      auth: bm9jb2xvbg==\n",
        "configs.x.auth.auth: must be base64",
    ),
    (
        "a client cert without its key",
        "configs:\n  x:\n    tls:\n      cert_file: /c.pem\n",
        "configs.x.tls: cert_file and key_file",
    ),
    (
        "a bad rewrite regex",
        "mirrors:\n  docker.io:\n    rewrite:\n      '(': x\n",
        "mirrors.docker.io.rewrite.(: invalid regular expression",
    ),
    ("invalid YAML", "mirrors: [\n", "invalid YAML"),
]


@pytest.mark.parametrize(("case", "text", "message"), ERRORS, ids=[c[0] for c in ERRORS])
def test_bad_configuration_names_the_file_and_key(case: str, text: str, message: str) -> None:
    with pytest.raises(RegistryConfigError) as info:
        parse_registry_config(text, source="/etc/kubelite/registries.yaml")
    assert str(info.value).startswith("registry config /etc/kubelite/registries.yaml:")
    assert message in str(info.value)


def test_an_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(RegistryConfigError, match="cannot read"):
        load_registry_config(tmp_path / "missing.yaml")


def test_base64_credentials_decode() -> None:
    token = base64.b64encode(b"u:p:with:colons").decode()
    cfg = parse_registry_config(f"configs:\n  h:\n    auth:\n      auth: {token}\n")
    assert cfg.configs["h"].auth == RegistryAuth("u", "p:with:colons")
