"""A node's serving certificate: the request it makes is one kubelite's approver approves for
that node's addresses, and a certificate on disk is used again only while it still serves."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

from kubelite.api.pki import CaSigner, ensure_pki
from kubelite.controllers import csrdecisions as d
from kubelite.model import csr as c
from kubelite.nodeserver.servingcert import (
    SERVING_USAGES,
    ServingNames,
    new_serving_request,
    usable,
)

NAMES = ServingNames.of_node("10.0.0.2", "m1")
NODE = {
    "metadata": {"name": "m1"},
    "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.2"},
                             {"type": "Hostname", "address": "m1"}]},
}  # fmt: skip


def test_the_nodes_request_is_approved_for_its_own_addresses() -> None:
    _, request_pem = new_serving_request("m1", NAMES)
    csr = {"spec": {"request": base64.b64encode(request_pem).decode(),
                    "signerName": c.KUBELET_SERVING_SIGNER, "usages": list(SERVING_USAGES),
                    "username": "system:node:m1", "groups": ["system:nodes"]}}  # fmt: skip
    req = c.parse_request(c.request_bytes(csr))
    assert d.serving_refusal(csr, req, NODE) == ""


def test_a_certificate_on_disk_is_used_again_only_while_it_serves(tmp_path: Path) -> None:
    pki = ensure_pki(tmp_path / "pki")
    key_pem, request_pem = new_serving_request("m1", NAMES)
    now = dt.datetime.now(dt.UTC).timestamp()
    cert = CaSigner(pki).sign(request_pem, SERVING_USAGES, 3600, now)
    path = tmp_path / "kubelet-server-current.pem"
    path.write_bytes(cert + key_pem)
    assert usable(path, pki.ca_cert, "m1", NAMES, now)
    assert not usable(path, pki.ca_cert, "m2", NAMES, now)  # another node's
    assert not usable(path, pki.ca_cert, "m1", ServingNames.of_node("10.0.0.9", "m1"), now)
    assert not usable(path, pki.ca_cert, "m1", NAMES, now + 7200)  # expired
    other = ensure_pki(tmp_path / "other")
    assert not usable(path, other.ca_cert, "m1", NAMES, now)  # another CA's
    assert not usable(tmp_path / "missing.pem", pki.ca_cert, "m1", NAMES, now)
