"""Several kubelite "machines" on one machine, for the multi-node tests.

* ``Links``: the test's own little LAN: a /24 drawn from the test pool (no other network
  here uses it), switched by a bridge in a network namespace of its own (the "switch").
  The API server's address is on a veth in the host namespace whose other end is plugged
  into the switch; each machine is a network namespace whose veth is plugged in too, with
  an address of the /24 and no route beyond it: machines reach each other and the server
  (one link, as kind's nodes share Docker's bridge), the host forwards nothing, and nothing
  outside this machine is ever sent a packet.
* ``ControlPlane``: ``kubelite up --host <server address>`` (SQLite, or ``--store etcd://…``)
  with its own data dir and ranges (the pod /24 cut into /26 blocks, one per node:
  ``--node-cidr-mask-size 26``), a kubeconfig for the real kubectl, and ``token_create()``
  (``kubelite token create``) for join commands.
* ``Agent``: ``kubelite agent --token … --discovery-token-ca-cert-hash …`` started inside a
  machine's namespace (``nsenter --net``, keeping the host's mount namespace so the data
  dir's mounts are where the runtime and the clean-up look for them), with its own data dir
  and node name and the cluster's ranges (its pods' range is its Node's ``podCIDR``); images
  are pulled into its data dir first (the local registry listens on the host's loopback,
  out of the namespace's reach). ``kill()`` is kill -9.

``Cluster`` ties them together and ``close()`` removes everything even after a failure:
processes by PID (SIGTERM, then SIGKILL), each data dir's pods and pod network (``kubelite
runtime reset``, inside the namespace for agents), whatever is still left of them (mounts,
conmon processes, cgroups: ``tests.e2e.run.leftovers``), the veths and the namespaces
(the switch's last: its veth ends go with it).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.e2e.netranges import POOL, Ranges, _routed, unique_ranges
from tests.e2e.run import leftovers

KUBECTL = os.environ.get("KUBELITE_TEST_KUBECTL", "kubectl")
IMAGES = ("busybox:1.36",)


def _run(*argv: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed ({r.returncode}): {r.stderr}")
    return r


def free_subnets(count: int) -> list[ipaddress.IPv4Network]:
    """``count`` /24s of the test pool that no route here overlaps."""
    used = [n for n in _routed() if n.prefixlen > 0]
    subnets: list[ipaddress.IPv4Network] = list(POOL.subnets(new_prefix=24))
    while True:
        picked = random.sample(subnets, count)
        if not any(p.overlaps(n) for p in picked for n in used):
            return picked


def wait_for(what: str, check: Callable[[], Any], timeout: float, every: float = 0.5) -> Any:
    """``check()`` until it is truthy (returned), else an AssertionError naming ``what``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what} (last: {last!r})")


NODE_MASK = 26  # the control plane's pod /24 holds four nodes' ranges


@dataclass
class Machine:
    name: str  # the node name
    netns: str
    host_link: str  # its cable's end in the switch's namespace
    address: str  # the machine's own address (its node's InternalIP)

    def nsenter(self, *argv: str) -> list[str]:
        return ["nsenter", f"--net=/run/netns/{self.netns}", *argv]

    def ip(self, *args: str) -> str:
        """``ip …`` inside the machine (its output)."""
        return _run(*self.nsenter("ip", *args)).stdout


@dataclass
class Links:
    """The test's LAN: a switch (a bridge in a namespace of its own), the server's address on
    a host veth plugged into it, and one namespace per machine plugged into it."""

    subnet: ipaddress.IPv4Network
    tag: str = field(default_factory=lambda: f"{random.randrange(16**5):05x}")
    machines: list[Machine] = field(default_factory=list)
    created_links: list[str] = field(default_factory=list)  # in the host namespace
    created_netns: list[str] = field(default_factory=list)  # the switch's first

    @property
    def server_address(self) -> str:
        return str(self.subnet.network_address + 1)

    @property
    def switch(self) -> str:
        return f"kl{self.tag}sw"

    def open(self) -> None:
        """The switch, and the server's veth: one end in the host namespace holding the
        address, the other plugged into the switch."""
        _run("ip", "netns", "add", self.switch)
        self.created_netns.append(self.switch)
        inside = ("ip", "-n", self.switch)
        _run(*inside, "link", "set", "lo", "up")
        _run(*inside, "link", "add", "br0", "type", "bridge")
        _run(*inside, "link", "set", "br0", "up")
        a, b = f"kls{self.tag}", f"klt{self.tag}"
        _run("ip", "link", "add", a, "type", "veth", "peer", "name", b, "netns", self.switch)
        self.created_links.append(a)
        _run(*inside, "link", "set", b, "master", "br0", "up")
        _run("ip", "addr", "add", f"{self.server_address}/{self.subnet.prefixlen}", "dev", a)
        _run("ip", "link", "set", a, "up")

    def add_machine(self, name: str) -> Machine:
        i = len(self.machines) + 1
        address = str(self.subnet.network_address + 10 + i)
        netns, plug, nic = f"kl{self.tag}{i}", f"klh{self.tag}{i}", f"kln{self.tag}{i}"
        _run("ip", "netns", "add", netns)
        self.created_netns.append(netns)
        _run("ip", "link", "add", nic, "netns", netns, "type", "veth",
             "peer", "name", plug, "netns", self.switch)  # fmt: skip
        _run("ip", "-n", self.switch, "link", "set", plug, "master", "br0", "up")
        inside = ("ip", "-n", netns)
        _run(*inside, "link", "set", "lo", "up")
        _run(*inside, "addr", "add", f"{address}/{self.subnet.prefixlen}", "dev", nic)
        _run(*inside, "link", "set", nic, "up")
        machine = Machine(name, netns, plug, address)
        self.machines.append(machine)
        return machine

    def close(self) -> list[str]:
        problems = []
        for link in reversed(self.created_links):
            gone = _run("ip", "link", "del", link, check=False).returncode == 0
            if not gone and Path("/sys/class/net", link).exists():
                problems.append(f"link {link} could not be removed")
        for netns in reversed(self.created_netns):  # machines first, the switch last
            _run("ip", "netns", "del", netns, check=False)
            if Path("/run/netns", netns).exists():
                problems.append(f"netns {netns} could not be removed")
        self.created_links.clear()
        self.created_netns.clear()
        return problems


class Process:
    """A kubelite process with its log file, ended by PID."""

    def __init__(self, argv: list[str], log: Path) -> None:
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        self.offset = log.stat().st_size if log.exists() else 0  # earlier runs' lines
        with log.open("a") as out:
            self.proc = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, text=True, start_new_session=True
            )

    def text(self) -> str:
        """What this run wrote (the log file may hold earlier runs')."""
        with self.log.open("rb") as f:
            f.seek(self.offset)
            return f.read().decode(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """kill -9: the process dies where it stands (its containers live on)."""
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


def kubelite_argv(command: str, data_dir: Path, ranges: Ranges, registry: Path,
                  *args: str) -> list[str]:  # fmt: skip
    return [sys.executable, "-m", "kubelite", command, "--data-dir", str(data_dir),
            "--registry-config", str(registry), *ranges.flags(), "--log-level", "INFO",
            *args]  # fmt: skip


@dataclass
class ControlPlane:
    data_dir: Path
    ranges: Ranges
    registry: Path
    host: str
    extra: tuple[str, ...] = ()
    process: Process | None = None
    port: int = 0

    @property
    def kubeconfig(self) -> Path:
        return self.data_dir / "kubeconfig"

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    def start(self) -> None:
        self.kubeconfig.unlink(missing_ok=True)
        argv = kubelite_argv("up", self.data_dir, self.ranges, self.registry, "--no-agent",
                             "--host", self.host, "--port", "0", "--kubeconfig-out",
                             str(self.kubeconfig), "--node-cidr-mask-size", str(NODE_MASK),
                             *self.extra)  # fmt: skip
        self.process = Process(argv, self.data_dir.parent / f"{self.data_dir.name}.log")
        pattern = rf"listening on https://{re.escape(self.host)}:(\d+)"

        def listening() -> int:
            assert self.process is not None
            found = re.findall(pattern, self.process.text())
            if not self.process.alive():
                raise AssertionError(f"kubelite up exited:\n{self.process.text()}")
            return int(found[-1]) if found and self.kubeconfig.exists() else 0

        self.port = wait_for("kubelite up to listen", listening, 60)

    def kubectl(self, *args: str, input: str | None = None, check: bool = True,
                timeout: float = 60) -> subprocess.CompletedProcess[str]:  # fmt: skip
        argv = [KUBECTL, "--kubeconfig", str(self.kubeconfig),
                "--cache-dir", str(self.data_dir / "kcache"), *args]  # fmt: skip
        r = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({r.returncode}): {r.stderr}")
        return r

    def get(self, *args: str) -> Any:
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)

    def token_create(self, *args: str) -> tuple[str, str, str]:
        """``kubelite token create``: (server, token, CA hash) of the join command."""
        r = _run(sys.executable, "-m", "kubelite", "token", "create", "--kubeconfig",
                 str(self.kubeconfig), *args)  # fmt: skip
        line = r.stdout.strip()
        m = re.fullmatch(
            r"kubelite agent --server (\S+) --token (\S+) --discovery-token-ca-cert-hash (\S+)",
            line,
        )
        assert m, f"not a join command: {line!r}"
        return m.group(1), m.group(2), m.group(3)

    def close(self) -> list[str]:
        if self.process is not None:
            self.process.stop()
        return clean_data_dir(self.data_dir, self.ranges, self.registry, None)


@dataclass
class Agent:
    machine: Machine
    data_dir: Path
    ranges: Ranges
    registry: Path
    process: Process | None = None

    @property
    def name(self) -> str:
        return self.machine.name

    def prepare(self) -> None:
        """The images its pods use, pulled into its data dir from the host's registry."""
        for image in IMAGES:
            _run(*kubelite_argv("image", self.data_dir, self.ranges, self.registry, "pull",
                                image), timeout=300)  # fmt: skip

    def start(self, server: str, token: str, ca_hash: str, *extra: str) -> None:
        argv = self.machine.nsenter(*kubelite_argv(
            "agent", self.data_dir, self.ranges, self.registry, "--server", server,
            "--token", token, "--discovery-token-ca-cert-hash", ca_hash,
            "--node-name", self.name, "--discovery-timeout", "60s", *extra,
        ))  # fmt: skip
        self.process = Process(argv, self.data_dir.parent / f"{self.data_dir.name}.log")

    def wait_serving(self, timeout: float = 120) -> None:
        def serving() -> bool:
            assert self.process is not None
            if not self.process.alive():
                raise AssertionError(f"agent {self.name} exited:\n{self.process.text()}")
            return "kubelite agent: node" in self.process.text()

        wait_for(f"agent {self.name} to serve", serving, timeout)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()

    def close(self) -> list[str]:
        if self.process is not None:
            self.process.stop()
        return clean_data_dir(self.data_dir, self.ranges, self.registry, self.machine)


def clean_data_dir(data_dir: Path, ranges: Ranges, registry: Path,
                   machine: Machine | None) -> list[str]:  # fmt: skip
    """Every pod and the pod network of a data dir (in its namespace), then whatever else
    of it is still on the machine; the problems found."""
    if not data_dir.exists():
        return []
    argv = kubelite_argv("runtime", data_dir, ranges, registry, "reset")
    if machine is not None:
        argv = machine.nsenter(*argv)
    reset = _run(*argv, check=False, timeout=180)
    problems = [] if reset.returncode == 0 else [f"runtime reset of {data_dir}: {reset.stderr}"]
    found = leftovers.find(data_dir)
    found = leftovers.Leftovers(found.containers, found.mounts, found.processes, found.cgroups)
    if found:
        problems.append(f"{data_dir.name} left behind: {found.describe()}")
        leftovers.remove(data_dir, found)
    return problems


@dataclass
class Cluster:
    """A control plane and agents, each agent a machine of its own."""

    base: Path
    registry: Path
    links: Links
    control: ControlPlane
    agents: list[Agent] = field(default_factory=list)

    @classmethod
    def open(cls, base: Path, registry: Path, *, up_extra: tuple[str, ...] = ()) -> Cluster:
        links = Links(free_subnets(1)[0])
        links.open()
        control = ControlPlane(base / "control", unique_ranges(), registry,
                               links.server_address, up_extra)  # fmt: skip
        cluster = cls(base, registry, links, control)
        try:
            control.start()
        except BaseException:
            cluster.close()
            raise
        return cluster

    def kubectl(self, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        return self.control.kubectl(*args, **kw)

    def get(self, *args: str) -> Any:
        """``kubectl get … -o json``, parsed."""
        return self.control.get(*args)

    def add_agent(self, name: str) -> Agent:
        """A machine with a stopped agent (its images pulled); ``join`` starts it."""
        machine = self.links.add_machine(name)
        agent = Agent(machine, self.base / f"agent-{name}", self.control.ranges, self.registry)
        self.agents.append(agent)
        agent.prepare()
        return agent

    def join(self, name: str, *extra: str) -> Agent:
        """A new machine whose agent joined with a fresh token and is serving."""
        agent = self.add_agent(name)
        server, token, ca_hash = self.control.token_create()
        agent.start(server, token, ca_hash, *extra)
        agent.wait_serving()
        return agent

    def node_ready(self, name: str) -> bool:
        r = self.kubectl("get", "node", name, "-o",
                         "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
                         check=False)  # fmt: skip
        return r.returncode == 0 and r.stdout.strip() == "True"

    def close(self) -> list[str]:
        problems: list[str] = []
        for agent in self.agents:
            with contextlib.suppress(Exception):
                problems += agent.close()
        with contextlib.suppress(Exception):
            problems += self.control.close()
        problems += self.links.close()
        return problems
