"""Benchmark: pulling and unpacking images, and preparing container root filesystems.

Runs against a throw-away local registry holding the stand-in images (devtools), so it needs
no network. Measured in one run, on one machine:

1. kubelite pull + unpack of nginx:1.25.3, cold (empty store) and warm (already stored),
   next to ``skopeo copy`` + ``umoci unpack`` of the same image (cold: empty layout; warm:
   the layout already has the blobs, umoci unpacks again — it has no layer cache).
2. the time to prepare a container's root filesystem from a cached image (target <= 10 ms).

Usage: ``python3 bench/images.py [--runs N] [--mounts N] [--json]`` (as root).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devtools import registry, standins
from kubelite.images.registries import parse_registry_config
from kubelite.images.service import Images

IMAGE = "nginx:1.25.3"


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


def baseline(address: str, work: Path, runs: int) -> tuple[list[float], list[float]]:
    """skopeo copy + umoci unpack: (cold seconds, warm seconds)."""
    skopeo, umoci = shutil.which("skopeo"), shutil.which("umoci")
    if skopeo is None or umoci is None:
        raise SystemExit("the baseline needs skopeo and umoci")
    src = f"docker://{address}/library/{IMAGE}"
    cold, warm = [], []
    for i in range(runs):
        layout = work / f"layout-{i}"
        for samples in (cold, warm):
            bundle = work / f"bundle-{i}-{len(samples)}"
            start = time.perf_counter()
            _run(
                skopeo,
                "--insecure-policy",
                "copy",
                "-q",
                "--src-tls-verify=false",
                src,
                f"oci:{layout}:bench",
            )
            _run(umoci, "unpack", "--image", f"{layout}:bench", str(bundle))
            samples.append(time.perf_counter() - start)
            shutil.rmtree(bundle)
        shutil.rmtree(layout)
    return cold, warm


async def ours(address: str, work: Path, runs: int) -> tuple[list[float], list[float]]:
    """kubelite pull (skopeo into the shared store + our unpack): (cold, warm) seconds."""
    config = parse_registry_config(f'mirrors:\n  docker.io:\n    endpoint: ["http://{address}"]\n')
    cold, warm = [], []
    for i in range(runs):
        images = Images(images_dir=work / f"store-{i}", registries=config)
        for samples in (cold, warm):
            start = time.perf_counter()
            await images.pull(IMAGE)
            samples.append(time.perf_counter() - start)
        shutil.rmtree(work / f"store-{i}")
    return cold, warm


async def rootfs_prepare(address: str, work: Path, count: int) -> list[float]:
    """Seconds per mount_rootfs of a cached image, ``count`` containers."""
    config = parse_registry_config(f'mirrors:\n  docker.io:\n    endpoint: ["http://{address}"]\n')
    images = Images(images_dir=work / "store-rootfs", registries=config)
    await images.pull(IMAGE)
    samples = []
    dirs = []
    try:
        for i in range(count):
            container_dir = work / "containers" / f"c{i}"
            dirs.append(container_dir)
            start = time.perf_counter()
            await images.rootfs.mount_rootfs(IMAGE, container_dir)
            samples.append(time.perf_counter() - start)
    finally:
        for d in dirs:
            await images.rootfs.unmount_rootfs(d)
    return samples


async def main_async(args: argparse.Namespace) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="kubelite-bench-") as tmp:
        work = Path(tmp)
        reg = registry.start(work / "registry")
        try:
            standins.push(reg.address, workdir=work)
            base_cold, base_warm = baseline(reg.address, work, args.runs)
            our_cold, our_warm = await ours(reg.address, work, args.runs)
            mounts = await rootfs_prepare(reg.address, work, args.mounts)
        finally:
            reg.stop()
    result: dict[str, object] = {
        "image": IMAGE,
        "runs": args.runs,
        "baseline_cold_ms": _median_ms(base_cold),
        "baseline_warm_ms": _median_ms(base_warm),
        "kubelite_cold_ms": _median_ms(our_cold),
        "kubelite_warm_ms": _median_ms(our_warm),
        "cold_ratio": round(statistics.median(our_cold) / statistics.median(base_cold), 2),
        "warm_ratio": round(statistics.median(our_warm) / statistics.median(base_warm), 2),
        "rootfs_prepare_median_ms": _median_ms(mounts),
        "rootfs_prepare_p95_ms": round(sorted(mounts)[int(len(mounts) * 0.95) - 1] * 1000, 2),
        "rootfs_prepare_max_ms": round(max(mounts) * 1000, 2),
        "rootfs_target_ms": 10,
    }
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--mounts", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"pull + unpack of {IMAGE} from a local registry, median of {args.runs} runs")
    print(f"  {'':28}{'cold':>10}{'warm':>10}")
    print(
        f"  {'skopeo copy + umoci unpack':28}{result['baseline_cold_ms']:>8}ms"
        f"{result['baseline_warm_ms']:>8}ms"
    )
    print(
        f"  {'kubelite pull':28}{result['kubelite_cold_ms']:>8}ms{result['kubelite_warm_ms']:>8}ms"
    )
    print(
        f"  {'ratio (kubelite / baseline)':28}{result['cold_ratio']:>10}{result['warm_ratio']:>10}"
    )
    print(
        f"rootfs from a cached image, {args.mounts} containers: median "
        f"{result['rootfs_prepare_median_ms']} ms, p95 {result['rootfs_prepare_p95_ms']} ms, "
        f"max {result['rootfs_prepare_max_ms']} ms (target <= 10 ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
