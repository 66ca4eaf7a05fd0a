"""``kubelite run`` on real containers, for the lifecycle cases the examples do not cover:
failing apps, probes, hooks, OOM kills, a shared PID namespace, Secrets, signals, bad input.

Each manifest is small and written here; the fixture checks nothing is left behind.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.e2e.run import leftovers
from tests.e2e.run.conftest import StartRun
from tests.e2e.run.harness import in_order

pytestmark = pytest.mark.e2e


def pod(name: str, spec: str, *, extra: str = "") -> str:
    """A Pod manifest (``spec`` is the indented body of ``spec:``), after ``extra`` documents."""
    return f"{extra}---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n{spec}"


# ---------------------------------------------------------------------- exit codes and status


def test_a_never_restarted_app_exiting_one_shows_error_and_the_run_exits_one(
    kubelite_run: StartRun,
) -> None:
    run = kubelite_run(
        pod(
            "exits-one",
            """  restartPolicy: Never
  containers:
  - name: app
    image: busybox:1.36
    command: [sh, -c, 'echo about to fail; exit 1']
""",
        ),
        timeout=60,
    )
    assert run.wait(60) == 1, run.screen()
    assert run.statuses("exits-one")[-1] == "Error"
    assert run.logs("exits-one", "app") == ["about to fail"]
    assert "failed: exits-one" in run.err.text()


def test_a_container_over_its_memory_limit_is_oomkilled(kubelite_run: StartRun) -> None:
    run = kubelite_run(
        pod(
            "memory-hog",
            """  restartPolicy: Never
  containers:
  - name: hog
    image: busybox:1.36
    command: [sh, -c, 'echo allocating; head -c 64m /dev/zero | tail']
    resources:
      limits: {memory: 16Mi}
""",
        ),
        timeout=60,
    )
    assert run.wait(60) == 1, run.screen()
    assert run.statuses("memory-hog")[-1] == "OOMKilled", run.screen()
    assert run.logs("memory-hog", "hog")[0] == "allocating"


# ---------------------------------------------------------------------- probes


def test_a_failing_exec_liveness_probe_restarts_the_container(kubelite_run: StartRun) -> None:
    run = kubelite_run(
        pod(
            "liveness",
            """  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: busybox:1.36
    command: [sh, -c, 'trap "exit 0" TERM; echo started; sleep 3600 & wait']
    livenessProbe:
      exec: {command: ["false"]}
      periodSeconds: 1
      failureThreshold: 1
""",
        ),
        timeout=5,
        extra=("--events",),
    )
    assert run.wait(30) == 0, run.screen()
    assert any(r.restarts == 1 for r in run.rows("liveness")), run.screen()
    assert run.logs("liveness", "app")[:2] == ["started", "started"], run.screen()
    assert run.index(r"event liveness: Warning Unhealthy: Liveness probe failed") >= 0
    assert run.index(r"Container app failed liveness probe, will be restarted") >= 0


def test_an_http_readiness_probe_on_busybox_httpd_makes_the_pod_ready(
    kubelite_run: StartRun,
) -> None:
    run = kubelite_run(
        pod(
            "readiness",
            """  containers:
  - name: web
    image: busybox:1.36
    command: [sh, -c, 'trap "exit 0" TERM; mkdir -p /www; echo ok > /www/index.html; sleep 1; httpd -f -p 8080 -h /www & wait']
    readinessProbe:
      httpGet: {path: /, port: 8080}
      periodSeconds: 1
""",  # noqa: E501
        ),
        timeout=6,
    )
    run.wait_for(r"readiness\s+1/1\s+Running", 20)
    assert run.wait(30) == 0, run.screen()
    pairs = [f"{r.ready} {r.status}" for r in run.rows("readiness")]
    assert in_order(pairs, ["0/1 Running", "1/1 Running"]), pairs


# ---------------------------------------------------------------------- hooks


def test_a_poststart_hook_writes_a_file_the_app_then_reads(kubelite_run: StartRun) -> None:
    run = kubelite_run(
        pod(
            "poststart",
            """  containers:
  - name: app
    image: busybox:1.36
    command: [sh, -c, 'trap "exit 0" TERM; until [ -f /tmp/hook ]; do sleep 0.2; done; echo "app read: $(cat /tmp/hook)"; sleep 3600 & wait']
    lifecycle:
      postStart:
        exec: {command: [sh, -c, 'echo written by postStart > /tmp/hook']}
""",  # noqa: E501
        ),
        timeout=4,
    )
    assert run.wait(30) == 0, run.screen()
    assert run.logs("poststart", "app") == ["app read: written by postStart"]
    assert "Running" in run.statuses("poststart")


def test_a_prestop_hook_runs_on_deletion_before_the_container_gets_sigterm(
    kubelite_run: StartRun,
) -> None:
    run = kubelite_run(
        pod(
            "prestop",
            """  terminationGracePeriodSeconds: 10
  containers:
  - name: app
    image: busybox:1.36
    command: [sh, -c, 'trap "echo got TERM; exit 0" TERM; echo running; sleep 3600 & wait']
    lifecycle:
      preStop:
        exec: {command: [sh, -c, 'echo "preStop ran" > /proc/1/fd/1; sleep 1']}
""",
        ),
        timeout=3,
    )
    assert run.wait(30) == 0, run.screen()
    assert run.logs("prestop", "app") == ["running", "preStop ran", "got TERM"], run.screen()
    assert run.ended is not None
    took = run.ended - run.arrival(r"--timeout \S+ reached")
    assert 1.0 <= took < 4.0, f"the 1 s preStop hook then TERM took {took:.1f} s"


# ---------------------------------------------------------------------- pod-level sharing, config


def test_containers_of_a_pod_sharing_its_process_namespace_see_each_other(
    kubelite_run: StartRun,
) -> None:
    run = kubelite_run(
        pod(
            "shared-pids",
            """  shareProcessNamespace: true
  containers:
  - name: sleeper
    image: busybox:1.36
    command: [sh, -c, 'trap "exit 0" TERM; sleep 3601 & wait']
  - name: watcher
    image: busybox:1.36
    command: [sh, -c, 'trap "exit 0" TERM; until ps -o args | grep -q "^sleep 360[1]"; do sleep 0.2; done; echo "sees the sleeper"; sleep 3600 & wait']
""",  # noqa: E501
        ),
        timeout=4,
    )
    assert run.wait(30) == 0, run.screen()
    assert run.logs("shared-pids", "watcher") == ["sees the sleeper"]


SECRET = """apiVersion: v1
kind: Secret
metadata: {name: db-credentials}
data:
  password: czNjcjN0
stringData:
  user: admin
"""


def test_secret_keys_reach_the_container_as_env_vars(kubelite_run: StartRun) -> None:
    run = kubelite_run(
        pod(
            "secret-env",
            """  restartPolicy: Never
  containers:
  - name: app
    image: busybox:1.36
    command: [sh, -c, 'echo "user=$DB_USER password=$DB_PASSWORD"']
    env:
    - name: DB_USER
      valueFrom: {secretKeyRef: {name: db-credentials, key: user}}
    - name: DB_PASSWORD
      valueFrom: {secretKeyRef: {name: db-credentials, key: password}}
""",
            extra=SECRET,
        ),
        timeout=60,
    )
    assert run.wait(60) == 0, run.screen()
    assert run.logs("secret-env", "app") == ["user=admin password=s3cr3t"]
    assert run.statuses("secret-env")[-1] == "Completed"


def test_a_missing_secret_key_is_a_createcontainerconfigerror(kubelite_run: StartRun) -> None:
    run = kubelite_run(
        pod(
            "secret-missing",
            """  containers:
  - name: app
    image: busybox:1.36
    command: [sh, -c, 'echo never started']
    env:
    - name: TOKEN
      valueFrom: {secretKeyRef: {name: db-credentials, key: token}}
""",
            extra=SECRET,
        ),
        timeout=3,
    )
    assert run.wait(30) == 0, run.screen()
    assert "CreateContainerConfigError" in run.statuses("secret-missing"), run.screen()
    assert run.logs("secret-missing", "app") == []


def test_on_deletion_a_native_sidecar_is_stopped_only_after_the_app_has_exited(
    kubelite_run: StartRun,
) -> None:
    run = kubelite_run(
        pod(
            "sidecar-last",
            """  initContainers:
  - name: sidecar
    image: busybox:1.36
    restartPolicy: Always
    command: [sh, -c, 'trap "echo sidecar got TERM; exit 0" TERM; sleep 3600 & wait']
  containers:
  - name: app
    image: busybox:1.36
    command: [sh, -c, 'trap "echo app got TERM; sleep 2; echo app exits; exit 0" TERM; sleep 3600 & wait']
""",  # noqa: E501
        ),
        timeout=3,
    )
    assert run.wait(30) == 0, run.screen()
    assert run.logs("sidecar-last", "app") == ["app got TERM", "app exits"]
    assert run.logs("sidecar-last", "sidecar") == ["sidecar got TERM"]
    # the app takes 2 s to exit after its SIGTERM; the sidecar's must come after that
    gap = run.arrival(r"\] sidecar got TERM") - run.arrival(r"\] app got TERM")
    assert gap >= 1.5, f"the sidecar got SIGTERM {gap:.2f} s after the app: before it exited"


# ---------------------------------------------------------------------- signals

TRAPS_TERM = """  containers:
  - name: app
    image: busybox:1.36
    command: [sh, -c, 'trap "echo stopping; exit 0" TERM; echo up; sleep 3600 & wait']
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_deletes_the_pods_gracefully_and_the_run_exits_zero(
    kubelite_run: StartRun, sig: signal.Signals
) -> None:
    run = kubelite_run(pod("interrupted", TRAPS_TERM), timeout=None)
    run.wait_for(r"interrupted\s+1/1\s+Running", 30)
    run.wait_for(r"\[interrupted/app\] up", 10)
    sent = time.monotonic()
    run.signal(sig)
    assert run.wait(30) == 0, run.screen()
    assert run.ended is not None and run.ended - sent < 3.0, run.screen()
    assert run.index("interrupted: deleting the pods") >= 0
    assert run.logs("interrupted", "app") == ["up", "stopping"]
    assert in_order(run.statuses("interrupted"), ["Running", "Terminating"])


def test_a_second_sigint_skips_the_grace_period_of_a_pod_that_ignores_sigterm(
    kubelite_run: StartRun,
) -> None:
    spec = """  terminationGracePeriodSeconds: 60
  containers:
  - name: app
    image: busybox:1.36
    command: [sleep, "3600"]
"""
    run = kubelite_run(pod("stubborn", spec), timeout=None)
    run.wait_for(r"stubborn\s+1/1\s+Running", 30)
    run.signal(signal.SIGINT)
    run.wait_for(r"stubborn\s+\S+\s+Terminating", 10)
    time.sleep(1)
    assert run.proc.poll() is None, "the grace period is 60 s: still waiting"
    sent = time.monotonic()
    run.signal(signal.SIGINT)
    assert run.wait(30) == 0, run.screen()
    assert run.ended is not None and run.ended - sent < 3.0, run.screen()
    assert run.index(r"stopping now \(grace period 0\)") >= 0


def test_the_leftover_check_finds_and_removes_what_a_killed_run_left(
    kubelite_run: StartRun,
) -> None:
    """The safety net of the fixture itself: SIGKILL leaves containers running under conmon."""
    run = kubelite_run(pod("orphaned", TRAPS_TERM), timeout=None)
    run.wait_for(r"orphaned\s+1/1\s+Running", 30)
    run.kill()
    cidr = run.ranges.service_cidr
    found = leftovers.find(run.data_dir, cidr)
    assert found.containers and found.mounts and found.processes and found.cgroups, found
    assert sum(n.startswith("link ") for n in found.network) == 2, found  # bridge, sink
    assert f"route {cidr}" in found.network, found
    leftovers.remove(run.data_dir, found)
    assert not leftovers.find(run.data_dir, cidr), leftovers.find(run.data_dir, cidr).describe()


# ---------------------------------------------------------------------- bad input

GOOD_CONTAINER = "  - {name: app, image: busybox:1.36}\n"


def test_a_missing_file_exits_two_and_names_the_path(
    kubelite_run: StartRun, tmp_path: Path
) -> None:
    missing = tmp_path / "nope.yaml"
    run = kubelite_run(missing)
    assert run.wait(30) == 2, run.screen()
    assert f'error: the path "{missing}" does not exist' in run.err.text()
    assert not run.data_dir.exists()


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        pytest.param(
            pod("Bad_Name", "  containers:\n" + GOOD_CONTAINER),
            'The Pod "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": '
            "a lowercase RFC 1123 subdomain must consist of",
            id="invalid-name",
        ),
        pytest.param(
            pod("no-containers", "  containers: []\n"),
            'The Pod "no-containers" is invalid: spec.containers: Required value',
            id="no-containers",
        ),
        pytest.param(
            pod("two-causes", "  restartPolicy: Sometimes\n  containers:\n  - {name: app}\n"),
            'The Pod "two-causes" is invalid: \n* ',
            id="several-causes-one-per-line",
        ),
        pytest.param(
            pod("typo", "  containers:\n  - {name: app, image: busybox:1.36, comand: [sh]}\n"),
            'Pod in version "v1" cannot be handled as a Pod: strict decoding error: '
            'unknown field "spec.containers[0].comand"',
            id="unknown-field",
        ),
        pytest.param(
            pod("twice", "  containers:\n" + GOOD_CONTAINER)
            + pod("twice", "  containers:\n" + GOOD_CONTAINER),
            'pods "twice" already exists',
            id="duplicate-pod",
        ),
        pytest.param(
            pod("x", "  containers:\n" + GOOD_CONTAINER)
            + "---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {k: 'not base64!'}\n",
            'The Secret "s" is invalid: data[k]: Invalid value: "<secret contents redacted>"',
            id="secret-not-base64",
        ),
        pytest.param(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n",
            "kubelite run handles v1 Pod, ConfigMap, Secret and Service, not apps/v1 Deployment",
            id="unsupported-kind",
        ),
        pytest.param("kind: [unclosed\n", "error parsing", id="not-yaml"),
    ],
)
def test_bad_input_exits_two_with_a_kubectl_like_message(
    kubelite_run: StartRun, manifest: str, message: str
) -> None:
    run = kubelite_run(manifest, timeout=5)
    assert run.wait(30) == 2, run.screen()
    assert message in run.err.text(), run.screen()
    assert run.out.text() == ""
    assert not run.data_dir.exists(), "bad input must not start anything"
