"""The node server's certificate, as the kubelet's ``serverTLSBootstrap`` keeps it.

``ServingCertificate.run``: a certificate already under the data dir
(``node-pki/kubelet-server-current.pem``) is used if it is this node's, valid, signed by the
cluster CA and names the node's current addresses; else a new EC P-256 key and a
CertificateSigningRequest (signer ``kubernetes.io/kubelet-serving``, ``CN=system:node:<name>``,
``O=system:nodes``, the node's InternalIP and hostname as alternative names, usages digital
signature, key encipherment and server auth) sent as the node itself and waited for (kubelite's
approver approves it when those names are the Node's own addresses: ``controllers.
csrdecisions.serving_refusal``). Then, like the client certificate, it is renewed at a
jittered 70-90 % of its life and loaded into the server's TLS context, so new connections
get the new one.

``StaticCertificate``: the kubelet's ``--tls-cert-file``/``--tls-private-key-file``, used as
given (nothing checks it here: the API server does, and refuses one the cluster CA did not
sign).

The TLS context asks clients for a certificate (optional: a request without one is answered
401 by ``auth``) and accepts only those the cluster CA signed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import random
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubelite.agent.tlsbootstrap import (
    BootstrapFailed,
    CredentialFiles,
    jittered_fraction,
    request_certificate,
    rotation_deadline,
    user_name,
    write_private,
)
from kubelite.client.rest import ApiClient, ApiError
from kubelite.clock import Clock
from kubelite.model import csr as c

log = logging.getLogger(__name__)

SERVER_PEM = "kubelet-server-current.pem"
SERVING_USAGES = ("digital signature", "key encipherment", "server auth")
RETRY_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class ServingNames:
    """What the certificate must name: the node's addresses."""

    ips: tuple[str, ...] = ()
    dns: tuple[str, ...] = ()

    @classmethod
    def of_node(cls, host_ip: str, hostname: str) -> ServingNames:
        return cls(tuple(ip for ip in (host_ip,) if ip), tuple(n for n in (hostname,) if n))


def server_context(ca: Path) -> ssl.SSLContext:
    """The server's TLS context, without a certificate yet: clients may present one the
    cluster CA signed."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_verify_locations(cafile=str(ca))
    ctx.verify_mode = ssl.CERT_OPTIONAL
    return ctx


def new_serving_request(node_name: str, names: ServingNames) -> tuple[bytes, bytes]:
    """A fresh key (PEM) and its CSR (PEM) for this node's serving certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, c.NODES_GROUP),
        x509.NameAttribute(NameOID.COMMON_NAME, user_name(node_name)),
    ])  # fmt: skip
    alt: list[x509.GeneralName] = [x509.DNSName(d) for d in names.dns]
    alt += [x509.IPAddress(ipaddress.ip_address(i)) for i in names.ips]
    req = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(subject)
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return key_pem, req.public_bytes(serialization.Encoding.PEM)


def usable(path: Path, ca: Path, node_name: str, names: ServingNames, now: float) -> bool:
    """Whether the certificate at ``path`` serves this node now: its subject, validity,
    issuer (the cluster CA) and names."""
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        cert.verify_directly_issued_by(x509.load_pem_x509_certificate(ca.read_bytes()))
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
        return False
    subject = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not subject or subject[0].value != user_name(node_name):
        return False
    if not cert.not_valid_before_utc.timestamp() <= now < cert.not_valid_after_utc.timestamp():
        return False
    have_ips = {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    wanted_ips = {str(ipaddress.ip_address(ip)) for ip in names.ips}
    return have_ips == wanted_ips and set(san.get_values_for_type(x509.DNSName)) == set(names.dns)


class ServingCertificate:
    """Gets, keeps and renews the node's serving certificate; ``ready`` once it has one."""

    def __init__(
        self, *, client: ApiClient, files: CredentialFiles, node_name: str, names: ServingNames,
        clock: Clock, rng: random.Random | None = None,
    ) -> None:  # fmt: skip
        self._client = client
        self._files = files
        self._node = node_name
        self._names = names
        self._clock = clock
        self._rng = rng
        self.context = server_context(files.ca)
        self.ready = asyncio.Event()

    @property
    def path(self) -> Path:
        return self._files.dir / SERVER_PEM

    async def run(self) -> None:
        """Until cancelled: a certificate, then its renewals."""
        if usable(self.path, self._files.ca, self._node, self._names, self._clock.now()):
            log.info("using the node's serving certificate %s", self.path)
            self._load()
        while True:
            if self.ready.is_set():
                cert = x509.load_pem_x509_certificate(self.path.read_bytes())
                deadline = rotation_deadline(cert, jittered_fraction(self._rng))
                await self._clock.sleep(max(0.0, deadline - self._clock.now()))
            try:
                await self.renew()
            except (ApiError, BootstrapFailed, OSError) as err:
                log.warning("the node's serving certificate was not issued: %s", err)
                await self._clock.sleep(RETRY_SECONDS)

    async def renew(self) -> None:
        key_pem, request_pem = new_serving_request(self._node, self._names)
        cert_pem = await request_certificate(
            self._client, request_pem, clock=self._clock,
            signer=c.KUBELET_SERVING_SIGNER, usages=SERVING_USAGES,
        )  # fmt: skip
        write_private(self.path, cert_pem + key_pem)
        self._load()
        log.info("the node's serving certificate is in %s", self.path)

    def _load(self) -> None:
        self.context.load_cert_chain(self.path)
        self.ready.set()


class StaticCertificate:
    """``--tls-cert-file`` and ``--tls-private-key-file``: served as given."""

    def __init__(self, *, cert: Path, key: Path, ca: Path) -> None:
        self.context = server_context(ca)
        self.context.load_cert_chain(cert, key)
        self.ready = asyncio.Event()
        self.ready.set()

    async def run(self) -> None:
        await asyncio.Event().wait()  # nothing to renew
