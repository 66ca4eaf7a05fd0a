"""Build BusyBox from Debian's source package with upstream's default applet set.

Debian's ``busybox-static`` is configured for rescue use: its ``nc`` is the small one (no
``-z``), and many applets of upstream's default set are missing. The ``busybox:1.36`` image
is upstream's ``make defconfig``, so the stand-in image is built the same way, from the
source of the very Debian version installed here (Debian's patches applied), linked
statically so the image needs no libraries.

The recipe follows docker-library/busybox's glibc variant (the default ``busybox`` image on
amd64): ``make defconfig``, then ``ar`` with its create and long-name features, UTF-8 input
(``CONFIG_LAST_SUPPORTED_WCHAR=0``) and no ``sync -d/-f``. It differs in one point:
upstream links that variant dynamically and copies glibc's NSS libraries in; this one sets
``CONFIG_STATIC=y``, which glibc 2.34+ supports for DNS and /etc/hosts lookups with no
library in the image.

The binary is cached per recipe (source version, architecture, libc version, config
changes), so later runs skip the build. Sources come through apt with a private
configuration: the host's Debian entries turned into ``deb-src`` lines; /etc/apt is not
touched. apt checks the files against the signed archive index, dpkg-source against the
``.dsc``.

CLI: ``python3 -m devtools.busybox_build --out DIR`` writes ``DIR/busybox`` and
``DIR/busybox.config``.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SOURCE_PACKAGE = "busybox"
VERSION_FROM = "busybox-static"  # the installed binary package whose source version is built
LIBC_DEV = "libc6-dev"  # its libc.a is linked in, so its version is part of the cache key
RECIPE_REVISION = 1  # bump when the build steps change in a way the binary would notice
CACHE_ENV = "KUBELITE_STANDINS_CACHE"
ARCHIVE_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"

# (symbol, value); None unsets it. Applied after ``make defconfig``, checked after oldconfig.
CONFIG_CHANGES: tuple[tuple[str, str | None], ...] = (
    ("CONFIG_STATIC", "y"),
    ("CONFIG_AR", "y"),
    ("CONFIG_FEATURE_AR_CREATE", "y"),
    ("CONFIG_FEATURE_AR_LONG_FILENAMES", "y"),
    ("CONFIG_LAST_SUPPORTED_WCHAR", "0"),
    ("CONFIG_FEATURE_SYNC_FANCY", None),
)


class BuildError(RuntimeError):
    """The source could not be fetched, configured or compiled; the message says which."""


@dataclass(frozen=True, slots=True)
class Recipe:
    """Everything the built binary depends on; its hash keys the cache."""

    version: str  # Debian source version, e.g. "1:1.35.0-4+deb12u1"
    arch: str  # dpkg architecture, e.g. "amd64"
    libc: str  # libc6-dev version
    changes: tuple[tuple[str, str | None], ...] = CONFIG_CHANGES
    revision: int = RECIPE_REVISION

    @property
    def key(self) -> str:
        doc = {
            "source": SOURCE_PACKAGE,
            "version": self.version,
            "arch": self.arch,
            "libc": self.libc,
            "changes": [list(c) for c in self.changes],
            "revision": self.revision,
        }
        canonical = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(canonical).hexdigest()[:16]

    @property
    def dirname(self) -> str:
        safe = re.sub(r"[^A-Za-z0-9.+-]", "_", self.version)
        return f"busybox-{safe}-{self.arch}-{self.key}"

    def describe(self) -> str:
        """The config as one line: "defconfig CONFIG_STATIC=y … -CONFIG_FEATURE_SYNC_FANCY"."""
        parts = [f"{s}={v}" if v is not None else f"-{s}" for s, v in self.changes]
        return " ".join(["defconfig", *parts])


@dataclass(frozen=True, slots=True)
class Built:
    binary: Path
    config: Path  # the full .config it was compiled with
    recipe: Recipe
    cached: bool  # True when no build ran
    seconds: float  # build time (0.0 when cached)


def apply_config(text: str, changes: tuple[tuple[str, str | None], ...]) -> str:
    """``text`` (a kconfig .config) with every change made; unknown symbols are appended."""
    lines = text.splitlines()
    for symbol, value in changes:
        wanted = f"{symbol}={value}" if value is not None else f"# {symbol} is not set"
        pattern = re.compile(rf"^(?:{symbol}=.*|# {symbol} is not set)$")
        hits = [i for i, line in enumerate(lines) if pattern.match(line)]
        for i in hits:
            lines[i] = wanted
        if not hits:
            lines.append(wanted)
    return "\n".join(lines) + "\n"


def unmet_changes(text: str, changes: tuple[tuple[str, str | None], ...]) -> list[str]:
    """The changes a final .config does not carry (kconfig may drop one whose deps fail)."""
    lines = set(text.splitlines())
    unmet = []
    for symbol, value in changes:
        if value is None:
            if any(line.startswith(f"{symbol}=") for line in lines):
                unmet.append(f"-{symbol}")
        elif f"{symbol}={value}" not in lines:
            unmet.append(f"{symbol}={value}")
    return unmet


def deb_src_lines(indextargets: str, codename: str) -> list[str]:
    """``deb-src`` lines for the host's Debian ``main`` entries of release ``codename``.

    ``indextargets`` is ``apt-get indextargets --format '$(TARGET_OF) $(REPO_URI) $(RELEASE)
    $(COMPONENT) $(ORIGIN)'`` output; entries of other origins or releases are left out.
    """
    out: list[str] = []
    for line in indextargets.splitlines():
        fields = line.split()
        if len(fields) < 4 or fields[0] != "deb" or fields[3] != "main":
            continue
        uri, release = fields[1], fields[2]
        origin = fields[4] if len(fields) > 4 else ""
        if origin not in ("", "Debian"):
            continue
        if release != codename and not release.startswith(codename + "-"):
            continue
        entry = f"deb-src [signed-by={ARCHIVE_KEYRING}] {uri} {release} main"
        if entry not in out:
            out.append(entry)
    return out


def _run(argv: list[str]) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()


def _dpkg_field(package: str, field: str) -> str:
    try:
        return _run(["dpkg-query", "-W", f"-f=${{{field}}}", package])
    except subprocess.CalledProcessError as e:
        raise BuildError(
            f"{package} is not installed (scripts/install-deps.sh installs it): {e.stderr.strip()}"
        ) from e


def current_recipe() -> Recipe:
    """The recipe for this machine: the source version of the installed busybox-static."""
    return Recipe(
        version=_dpkg_field(VERSION_FROM, "source:Version"),
        arch=_run(["dpkg", "--print-architecture"]),
        libc=_dpkg_field(LIBC_DEV, "Version"),
    )


def default_cache_dir() -> Path:
    """$KUBELITE_STANDINS_CACHE, else $XDG_CACHE_HOME/kubelite-standins (~/.cache by default)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kubelite-standins"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path``: one build per recipe at a time, across processes."""
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _step(
    argv: list[str],
    *,
    cwd: Path,
    log: Path,
    what: str,
    env: dict[str, str] | None = None,
    stdin: bytes = b"",
) -> None:
    """Run one build step, appending its output to ``log``; a failure names the step."""
    with open(log, "ab") as out:
        out.write(f"$ {' '.join(argv)}\n".encode())
        out.flush()
        done = subprocess.run(
            argv, cwd=cwd, env=env, input=stdin, stdout=out, stderr=subprocess.STDOUT
        )
    if done.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
        raise BuildError(f"busybox build: {what} failed (exit {done.returncode}):\n{tail}")


def _fetch_source(recipe: Recipe, work: Path, log: Path) -> Path:
    """Download the source package through a private apt configuration; unpack it with
    Debian's patches applied. Returns the source tree."""
    codename = _run(["sh", "-c", ". /etc/os-release && echo $VERSION_CODENAME"])
    targets = _run(
        [
            "apt-get",
            "indextargets",
            "--format",
            "$(TARGET_OF) $(REPO_URI) $(RELEASE) $(COMPONENT) $(ORIGIN)",
        ]
    )
    lines = deb_src_lines(targets, codename)
    if not lines:
        raise BuildError(f"busybox build: no Debian {codename} main entry in the apt sources")
    apt = work / "apt"
    for d in ("lists/partial", "cache/archives/partial", "sources.list.d"):
        (apt / d).mkdir(parents=True)
    (apt / "sources.list").write_text("\n".join(lines) + "\n")
    (apt / "apt.conf").write_text(
        f'Dir::Etc::SourceList "{apt}/sources.list";\n'
        f'Dir::Etc::SourceParts "{apt}/sources.list.d";\n'
        f'Dir::State::Lists "{apt}/lists";\n'
        f'Dir::Cache "{apt}/cache";\n'
        'APT::Sandbox::User "root";\n'
    )
    env = {**os.environ, "APT_CONFIG": str(apt / "apt.conf"), "DEBIAN_FRONTEND": "noninteractive"}
    _step(["apt-get", "update"], cwd=work, log=log, what="apt-get update (deb-src)", env=env)
    spec = f"{SOURCE_PACKAGE}={recipe.version}"
    _step(
        ["apt-get", "source", "--download-only", spec],
        cwd=work,
        log=log,
        what=f"apt-get source {spec}",
        env=env,
    )
    dsc = list(work.glob(f"{SOURCE_PACKAGE}_*.dsc"))
    if len(dsc) != 1:
        raise BuildError(f"busybox build: expected one .dsc, found {dsc}")
    tree = work / "src"
    _step(["dpkg-source", "-x", dsc[0].name, tree.name], cwd=work, log=log, what="dpkg-source -x")
    return tree


def _configure(tree: Path, recipe: Recipe, log: Path, env: dict[str, str]) -> None:
    """``make defconfig``, the recipe's changes, ``make oldconfig``; then verify them."""
    _step(["make", "defconfig"], cwd=tree, log=log, what="make defconfig", env=env)
    config = tree / ".config"
    config.write_text(apply_config(config.read_text(), recipe.changes))
    # oldconfig asks about nothing here; newlines take the default should it ever ask.
    _step(
        ["make", "oldconfig"],
        cwd=tree,
        log=log,
        what="make oldconfig",
        env=env,
        stdin=b"\n" * 2000,
    )
    unmet = unmet_changes(config.read_text(), recipe.changes)
    if unmet:
        raise BuildError(f"busybox build: kconfig dropped {' '.join(unmet)}")


def _build(recipe: Recipe, dest: Path, jobs: int) -> None:
    """Fetch, configure and compile into a scratch dir beside ``dest``; then move the binary,
    its .config, the recipe and the build log into ``dest`` in one rename."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".build-") as scratch:
        work = Path(scratch)
        log = work / "build.log"
        tree = _fetch_source(recipe, work, log)
        epoch = _run(["dpkg-parsechangelog", "-l", str(tree / "debian/changelog"), "-STimestamp"])
        env = {**os.environ, "SOURCE_DATE_EPOCH": epoch, "LC_ALL": "C"}
        _configure(tree, recipe, log, env)
        tag = f"BB_EXTRA_VERSION=kubelite stand-in from Debian {recipe.version}"
        _step(
            ["make", f"-j{jobs}", "busybox", tag],
            cwd=tree,
            log=log,
            what="make busybox",
            env=env,
        )
        _step([str(tree / "busybox"), "true"], cwd=tree, log=log, what="running the binary")
        staged = work / "out"
        staged.mkdir()
        shutil.copy2(tree / "busybox", staged / "busybox")
        shutil.copy2(tree / ".config", staged / "busybox.config")
        shutil.copy2(log, staged / "build.log")
        (staged / "recipe.json").write_text(
            json.dumps(
                {
                    "source": f"{SOURCE_PACKAGE} {recipe.version}",
                    "arch": recipe.arch,
                    "libc6-dev": recipe.libc,
                    "config": recipe.describe(),
                    "key": recipe.key,
                },
                indent=2,
            )
            + "\n"
        )
        staged.rename(dest)


def ensure_busybox(
    cache_dir: Path | None = None, *, recipe: Recipe | None = None, jobs: int = 2
) -> Built:
    """The binary for ``recipe`` (this machine's by default), built into ``cache_dir`` once.

    Raises BuildError when it cannot be built; there is no fallback binary.
    """
    recipe = recipe or current_recipe()
    cache = cache_dir or default_cache_dir()
    dest = cache / recipe.dirname
    seconds, cached = 0.0, True
    if not (dest / "busybox").is_file():
        cache.mkdir(parents=True, exist_ok=True)
        with _locked(cache / f"{recipe.dirname}.lock"):
            if not (dest / "busybox").is_file():  # another process may have built it meanwhile
                start = time.monotonic()
                _build(recipe, dest, jobs)
                seconds, cached = time.monotonic() - start, False
    return Built(
        binary=dest / "busybox",
        config=dest / "busybox.config",
        recipe=recipe,
        cached=cached,
        seconds=seconds,
    )


def standin_busybox() -> Path:
    """The busybox binary for the stand-in image (built on first use, then cached)."""
    return ensure_busybox().binary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m devtools.busybox_build", description=__doc__)
    parser.add_argument("--out", type=Path, help="copy busybox and busybox.config here")
    parser.add_argument("--cache", type=Path, help=f"build cache (default {default_cache_dir()})")
    parser.add_argument("--jobs", type=int, default=2, help="make -j (default 2)")
    args = parser.parse_args(argv)
    try:
        built = ensure_busybox(args.cache, jobs=args.jobs)
    except BuildError as e:
        print(e, file=sys.stderr)
        return 1
    how = "cached" if built.cached else f"built in {built.seconds:.1f} s"
    print(f"busybox {built.recipe.version} ({built.recipe.describe()}): {how}")
    print(f"binary\t{built.binary}")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built.binary, args.out / "busybox")
        shutil.copy2(built.config, args.out / "busybox.config")
        print(f"copied\t{args.out / 'busybox'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
