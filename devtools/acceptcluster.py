"""The acceptance suite against a 3-node kubelite on etcd (``scripts/acceptance-cluster.sh``).

::

    python3 -m devtools.acceptcluster run [runner args...]   # the whole run, cleaned up after
    python3 -m devtools.acceptcluster hook ACTION            # a node hook (the runner calls it)
    python3 -m devtools.acceptcluster up                     # the same cluster, held for a person

``run`` starts, under a throw-away directory: the stand-in registry (a mirror of docker.io, as
``scripts/acceptance.sh`` does), a 3-member etcd on 127.0.0.1 (``tests.e2e.etcd.etcdproc``),
``kubelite up --no-agent --store etcd://…`` on the multi-node harness's LAN and three machines
``m1``, ``m2``, ``m3`` (network namespaces), each running ``kubelite agent`` joined with a token
of its own (``tests.e2e.multinode.harness``). Once the three Nodes are Ready it runs the suite
with node hooks and always removes everything again (``Cluster.close()``, etcd, registry).

The node hooks act on the node the named pod (``$ACCEPT_POD`` in ``$ACCEPT_NAMESPACE``) is
bound to; a hook step that names no pod acts on every node holding a pod of the scenario's
namespace (every node when it has none). ``hook`` asks the running ``run`` over a Unix socket
(``$KL_ACCEPT_CLUSTER_SOCKET``): the agents are its child processes, so it alone stops and
starts them, and it knows each machine's namespace and data dir for ``kill-sandbox`` and
``rm-exited``.

Environment: ``ACCEPTANCE_DIR`` (the suite's directory; default ../shared/acceptance beside the
repository), ``KL_ACCEPT_KEEP=1`` keeps the directory for inspection, ``KL_ACCEPT_NODES`` the
number of machines (default 3).
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SOCKET_ENV = "KL_ACCEPT_CLUSTER_SOCKET"
ACTIONS = ("stop", "start", "restart", "kill-sandbox", "rm-exited")
HOOK_VARS = {
    "RESTART_AGENT": "restart",
    "STOP_AGENT": "stop",
    "START_AGENT": "start",
    "KILL_POD_SANDBOX": "kill-sandbox",
    "REMOVE_EXITED_CONTAINERS": "rm-exited",
}


def say(message: str) -> None:
    print(f"acceptance-cluster: {message}", file=sys.stderr, flush=True)


# --- the hook client ------------------------------------------------------------------------


def hook(action: str) -> int:
    """Send one hook request to the running driver; its answer decides the exit code."""
    if action not in ACTIONS:
        say(f"usage: hook {'|'.join(ACTIONS)}")
        return 2
    path = os.environ.get(SOCKET_ENV)
    if not path:
        say(f"{SOCKET_ENV} is not set (hooks run under 'python3 -m devtools.acceptcluster run')")
        return 2
    request = {
        "action": action,
        "namespace": os.environ.get("ACCEPT_NAMESPACE", ""),
        "pod": os.environ.get("ACCEPT_POD", ""),
        "uid": os.environ.get("ACCEPT_POD_UID", ""),
    }
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        s.sendall(json.dumps(request).encode() + b"\n")
        answer = json.loads(s.makefile("rb").readline() or b'{"ok": false, "message": "no answer"}')
    say(f"{action}: {answer['message']}")
    return 0 if answer["ok"] else 1


# --- the driver -----------------------------------------------------------------------------


@dataclass
class Joined:
    """An agent with the join command it was started with (a restart uses it again; the agent
    then finds its certificate in its data dir and does not join a second time)."""

    agent: Any  # tests.e2e.multinode.harness.Agent
    join: tuple[str, str, str]
    lock: threading.Lock = field(default_factory=threading.Lock)


class Driver:
    def __init__(self, base: Path, nodes: int) -> None:
        self.base = base
        self.nodes = nodes
        self.registry_dir = base / "registry"
        self.registry_config = base / "registries.yaml"
        self.etcd: Any = None
        self.cluster: Any = None
        self.joined: dict[str, Joined] = {}
        self.server: socketserver.ThreadingUnixStreamServer | None = None

    # start-up

    def start(self) -> None:
        from tests.e2e.etcd.etcdproc import ETCD, EtcdCluster
        from tests.e2e.multinode.harness import Cluster

        if ETCD is None:
            raise RuntimeError("no etcd binary (scripts/install-deps.sh)")
        port = _free_port()
        _python("-m", "devtools.registry", "start", "--dir", str(self.registry_dir),
                "--port", str(port))  # fmt: skip
        _python("-m", "devtools.standins", "push", "--registry", f"127.0.0.1:{port}")
        self.registry_config.write_text(
            f'mirrors:\n  docker.io:\n    endpoint: ["http://127.0.0.1:{port}"]\n'
        )
        say(f"registry on 127.0.0.1:{port}, directory {self.base}")
        self.etcd = EtcdCluster(self.base / "etcd", size=3)
        self.etcd.start()
        say(f"etcd: {self.etcd.store_url}")
        self.cluster = Cluster.open(self.base / "cluster", self.registry_config,
                                    up_extra=("--store", self.etcd.store_url))  # fmt: skip
        say(f"kubelite up on {self.cluster.control.url}")
        for i in range(1, self.nodes + 1):
            name = f"m{i}"
            agent = self.cluster.add_agent(name)
            join = self.cluster.control.token_create()
            agent.start(*join)
            agent.wait_serving()
            self.joined[name] = Joined(agent, join)
            say(f"{name} joined from {agent.machine.address} ({agent.machine.netns})")
        deadline = time.monotonic() + 120
        while not all(self.cluster.node_ready(n) for n in self.joined):
            if time.monotonic() > deadline:
                raise RuntimeError("the nodes were not all Ready after 120s")
            time.sleep(0.5)
        say(f"{self.nodes} nodes Ready")

    # hooks

    def serve_hooks(self, path: Path) -> None:
        driver = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                request = json.loads(self.rfile.readline())
                try:
                    ok, message = True, driver.handle(request)
                except Exception as e:  # reported to the hook, which fails the scenario
                    ok, message = False, f"{type(e).__name__}: {e}"
                say(f"hook {request.get('action')} {request.get('namespace')}/"
                    f"{request.get('pod')}: {'ok' if ok else 'FAILED'}: {message}")  # fmt: skip
                self.wfile.write(json.dumps({"ok": ok, "message": message}).encode() + b"\n")

        self.server = socketserver.ThreadingUnixStreamServer(str(path), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, name="hooks", daemon=True).start()

    def nodes_for(self, namespace: str, pod: str) -> list[str]:
        """The node the pod is bound to; without a pod, the nodes of the namespace's pods
        (every node when none is bound)."""
        if pod:
            r = self.cluster.kubectl("get", "pod", pod, "-n", namespace, "-o",
                                     "jsonpath={.spec.nodeName}", check=False)  # fmt: skip
            name = r.stdout.strip()
            if r.returncode != 0 or name not in self.joined:
                raise RuntimeError(f"pod {namespace}/{pod} is on no known node ({name!r}, "
                                   f"{r.stderr.strip()})")  # fmt: skip
            return [name]
        names: set[str] = set()
        if namespace:
            r = self.cluster.kubectl("get", "pods", "-n", namespace, "-o",
                                     "jsonpath={.items[*].spec.nodeName}", check=False)  # fmt: skip
            names = {n for n in r.stdout.split() if n in self.joined}
        return sorted(names) or sorted(self.joined)

    def handle(self, request: dict[str, str]) -> str:
        action, uid = request["action"], request.get("uid", "")
        names = self.nodes_for(request.get("namespace", ""), request.get("pod", ""))
        done = []
        for name in names:
            j = self.joined[name]
            with j.lock:
                if action in ("stop", "restart"):
                    self.stop_agent(j)
                if action in ("start", "restart"):
                    self.start_agent(j)
                if action in ("kill-sandbox", "rm-exited"):
                    if not uid:
                        raise RuntimeError("the hook needs ACCEPT_POD_UID")
                    self.runtime(j, "kill-pod" if action == "kill-sandbox" else "rm-exited", uid)
            done.append(name)
        return f"{action} on {', '.join(done)}"

    def stop_agent(self, j: Joined) -> None:
        if j.agent.process is not None and j.agent.process.alive():
            j.agent.process.stop()

    def start_agent(self, j: Joined) -> None:
        if j.agent.process is not None and j.agent.process.alive():
            return
        j.agent.start(*j.join)
        j.agent.wait_serving()

    def runtime(self, j: Joined, command: str, uid: str) -> None:
        from tests.e2e.multinode.harness import kubelite_argv

        a = j.agent
        argv = a.machine.nsenter(*kubelite_argv("runtime", a.data_dir, a.ranges, a.registry,
                                                command, uid))  # fmt: skip
        r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"kubelite runtime {command} {uid}: {r.stderr.strip()}")

    # the suite

    def run_suite(self, runner: Path, args: list[str], sock: Path) -> int:
        env = dict(os.environ)
        env[SOCKET_ENV] = str(sock)
        env["KUBECONFIG"] = str(self.cluster.control.kubeconfig)
        python = shlex.quote(sys.executable)
        hook_cmd = f"cd {shlex.quote(str(REPO))} && {python} -m devtools.acceptcluster hook"
        for var, action in HOOK_VARS.items():
            env[f"ACCEPT_{var}_CMD"] = f"{hook_cmd} {action}"
        argv = [sys.executable, str(runner), "--kubeconfig", str(self.cluster.control.kubeconfig),
                *args]  # fmt: skip
        return subprocess.run(argv, env=env, check=False).returncode

    # clean-up

    def close(self) -> list[str]:
        problems: list[str] = []
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        if self.cluster is not None:
            problems += self.cluster.close()
        if self.etcd is not None:
            self.etcd.stop()
        with contextlib.suppress(Exception):
            _python("-m", "devtools.registry", "stop", "--dir", str(self.registry_dir))
        return problems


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _python(*args: str) -> None:
    subprocess.run([sys.executable, *args], check=True, cwd=REPO, stdout=subprocess.DEVNULL,
                   timeout=600)  # fmt: skip


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # the clean-up below runs as it does for Ctrl-C


def run(args: list[str], *, hold: bool = False) -> int:
    suite = Path(os.environ.get("ACCEPTANCE_DIR", REPO.parent / "shared" / "acceptance"))
    runner = suite / "run"
    if not runner.is_file():
        say(f"no acceptance runner at {runner} (set ACCEPTANCE_DIR)")
        return 2
    for tool in ("nsenter", "ip", "runc", "conmon", "kubectl"):
        if shutil.which(tool) is None:
            say(f"needs {tool} (scripts/install-deps.sh)")
            return 2
    signal.signal(signal.SIGTERM, _terminated)
    base = Path(tempfile.mkdtemp(prefix="kubelite-accept-cluster.")).resolve()
    driver = Driver(base, int(os.environ.get("KL_ACCEPT_NODES", "3")))
    rc = 1
    try:
        driver.start()
        sock = base / "hooks.sock"
        driver.serve_hooks(sock)
        if hold:  # ``up``: the cluster for a person, until Ctrl-C or SIGTERM
            say(f"holding; KUBECONFIG={driver.cluster.control.kubeconfig} {SOCKET_ENV}={sock}")
            threading.Event().wait()
        rc = driver.run_suite(runner, args, sock)
    except KeyboardInterrupt:
        rc = 130
    finally:
        say("cleaning up")
        problems = driver.close()
        for p in problems:
            say(f"left behind: {p}")
        if os.environ.get("KL_ACCEPT_KEEP") == "1":
            say(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    return rc


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["hook"] and len(argv) == 2:
        return hook(argv[1])
    if argv[:1] == ["run"]:
        sys.path.insert(0, str(REPO))  # tests.e2e.* (the harness) by import
        return run(argv[1:])
    if argv == ["up"]:
        sys.path.insert(0, str(REPO))
        return run([], hold=True)
    say("usage: python3 -m devtools.acceptcluster run [runner args...] | hook ACTION | up")
    return 2


if __name__ == "__main__":
    sys.exit(main())
