"""Every manifest in ``examples/`` under a real ``kubelite run``: what the user sees.

Each test runs the example on runc/conmon containers pulled from the local registry and checks
the STATUS transitions, the containers' log lines, the exit code, and that the deletion at
``--timeout`` is prompt (every example traps SIGTERM, so it should take well under the grace
period). The fixture then checks that nothing was left on the machine.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.run.conftest import StartRun
from tests.e2e.run.harness import KubeliteRun, in_order

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
TESTED = {
    "adapter.yaml",
    "ambassador.yaml",
    "failing-init-crashloop.yaml",
    "failing-init-never.yaml",
    "init-and-sidecar.yaml",
    "init-populate-volume.yaml",
    "init-wait-for-dependency.yaml",
    "logging-sidecar.yaml",
    "migration-before-app.yaml",
    "native-sidecar.yaml",
    "nginx-log-sidecar.yaml",
}
# between two container starts of one pod, kubectl says NotReady
STARTING = frozenset({"NotReady"})
STOP_WITHIN = 3.0  # seconds from "--timeout reached" to exit, for pods that trap SIGTERM


def assert_statuses(
    run: KubeliteRun, pod: str, expected: list[str], *, transient: frozenset[str] = frozenset()
) -> None:
    """STATUS went through ``expected`` in order, and showed nothing else but ``transient``
    states (a state may be skipped when the agent is faster than one status write)."""
    seen = run.statuses(pod)
    assert in_order(seen, expected), f"{pod}: {seen} is not in the order of {expected}"
    assert set(seen) <= set(expected) | transient, f"{pod}: unexpected STATUS in {seen}"
    assert seen[0] == expected[0] and seen[-1] == expected[-1], seen


def assert_stopped_by_timeout(run: KubeliteRun) -> None:
    code = run.wait(30)
    assert code == 0, run.screen()
    assert run.ended is not None
    took = run.ended - run.arrival(r"--timeout \S+ reached: deleting the pods")
    assert took < STOP_WITHIN, f"deletion took {took:.1f} s:\n{run.screen()}"


def example(name: str) -> Path:
    return EXAMPLES / name


def test_every_example_has_a_test_here() -> None:
    assert {p.name for p in EXAMPLES.glob("*.yaml")} == TESTED


def test_init_and_sidecar_initializes_in_order_and_the_app_reads_the_init_config(
    kubelite_run: StartRun,
) -> None:
    run = kubelite_run(example("init-and-sidecar.yaml"), timeout=4)
    assert_stopped_by_timeout(run)
    assert_statuses(
        run,
        "web-with-monitor",
        ["Init:0/2", "Init:1/2", "PodInitializing", "Running", "Terminating", "Completed"],
    )
    assert any(r.ready == "2/2" and r.status == "Running" for r in run.rows("web-with-monitor"))
    assert run.logs("web-with-monitor", "write-config") == ["config written"]
    assert "hello from init (1)" in run.logs("web-with-monitor", "app")
    assert "monitor: app alive" in run.logs("web-with-monitor", "monitor")


def test_init_populated_volume_is_served_by_nginx_to_the_check_container(
    kubelite_run: StartRun,
) -> None:
    run = kubelite_run(example("init-populate-volume.yaml"), timeout=5)
    assert_stopped_by_timeout(run)
    assert_statuses(
        run,
        "static-site",
        ["Init:0/2", "Init:1/2", "PodInitializing", "Running", "Terminating", "Completed"],
    )
    assert any(r.ready == "2/2" for r in run.rows("static-site")), run.screen()
    assert "<h1>Built by an init container</h1>" in run.logs("static-site", "check")
    web = run.logs("static-site", "web")
    assert any('"GET / HTTP/1.1" 200' in line and "kube-probe/" in line for line in web)
    assert any('"GET / HTTP/1.1" 200' in line and "Wget" in line for line in web)
    # nginx's image says STOPSIGNAL SIGQUIT; the deletion used it
    assert any("signal 3 (SIGQUIT) received" in line for line in web), web


def test_the_app_waits_until_the_init_container_saw_its_dependency(
    kubelite_run: StartRun,
) -> None:
    run = kubelite_run(example("init-wait-for-dependency.yaml"), timeout=6)
    assert_stopped_by_timeout(run)
    assert_statuses(
        run,
        "wait-for-db",
        ["Init:0/2", "Init:1/2", "PodInitializing", "Running", "Terminating", "Completed"],
    )
    assert run.logs("wait-for-db", "start-db") == ["starting the database", "database ready"]
    assert run.logs("wait-for-db", "wait-for-db")[-1] == "the database is up"
    assert run.logs("wait-for-db", "app") == ["app started"]
    assert run.index(r"\] the database is up") < run.index(r"\] app started")


def test_logging_sidecar_ships_the_lines_the_app_writes_to_the_shared_volume(
    kubelite_run: StartRun,
) -> None:
    run = kubelite_run(example("logging-sidecar.yaml"), timeout=4)
    assert_stopped_by_timeout(run)
    assert_statuses(
        run,
        "app-with-log-shipper",
        ["ContainerCreating", "Running", "Terminating", "Completed"],
        transient=STARTING,
    )
    shipped = run.logs("app-with-log-shipper", "log-shipper")
    assert shipped[:2] == ["request 1 served", "request 2 served"], shipped
    assert run.logs("app-with-log-shipper", "app") == []


def test_migration_runs_to_completion_and_the_app_sees_schema_42_from_the_configmap(
    kubelite_run: StartRun,
) -> None:
    run = kubelite_run(example("migration-before-app.yaml"), timeout=5)
    assert_stopped_by_timeout(run)
    assert_statuses(
        run,
        "app-after-migration",
        ["Init:0/1", "PodInitializing", "Running", "Terminating", "Completed"],
    )
    assert run.logs("app-after-migration", "migrate") == [
        "applying migration 40",
        "applying migration 41",
        "applying migration 42",
    ]
    assert run.logs("app-after-migration", "app") == ["app running on schema version 42"]


def test_native_sidecar_job_completes_by_itself_and_the_run_exits_zero(
    kubelite_run: StartRun,
) -> None:
    run = kubelite_run(example("native-sidecar.yaml"), timeout=60)
    assert run.wait(60) == 0, run.screen()
    assert run.index("--timeout") == -1, "the run should end when the job completes"
    assert_statuses(
        run, "job-with-native-sidecar", ["Init:0/1", "PodInitializing", "Running", "Completed"]
    )
    assert run.rows("job-with-native-sidecar")[-1].ready == "0/2"
    assert run.logs("job-with-native-sidecar", "job") == ["ok", "ok", "ok", "job done"]


def test_init_failing_under_restart_never_fails_the_pod_and_the_run_exits_one(
    kubelite_run: StartRun,
) -> None:
    run = kubelite_run(example("failing-init-never.yaml"), timeout=60)
    assert run.wait(60) == 1, run.screen()
    assert_statuses(run, "init-fails-never", ["Init:0/1", "Init:Error"])
    assert run.logs("init-fails-never", "check-config") == ["config missing"]
    assert run.logs("init-fails-never", "app") == [], "the app container must never start"
    assert "failed: init-fails-never" in run.err.text()


def test_init_failing_under_restart_always_backs_off_in_init_crashloopbackoff(
    kubelite_run: StartRun,
) -> None:
    run = kubelite_run(example("failing-init-crashloop.yaml"), timeout=4)
    assert_stopped_by_timeout(run)
    seen = run.statuses("init-crashloop")
    assert in_order(seen, ["Init:0/1", "Init:Error", "Init:CrashLoopBackOff", "Terminating"])
    assert max(r.restarts for r in run.rows("init-crashloop")) == 1, run.screen()
    # the first restart is immediate, the next one waits 10 s: two runs within 4 s
    assert run.logs("init-crashloop", "flaky-init") == ["dependency unreachable"] * 2
    assert run.logs("init-crashloop", "app") == []


def test_adapter_turns_the_app_status_file_into_metrics_lines(kubelite_run: StartRun) -> None:
    run = kubelite_run(example("adapter.yaml"), timeout=4)
    assert_stopped_by_timeout(run)
    assert_statuses(
        run,
        "app-with-adapter",
        ["ContainerCreating", "Running", "Terminating", "Completed"],
        transient=STARTING,
    )
    metrics = run.logs("app-with-adapter", "adapter")
    assert metrics[:2] == ["app_requests_total 3", "app_errors_total 0"], metrics
    assert all(re.fullmatch(r"app_(requests|errors)_total \d+", m) for m in metrics), metrics


def test_ambassador_forwards_the_app_request_to_the_backend(kubelite_run: StartRun) -> None:
    run = kubelite_run(example("ambassador.yaml"), timeout=5)
    assert_stopped_by_timeout(run)
    assert_statuses(
        run,
        "app-with-ambassador",
        ["ContainerCreating", "Running", "Terminating", "Completed"],
        transient=STARTING,
    )
    assert "hello from the backend, via the ambassador" in run.logs("app-with-ambassador", "app")
    assert all(r.restarts == 0 for r in run.rows("app-with-ambassador")), run.screen()
    assert run.logs("app-with-ambassador", "ambassador") == []


def test_nginx_access_log_in_an_empty_dir_is_shipped_by_a_sidecar(
    kubelite_run: StartRun,
) -> None:
    run = kubelite_run(example("nginx-log-sidecar.yaml"), timeout=6)
    assert_stopped_by_timeout(run)
    shipped = run.logs("nginx-with-log-shipper", "log-shipper")
    # the upstream image's "main" format, written to the emptyDir file, not to stdout
    assert any(
        re.match(r'^127\.0\.0\.1 - - \[.+\] "GET / HTTP/1\.1" 200 \d+ "-" "Wget"', line)
        for line in shipped
    ), shipped
    assert not any('"GET / HTTP/1.1"' in line for line in run.logs("nginx-with-log-shipper", "web"))


def test_a_service_in_the_manifests_gets_a_cluster_ip_dns_and_endpoints(
    kubelite_run: StartRun,
) -> None:
    """Without an API server, kubelite run keeps the manifests' Services itself: a cluster IP
    from the Service range, EndpointSlices from the pods, the proxy's rules and cluster DNS."""
    run = kubelite_run(EXAMPLES / "cluster" / "wait-for-database.yaml", timeout=12)
    assert_stopped_by_timeout(run)
    (line,) = [ln for ln in run.screen().splitlines() if "service/postgres-svc" in ln]
    ip = line.split()[3]
    assert line.split()[1:3] == ["service/postgres-svc", "ClusterIP"]
    assert line.endswith(" 5432/TCP")
    assert run.logs("app", "wait-for-db")[-1] == "postgres-svc is up"
    assert run.logs("app", "app") == [f"app started, database at {ip}:5432"]
    assert run.index(r"\] postgres-svc is up") < run.index(r"\] app started")
