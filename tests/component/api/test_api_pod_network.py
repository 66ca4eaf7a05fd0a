"""How pods reach the API server: a second listener on the pod network's gateway (bound before
the address exists) and a serving certificate with the names a pod dials."""

from __future__ import annotations

import ipaddress
import ssl
from pathlib import Path

import aiohttp
from cryptography import x509

from kubelite.api.pki import ServingNames, ensure_pki
from kubelite.api.server import ApiServer, freebind_socket, is_wildcard
from kubelite.registry.endpoints import ENDPOINTS
from kubelite.store.memory import MemoryStore

NAMES = ServingNames.for_cluster(
    cluster_domain="cluster.local", api_service_ip="10.96.0.1", gateway="10.244.0.1"
)


def sans(cert: Path) -> tuple[set[str], set[str]]:
    ext = x509.load_pem_x509_certificate(cert.read_bytes()).extensions
    san = ext.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(san.get_values_for_type(x509.DNSName)), {
        str(i) for i in san.get_values_for_type(x509.IPAddress)
    }


def test_the_serving_certificate_carries_the_names_pods_use(tmp_path: Path) -> None:
    pki = ensure_pki(tmp_path)
    assert sans(pki.server_cert) == ({"localhost"}, {"127.0.0.1", "::1"})
    ca_before = pki.ca_cert.read_bytes()
    ensure_pki(tmp_path, NAMES)  # an older certificate lacks them: issued again
    dns, ips = sans(pki.server_cert)
    assert dns == {
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    }
    assert ips == {"127.0.0.1", "::1", "10.96.0.1", "10.244.0.1"}
    assert pki.ca_cert.read_bytes() == ca_before
    cert_before = pki.server_cert.read_bytes()
    ensure_pki(tmp_path)  # asking for fewer names keeps the certificate
    ensure_pki(tmp_path, NAMES)
    assert pki.server_cert.read_bytes() == cert_before


def test_wildcard_hosts_need_no_second_listener() -> None:
    assert [is_wildcard(h) for h in ("0.0.0.0", "::", "", "127.0.0.1")] == [
        True,
        True,
        True,
        False,
    ]


def test_a_freebind_socket_binds_an_address_the_machine_does_not_have() -> None:
    sock = freebind_socket("10.244.213.1", 0)  # listens only; nothing is sent anywhere
    try:
        assert ipaddress.ip_address(sock.getsockname()[0]) == ipaddress.ip_address("10.244.213.1")
    finally:
        sock.close()


async def test_the_server_answers_on_the_gateway_too(tmp_path: Path) -> None:
    pki = ensure_pki(tmp_path, ServingNames(ips=("127.0.0.3",)))
    server = ApiServer(
        store=MemoryStore(),
        port=0,
        ssl_context=pki.server_ssl_context(),
        require_auth=False,
        pod_gateway="127.0.0.3",
    )
    await server.start()
    try:
        ctx = ssl.create_default_context(cafile=str(pki.ca_cert))
        async with aiohttp.ClientSession() as session:
            url = f"https://127.0.0.3:{server.port}/api/v1/namespaces/default/services/kubernetes"
            async with session.get(url, ssl=ctx) as r:
                assert r.status == 200
                body = await r.json()
        assert body["spec"]["ports"][0]["targetPort"] == server.port
        # a loopback address is no valid endpoint (the API server refuses it too): none is made
        assert (await server.registry.list(ENDPOINTS, "default"))[0] == []
    finally:
        await server.stop()
