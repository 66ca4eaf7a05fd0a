"""The node server of a joined agent, put together from what the agent has (``app.run_agent``
calls ``node_server``): its runtime's streams and metrics, its credentials under the data dir,
its address, and the options of ``kubelite agent`` (``--kubelet-port``, ``--tls-cert-file``,
``--tls-private-key-file``). ``with_kubelet_port`` is what the Node then reports
(``status.daemonEndpoints.kubeletEndpoint.Port``), which the API server dials.
"""

from __future__ import annotations

import copy
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubelite.agent.tlsbootstrap import CredentialFiles
from kubelite.client.rest import ApiClient
from kubelite.clock import Clock
from kubelite.nodemetrics import NodeMetrics
from kubelite.nodeserver.server import DEFAULT_PORT, ApiPodLookup, Certificate, NodeServer
from kubelite.nodeserver.servingcert import ServingCertificate, ServingNames, StaticCertificate
from kubelite.nodestreams import NodeStreams
from kubelite.runtime.interface import Runtime


@dataclass(frozen=True, slots=True)
class ServingOptions:
    port: int = DEFAULT_PORT  # --kubelet-port
    cert_file: Path | None = None  # --tls-cert-file (with key_file: no CSR)
    key_file: Path | None = None  # --tls-private-key-file


def with_kubelet_port(node: dict[str, Any], port: int) -> dict[str, Any]:
    """The Node object reporting where its server listens."""
    out = copy.deepcopy(node)
    out.setdefault("status", {})["daemonEndpoints"] = {"kubeletEndpoint": {"Port": port}}
    return out


def node_server(
    *, node_name: str, host_ip: str, runtime: Runtime, pod_logs_dir: Path,
    files: CredentialFiles, rest: ApiClient, clock: Clock, options: ServingOptions,
) -> tuple[NodeServer, list[Coroutine[Any, Any, None]]]:  # fmt: skip
    """The server and what runs for it (the server itself, and the node's metrics sampler)."""
    certificate: Certificate
    if options.cert_file is not None and options.key_file is not None:
        certificate = StaticCertificate(cert=options.cert_file, key=options.key_file, ca=files.ca)
    else:
        certificate = ServingCertificate(
            client=rest, files=files, node_name=node_name,
            names=ServingNames.of_node(host_ip, node_name), clock=clock,
        )  # fmt: skip
    metrics = NodeMetrics(runtime=runtime, clock=clock, node_name=node_name)
    server = NodeServer(
        node_name=node_name, host=host_ip or "0.0.0.0", port=options.port,
        certificate=certificate, reviewer=rest, pods=ApiPodLookup(rest, node_name),
        streams=NodeStreams(runtime=runtime, pod_logs_dir=pod_logs_dir, clock=clock),
        metrics=metrics, clock=clock,
    )  # fmt: skip
    return server, [server.run(), metrics.run()]
