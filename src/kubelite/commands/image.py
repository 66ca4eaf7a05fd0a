"""``kubelite image``: pull, list, remove, load and prune images in kubelite's store.

The same store a running node uses (``<data-dir>/images``), so an image pulled or loaded
here is present for pods with ``imagePullPolicy: IfNotPresent`` or ``Never``. While pulling
to a terminal, one status line shows layers and bytes as they arrive.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import TextIO

from kubelite.errors import KubeliteError
from kubelite.images.interface import ImageError, ImageInfo, PullProgress
from kubelite.images.reference import parse_reference
from kubelite.images.registries import RegistryConfigError
from kubelite.images.service import Images
from kubelite.settings import Settings

NAME = "image"
HELP = "manage images: pull, ls, rm, load, prune"


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="image_command", metavar="SUBCOMMAND", required=True)
    pull = sub.add_parser("pull", help="pull an image from its registry (or a mirror)")
    pull.add_argument("ref", metavar="REF", help="e.g. busybox:1.36")
    pull.add_argument("--quiet", "-q", action="store_true", help="print only the image ID")
    ls = sub.add_parser("ls", help="list images")
    ls.add_argument("--quiet", "-q", action="store_true", help="print only image IDs")
    rm = sub.add_parser("rm", help="remove images (by name or ID)")
    rm.add_argument("refs", nargs="+", metavar="REF")
    load = sub.add_parser("load", help="load a `docker save` tarball or an OCI archive")
    load.add_argument("file", metavar="FILE", type=Path)
    sub.add_parser("prune", help="remove images no container uses, and unused layers")


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        images = Images.from_settings(settings)
    except RegistryConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    action = {"pull": _pull, "ls": _ls, "rm": _rm, "load": _load, "prune": _prune}
    return asyncio.run(action[args.image_command](images, args))


def human_size(n: float) -> str:
    """Decimal units with three significant digits, as ``crictl images`` prints sizes."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.3g}{unit}"
        n /= 1000
    raise AssertionError("unreachable")


def short_id(image_id: str) -> str:
    return image_id.removeprefix("sha256:")[:13]


class ProgressLine:
    """One rewritten terminal line: ``Pulling REF: 2/3 layers, 1.2MB``."""

    def __init__(self, ref: str, out: TextIO) -> None:
        self.ref = ref
        self.out = out
        self.width = 0

    def __call__(self, p: PullProgress) -> None:
        total = f"/{human_size(p.bytes_total)}" if p.bytes_total else ""
        text = (
            f"Pulling {self.ref}: {p.layers_done}/{p.layers_total} layers, "
            f"{human_size(p.bytes_done)}{total}"
        )
        self.out.write("\r" + text.ljust(self.width))
        self.out.flush()
        self.width = len(text)

    def clear(self) -> None:
        if self.width:
            self.out.write("\r" + " " * self.width + "\r")
            self.out.flush()


async def _pull(images: Images, args: argparse.Namespace) -> int:
    line = ProgressLine(args.ref, sys.stdout) if sys.stdout.isatty() and not args.quiet else None
    start = time.monotonic()
    try:
        info = await images.pull(args.ref, progress=line)
    except ImageError as e:
        if line:
            line.clear()
        print(f'Failed to pull image "{args.ref}": {e}', file=sys.stderr)
        return 1
    if line:
        line.clear()
    if args.quiet:
        print(info.id)
    else:
        elapsed = time.monotonic() - start
        print(
            f"Pulled {parse_reference(args.ref)} ({short_id(info.id)}), "
            f"{human_size(info.size)} in {elapsed:.2f}s"
        )
    return 0


def _rows(infos: list[ImageInfo]) -> list[tuple[str, str, str, str]]:
    rows = []
    for info in infos:
        names = info.repo_tags or tuple(d.split("@")[0] + ":<none>" for d in info.repo_digests)
        for name in names or ("<none>:<none>",):
            repo, _, tag = name.rpartition(":")
            rows.append((repo, tag, short_id(info.id), human_size(info.size)))
    return sorted(rows)


async def _ls(images: Images, args: argparse.Namespace) -> int:
    infos = images.list()
    if args.quiet:
        for info in infos:
            print(info.id)
        return 0
    rows = [("IMAGE", "TAG", "IMAGE ID", "SIZE"), *_rows(infos)]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        print("   ".join(c.ljust(w) for c, w in zip(r[:3], widths, strict=True)) + "   " + r[3])
    return 0


async def _rm(images: Images, args: argparse.Namespace) -> int:
    status = 0
    for ref in args.refs:
        info = images.status(ref)
        if info is None:
            print(f'error: image "{ref}" not found', file=sys.stderr)
            status = 1
            continue
        await images.remove(ref)
        for name in info.repo_tags or (info.id,):
            print(f"Deleted: {name}")
    return status


async def _load(images: Images, args: argparse.Namespace) -> int:
    try:
        infos = await images.load(args.file)
    except KubeliteError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for info in infos:
        for name in info.repo_tags or (info.id,):
            print(f"Loaded image: {name}")
    return 0


async def _prune(images: Images, args: argparse.Namespace) -> int:
    result = await images.prune()
    for image_id in result.images:
        print(f"Deleted: {image_id}")
    print(f"Total reclaimed space: {human_size(result.bytes)}")
    return 0
