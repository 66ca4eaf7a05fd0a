"""Fixtures for the ``kubelite run`` end-to-end tests.

``kubelite_run(*manifests, timeout=...)`` starts ``kubelite run`` on a fresh data directory
with the local registry's registries.yaml; manifests are paths or YAML text. When the test
ends, every run still going is killed by PID, and the machine is checked for anything a run
left behind (runc containers, mounts, conmon/pause processes, cgroup folders): whatever is
found is removed by id and the test errors, so a leak is never silent and never lingers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.run import leftovers
from tests.e2e.run.harness import KubeliteRun

StartRun = Callable[..., KubeliteRun]


@pytest.fixture
def kubelite_run(tmp_path: Path, registry_config_file: Path) -> Iterator[StartRun]:
    runs: list[KubeliteRun] = []

    def start(
        *manifests: str | Path, timeout: float | None = 5, extra: tuple[str, ...] = ()
    ) -> KubeliteRun:
        n = len(runs)
        files = []
        for i, m in enumerate(manifests):
            if isinstance(m, Path):
                files.append(m)
            else:
                path = tmp_path / f"manifest-{n}-{i}.yaml"
                path.write_text(m)
                files.append(path)
        run = KubeliteRun(
            files,
            data_dir=tmp_path / f"data{n}",
            registry_config=registry_config_file,
            timeout=timeout,
            extra=extra,
        )
        runs.append(run)
        return run

    yield start

    problems = []
    for run in runs:
        if run.proc.poll() is None:
            problems.append(f"kubelite run (pid {run.proc.pid}) was still running: killed")
        run.close()
        found = leftovers.find(run.data_dir, run.ranges.service_cidr)
        if found:
            problems.append(f"{run.data_dir.name} left behind: {found.describe()}")
            leftovers.remove(run.data_dir, found)
            still = leftovers.find(run.data_dir, run.ranges.service_cidr)
            if still:
                problems.append(f"{run.data_dir.name} could not remove: {still.describe()}")
    if problems:
        pytest.fail("\n".join(problems))
