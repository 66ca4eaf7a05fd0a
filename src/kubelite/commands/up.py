"""``kubelite up``: run the API server in the foreground until SIGINT/SIGTERM.

The API server is an object with ``start``/``stop`` (``kubelite.api.server.ApiServer``);
``kubelite.api.assembly.build_api_server`` constructs it from Settings so the composition root
can own it beside the scheduler and node agent. This command also writes a kubeconfig
(``--kubeconfig-out``) and says how to point kubectl at it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from kubelite.api.assembly import DEFAULT_PORT
from kubelite.api.pki import ensure_pki
from kubelite.api.server import ApiServer
from kubelite.app import UpOptions, run_up
from kubelite.commands.kubeconfig import render
from kubelite.settings import Settings

NAME = "up"
HELP = "run the API server, scheduler and node agent in the foreground"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="HTTPS port (0: any)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--kubeconfig-out", metavar="FILE", help="write a kubeconfig here")
    parser.add_argument("--log-level", default="WARNING", help="Python logging level")
    parser.add_argument(
        "--no-agent", action="store_true", help="API server and scheduler only, no node agent"
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
    options = UpOptions(host=args.host, port=args.port, agent=not args.no_agent)

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
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr)
    return asyncio.run(serve(args, settings))
