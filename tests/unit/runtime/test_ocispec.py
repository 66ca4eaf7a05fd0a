"""The OCI spec built from a ContainerConfig: Kubernetes' command rules, env, security."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.images.interface import ImageConfig
from kubelite.runtime import seccomp
from kubelite.runtime.interface import (
    ContainerConfig,
    CreateContainerError,
    Resources,
    SeccompProfile,
    SecurityContext,
)
from kubelite.runtime.ocispec import (
    ALL_CAPABILITIES,
    DEFAULT_CAPABILITIES,
    MASKED_PATHS,
    Mount,
    Namespaces,
    SpecInputs,
    build_spec,
    capabilities,
    container_argv,
    merge_env,
    stop_signal,
    with_target_pid,
)
from kubelite.runtime.users import ProcessUser

NS = Namespaces(network="/ns/net", ipc="/ns/ipc", uts="/ns/uts")


@pytest.mark.parametrize(
    ("command", "args", "expected"),
    [
        ((), (), ["/entry", "cmd-arg"]),  # neither: image ENTRYPOINT + CMD
        ((), ("a1",), ["/entry", "a1"]),  # args only: replace CMD
        (("/bin/x",), (), ["/bin/x"]),  # command only: image CMD is ignored
        (("/bin/x",), ("a1", "a2"), ["/bin/x", "a1", "a2"]),  # both
    ],
)
def test_command_and_args_replace_entrypoint_and_cmd(
    command: tuple[str, ...], args: tuple[str, ...], expected: list[str]
) -> None:
    assert container_argv(command, args, ("/entry",), ("cmd-arg",)) == expected


def test_args_without_an_image_entrypoint_run_as_the_command() -> None:
    assert container_argv((), ("sh", "-c", "x"), (), ("ignored",)) == ["sh", "-c", "x"]


def test_container_env_overrides_image_env_in_place_and_expands() -> None:
    env = merge_env(["PATH=/img", "A=1", "B=2"], [("B", "x$(A)"), ("A", "3"), ("C", "$(A)$$")])
    # $(A) refers to the container's own earlier variables only, not the image's
    assert env == ["PATH=/img", "A=3", "B=x$(A)", "C=3$"]


def test_path_is_supplied_when_nobody_sets_it() -> None:
    assert merge_env([], [])[0].startswith("PATH=/usr/local/sbin:")


def _spec(config: ContainerConfig, image: ImageConfig | None = None, **kw: Any) -> dict[str, Any]:
    return build_spec(
        SpecInputs(
            config=config,
            image=image or ImageConfig(cmd=("sh",)),
            rootfs="/r",
            user=kw.pop("user", ProcessUser(0, 0)),
            namespaces=kw.pop("namespaces", NS),
            cgroups_path="/k/pod/ctr",
            **kw,
        )
    )


def test_command_args_are_expanded_against_the_env() -> None:
    cfg = ContainerConfig(
        name="c", attempt=0, image="i", command=("echo", "$(MSG)", "$(NOPE)", "$$(MSG)"),
        env=(("MSG", "hi"),),
    )  # fmt: skip
    assert _spec(cfg)["process"]["args"] == ["echo", "hi", "$(NOPE)", "$(MSG)"]


def test_no_command_at_all_is_an_error() -> None:
    with pytest.raises(CreateContainerError):
        _spec(ContainerConfig(name="c", attempt=0, image="i"), ImageConfig())


def test_working_dir_falls_back_to_the_image_then_root() -> None:
    cfg = ContainerConfig(name="c", attempt=0, image="i")
    assert _spec(cfg, ImageConfig(cmd=("x",), working_dir="/app"))["process"]["cwd"] == "/app"
    assert _spec(cfg)["process"]["cwd"] == "/"
    with_dir = ContainerConfig(name="c", attempt=0, image="i", working_dir="/w")
    assert _spec(with_dir, ImageConfig(cmd=("x",), working_dir="/app"))["process"]["cwd"] == "/w"


@pytest.mark.parametrize(
    ("add", "drop", "expected"),
    [
        ((), (), list(DEFAULT_CAPABILITIES)),
        (("NET_ADMIN",), (), [*DEFAULT_CAPABILITIES, "CAP_NET_ADMIN"]),
        ((), ("ALL",), []),
        (("NET_ADMIN", "cap_sys_time"), ("ALL",), ["CAP_NET_ADMIN", "CAP_SYS_TIME"]),
        (("ALL",), ("CHOWN",), [c for c in ALL_CAPABILITIES if c != "CAP_CHOWN"]),
        ((), ("KILL", "CAP_NET_RAW"),
         [c for c in DEFAULT_CAPABILITIES if c not in ("CAP_KILL", "CAP_NET_RAW")]),
        (("KILL",), ("KILL",), [c for c in DEFAULT_CAPABILITIES if c != "CAP_KILL"]),
    ],
)  # fmt: skip
def test_capabilities_follow_containerds_order(
    add: tuple[str, ...], drop: tuple[str, ...], expected: list[str]
) -> None:
    sec = SecurityContext(capabilities_add=add, capabilities_drop=drop)
    assert capabilities(sec) == expected


def test_default_set_is_containerds_fourteen() -> None:
    assert len(DEFAULT_CAPABILITIES) == 14 and "CAP_SYS_ADMIN" not in DEFAULT_CAPABILITIES
    assert len(ALL_CAPABILITIES) == 41 and ALL_CAPABILITIES[12] == "CAP_NET_ADMIN"


def test_unprivileged_spec_masks_proc_and_joins_the_sandbox() -> None:
    spec = _spec(ContainerConfig(name="c", attempt=0, image="i"))
    linux = spec["linux"]
    assert linux["maskedPaths"] == list(MASKED_PATHS)
    assert "/proc/sys" in linux["readonlyPaths"]
    kinds = {n["type"]: n.get("path") for n in linux["namespaces"]}
    assert kinds == {"network": "/ns/net", "ipc": "/ns/ipc", "uts": "/ns/uts", "mount": None,
                     "pid": None}  # fmt: skip
    assert spec["process"]["noNewPrivileges"] is False
    assert linux["resources"]["devices"] == [{"allow": False, "access": "rwm"}]


def test_shared_pid_namespace_is_joined_by_path() -> None:
    ns = Namespaces(network="/n", ipc="/i", uts="/u", pid="/proc/42/ns/pid")
    spec = _spec(ContainerConfig(name="c", attempt=0, image="i"), namespaces=ns)
    assert {"type": "pid", "path": "/proc/42/ns/pid"} in spec["linux"]["namespaces"]


@pytest.mark.parametrize(
    ("ns", "expected"),
    [
        (NS, {"type": "pid", "path": "/proc/77/ns/pid"}),
        (Namespaces(network="/n", ipc="/i", uts="/u", pid="/proc/42/ns/pid"),
         {"type": "pid", "path": "/proc/77/ns/pid"}),
        (Namespaces(network=None, ipc=None, uts=None, host_pid=True), None),
    ],
    ids=["its own namespace", "the pod's shared one", "the node's, which stays"],
)  # fmt: skip
def test_a_container_with_a_pid_target_joins_the_targets_pid_namespace(
    ns: Namespaces, expected: dict[str, str] | None
) -> None:
    config = ContainerConfig(name="c", attempt=0, image="i")
    spec = _spec(config, namespaces=with_target_pid(ns, 77))
    pids = [n for n in spec["linux"]["namespaces"] if n["type"] == "pid"]
    assert pids == ([expected] if expected else [])


def test_privileged_gets_everything_and_no_masks() -> None:
    sec = SecurityContext(privileged=True, allow_privilege_escalation=False)
    spec = _spec(ContainerConfig(name="c", attempt=0, image="i", security=sec))
    assert spec["process"]["capabilities"]["bounding"] == list(ALL_CAPABILITIES)
    assert "maskedPaths" not in spec["linux"]
    assert spec["process"]["noNewPrivileges"] is False
    sysfs = next(m for m in spec["mounts"] if m["destination"] == "/sys")
    assert "rw" in sysfs["options"]


def test_security_and_resources_reach_the_spec() -> None:
    sec = SecurityContext(read_only_root_filesystem=True, allow_privilege_escalation=False)
    res = Resources(cpu_shares=512, cpu_quota=50_000, memory_limit=1 << 20, pids_limit=9,
                    oom_score_adj=-997)  # fmt: skip
    cfg = ContainerConfig(name="c", attempt=0, image="i", security=sec, resources=res, tty=True)
    spec = _spec(cfg, user=ProcessUser(1000, 100, (5, 6)), swap_limit=False)
    proc, linux = spec["process"], spec["linux"]
    assert proc["user"] == {"uid": 1000, "gid": 100, "additionalGids": [5, 6]}
    assert proc["noNewPrivileges"] is True and proc["terminal"] is True
    assert proc["oomScoreAdj"] == -997
    assert spec["root"] == {"path": "/r", "readonly": True}
    assert linux["resources"]["memory"] == {"limit": 1 << 20}
    assert linux["resources"]["cpu"] == {"shares": 512, "quota": 50_000, "period": 100_000}
    assert linux["resources"]["pids"] == {"limit": 9}
    assert linux["cgroupsPath"] == "/k/pod/ctr"


def test_caller_mounts_come_last_and_replace_a_standard_one() -> None:
    mounts = (Mount("/data", "/host/vol"), Mount("/dev/shm", "/host/shm"))
    spec = _spec(ContainerConfig(name="c", attempt=0, image="i"), mounts=mounts, shm_path="/s")
    dests = [m["destination"] for m in spec["mounts"]]
    assert dests.count("/dev/shm") == 1 and dests[-2:] == ["/data", "/dev/shm"]


def test_sandbox_shm_is_bind_mounted() -> None:
    spec = _spec(ContainerConfig(name="c", attempt=0, image="i"), shm_path="/sb/shm")
    shm = next(m for m in spec["mounts"] if m["destination"] == "/dev/shm")
    assert (shm["type"], shm["source"]) == ("bind", "/sb/shm")


@pytest.mark.parametrize(
    ("override", "container", "image", "expected"),
    [
        ("", "", "", "SIGTERM"),
        ("", "", "SIGUSR1", "SIGUSR1"),
        ("", "quit", "SIGUSR1", "SIGQUIT"),
        ("SIGKILL", "SIGQUIT", "SIGUSR1", "SIGKILL"),
        ("", "", "9", "9"),
    ],
)
def test_stop_signal(override: str, container: str, image: str, expected: str) -> None:
    cfg = ContainerConfig(name="c", attempt=0, image="i", stop_signal=container)
    assert stop_signal(cfg, ImageConfig(stop_signal=image), override) == expected


# --------------------------------------------------------------------------- confinement


def test_the_node_namespaces_are_left_out_of_the_list_with_host_pid_and_host_ipc() -> None:
    ns = Namespaces(network=None, ipc=None, uts=None, host_pid=True)
    spec = _spec(ContainerConfig(name="c", attempt=0, image="i"), namespaces=ns)
    assert spec["linux"]["namespaces"] == [{"type": "mount"}]


def test_the_masked_paths_are_containerds() -> None:
    assert {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware",
            "/sys/devices/virtual/powercap"} <= set(MASKED_PATHS)  # fmt: skip


def _seccomp(kind: str, privileged: bool = False, **kw: Any) -> dict[str, Any] | None:
    sec = SecurityContext(privileged=privileged, seccomp=SeccompProfile(kind, "/p.json"))
    spec = _spec(ContainerConfig(name="c", attempt=0, image="i", security=sec), **kw)
    found: dict[str, Any] | None = spec["linux"].get("seccomp")
    return found


def test_runtime_default_seccomp_follows_the_containers_capabilities() -> None:
    profile = _seccomp("RuntimeDefault", arch="x86_64")
    assert profile == seccomp.runtime_default(DEFAULT_CAPABILITIES, "x86_64")


@pytest.mark.parametrize(
    ("kind", "privileged", "expected"),
    [
        ("Unconfined", False, None),
        ("RuntimeDefault", True, None),  # containerd never confines a privileged container
        ("Localhost", True, None),
        ("Localhost", False, {"defaultAction": "SCMP_ACT_LOG"}),
    ],
)
def test_the_seccomp_section_per_profile_type(
    kind: str, privileged: bool, expected: dict[str, Any] | None
) -> None:
    loaded = {"defaultAction": "SCMP_ACT_LOG"}
    assert _seccomp(kind, privileged, localhost_seccomp=loaded) == expected


def test_a_localhost_profile_that_was_not_loaded_is_an_error() -> None:
    with pytest.raises(CreateContainerError):
        _seccomp("Localhost")


@pytest.mark.parametrize(
    ("wanted", "floor", "applied"),
    [(-997, None, -997), (-997, 0, 0), (1000, 0, 1000), (500, -100, 500)],
)
def test_oom_score_adj_is_raised_to_what_the_host_allows(
    wanted: int, floor: int | None, applied: int
) -> None:
    cfg = ContainerConfig(name="c", attempt=0, image="i", resources=Resources(oom_score_adj=wanted))
    assert _spec(cfg, oom_score_adj_floor=floor)["process"]["oomScoreAdj"] == applied
