"""``kubelite agent --token``: the flags make a join only with a well-formed token and at
least one CA pin (a CA that is not pinned is never trusted); a joined node registers as a
worker; a kubeconfig is read as kubectl reads it."""

from __future__ import annotations

import argparse
import base64
from pathlib import Path

import pytest
import yaml

from kubelite.api.pki import ensure_pki
from kubelite.client.kubeconfig import KubeconfigError, load
from kubelite.commands.agent import join_of
from kubelite.joining import as_worker, reachable_addresses

PIN = "sha256:" + "ab" * 32


def args(**kw: object) -> argparse.Namespace:
    base = {"server": "https://10.0.0.1:6443", "token": None, "discovery_token_ca_cert_hash": [],
            "discovery_timeout": "5m"}  # fmt: skip
    return argparse.Namespace(**{**base, **kw})


def test_without_a_token_there_is_no_join() -> None:
    assert join_of(args()) is None


def test_a_token_and_a_pin_make_a_join() -> None:
    join = join_of(args(token="abcdef.0123456789abcdef", discovery_token_ca_cert_hash=[PIN],
                        discovery_timeout="30s"))  # fmt: skip
    assert join is not None
    assert (join.server, str(join.token), join.ca_pins, join.discovery_timeout) == (
        "https://10.0.0.1:6443", "abcdef.0123456789abcdef", (PIN,), 30.0,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("case", "kw", "message"),
    [
        ("a malformed token", {"token": "nope", "discovery_token_ca_cert_hash": [PIN]},
         "was not of the form"),
        ("no pin", {"token": "abcdef.0123456789abcdef"}, "is required with --token"),
        ("a bad pin", {"token": "abcdef.0123456789abcdef",
                       "discovery_token_ca_cert_hash": ["sha256:xyz"]}, "64 hex digits"),
        ("a pin without a token", {"discovery_token_ca_cert_hash": [PIN]}, "needs --token"),
    ],
)  # fmt: skip
def test_flags_that_make_no_safe_join_are_refused(
    case: str, kw: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        join_of(args(**kw))


def test_a_joined_node_registers_as_a_worker() -> None:
    node = {"metadata": {"name": "n1", "labels": {
        "kubernetes.io/hostname": "n1", "node-role.kubernetes.io/control-plane": ""}}}  # fmt: skip
    assert as_worker(node)["metadata"]["labels"] == {"kubernetes.io/hostname": "n1"}


def test_a_server_on_one_address_is_reached_there() -> None:
    assert reachable_addresses("10.201.3.1") == ["10.201.3.1"]
    assert reachable_addresses("localhost") == []


def test_a_kubeconfig_is_read_with_its_ca_and_client_certificate(tmp_path: Path) -> None:
    pki = ensure_pki(tmp_path / "pki")

    def b64(p: Path) -> str:
        return base64.b64encode(p.read_bytes()).decode()

    doc = {
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
        "clusters": [{"name": "k", "cluster": {"server": "https://127.0.0.1:1",
                                               "certificate-authority-data": b64(pki.ca_cert)}}],
        "users": [{"name": "u", "user": {"client-certificate-data": b64(pki.client_cert),
                                         "client-key-data": b64(pki.client_key)}}],
    }  # fmt: skip
    path = tmp_path / "kc"
    path.write_text(yaml.safe_dump(doc))
    access = load(path)
    assert access.server == "https://127.0.0.1:1"
    assert access.ca_pem == pki.ca_cert.read_bytes()
    assert access.credentials.token == "" and access.credentials.tls is not None
    doc["current-context"] = "missing"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(KubeconfigError, match="no context named 'missing'"):
        load(path)
