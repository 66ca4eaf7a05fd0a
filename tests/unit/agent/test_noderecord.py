"""The Node as the agent reports it: Go's architecture names, the machine's identity, and
condition times that move with each report but change their transition only with a status."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelite.agent import node as node_module
from kubelite.agent.envvars import NodeFacts
from kubelite.agent.noderecord import HostInfo, changed, conditions, go_arch, node_object, stamp
from kubelite.clock import rfc3339

T0 = 1_700_000_000.0
FACTS = NodeFacts(node_name="node-1", host_ip="10.0.0.1", cpu="4", memory="8Gi")
HOST = HostInfo(
    architecture="amd64", os_image="Debian GNU/Linux 12 (bookworm)", kernel_version="6.1.0",
    machine_id="m" * 32, system_uuid="4c4c4544-0000-1000-8000-000000000000",
    boot_id="b-o-o-t",
)  # fmt: skip


@pytest.mark.parametrize(
    ("machine", "goarch"),
    [("x86_64", "amd64"), ("aarch64", "arm64"), ("armv7l", "arm"), ("i686", "386"),
     ("ppc64le", "ppc64le"), ("s390x", "s390x"), ("riscv64", "riscv64"),
     ("something-new", "something-new")],
)  # fmt: skip
def test_the_architecture_is_named_as_go_names_it(machine: str, goarch: str) -> None:
    assert go_arch(machine) == goarch


def test_the_node_reports_the_machines_identity_and_its_go_architecture() -> None:
    node = node_object(FACTS, T0, HOST)
    info = node["status"]["nodeInfo"]
    assert (info["architecture"], info["machineID"], info["systemUUID"], info["bootID"]) == (
        "amd64", "m" * 32, "4c4c4544-0000-1000-8000-000000000000", "b-o-o-t",
    )  # fmt: skip
    assert (info["osImage"], info["kernelVersion"]) == ("Debian GNU/Linux 12 (bookworm)", "6.1.0")
    assert node["metadata"]["labels"]["kubernetes.io/arch"] == "amd64"


def test_each_report_moves_the_heartbeat_and_keeps_an_unchanged_transition() -> None:
    first = conditions(T0)
    later = conditions(T0 + 300, first)
    for cond in later:
        assert cond["lastHeartbeatTime"] == rfc3339(T0 + 300)
        assert cond["lastTransitionTime"] == rfc3339(T0)
    assert not changed({"conditions": first}, {"conditions": later})


def test_a_condition_whose_status_changes_gets_a_new_transition_time() -> None:
    before = [{"type": "Ready", "status": "False", "lastTransitionTime": rfc3339(T0)}]
    after = stamp([{"type": "Ready", "status": "True"}], T0 + 60, before)
    assert after[0]["lastTransitionTime"] == rfc3339(T0 + 60)
    assert changed({"conditions": before}, {"conditions": after})


@pytest.mark.parametrize(
    ("case", "present", "uuid"),
    [
        ("the DMI product UUID first", {"dmi", "ppc", "machine"}, "dmi-uuid"),
        ("else the POWER device tree's, without its NUL", {"ppc", "machine"}, "ppc-uuid"),
        ("else the machine ID, as cAdvisor falls back", {"machine"}, "machine-id"),
        ("else nothing", set(), ""),
    ],
)
def test_the_system_uuid_is_read_where_the_kubelet_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, present: set[str], uuid: str
) -> None:
    files = {"dmi": "dmi-uuid\n", "ppc": "ppc-uuid\0", "machine": "machine-id\n"}
    paths = []
    for key in ("dmi", "ppc", "machine"):
        path = tmp_path / key
        if key in present:
            path.write_text(files[key])
        paths.append(str(path))
    boot = tmp_path / "boot_id"
    boot.write_text("9a49f406-f405-4421-8fa4-0fce9768e2ee\n")
    monkeypatch.setattr(node_module, "SYSTEM_UUID_FILES", tuple(paths))
    monkeypatch.setattr(node_module, "MACHINE_ID_FILES", (paths[2],))
    monkeypatch.setattr(node_module, "BOOT_ID_FILE", str(boot))
    host = node_module.host_info()
    assert host.system_uuid == uuid, case
    assert host.machine_id == ("machine-id" if "machine" in present else "")
    assert host.boot_id == "9a49f406-f405-4421-8fa4-0fce9768e2ee"
