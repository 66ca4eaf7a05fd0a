"""The RuntimeDefault seccomp profile and Localhost profile files (pure)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kubelite.runtime import seccomp
from kubelite.runtime.ocispec import DEFAULT_CAPABILITIES


def allowed(profile: dict[str, Any]) -> set[str]:
    """The calls allowed whatever their arguments."""
    return {
        name
        for rule in profile["syscalls"]
        if rule["action"] == seccomp.ALLOW and not rule.get("args")
        for name in rule["names"]
    }


def rules_for(profile: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [r for r in profile["syscalls"] if name in r["names"]]


DEFAULT = seccomp.runtime_default(DEFAULT_CAPABILITIES, "x86_64")


def test_everything_not_allowed_is_refused_with_an_error() -> None:
    assert DEFAULT["defaultAction"] == "SCMP_ACT_ERRNO"  # EPERM, runc's errno for ERRNO


@pytest.mark.parametrize(
    ("arch", "expected"),
    [
        ("x86_64", ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]),
        ("aarch64", ["SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64"]),
        ("sparc", []),  # unknown: no list, libseccomp's native architecture only
    ],
)
def test_the_architectures_are_the_hosts_and_those_its_kernel_also_runs(
    arch: str, expected: list[str]
) -> None:
    assert seccomp.runtime_default((), arch)["architectures"] == expected


@pytest.mark.parametrize(
    "name", ["read", "write", "openat", "execve", "clone3", "futex", "socket", "arch_prctl"]
)
def test_what_ordinary_programs_do_is_allowed(name: str) -> None:
    if name == "clone3":  # ENOSYS, so that libc falls back to clone (flags checked)
        assert rules_for(DEFAULT, "clone3") == [
            {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": seccomp.ENOSYS}
        ]
    else:
        assert name in allowed(DEFAULT)


@pytest.mark.parametrize(
    "name",
    ["unshare", "setns", "mount", "umount2", "bpf", "keyctl", "add_key", "userfaultfd",
     "kexec_load", "reboot", "init_module", "swapon", "chroot", "acct", "settimeofday"],
)  # fmt: skip
def test_namespaces_mounts_and_the_kernels_own_business_are_refused_by_default(
    name: str,
) -> None:
    # chroot: CAP_SYS_CHROOT is a default capability, so it is allowed there; checked below
    profile = seccomp.runtime_default([c for c in DEFAULT_CAPABILITIES if c != "CAP_SYS_CHROOT"],
                                      "x86_64")  # fmt: skip
    assert name not in allowed(profile)


def test_without_cap_sys_admin_clone_may_not_make_namespaces() -> None:
    (rule,) = [r for r in rules_for(DEFAULT, "clone") if r["action"] == seccomp.ALLOW]
    assert rule["args"] == [
        {"index": 0, "value": 0x7E020000, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}
    ]
    s390 = seccomp.runtime_default((), "s390x")
    assert [r["args"][0]["index"] for r in rules_for(s390, "clone")] == [1]


@pytest.mark.parametrize(
    ("capability", "grants"),
    [
        ("CAP_SYS_ADMIN", {"unshare", "setns", "mount", "clone", "clone3", "sethostname"}),
        ("CAP_SYS_PTRACE", {"process_vm_readv", "kcmp", "pidfd_getfd"}),
        ("CAP_SYS_CHROOT", {"chroot"}),
        ("CAP_SYS_TIME", {"settimeofday", "clock_settime"}),
        ("CAP_SYS_MODULE", {"init_module", "finit_module", "delete_module"}),
        ("CAP_DAC_READ_SEARCH", {"open_by_handle_at"}),
        ("CAP_BPF", {"bpf"}),
    ],
)
def test_a_capability_in_the_bounding_set_lets_its_calls_through(
    capability: str, grants: set[str]
) -> None:
    without = allowed(seccomp.runtime_default((), "x86_64"))
    granted = allowed(seccomp.runtime_default((capability,), "x86_64"))
    assert grants <= granted and not grants & without


def test_with_cap_sys_admin_clone_is_not_argument_checked_nor_clone3_refused() -> None:
    admin = seccomp.runtime_default(("CAP_SYS_ADMIN",), "x86_64")
    assert all(r["action"] == seccomp.ALLOW and not r.get("args")
               for r in rules_for(admin, "clone") + rules_for(admin, "clone3"))  # fmt: skip


def test_personality_is_allowed_only_for_the_harmless_personas() -> None:
    values = [r["args"][0]["value"] for r in rules_for(DEFAULT, "personality")]
    assert values == [0x0, 0x8, 0x20000, 0x20008, 0xFFFFFFFF]


def test_a_localhost_profile_file_becomes_the_section() -> None:
    text = json.dumps({
        "defaultAction": "SCMP_ACT_LOG", "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}], "comment": "x",
    })  # fmt: skip
    assert seccomp.localhost_profile(text) == {
        "defaultAction": "SCMP_ACT_LOG",
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}],
    }


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        json.dumps({"syscalls": []}),  # no defaultAction
        json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "archMap": []}),  # Docker's own shape
        json.dumps(
            {
                "defaultAction": "SCMP_ACT_ERRNO",
                "syscalls": [
                    {
                        "names": ["x"],
                        "action": "SCMP_ACT_ALLOW",
                        "includes": {"caps": ["CAP_SYS_ADMIN"]},
                    }
                ],
            }
        ),
    ],
)
def test_a_profile_that_cannot_be_applied_as_written_is_refused(text: str) -> None:
    with pytest.raises(seccomp.ProfileError):
        seccomp.localhost_profile(text)
