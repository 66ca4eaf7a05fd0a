"""``kubelite agent``: run only the node agent, against the API server of ``kubelite up``.

This is the kubelet role as its own process: it can be stopped and started while the API
server and the containers keep running, and it adopts the running pods again when it starts
(issue #4 point 9). ``kubelite up --no-agent`` runs the other half.

On another machine (or network namespace), the agent joins with a bootstrap token, as
``kubeadm join`` does (``kubelite join`` is the same command)::

    kubelite agent --server https://10.0.0.1:6443 --token abcdef.0123456789abcdef \\
        --discovery-token-ca-cert-hash sha256:<hex> [--node-name N] [--data-dir D]

``kubelite token create`` on the first machine prints that line. The agent pins the CA by
the hash, asks for its client certificate with the token, and from then on uses the
certificate (kept under the data dir, renewed before it expires): a restart does not need the
token again.

A joined agent serves the kubelet API (``kubelite.nodeserver``) on its node address, port
``--kubelet-port`` (10250), with a serving certificate it asks the cluster for (or the one
``--tls-cert-file``/``--tls-private-key-file`` name): the API server reaches its pods' logs,
exec, attach, port-forward and metrics there.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import signal
import sys
from pathlib import Path

from kubelite.agent.discovery import DEFAULT_TIMEOUT, DiscoveryFailed
from kubelite.agent.tlsbootstrap import BootstrapFailed, Join
from kubelite.api.assembly import DEFAULT_PORT
from kubelite.app import run_agent
from kubelite.model.bootstraptoken import parse_token
from kubelite.model.capin import PinError, parse_pin
from kubelite.nodeserver.server import DEFAULT_PORT as KUBELET_PORT
from kubelite.nodeserver.setup import ServingOptions
from kubelite.settings import Settings
from kubelite.store.etcdconfig import StoreURLError, parse_duration

NAME = "agent"
HELP = "run the node agent alone, against a running kubelite API server"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--server",
        default=f"https://127.0.0.1:{DEFAULT_PORT}",
        help="API server URL (without --token, its CA and token are read from the data dir)",
    )
    join = parser.add_argument_group("joining a cluster")
    join.add_argument(
        "--token", metavar="ID.SECRET", help="a bootstrap token ('kubelite token create')"
    )
    join.add_argument(
        "--discovery-token-ca-cert-hash",
        action="append",
        default=[],
        metavar="sha256:HEX",
        help="the hash of the cluster CA's public key, which the CA must match (repeatable)",
    )
    join.add_argument(
        "--discovery-timeout",
        default="5m",
        metavar="DURATION",
        help="how long to keep trying to reach and trust the server (default 5m)",
    )
    node = parser.add_argument_group("this node")
    node.add_argument("--node-name", help="the Node's name (default: this host's name)")
    node.add_argument(
        "--node-ip",
        help="the address the Node reports (default: the one the server is reached from)",
    )
    node.add_argument(
        "--kubelet-port",
        type=int,
        default=KUBELET_PORT,
        help=f"the port of the node's kubelet API, for a joined node (default {KUBELET_PORT})",
    )
    node.add_argument(
        "--tls-cert-file",
        type=Path,
        help="serve the kubelet API with this certificate instead of asking the cluster for one",
    )
    node.add_argument("--tls-private-key-file", type=Path, help="the key of --tls-cert-file")


def serving_of(args: argparse.Namespace) -> ServingOptions:
    """The kubelet API's options; ValueError if they do not go together."""
    if not 0 < args.kubelet_port < 65536:
        raise ValueError(f"--kubelet-port {args.kubelet_port} is not a valid port number")
    if (args.tls_cert_file is None) != (args.tls_private_key_file is None):
        raise ValueError("--tls-cert-file and --tls-private-key-file go together")
    return ServingOptions(args.kubelet_port, args.tls_cert_file, args.tls_private_key_file)


def join_of(args: argparse.Namespace) -> Join | None:
    """The join the flags ask for (None without --token); ValueError if they make none."""
    if not args.token:
        if args.discovery_token_ca_cert_hash:
            raise ValueError("--discovery-token-ca-cert-hash needs --token")
        return None
    token = parse_token(args.token)
    if token is None:
        raise ValueError(
            f"the bootstrap token {args.token!r} was not of the form '[a-z0-9]{{6}}.[a-z0-9]{{16}}'"
        )
    try:
        pins = tuple(parse_pin(p) for p in args.discovery_token_ca_cert_hash)
        timeout = parse_duration(args.discovery_timeout)
    except (PinError, StoreURLError) as err:
        raise ValueError(str(err)) from err
    if not pins:
        raise ValueError(
            "--discovery-token-ca-cert-hash is required with --token: the CA is trusted only "
            "if it matches ('kubelite token create' prints it)"
        )
    return Join(args.server, token, pins, timeout or DEFAULT_TIMEOUT)


async def _serve(
    args: argparse.Namespace, settings: Settings, join: Join | None, serving: ServingOptions
) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    def ready() -> None:
        print(f"kubelite agent: node {settings.node_name} serving {args.server}", flush=True)

    try:
        await run_agent(settings, args.server, stop=stop, on_ready=ready, join=join,
                        node_ip=args.node_ip, serving=serving)  # fmt: skip
    except (DiscoveryFailed, BootstrapFailed) as err:
        print(f"kubelite agent: cannot join {args.server}: {err}", file=sys.stderr)
        return 1
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        join = join_of(args)
        serving = serving_of(args)
    except ValueError as err:
        print(f"kubelite {args.command}: {err}", file=sys.stderr)
        return 2
    if args.node_name:
        settings = dataclasses.replace(settings, node_name=args.node_name)
    return asyncio.run(_serve(args, settings, join, serving))
