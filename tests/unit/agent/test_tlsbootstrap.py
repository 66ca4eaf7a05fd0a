"""A joining node's certificate: the request it sends, when it renews (70-90 % of the
lifetime, jittered), which certificate it keeps using after a restart."""

from __future__ import annotations

import base64
import random
from pathlib import Path

import pytest
from cryptography import x509

from kubelite.agent import tlsbootstrap as tb
from kubelite.api.pki import CaSigner, ensure_pki
from kubelite.model import csr as c

NOW = 1_900_000_000.0


def test_the_request_is_a_kubelet_client_request_for_the_node() -> None:
    key_pem, request_pem = tb.new_request("n1")
    req = c.parse_request(request_pem)
    assert c.kubelet_client_problem(req, ["digital signature", "client auth"]) == ""
    assert c.common_name(req) == "system:node:n1"
    body = tb.csr_object(request_pem)
    assert body["metadata"] == {"generateName": "csr-"}
    spec = body["spec"]
    assert isinstance(spec, dict)
    assert spec["signerName"] == c.KUBELET_CLIENT_SIGNER
    assert base64.b64decode(str(spec["request"])) == request_pem
    assert b"PRIVATE KEY" in key_pem


def signed(tmp_path: Path, node: str, seconds: float = 3600) -> tb.CredentialFiles:
    pki = ensure_pki(tmp_path / "server")
    key_pem, request_pem = tb.new_request(node)
    cert = CaSigner(pki).sign(request_pem, ["digital signature", "client auth"], seconds, NOW)
    files = tb.CredentialFiles(tmp_path / "node")
    files.dir.mkdir()
    files.ca.write_bytes(pki.ca_cert.read_bytes())
    files.client.write_bytes(cert + key_pem)
    return files


def test_a_restart_keeps_a_valid_certificate_for_its_own_name_only(tmp_path: Path) -> None:
    files = signed(tmp_path, "n1")
    assert tb.usable(files, "n1", NOW) is not None
    assert tb.usable(files, "n2", NOW) is None  # another node's name: join again
    assert tb.usable(files, "n1", NOW + 4000) is None  # expired
    assert tb.usable(tb.CredentialFiles(tmp_path / "none"), "n1", NOW) is None
    tb.tls_context(files)  # loads as the agent's TLS context


@pytest.mark.parametrize(("fraction", "after"), [(0.7, 0.7), (0.9, 0.9)])
def test_renewal_falls_at_its_fraction_of_the_lifetime(
    tmp_path: Path, fraction: float, after: float
) -> None:
    files = signed(tmp_path, "n1", seconds=3600)
    cert = x509.load_pem_x509_certificate(files.client.read_bytes())
    life = 3600 + 300  # the signer backdates by 5 minutes
    assert tb.rotation_deadline(cert, fraction) == pytest.approx(NOW - 300 + life * after)


def test_the_renewal_point_is_jittered_between_70_and_90_percent() -> None:
    rng = random.Random(7)
    fractions = [tb.jittered_fraction(rng) for _ in range(200)]
    assert min(fractions) >= 0.7 and max(fractions) <= 0.9
    assert max(fractions) - min(fractions) > 0.15


def test_credentials_are_written_privately(tmp_path: Path) -> None:
    path = tmp_path / "d" / "pair.pem"
    tb.write_private(path, b"secret")
    assert path.read_bytes() == b"secret" and path.stat().st_mode & 0o777 == 0o600
