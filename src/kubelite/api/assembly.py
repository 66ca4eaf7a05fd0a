"""Building the API server from Settings: the durable store, the PKI and the listener.

The store is SQLite under the data dir unless an etcd cluster is named (``kubelite up --store
etcd://…``, ``open_store``); several API servers on one etcd serve the same cluster, each with
the same PKI (CA, serving and service-account keys) in its data dir.

The composition root (``kubelite.app``) and ``kubelite up`` both use ``build_api_server``;
``endpoint`` tells an in-process client (the node agent) how to reach the server as any
Kubernetes client would: URL, CA file and bearer token.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kubelite.api.pki import ServingNames, ensure_pki
from kubelite.api.server import ApiServer
from kubelite.api.streams import ExecBackend, LogSource
from kubelite.api.tokens import ServiceAccountIssuer, issuer_for
from kubelite.clock import Clock
from kubelite.network.layout import NODE_PORT_RANGE, NetworkLayout
from kubelite.registry.serviceips import ServiceNetwork
from kubelite.settings import Settings
from kubelite.store.etcd import EtcdStore
from kubelite.store.etcdconfig import EtcdConfig
from kubelite.store.interface import Store
from kubelite.store.sqlite import SqliteStore

DEFAULT_PORT = 6443


@dataclass(frozen=True, slots=True)
class ApiEndpoint:
    url: str  # https://127.0.0.1:<port>
    ca_cert: Path
    token: str


def open_store(
    settings: Settings, etcd: EtcdConfig | None = None, *, clock: Clock | None = None
) -> Store:
    """The API server's store: on the etcd cluster ``etcd`` names, else SQLite under
    ``settings.store_path``. Neither does I/O on the loop yet (etcd connects on first use)."""
    if etcd is not None:
        return EtcdStore(etcd, clock=clock)
    return SqliteStore(settings.store_path)


def build_api_server(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    clock: Clock | None = None,
    logs: LogSource | None = None,
    exec_backend: ExecBackend | None = None,
    etcd: EtcdConfig | None = None,
) -> ApiServer:
    """An ApiServer on its store (``open_store``: SQLite, or ``etcd``), serving HTTPS with the
    certificates under ``settings.pki_dir`` (created on first use), issuing service-account
    tokens signed with its ``sa.key`` (issuer ``https://kubernetes.default.svc.<cluster
    domain>``), allocating Services from the configured Service range and listening on the pod
    network's gateway too; it tunes the process's garbage collector when it starts
    (``memtrim``). Not started yet. Raises ``LayoutError`` for ranges that cannot make
    a network."""
    layout = NetworkLayout.from_settings(settings)
    names = ServingNames.for_cluster(
        cluster_domain=layout.cluster_domain,
        api_service_ip=str(layout.api_service_ip),
        gateway=str(layout.gateway),
    )
    pki = ensure_pki(settings.pki_dir, names)
    issuer = ServiceAccountIssuer.from_key_file(
        pki.service_account_key, issuer=issuer_for(layout.cluster_domain)
    )
    return ApiServer(
        store=open_store(settings, etcd, clock=clock),
        host=host,
        port=port,
        ssl_context=pki.server_ssl_context(),
        token=pki.token(),
        clock=clock,
        logs=logs,
        exec_backend=exec_backend,
        service_network=ServiceNetwork(layout.service_cidr, NODE_PORT_RANGE),
        pod_gateway=str(layout.gateway),
        service_account_issuer=issuer,
        tune_gc=True,
    )


def endpoint(settings: Settings, server: ApiServer) -> ApiEndpoint:
    """Where a started server can be reached (its real port, even when 0 was asked for)."""
    pki = ensure_pki(settings.pki_dir)
    return ApiEndpoint(f"https://127.0.0.1:{server.port}", pki.ca_cert, pki.token())
