"""``kubelite up``: run the API server in the foreground until SIGINT/SIGTERM.

The API server is an object with ``start``/``stop`` (``kubelite.api.server.ApiServer``);
``kubelite.api.assembly.build_api_server`` constructs it from Settings so the composition root
can own it beside the scheduler and node agent. This command also writes a kubeconfig
(``--kubeconfig-out``) and says how to point kubectl at it.

``--store etcd://host:2379[,host:2379…][/prefix]`` keeps the objects in an etcd cluster instead
of SQLite under the data dir (with the kube-apiserver's ``--etcd-cafile``/``--etcd-certfile``/
``--etcd-keyfile`` and ``--etcd-compaction-interval``); several ``kubelite up`` on one etcd,
each with a copy of the same ``pki`` directory, serve one cluster.

It serves the web view at ``/ui/`` and prints a one-time login link for it (``--no-ui``: no
web view); ``kubelite ui-link`` prints another for the running server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path

from kubelite.api.assembly import DEFAULT_PORT
from kubelite.api.pki import ensure_pki
from kubelite.api.server import ApiServer
from kubelite.app import UpOptions, run_up
from kubelite.commands.kubeconfig import render
from kubelite.controllers.apiserverendpoints import RENEW_INTERVAL, IdentityTiming
from kubelite.controllers.leaderdecisions import ElectionTiming
from kubelite.errors import KubeliteError
from kubelite.settings import Settings
from kubelite.store.etcdconfig import (
    EtcdConfig,
    StoreURLError,
    is_etcd_url,
    parse_duration,
    parse_etcd_url,
)
from kubelite.ui.webview import login_url

NAME = "up"
HELP = "run the API server, scheduler and node agent in the foreground"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="HTTPS port (0: any)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--kubeconfig-out", metavar="FILE", help="write a kubeconfig here")
    parser.add_argument(
        "--no-agent", action="store_true", help="API server and scheduler only, no node agent"
    )
    parser.add_argument(
        "--node-monitor-grace-period",
        default="40s",
        metavar="DURATION",
        help="how long a node may stay silent before it is marked NotReady/Unknown, tainted "
        "unreachable and its pods evicted after their tolerations (default 40s)",
    )
    parser.add_argument(
        "--node-cidr-mask-size",
        type=int,
        default=None,
        metavar="SIZE",
        help="the size of the pod range each node is given from --pod-cidr (default 24, or "
        "the whole --pod-cidr when it is smaller than a /24)",
    )
    parser.add_argument(
        "--no-ui", action="store_true", help="no web view (/ui/) and no login link printed"
    )
    several = parser.add_argument_group(
        "several servers on one etcd",
        "leader election of the scheduler and the controllers, and the API servers' identity "
        "Leases from which the kubernetes Service's endpoints are made",
    )
    several.add_argument(
        "--leader-elect-lease-duration",
        default="15s",
        metavar="DURATION",
        help="how long a leader's Lease holds without renewal (default 15s)",
    )
    several.add_argument(
        "--leader-elect-renew-deadline",
        default="10s",
        metavar="DURATION",
        help="how long a leader keeps trying to renew before it stops leading (default 10s)",
    )
    several.add_argument(
        "--leader-elect-retry-period",
        default="2s",
        metavar="DURATION",
        help="how often leaders renew and candidates try (default 2s)",
    )
    several.add_argument(
        "--identity-lease-renew-interval-seconds",
        type=float,
        default=RENEW_INTERVAL,
        metavar="SECONDS",
        help="how often this server renews its identity Lease (default 10)",
    )
    several.add_argument(
        "--apiserver-endpoint-ttl",
        default="15s",
        metavar="DURATION",
        help="how long a server stays among the kubernetes Service's endpoints after its "
        "identity Lease was last renewed (default 15s)",
    )
    store = parser.add_argument_group("store")
    store.add_argument(
        "--store",
        default="sqlite",
        metavar="URL",
        help="where the API server keeps objects: sqlite (default, under --data-dir) or "
        "etcd://host:2379[,host:2379…][/prefix] (default prefix /kubelite)",
    )
    store.add_argument("--etcd-cafile", metavar="FILE", help="CA bundle of the etcd members")
    store.add_argument("--etcd-certfile", metavar="FILE", help="client certificate for etcd")
    store.add_argument("--etcd-keyfile", metavar="FILE", help="its private key")
    store.add_argument(
        "--etcd-compaction-interval",
        default="5m",
        metavar="DURATION",
        help="how often etcd's history is compacted, keeping one interval of it (default 5m; "
        "0: never)",
    )


def etcd_config(args: argparse.Namespace) -> EtcdConfig | None:
    """The etcd cluster ``--store`` names, or None for SQLite; ``StoreURLError`` if the store
    flags do not make one."""
    if not is_etcd_url(args.store):
        if args.store != "sqlite":
            raise StoreURLError(f"--store: {args.store!r} is neither sqlite nor etcd://…")
        if args.etcd_cafile or args.etcd_certfile or args.etcd_keyfile:
            raise StoreURLError(
                "--etcd-cafile/--etcd-certfile/--etcd-keyfile need --store etcd://…"
            )
        return None
    return parse_etcd_url(
        args.store,
        ca_file=args.etcd_cafile,
        cert_file=args.etcd_certfile,
        key_file=args.etcd_keyfile,
        compaction_interval=parse_duration(args.etcd_compaction_interval),
    )


def up_options(args: argparse.Namespace) -> UpOptions:
    election = ElectionTiming(
        lease_duration=parse_duration(args.leader_elect_lease_duration),
        renew_deadline=parse_duration(args.leader_elect_renew_deadline),
        retry_period=parse_duration(args.leader_elect_retry_period),
    )
    if election.errors():
        raise KubeliteError("--leader-elect-*: " + "; ".join(election.errors()))
    return UpOptions(
        host=args.host,
        port=args.port,
        agent=not args.no_agent,
        etcd=etcd_config(args),
        node_monitor_grace_period=parse_duration(args.node_monitor_grace_period),
        node_cidr_mask_size=args.node_cidr_mask_size,
        election=election,
        apiserver_leases=IdentityTiming(
            renew_interval=args.identity_lease_renew_interval_seconds,
            endpoint_ttl=parse_duration(args.apiserver_endpoint_ttl),
        ),
    )


def write_kubeconfig(settings: Settings, path: Path, *, host: str, port: int) -> None:
    text = render(ensure_pki(settings.pki_dir), host=host, port=port)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


async def serve(args: argparse.Namespace, settings: Settings) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    options = up_options(args)

    def ready(server: ApiServer) -> None:
        host = "127.0.0.1" if args.host in ("0.0.0.0", "") else args.host
        if args.kubeconfig_out:
            out = Path(args.kubeconfig_out)
            write_kubeconfig(settings, out, host=host, port=server.port)
            hint = f"export KUBECONFIG={out}"
        else:
            hint = f"kubelite kubeconfig --data-dir {settings.data_dir} --port {server.port} > kc"
        print(f"kubelite API server listening on https://{host}:{server.port}", flush=True)
        print(f"point kubectl at it: {hint}", flush=True)
        if not args.no_ui:
            server.ui.enable()
            link = login_url(f"https://{host}:{server.port}", server.ui.login_path())
            print(f"web view (one-time login link, valid 10 minutes): {link}", flush=True)

    try:
        await run_up(settings, options, stop=stop, on_ready=ready)
    except OSError as exc:
        print(
            f"kubelite up: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 1
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(serve(args, settings))
