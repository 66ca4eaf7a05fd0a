"""The ``kubelite`` command: parses flags into a Settings and hands over to a subcommand.

Each subcommand is a module in ``kubelite.commands`` that is a ``Command`` (its ``NAME``,
``HELP``, ``configure`` and ``run``), listed in ``COMMANDS``: a new command is a new module
and one entry there. Every subcommand takes ``--data-dir`` and ``--registry-config`` (falling
back to ``KUBELITE_REGISTRY_CONFIG``), ``--log-level`` (logfmt lines on stderr, ``_logfmt``)
and the cluster network's flags, before or after its action (``kubelite image ls --data-dir
X`` as well as ``kubelite image --data-dir X ls``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Protocol

from kubelite import __version__
from kubelite.commands import (
    _logfmt,
    agent,
    image,
    join,
    kubeconfig,
    run,
    runtime,
    timeline,
    token,
    uilink,
    up,
)
from kubelite.errors import KubeliteError
from kubelite.settings import (
    DEFAULT_CLUSTER_DOMAIN,
    DEFAULT_DATA_DIR,
    DEFAULT_POD_CIDR,
    DEFAULT_POD_MAX_PIDS,
    DEFAULT_SERVICE_CIDR,
    Settings,
)


class Command(Protocol):
    """What a subcommand module defines."""

    NAME: str  # the word on the command line
    HELP: str  # one line for ``kubelite --help``

    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace, settings: Settings) -> int: ...


# In the order ``kubelite --help`` lists them.
COMMANDS: tuple[Command, ...] = (
    agent, image, join, kubeconfig, run, runtime, timeline, token, uilink, up,
)  # fmt: skip
# The subcommands that run pods, and so take the node's confinement flags.
RUNS_PODS = frozenset({"agent", "join", "run", "up"})


def add_node_flags(parser: argparse.ArgumentParser) -> None:
    """The kubelet's flags for the confinement of pods on this node."""
    node = parser.add_argument_group("node")
    node.add_argument(
        "--pod-max-pids",
        type=int,
        default=None,
        metavar="N",
        help=f"the most processes one pod may have (default {DEFAULT_POD_MAX_PIDS}; -1: unlimited)",
    )
    node.add_argument(
        "--seccomp-default",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="confine containers that name no seccomp profile with RuntimeDefault, as the "
        "kubelet's --seccomp-default (default off)",
    )
    node.add_argument(
        "--seccomp-profile-root",
        default=None,
        metavar="DIR",
        help="where Localhost seccomp profiles are read from (default <data-dir>/seccomp)",
    )


def add_global_options(parser: argparse.ArgumentParser, *, suppress: bool = False) -> None:
    """The options every subcommand takes. ``suppress``: for the parser of a subcommand's
    action (``image ls``), where an option not given must not undo one given before it."""

    def default(value: object = None) -> object:
        return argparse.SUPPRESS if suppress else value

    parser.add_argument(
        "--data-dir",
        default=default(),
        metavar="DIR",
        help=f"where kubelite keeps everything it writes (default {DEFAULT_DATA_DIR})",
    )
    parser.add_argument(
        "--registry-config",
        default=default(),
        metavar="FILE",
        help="registries.yaml (k3s format): mirrors, auth, TLS "
        "(default: $KUBELITE_REGISTRY_CONFIG)",
    )
    parser.add_argument(
        "--log-level",
        default=default("WARNING"),
        metavar="LEVEL",
        help="the lowest level logged to stderr: DEBUG, INFO, WARNING (default), ERROR",
    )
    net = parser.add_argument_group("cluster network")
    net.add_argument(
        "--pod-cidr",
        default=default(),
        metavar="CIDR",
        help=f"the pod range; a node takes its Node's block of it, a lone node the first /24 "
        f"(default {DEFAULT_POD_CIDR}, "
        "or $KUBELITE_POD_CIDR)",
    )
    net.add_argument(
        "--service-cidr",
        default=default(),
        metavar="CIDR",
        help=f"Service cluster IPs (default {DEFAULT_SERVICE_CIDR}, or $KUBELITE_SERVICE_CIDR)",
    )
    net.add_argument(
        "--cluster-domain",
        default=default(),
        metavar="DOMAIN",
        help=f"the cluster's DNS domain (default {DEFAULT_CLUSTER_DOMAIN})",
    )
    net.add_argument(
        "--pod-egress",
        action=argparse.BooleanOptionalAction,
        default=default(),
        help="let pods reach addresses outside the cluster ranges, masqueraded "
        "(default on, or $KUBELITE_POD_EGRESS)",
    )


def _action_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """The parsers of a subcommand's actions (``image pull``, ``runtime reset`` …)."""
    found: list[argparse.ArgumentParser] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                found += [sub, *_action_parsers(sub)]
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kubelite",
        description="A single-node, Kubernetes-compatible Pod runtime on runc and conmon.",
    )
    parser.add_argument("--version", action="version", version=f"kubelite {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for mod in COMMANDS:
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.HELP)
        add_global_options(p)
        if mod.NAME in RUNS_PODS:
            add_node_flags(p)
        mod.configure(p)
        for action_parser in _action_parsers(p):  # also after the action, as README promises
            add_global_options(action_parser, suppress=True)
        p.set_defaults(_command_module=mod)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        _logfmt.configure(args.log_level)
    except ValueError as err:
        parser.error(str(err))
    settings = Settings.from_env(
        args.data_dir,
        args.registry_config,
        pod_cidr=args.pod_cidr,
        service_cidr=args.service_cidr,
        cluster_domain=args.cluster_domain,
        pod_egress=args.pod_egress,
        pod_max_pids=getattr(args, "pod_max_pids", None),
        seccomp_default=getattr(args, "seccomp_default", None),
        seccomp_profile_root=getattr(args, "seccomp_profile_root", None),
    )
    try:
        return int(args._command_module.run(args, settings))
    except KeyboardInterrupt:
        return 130
    except KubeliteError as err:  # a refusal with its reason, never a traceback
        print(f"kubelite: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
