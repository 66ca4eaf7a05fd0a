"""Building the API server from Settings: the durable store, the PKI and the listener.

The composition root (``kubelite.app``) and ``kubelite up`` both use ``build_api_server``;
``endpoint`` tells an in-process client (the node agent) how to reach the server as any
Kubernetes client would: URL, CA file and bearer token.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kubelite.api.pki import ensure_pki
from kubelite.api.server import ApiServer
from kubelite.api.streams import ExecBackend, LogSource
from kubelite.clock import Clock
from kubelite.settings import Settings
from kubelite.store.sqlite import SqliteStore

DEFAULT_PORT = 6443


@dataclass(frozen=True, slots=True)
class ApiEndpoint:
    url: str  # https://127.0.0.1:<port>
    ca_cert: Path
    token: str


def build_api_server(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    clock: Clock | None = None,
    logs: LogSource | None = None,
    exec_backend: ExecBackend | None = None,
) -> ApiServer:
    """An ApiServer on the SQLite store under ``settings.store_path``, serving HTTPS with the
    certificates under ``settings.pki_dir`` (created on first use). Not started yet."""
    pki = ensure_pki(settings.pki_dir)
    return ApiServer(
        store=SqliteStore(settings.store_path),
        host=host,
        port=port,
        ssl_context=pki.server_ssl_context(),
        token=pki.token(),
        clock=clock,
        logs=logs,
        exec_backend=exec_backend,
    )


def endpoint(settings: Settings, server: ApiServer) -> ApiEndpoint:
    """Where a started server can be reached (its real port, even when 0 was asked for)."""
    pki = ensure_pki(settings.pki_dir)
    return ApiEndpoint(f"https://127.0.0.1:{server.port}", pki.ca_cert, pki.token())
