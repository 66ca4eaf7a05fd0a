"""A joining node's client certificate, as the kubelet's TLS bootstrap and certificate manager
keep it: ``system:node:<name>`` in ``system:nodes``, signed by the cluster CA.

* ``bootstrap``: with a bootstrap token, discover and pin the CA (``discovery``), make a key,
  send a CertificateSigningRequest (signer ``kubernetes.io/kube-apiserver-client-kubelet``,
  usages digital signature and client auth) as ``system:bootstrap:<id>``, wait until it is
  issued (approved by the cluster's CSR approver, or by ``kubectl certificate approve``), and
  write the certificate and key (``kubelet-client-current.pem``, 0600) and the CA under the
  data dir. A node that already has a good certificate for its name uses it: a restart does
  not join again.
* ``CertificateManager.rotate``: renews the certificate at a jittered 70-90 % of its life
  (``rotation_deadline``), asking as the node itself (auto-approved as ``selfnodeclient``),
  and loads the new one into the TLS context every API client of the agent shares, so new
  connections present it.

The node's serving certificate (``kubelite.nodeserver.servingcert``) is asked for and kept the
same way, through ``request_certificate`` with the ``kubernetes.io/kubelet-serving`` signer.
"""

from __future__ import annotations

import base64
import logging
import os
import random
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubelite.agent.discovery import DEFAULT_TIMEOUT, discover
from kubelite.client.rest import ApiClient, ApiError, Credentials, Resource
from kubelite.clock import Clock
from kubelite.errors import KubeliteError
from kubelite.model import csr as c
from kubelite.model.bootstraptoken import Token

log = logging.getLogger(__name__)

CSRS = Resource(c.GROUP, "v1", "certificatesigningrequests", "CertificateSigningRequest",
                namespaced=False)  # fmt: skip
CLIENT_PEM = "kubelet-client-current.pem"
CA_FILE = "ca.crt"
WAIT_SECONDS = 15 * 60.0  # how long an unanswered request is waited for
POLL_SECONDS = 1.0
ROTATION_START, ROTATION_SPREAD = 0.7, 0.2  # renew at 70 % to 90 % of the lifetime


class BootstrapFailed(KubeliteError):
    """No certificate: the request was denied or failed, or not answered in time."""


@dataclass(frozen=True, slots=True)
class Join:
    """How to join: the server, a bootstrap token and the CA pins."""

    server: str
    token: Token
    ca_pins: tuple[str, ...]
    discovery_timeout: float = DEFAULT_TIMEOUT


@dataclass(frozen=True, slots=True)
class CredentialFiles:
    dir: Path

    @property
    def ca(self) -> Path:
        return self.dir / CA_FILE

    @property
    def client(self) -> Path:
        """The node's certificate followed by its key (the kubelet's current pair)."""
        return self.dir / CLIENT_PEM


def user_name(node_name: str) -> str:
    return c.NODE_USER_PREFIX + node_name


def usable(files: CredentialFiles, node_name: str, now: float) -> x509.Certificate | None:
    """The node's certificate, if it is there, for this node, and valid at ``now``."""
    try:
        cert = x509.load_pem_x509_certificate(files.client.read_bytes())
        files.ca.stat()
    except (OSError, ValueError):
        return None
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names or names[0].value != user_name(node_name):
        return None
    if not cert.not_valid_before_utc.timestamp() <= now < cert.not_valid_after_utc.timestamp():
        return None
    return cert


def rotation_deadline(cert: x509.Certificate, fraction: float) -> float:
    """When to renew: ``fraction`` of the way through the certificate's validity."""
    start = cert.not_valid_before_utc.timestamp()
    end = cert.not_valid_after_utc.timestamp()
    return start + (end - start) * fraction


def jittered_fraction(rng: random.Random | None = None) -> float:
    return ROTATION_START + ROTATION_SPREAD * (rng or random).random()


def new_request(node_name: str) -> tuple[bytes, bytes]:
    """A fresh EC P-256 key (PEM) and a CSR for ``system:node:<name>``/``system:nodes``."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, c.NODES_GROUP),
        x509.NameAttribute(NameOID.COMMON_NAME, user_name(node_name)),
    ])  # fmt: skip
    req = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return key_pem, req.public_bytes(serialization.Encoding.PEM)


CLIENT_USAGES = ("digital signature", "client auth")


def csr_object(
    request_pem: bytes,
    expiration_seconds: int | None = None,
    *,
    signer: str = c.KUBELET_CLIENT_SIGNER,
    usages: tuple[str, ...] = CLIENT_USAGES,
) -> dict[str, object]:
    spec: dict[str, object] = {
        "request": base64.b64encode(request_pem).decode(),
        "signerName": signer,
        "usages": list(usages),
    }
    if expiration_seconds is not None:
        spec["expirationSeconds"] = expiration_seconds
    return {"apiVersion": f"{c.GROUP}/v1", "kind": "CertificateSigningRequest",
            "metadata": {"generateName": "csr-"}, "spec": spec}  # fmt: skip


def write_private(path: Path, data: bytes) -> None:
    """Atomically, mode 0600: the key is in it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


async def request_certificate(
    client: ApiClient, request_pem: bytes, *, clock: Clock, timeout: float = WAIT_SECONDS,
    expiration_seconds: int | None = None, signer: str = c.KUBELET_CLIENT_SIGNER,
    usages: tuple[str, ...] = CLIENT_USAGES,
) -> bytes:  # fmt: skip
    """Send the CSR and wait for its certificate (PEM)."""
    body = csr_object(request_pem, expiration_seconds, signer=signer, usages=usages)
    created = await client.create(CSRS, None, body)
    name = str(created["metadata"]["name"])
    log.info("certificate signing request %s sent; waiting for it to be approved and issued", name)
    deadline = clock.monotonic() + timeout
    while clock.monotonic() < deadline:
        try:
            csr = await client.get(CSRS, None, name)
        except ApiError as err:
            if err.not_found:
                raise BootstrapFailed(f"certificate signing request {name} was deleted") from err
            log.info("reading certificate signing request %s: %s", name, err)
            await clock.sleep(POLL_SECONDS)
            continue
        for cond in c.conditions_of(csr):
            if cond.get("type") in (c.DENIED, c.FAILED):
                verb = "is denied" if cond.get("type") == c.DENIED else "failed"
                raise BootstrapFailed(
                    f"certificate signing request {verb}, reason: {cond.get('reason', '')}, "
                    f"message: {cond.get('message', '')}"
                )
        if c.issued(csr):
            return base64.b64decode(str(csr["status"]["certificate"]))
        await clock.sleep(POLL_SECONDS)
    raise BootstrapFailed(f"timed out waiting for certificate signing request {name}")


def tls_context(files: CredentialFiles) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(files.ca))
    ctx.load_cert_chain(files.client)
    return ctx


async def bootstrap(
    join: Join, files: CredentialFiles, node_name: str, *, clock: Clock
) -> ssl.SSLContext:
    """The node's TLS context: its certificate from an earlier join, or a new one."""
    if usable(files, node_name, clock.now()) is not None:
        log.info("using the node's certificate %s", files.client)
        return tls_context(files)
    found = await discover(join.server, join.token, join.ca_pins, clock=clock,
                           timeout=join.discovery_timeout)  # fmt: skip
    files.dir.mkdir(parents=True, exist_ok=True)
    files.ca.write_bytes(found.ca_pem)
    key_pem, request_pem = new_request(node_name)
    client = ApiClient(Credentials(join.server, files.ca, str(join.token)),
                       user_agent="kubelite-agent/bootstrap")  # fmt: skip
    try:
        cert_pem = await request_certificate(client, request_pem, clock=clock)
    finally:
        await client.close()
    write_private(files.client, cert_pem + key_pem)
    log.info("the node's client certificate is in %s", files.client)
    return tls_context(files)


class CertificateManager:
    """Keeps the node's certificate current for as long as the agent runs."""

    def __init__(
        self, *, server: str, files: CredentialFiles, node_name: str, tls: ssl.SSLContext,
        clock: Clock, rng: random.Random | None = None,
    ) -> None:  # fmt: skip
        self._server = server
        self._files = files
        self._node = node_name
        self._tls = tls
        self._clock = clock
        self._rng = rng

    async def rotate(self) -> None:
        while True:
            cert = x509.load_pem_x509_certificate(self._files.client.read_bytes())
            deadline = rotation_deadline(cert, jittered_fraction(self._rng))
            await self._clock.sleep(max(0.0, deadline - self._clock.now()))
            try:
                await self.renew()
            except (ApiError, BootstrapFailed, OSError) as err:
                log.warning("renewing the node's client certificate failed: %s", err)
                await self._clock.sleep(60.0)

    async def renew(self) -> None:
        key_pem, request_pem = new_request(self._node)
        creds = Credentials(self._server, self._files.ca, "", self._tls)
        client = ApiClient(creds, user_agent="kubelite-agent/certificate-manager")
        try:
            cert_pem = await request_certificate(client, request_pem, clock=self._clock)
        finally:
            await client.close()
        write_private(self._files.client, cert_pem + key_pem)
        self._tls.load_cert_chain(self._files.client)  # new connections present it
        log.info("the node's client certificate was renewed")
