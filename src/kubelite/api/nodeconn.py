"""How the API server reaches a node's server (the kubelet API of ``kubelite.nodeserver``).

A pod's node is looked up as the API server's ``NodeConnectionInfoGetter`` does: its address
of the first preferred type (``InternalIP``, ``ExternalIP``, ``Hostname``: kubeadm's
``--kubelet-preferred-address-types``) and the port the node reports in
``status.daemonEndpoints.kubeletEndpoint.Port`` (10250 when it reports none). Connections are
HTTPS with the API server's kubelet client certificate, and accept only a serving certificate
the cluster CA signed for the address dialled (``--kubelet-certificate-authority``): a node's
certificate of its own, or one naming another address, is refused with Go's words
(``nodeerrors``).

The node this process runs itself (``local_node``, ``kubelite up``'s own) is not dialled:
its streams stay in process (``ApiContext.logs``/``exec``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from cryptography import x509

from kubelite.api.errors import ApiError
from kubelite.api.nodeerrors import dial_error
from kubelite.errors import KubeliteError
from kubelite.registry.nodes import NODES
from kubelite.registry.service import Registry

DEFAULT_PORT = 10250
PREFERRED_ADDRESS_TYPES = ("InternalIP", "ExternalIP", "Hostname")
CONNECT_TIMEOUT = 30.0  # the API server's kubelet dial timeout
READ_LIMIT = 1 << 20


class NodeUnreachable(KubeliteError):
    """The node's server could not be reached; the message is Go's (``dial tcp …``)."""


@dataclass(frozen=True, slots=True)
class NodeAddress:
    node: str
    host: str
    port: int

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def url(self, path_qs: str) -> str:
        return f"https://{self.netloc}{path_qs}"


def node_address(node: Mapping[str, Any]) -> NodeAddress:
    """Where the node's server listens; ApiError (the API server's words) if the Node names
    no address of a preferred type."""
    status = node.get("status") or {}
    addresses = [a for a in status.get("addresses") or [] if isinstance(a, dict)]
    port = ((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port")
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        port = DEFAULT_PORT
    name = str((node.get("metadata") or {}).get("name") or "")
    for kind in PREFERRED_ADDRESS_TYPES:
        for entry in addresses:
            if entry.get("type") == kind and entry.get("address"):
                return NodeAddress(name, str(entry["address"]), port)
    known = " ".join(f"{{{a.get('type', '')} {a.get('address', '')}}}" for a in addresses)
    raise ApiError(500, "", f"no preferred addresses found; known addresses: [{known}]")


class NodeConnector:
    """The API server's connections to nodes' servers (one per request; GETs pooled)."""

    def __init__(
        self,
        *,
        registry: Registry,
        tls: ssl.SSLContext,
        local_node: str,
        connect_timeout: float = CONNECT_TIMEOUT,
    ) -> None:
        self._registry = registry
        self.tls = tls
        self.local_node = local_node
        self._connect_timeout = connect_timeout
        self._session: aiohttp.ClientSession | None = None

    def is_local(self, node_name: str) -> bool:
        return node_name == self.local_node

    async def address(self, node_name: str) -> NodeAddress:
        """The node's server (NotFound as ``nodes "m1" not found`` if the Node is gone)."""
        return node_address(await self._registry.get(NODES, "", node_name))

    async def dial(self, addr: NodeAddress) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A TLS connection to the node's server, its certificate checked."""
        try:
            async with asyncio.timeout(self._connect_timeout):
                return await asyncio.open_connection(
                    addr.host, addr.port, ssl=self.tls, server_hostname=addr.host,
                    limit=READ_LIMIT,
                )  # fmt: skip
        except (OSError, TimeoutError) as err:
            raise NodeUnreachable(await self._words(err, addr)) from err

    def session(self) -> aiohttp.ClientSession:
        """Pooled HTTPS for plain requests (logs, metrics)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=self.tls, limit=0),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self._connect_timeout),
                auto_decompress=False,
            )
        return self._session

    async def get(self, addr: NodeAddress, path_qs: str) -> aiohttp.ClientResponse:
        """The node's answer to a GET (the caller reads and releases it)."""
        try:
            return await self.session().get(addr.url(path_qs), allow_redirects=False)
        except aiohttp.ClientConnectorCertificateError as err:
            raise NodeUnreachable(await self._words(err.certificate_error, addr)) from err
        except aiohttp.ClientConnectorError as err:
            raise NodeUnreachable(await self._words(err.os_error, addr)) from err
        except (aiohttp.ClientError, OSError, TimeoutError) as err:
            cause = err.__cause__ if isinstance(err.__cause__, OSError) else err
            raise NodeUnreachable(await self._words(cause, addr)) from err

    async def _words(self, err: BaseException, addr: NodeAddress) -> str:
        sans = None
        if isinstance(err, ssl.SSLCertVerificationError) and err.verify_code in (62, 64):
            sans = await self._peer_names(addr)
        return dial_error(err, addr.host, addr.port, sans=sans)

    async def _peer_names(self, addr: NodeAddress) -> tuple[list[str], list[str]] | None:
        """The (IP, DNS) names of the certificate the node presents, read without trusting
        it, to say which names it has (only after a name mismatch)."""
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        try:
            async with asyncio.timeout(5):
                _, writer = await asyncio.open_connection(addr.host, addr.port, ssl=ctx)
        except (OSError, TimeoutError):
            return None
        try:
            der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
            san = x509.load_der_x509_certificate(der).extensions.get_extension_for_class(
                x509.SubjectAlternativeName
            )
            ips = [str(ip) for ip in san.value.get_values_for_type(x509.IPAddress)]
            return ips, list(san.value.get_values_for_type(x509.DNSName))
        except (ValueError, x509.ExtensionNotFound, AttributeError):
            return [], []
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
