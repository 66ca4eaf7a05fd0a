"""The server's certificates: a CA, a serving certificate for 127.0.0.1/localhost (plus the
names pods use, see ``ServingNames``) and a client certificate for the admin user, created on
first start under ``Settings.pki_dir``.

Further users get certificates from the same CA (``issue_client_certificate``, for ``kubelite
kubeconfig --user NAME --group G``); only the admin's is kept. Approved CertificateSigningRequests
are signed with it too (``CaSigner``, the CSR signing controller's signer).

Files: ``ca.crt``/``ca.key``, ``server.crt``/``server.key``, ``admin.crt``/``admin.key``,
``apiserver-kubelet-client.crt``/``.key`` (the API server's identity towards the nodes'
servers, ``kube-apiserver-kubelet-client``, bound to ``system:kubelet-api-admin``), ``token``
(a random bearer token, the other accepted credential) and ``sa.key``/``sa.pub`` (the key
service-account tokens are signed with, ``kubelite.api.tokens``). Keys are written mode 0600.
A serving certificate that lacks a name asked for is issued again from the same CA, so clients
that trust the CA keep working.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import secrets
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kubelite.api.tokens import write_signing_key
from kubelite.model.csr import EXTENDED_USAGES as EXTENDED_KEY_USAGES
from kubelite.model.csr import KEY_USAGES as KEY_USAGE_FLAGS

VALIDITY = dt.timedelta(days=3650)
KUBELET_CLIENT_USER = "kube-apiserver-kubelet-client"  # as kubeadm names it
BASE_DNS = ("localhost",)
BASE_IPS = ("127.0.0.1", "::1")


@dataclass(frozen=True, slots=True)
class ServingNames:
    """Subject alternative names the serving certificate must carry."""

    dns: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()

    @classmethod
    def for_cluster(cls, *, cluster_domain: str, api_service_ip: str, gateway: str) -> ServingNames:
        """What a pod may dial: the ``kubernetes`` Service by name or address, and the node's
        address on the pod network (where the endpoints point)."""
        domain = cluster_domain.strip(".")
        return cls(
            dns=(
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                f"kubernetes.default.svc.{domain}",
            ),
            ips=(api_service_ip, gateway),
        )

    def plus(self, *, dns: Iterable[str] = (), ips: Iterable[str] = ()) -> ServingNames:
        """These names and more (the addresses a server listens on, for other machines)."""
        return ServingNames(
            tuple(dict.fromkeys((*self.dns, *dns))), tuple(dict.fromkeys((*self.ips, *ips)))
        )

    def all_dns(self) -> list[str]:
        return list(dict.fromkeys((*BASE_DNS, *self.dns)))

    def all_ips(self) -> list[str]:
        return list(dict.fromkeys((*BASE_IPS, *self.ips)))


@dataclass(frozen=True, slots=True)
class Pki:
    dir: Path

    @property
    def ca_cert(self) -> Path:
        return self.dir / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.dir / "ca.key"

    @property
    def server_cert(self) -> Path:
        return self.dir / "server.crt"

    @property
    def server_key(self) -> Path:
        return self.dir / "server.key"

    @property
    def client_cert(self) -> Path:
        return self.dir / "admin.crt"

    @property
    def client_key(self) -> Path:
        return self.dir / "admin.key"

    @property
    def kubelet_client_cert(self) -> Path:
        return self.dir / "apiserver-kubelet-client.crt"

    @property
    def kubelet_client_key(self) -> Path:
        return self.dir / "apiserver-kubelet-client.key"

    @property
    def token_file(self) -> Path:
        return self.dir / "token"

    @property
    def service_account_key(self) -> Path:
        return self.dir / "sa.key"

    def token(self) -> str:
        return self.token_file.read_text().strip()

    def server_ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.server_cert, self.server_key)
        ctx.load_verify_locations(cafile=str(self.ca_cert))
        ctx.verify_mode = ssl.CERT_OPTIONAL  # a token is the other way in
        return ctx

    def client_ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.ca_cert))
        ctx.load_cert_chain(self.client_cert, self.client_key)
        return ctx

    def kubelet_client_ssl_context(self) -> ssl.SSLContext:
        """The API server's side of a connection to a node's server: it presents
        ``kube-apiserver-kubelet-client`` and accepts only a serving certificate the cluster CA
        signed for the address it dials (``--kubelet-certificate-authority``)."""
        ctx = ssl.create_default_context(cafile=str(self.ca_cert))
        ctx.load_cert_chain(self.kubelet_client_cert, self.kubelet_client_key)
        return ctx


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _name(cn: str, *orgs: str) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    attrs += [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in orgs if org]
    return x509.Name(attrs)


def _builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey
) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
    )


def _missing_names(cert_path: Path, names: ServingNames) -> bool:
    """Whether the certificate lacks one of ``names`` (or cannot be read)."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, OSError, x509.ExtensionNotFound):
        return True
    have_dns = set(san.get_values_for_type(x509.DNSName))
    have_ips = {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    return not (
        set(names.all_dns()) <= have_dns
        and {str(ipaddress.ip_address(i)) for i in names.all_ips()} <= have_ips
    )


def _issue_server_cert(
    pki: Pki, ca_key: ec.EllipticCurvePrivateKey, ca_name: x509.Name, names: ServingNames
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    entries: Iterable[x509.GeneralName] = [
        *(x509.DNSName(d) for d in names.all_dns()),
        *(x509.IPAddress(ipaddress.ip_address(i)) for i in names.all_ips()),
    ]
    cert = (
        _builder(_name("kubelite-apiserver"), ca_name, key)
        .add_extension(x509.SubjectAlternativeName(list(entries)), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .sign(ca_key, hashes.SHA256())
    )
    _write_key(pki.server_key, key)
    pki.server_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _ca(pki: Pki) -> tuple[ec.EllipticCurvePrivateKey, x509.Name]:
    loaded = serialization.load_pem_private_key(pki.ca_key.read_bytes(), None)
    if not isinstance(loaded, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{pki.ca_key} is not an EC private key")
    return loaded, x509.load_pem_x509_certificate(pki.ca_cert.read_bytes()).subject


def issue_client_certificate(
    pki: Pki, user: str, groups: Iterable[str] = ()
) -> tuple[bytes, bytes]:
    """A client certificate (PEM) and its key (PEM) for ``user`` in ``groups``, signed by the
    CA: the API server takes the common name as the user and each organization as a group, and
    RBAC decides what they may do. Nothing is written: the caller embeds both."""
    ca_key, ca_name = _ca(pki)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _builder(_name(user, *groups), ca_name, key)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


BACKDATE = dt.timedelta(minutes=5)  # the signer's allowance for clocks behind its own


class SigningError(ValueError):
    """The CA cannot sign this request (the message says why)."""


@dataclass(frozen=True, slots=True)
class CaSigner:
    """Signs certificate requests with the cluster CA, as the controller manager's local
    signer: the request's subject, public key and subject alternative names; key usages and
    extended key usages from the CSR's ``usages``; valid from 5 minutes ago for ``seconds``,
    never past the CA's own expiry."""

    pki: Pki

    def sign(self, request_pem: bytes, usages: Iterable[str], seconds: float, now: float) -> bytes:
        ca_key, _ = _ca(self.pki)
        ca_cert = x509.load_pem_x509_certificate(self.pki.ca_cert.read_bytes())
        try:
            req = x509.load_pem_x509_csr(request_pem)
        except ValueError as err:
            raise SigningError(f"unable to parse csr: {err}") from err
        start = dt.datetime.fromtimestamp(now, dt.UTC)
        if start >= ca_cert.not_valid_after_utc:
            raise SigningError("refusing to sign a certificate that expired in the past")
        left = (ca_cert.not_valid_after_utc - start).total_seconds()
        end = start + dt.timedelta(seconds=min(seconds, left))
        flags = {v: False for v in set(KEY_USAGE_FLAGS.values())}
        extended: list[x509.ObjectIdentifier] = []
        for usage in usages:
            if usage in KEY_USAGE_FLAGS:
                flags[KEY_USAGE_FLAGS[usage]] = True
            elif usage in EXTENDED_KEY_USAGES:
                extended.append(EXTENDED_KEY_USAGES[usage])
        builder = (
            x509.CertificateBuilder()
            .subject_name(req.subject)
            .issuer_name(ca_cert.subject)
            .public_key(req.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start - BACKDATE)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
        )
        if any(flags.values()):
            builder = builder.add_extension(x509.KeyUsage(**flags), critical=True)
        if extended:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage(list(dict.fromkeys(extended))), critical=False
            )
        try:
            san = req.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            builder = builder.add_extension(san, critical=False)
        except x509.ExtensionNotFound:
            pass
        cert = builder.sign(ca_key, hashes.SHA256())
        return cert.public_bytes(serialization.Encoding.PEM)


def _issue_client(
    cert_path: Path,
    key_path: Path,
    subject: x509.Name,
    ca_key: ec.EllipticCurvePrivateKey,
    ca_name: x509.Name,
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _builder(subject, ca_name, key)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False)
        .sign(ca_key, hashes.SHA256())
    )
    _write_key(key_path, key)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def ensure_pki(directory: Path, names: ServingNames = ServingNames()) -> Pki:
    """Create whatever is missing; existing files are kept (clients keep trusting them), but a
    serving certificate without every name in ``names`` is issued again from the same CA."""
    pki = Pki(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if not (pki.ca_cert.exists() and pki.ca_key.exists()):
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = (
            _builder(_name("kubelite-ca"), _name("kubelite-ca"), ca_key)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .sign(ca_key, hashes.SHA256())
        )
        _write_key(pki.ca_key, ca_key)
        pki.ca_cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        for p in (pki.server_cert, pki.client_cert, pki.kubelet_client_cert):
            p.unlink(missing_ok=True)
    ca_key, ca_name = _ca(pki)
    if (
        not pki.server_cert.exists()
        or not pki.server_key.exists()
        or _missing_names(pki.server_cert, names)
    ):
        _issue_server_cert(pki, ca_key, ca_name, names)
    for cert_path, key_path, subject in (
        (pki.client_cert, pki.client_key, _name("kubelite-admin", "system:masters")),
        (pki.kubelet_client_cert, pki.kubelet_client_key, _name(KUBELET_CLIENT_USER)),
    ):
        if not cert_path.exists() or not key_path.exists():
            _issue_client(cert_path, key_path, subject, ca_key, ca_name)
    if not pki.service_account_key.exists():
        write_signing_key(pki.service_account_key)
    if not pki.token_file.exists():
        fd = os.open(pki.token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(24) + "\n")
    return pki
