"""``kubelite agent``: run only the node agent, against the API server of ``kubelite up``.

This is the kubelet role as its own process: it can be stopped and started while the API
server and the containers keep running, and it adopts the running pods again when it starts
(issue #4 point 9). ``kubelite up --no-agent`` runs the other half.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from kubelite.api.assembly import DEFAULT_PORT
from kubelite.app import run_agent
from kubelite.settings import Settings

NAME = "agent"
HELP = "run the node agent alone, against a running kubelite API server"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--server",
        default=f"https://127.0.0.1:{DEFAULT_PORT}",
        help="API server URL (its CA and token are read from the data dir)",
    )
    parser.add_argument("--log-level", default="WARNING", help="Python logging level")


async def _serve(args: argparse.Namespace, settings: Settings) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    def ready() -> None:
        print(f"kubelite agent: node {settings.node_name} serving {args.server}", flush=True)

    await run_agent(settings, args.server, stop=stop, on_ready=ready)
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr)
    return asyncio.run(_serve(args, settings))
