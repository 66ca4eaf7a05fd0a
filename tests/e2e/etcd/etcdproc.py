"""Real etcd clusters for tests: members on 127.0.0.1 with free ports, data in a tmp dir,
stopped by PID and removed afterwards. Optionally with TLS for clients (a CA and certificates
made here, client certificates required).

Members elect quickly (50 ms heartbeats, 500 ms election timeout), so a test that kills the
leader waits about a second for a new one.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ETCD = shutil.which("etcd")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class ClientTLS:
    """What etcd serves with and what kubelite presents (``--etcd-cafile`` …). etcd 3.4's JSON
    gateway dials its own gRPC listener with the server certificate, so that one is also a
    client certificate (both key usages), as etcd's docs ask."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path

    @classmethod
    def make(cls, directory: Path) -> ClientTLS:
        directory.mkdir(parents=True, exist_ok=True)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "etcd-test-ca")])
        ca = (
            _cert(ca_name, ca_name, ca_key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        files = cls(*(directory / n for n in ("ca.crt", "server.crt", "server.key",
                                               "client.crt", "client.key")))  # fmt: skip
        _write(files.ca, ca.public_bytes(serialization.Encoding.PEM))
        both = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
        for cert_path, key_path, cn, usages in (
            (files.server_cert, files.server_key, "etcd", both),
            (files.client_cert, files.client_key, "kubelite", [ExtendedKeyUsageOID.CLIENT_AUTH]),
        ):
            key = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
            san = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            cert = (
                _cert(name, ca_name, key.public_key())
                .add_extension(x509.SubjectAlternativeName(san), critical=False)
                .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
                .sign(ca_key, hashes.SHA256())
            )
            _write(cert_path, cert.public_bytes(serialization.Encoding.PEM))
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
            _write(key_path, pem)
        return files


def _cert(
    subject: x509.Name, issuer: x509.Name, public: ec.EllipticCurvePublicKey
) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
    )


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(0o600)


@dataclass
class Member:
    name: str
    client_port: int
    peer_port: int
    data_dir: Path
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@dataclass
class EtcdCluster:
    base: Path
    size: int = 1
    tls: ClientTLS | None = None
    token: str = field(default_factory=lambda: "kubelite-test-" + secrets.token_hex(4))
    members: list[Member] = field(default_factory=list)

    def __post_init__(self) -> None:
        for i in range(self.size):
            name = f"m{i}"
            d = self.base / name
            self.members.append(
                Member(name, free_port(), free_port(), d / "data", self.base / f"{name}.log")
            )

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    def client_url(self, m: Member) -> str:
        return f"{self.scheme}://127.0.0.1:{m.client_port}"

    @property
    def store_url(self) -> str:
        """``--store`` for kubelite: every member."""
        return "etcd://" + ",".join(f"127.0.0.1:{m.client_port}" for m in self.members)

    def tls_flags(self) -> list[str]:
        if self.tls is None:
            return []
        t = self.tls
        return ["--etcd-cafile", str(t.ca), "--etcd-certfile", str(t.client_cert),
                "--etcd-keyfile", str(t.client_key)]  # fmt: skip

    def _argv(self, m: Member, state: str) -> list[str]:
        assert ETCD is not None
        initial = ",".join(f"{x.name}=http://127.0.0.1:{x.peer_port}" for x in self.members)
        argv = [
            ETCD,
            "--name", m.name,
            "--data-dir", str(m.data_dir),
            "--listen-client-urls", self.client_url(m),
            "--advertise-client-urls", self.client_url(m),
            "--listen-peer-urls", f"http://127.0.0.1:{m.peer_port}",
            "--initial-advertise-peer-urls", f"http://127.0.0.1:{m.peer_port}",
            "--initial-cluster", initial,
            "--initial-cluster-state", state,
            "--initial-cluster-token", self.token,
            "--heartbeat-interval", "50",
            "--election-timeout", "500",
            "--logger", "zap",
            "--log-level", "warn",
            "--log-outputs", "stderr",
        ]  # fmt: skip
        if self.tls is not None:
            t = self.tls
            argv += ["--cert-file", str(t.server_cert), "--key-file", str(t.server_key),
                     "--trusted-ca-file", str(t.ca), "--client-cert-auth"]  # fmt: skip
        return argv

    def _launch(self, m: Member, state: str) -> None:
        m.data_dir.parent.mkdir(parents=True, exist_ok=True)
        with m.log.open("ab") as out:
            m.proc = subprocess.Popen(
                self._argv(m, state), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def start(self, timeout: float = 20.0) -> None:
        for m in self.members:
            self._launch(m, "new")
        self.wait_healthy(timeout)

    def restart(self, i: int, timeout: float = 20.0) -> None:
        """Start a stopped member again on its data dir: it rejoins and catches up."""
        self._launch(self.members[i], "existing")
        self.wait_healthy(timeout)

    def kill(self, i: int, sig: int = signal.SIGKILL) -> None:
        m = self.members[i]
        if m.proc is not None and m.proc.poll() is None:
            os.kill(m.proc.pid, sig)
            m.proc.wait(10)

    def status(self, m: Member) -> dict[str, object] | None:
        try:
            req = urllib.request.Request(
                self.client_url(m) + "/v3/maintenance/status", data=b"{}", method="POST"
            )
            with urllib.request.urlopen(req, timeout=1, context=self._ssl()) as resp:
                body: dict[str, object] = json.loads(resp.read())
                return body
        except OSError:
            return None

    def _ssl(self) -> ssl.SSLContext | None:
        if self.tls is None:
            return None
        ctx = ssl.create_default_context(cafile=str(self.tls.ca))
        ctx.load_cert_chain(str(self.tls.client_cert), str(self.tls.client_key))
        return ctx

    def leader(self) -> int | None:
        """The index of the member that leads now (as the live members see it)."""
        ids: dict[str, int] = {}
        lead = None
        for i, m in enumerate(self.members):
            if not m.alive:
                continue
            st = self.status(m)
            if st is None:
                continue
            header = st.get("header")
            assert isinstance(header, dict)
            ids[str(header.get("member_id"))] = i
            lead = str(st.get("leader") or "") or lead
        return ids.get(lead) if lead else None

    def wait_healthy(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.leader() is not None and all(self.status(m) for m in self.members if m.alive):
                return
            time.sleep(0.05)
        raise AssertionError("etcd did not become healthy: " + " | ".join(
            m.log.read_text()[-500:] for m in self.members if m.log.exists()))  # fmt: skip

    def stop(self) -> None:
        """Every member by its PID, then the data."""
        for m in self.members:
            if m.proc is not None and m.proc.poll() is None:
                m.proc.terminate()
                try:
                    m.proc.wait(10)
                except subprocess.TimeoutExpired:
                    m.proc.kill()
                    m.proc.wait(5)
        shutil.rmtree(self.base, ignore_errors=True)
