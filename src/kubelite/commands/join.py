"""``kubelite join``: ``kubelite agent`` with a bootstrap token, under the name kubeadm users
look for (``kubelite join --server URL --token T --discovery-token-ca-cert-hash H``)."""

from __future__ import annotations

import argparse
import sys

from kubelite.commands import agent
from kubelite.settings import Settings

NAME = "join"
HELP = "join this machine to a kubelite cluster as a node (kubelite agent --token …)"


def configure(parser: argparse.ArgumentParser) -> None:
    agent.configure(parser)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if not args.token:
        print("kubelite join: --token is required ('kubelite token create')", file=sys.stderr)
        return 2
    return agent.run(args, settings)
