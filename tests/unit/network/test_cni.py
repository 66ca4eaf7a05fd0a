"""CniNetwork as a CNI runtime: plugins run in order with the previous result, DEL in reverse
with the cached result, a failed ADD is rolled back, and the sweep DELs what a crash left.

The plugins here are small scripts that log how they were called and answer as a plugin would
(no network is touched); the real plugins are exercised by the e2e tests."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from kubelite.network.cni import CniError, CniNetwork
from kubelite.network.layout import NetworkLayout
from kubelite.runtime.interface import PortMapping, SandboxConfig
from kubelite.settings import Settings

# Plugins get a clean environment (only the CNI variables and PATH): the script is told where
# to log, and which plugin is to fail, through files beside it.
PLUGIN = """#!/usr/bin/env python3
import json, os, sys
here = os.path.dirname(sys.argv[0])
conf = json.load(sys.stdin)
name = os.path.basename(sys.argv[0])
cmd = os.environ["CNI_COMMAND"]
with open(os.path.join(here, "..", "calls.jsonl"), "a") as log:
    log.write(json.dumps({"plugin": name, "cmd": cmd, "conf": conf,
        "env": {k: v for k, v in os.environ.items() if k.startswith("CNI_")}}) + "\\n")
if os.path.exists(os.path.join(here, name + ".fail")) and cmd == "ADD":
    print(json.dumps({"cniVersion": "1.0.0", "code": 7, "msg": "no more addresses"}))
    sys.exit(1)
if cmd == "ADD":
    prev = conf.get("prevResult") or {"cniVersion": "1.0.0", "ips": [
        {"address": "10.244.0.7/24", "gateway": "10.244.0.1"}]}
    print(json.dumps(prev))
"""


@pytest.fixture
def plugins(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("bridge", "portmap"):
        path = bin_dir / name
        path.write_text(PLUGIN)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return bin_dir


def calls(tmp_path: Path) -> list[dict[str, object]]:
    path = tmp_path / "calls.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def network(tmp_path: Path, plugins: Path) -> CniNetwork:
    layout = NetworkLayout.from_settings(Settings(data_dir=tmp_path / "data"))
    return CniNetwork(layout, bin_dirs=(plugins,))


CONFIG = SandboxConfig(
    pod_uid="uid-1", pod_name="web", namespace="shop", attempt=0, hostname="web",
    port_mappings=(PortMapping(8080, 80),),
)  # fmt: skip


async def test_add_runs_the_list_in_order_with_kubernetes_args_and_caches_the_result(
    tmp_path: Path, plugins: Path
) -> None:
    net = network(tmp_path, plugins)
    got = await net.attach("sb1", "/run/netns/x", CONFIG)
    assert got.ip == "10.244.0.7"
    seen = calls(tmp_path)
    assert [(c["plugin"], c["cmd"]) for c in seen] == [("bridge", "ADD"), ("portmap", "ADD")]
    env = seen[0]["env"]
    assert isinstance(env, dict)
    assert env["CNI_ARGS"] == (
        "IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web;"
        "K8S_POD_INFRA_CONTAINER_ID=sb1;K8S_POD_UID=uid-1"
    )
    assert (env["CNI_CONTAINERID"], env["CNI_IFNAME"], env["CNI_NETNS"]) == (
        "sb1", "eth0", "/run/netns/x",
    )  # fmt: skip
    bridge, portmap = (c["conf"] for c in seen)
    assert isinstance(bridge, dict) and isinstance(portmap, dict)
    assert bridge["name"] == "kubelite" and bridge["cniVersion"] == "1.0.0"
    assert "runtimeConfig" not in bridge  # bridge declares no capability
    assert portmap["prevResult"]["ips"][0]["address"] == "10.244.0.7/24"
    assert portmap["runtimeConfig"] == {
        "portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp", "hostIP": ""}]
    }
    assert net.attached() == ["sb1"]


async def test_del_runs_in_reverse_with_the_cached_result_and_forgets_the_attachment(
    tmp_path: Path, plugins: Path
) -> None:
    net = network(tmp_path, plugins)
    await net.attach("sb1", "/run/netns/x", CONFIG)
    await net.detach("sb1", "/run/netns/x")
    dels = [c for c in calls(tmp_path) if c["cmd"] == "DEL"]
    assert [c["plugin"] for c in dels] == ["portmap", "bridge"]
    for c in dels:
        conf = c["conf"]
        assert isinstance(conf, dict)
        assert conf["prevResult"]["ips"][0]["address"] == "10.244.0.7/24"
        env = c["env"]
        assert isinstance(env, dict) and env["CNI_NETNS"] == ""  # that namespace is not alive
    assert net.attached() == []
    await net.detach("sb1", "/run/netns/x")  # idempotent: nothing to undo
    assert len([c for c in calls(tmp_path) if c["cmd"] == "DEL"]) == 2


async def test_a_failed_add_is_rolled_back_and_named_as_a_kubelet_names_it(
    tmp_path: Path, plugins: Path
) -> None:
    (plugins / "portmap.fail").touch()
    net = network(tmp_path, plugins)
    with pytest.raises(CniError) as err:
        await net.attach("sb1", "/run/netns/x", CONFIG)
    assert str(err.value) == (
        'failed to setup network for sandbox "sb1": plugin type="portmap" name="kubelite" '
        "failed (add): no more addresses"
    )
    assert [(c["plugin"], c["cmd"]) for c in calls(tmp_path)][-2:] == [
        ("portmap", "DEL"),
        ("bridge", "DEL"),
    ]
    assert net.attached() == []


async def test_the_sweep_dels_attachments_whose_sandbox_is_gone_even_half_made_ones(
    tmp_path: Path, plugins: Path
) -> None:
    net = network(tmp_path, plugins)
    await net.attach("live", "/run/netns/a", CONFIG)
    await net.attach("gone", "/run/netns/b", CONFIG)
    # a kill in the middle of an ADD leaves a pending entry (no result yet)
    pending = net._path("cut")
    pending.write_text(json.dumps({**json.loads(net._path("gone").read_text()), "result": None,
                                   "containerId": "cut"}))  # fmt: skip
    swept = await net.sweep({"live"})
    assert sorted(swept) == ["cut", "gone"]
    assert net.attached() == ["live"]
    cut_dels = [
        c for c in calls(tmp_path) if c["cmd"] == "DEL" and c["env"]["CNI_CONTAINERID"] == "cut"
    ]  # type: ignore[index]
    assert [c["plugin"] for c in cut_dels] == ["portmap", "bridge"]
    assert all("prevResult" not in c["conf"] for c in cut_dels)  # type: ignore[operator]


async def test_a_missing_plugin_is_a_sandbox_error(tmp_path: Path, plugins: Path) -> None:
    (plugins / "portmap").unlink()
    net = network(tmp_path, plugins)
    with pytest.raises(CniError, match="failed to find plugin 'portmap'"):
        await net.attach("sb1", "/run/netns/x", CONFIG)


async def test_a_pod_without_host_ports_is_attached_and_detached_without_portmap(
    tmp_path: Path, plugins: Path
) -> None:
    net = network(tmp_path, plugins)
    plain = SandboxConfig(pod_uid="u2", pod_name="db", namespace="shop", attempt=0, hostname="db")
    await net.attach("sb2", "/run/netns/y", plain)
    await net.detach("sb2", "/run/netns/y")
    assert [(c["plugin"], c["cmd"]) for c in calls(tmp_path)] == [
        ("bridge", "ADD"),
        ("bridge", "DEL"),
    ]
