"""The ``kubelite`` command: parses flags into a Settings and hands over to a subcommand.

Each subcommand is a module in ``kubelite.commands`` that defines::

    NAME: str                      # the word on the command line
    HELP: str                      # one line for ``kubelite --help``
    def configure(parser: argparse.ArgumentParser) -> None: ...
    def run(args: argparse.Namespace, settings: Settings) -> int: ...

so a new command is a new module and nothing else changes. Every subcommand takes
``--data-dir`` and ``--registry-config`` (falling back to ``KUBELITE_REGISTRY_CONFIG``).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from types import ModuleType

from kubelite import __version__, commands
from kubelite.errors import KubeliteError
from kubelite.settings import DEFAULT_DATA_DIR, Settings


def _command_modules() -> list[ModuleType]:
    mods = []
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        mods.append(importlib.import_module(f"{commands.__name__}.{info.name}"))
    return mods


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kubelite",
        description="A single-node, Kubernetes-compatible Pod runtime on runc and conmon.",
    )
    parser.add_argument("--version", action="version", version=f"kubelite {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for mod in _command_modules():
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.HELP)
        p.add_argument(
            "--data-dir",
            default=None,
            metavar="DIR",
            help=f"where kubelite keeps everything it writes (default {DEFAULT_DATA_DIR})",
        )
        p.add_argument(
            "--registry-config",
            default=None,
            metavar="FILE",
            help="registries.yaml (k3s format): mirrors, auth, TLS "
            "(default: $KUBELITE_REGISTRY_CONFIG)",
        )
        mod.configure(p)
        p.set_defaults(_command_module=mod)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = Settings.from_env(args.data_dir, args.registry_config)
    try:
        return int(args._command_module.run(args, settings))
    except KeyboardInterrupt:
        return 130
    except KubeliteError as err:  # a refusal with its reason, never a traceback
        print(f"kubelite: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
