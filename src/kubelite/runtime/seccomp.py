"""Seccomp for containers: the runtimes' default profile (``RuntimeDefault``) and profiles given
as files (``Localhost``), as an OCI ``linux.seccomp`` section.

PURE. ``RuntimeDefault`` behaves as containerd's, Docker's and Podman's default profiles do:
everything is refused (``SCMP_ACT_ERRNO``, so EPERM) except an allow-list of the system calls
ordinary programs make. What it keeps from a container:

* new namespaces (``unshare``, ``setns``, ``clone`` with a CLONE_NEW* flag), mounts, the
  new mount API, ``bpf``, ``perf_event_open`` and the like, unless the container holds
  CAP_SYS_ADMIN; ``clone3`` answers ENOSYS then, so that C libraries fall back to ``clone``,
  whose flags the filter can inspect;
* kernel modules, reboot, clock setting, process accounting, I/O ports, ``ptrace``-like access to
  other processes' memory, ``chroot`` and ``vhangup``, unless the matching capability is in
  the container's bounding set;
* ``personality`` with anything but the few harmless personas (Linux, its 32-bit variant, and
  the query);
* everything the profile does not name (keyrings, ``userfaultfd``, ``kexec``, swap, old
  system calls nobody needs).

The architectures are the host's native one and those its kernel can also run (x86-64 runs
32-bit x86 and x32; arm64 runs 32-bit arm), so a 32-bit binary cannot slip past the filter.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable, Mapping
from typing import Any

ERRNO = "SCMP_ACT_ERRNO"
ALLOW = "SCMP_ACT_ALLOW"
ENOSYS = 38

# Namespace flags of clone(2); without CAP_SYS_ADMIN, clone is allowed only if none is set.
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_NAMESPACES = (
    CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID
    | CLONE_NEWNET
)  # fmt: skip

# personality(2) values a program may ask for: PER_LINUX, PER_LINUX32, UNAME26 over each,
# and 0xffffffff, which only reads the current persona.
PERSONAS = (0x0, 0x8, 0x20000, 0x20008, 0xFFFFFFFF)

# --------------------------------------------------------------------- the allow-list, by topic
# fmt: off

_FILES = (
    "access", "chdir", "chmod", "chown", "chown32", "close", "close_range", "copy_file_range",
    "creat", "dup", "dup2", "dup3", "faccessat", "faccessat2", "fadvise64", "fadvise64_64",
    "fallocate", "fchdir", "fchmod", "fchmodat", "fchown", "fchown32", "fchownat", "fcntl",
    "fcntl64", "fdatasync", "flock", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64",
    "fsync", "ftruncate", "ftruncate64", "futimesat", "getcwd", "getdents", "getdents64",
    "lchown", "lchown32", "link", "linkat", "_llseek", "lseek", "lstat", "lstat64", "mkdir",
    "mkdirat", "mknod", "mknodat", "newfstatat", "open", "openat", "openat2", "pread64", "preadv",
    "preadv2", "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat",
    "readv", "rename", "renameat", "renameat2", "rmdir", "sendfile", "sendfile64", "splice",
    "stat", "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync",
    "sync_file_range", "syncfs", "tee", "truncate", "truncate64", "umask", "unlink", "unlinkat",
    "utime", "utimensat", "utimensat_time64", "utimes", "vmsplice", "write", "writev",
)
_XATTRS = (
    "fgetxattr", "flistxattr", "fremovexattr", "fsetxattr", "getxattr", "lgetxattr", "listxattr",
    "llistxattr", "lremovexattr", "lsetxattr", "removexattr", "setxattr",
)
_EVENTS_AND_ASYNC_IO = (
    "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2",
    "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "fanotify_mark", "inotify_add_watch",
    "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel", "io_destroy",
    "io_getevents", "io_pgetevents", "io_pgetevents_time64", "io_setup", "io_submit",
    "io_uring_enter", "io_uring_register", "io_uring_setup", "ioctl", "_newselect", "pipe",
    "pipe2", "poll", "ppoll", "ppoll_time64", "pselect6", "pselect6_time64", "select",
    "signalfd", "signalfd4", "timerfd_create", "timerfd_gettime", "timerfd_gettime64",
    "timerfd_settime", "timerfd_settime64",
)
_MEMORY = (
    "brk", "madvise", "membarrier", "memfd_create", "memfd_secret", "mincore", "mlock", "mlock2",
    "mlockall", "mmap", "mmap2", "mprotect", "mremap", "msync", "munlock", "munlockall",
    "munmap", "remap_file_pages",
)
_PROCESSES = (
    "capget", "capset", "execve", "execveat", "exit", "exit_group", "fork", "get_robust_list",
    "get_thread_area", "getcpu", "getegid", "getegid32", "geteuid", "geteuid32", "getgid",
    "getgid32", "getgroups", "getgroups32", "getpgid", "getpgrp", "getpid", "getppid",
    "getpriority", "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit",
    "getrusage", "getsid", "gettid", "getuid", "getuid32", "ioprio_get", "ioprio_set",
    "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self", "pidfd_open",
    "pidfd_send_signal", "prctl", "prlimit64", "process_mrelease", "restart_syscall", "rseq",
    "sched_get_priority_max", "sched_get_priority_min", "sched_getaffinity", "sched_getattr",
    "sched_getparam", "sched_getscheduler", "sched_rr_get_interval",
    "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr", "sched_setparam",
    "sched_setscheduler", "sched_yield", "seccomp", "set_robust_list", "set_thread_area",
    "set_tid_address", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32",
    "setgroups", "setgroups32", "setpgid", "setpriority", "setregid", "setregid32", "setresgid",
    "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit", "setsid",
    "setuid", "setuid32", "ugetrlimit", "uname", "vfork", "wait4", "waitid", "waitpid",
    "sysinfo",
)
_SIGNALS = (
    "alarm", "kill", "pause", "rt_sigaction", "rt_sigpending", "rt_sigprocmask",
    "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
    "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sigaltstack", "sigprocmask", "sigreturn",
    "tgkill", "tkill",
)
_TIME = (
    "adjtimex", "clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64",
    "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64",
    "futex", "futex_time64", "futex_waitv", "getitimer", "gettimeofday", "nanosleep",
    "setitimer", "time", "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime",
    "timer_gettime64", "timer_settime", "timer_settime64", "times",
)
_NETWORK = (
    "accept", "accept4", "bind", "connect", "getpeername", "getsockname", "getsockopt", "listen",
    "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "send", "sendmmsg", "sendmsg",
    "sendto", "setsockopt", "shutdown", "socket", "socketcall", "socketpair",
)
_IPC = (
    "ipc", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64",
    "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "msgctl", "msgget", "msgrcv", "msgsnd",
    "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "shmat", "shmctl", "shmdt",
    "shmget",
)
# Seeding random numbers needs no privilege; ptrace of one's own children is confined by the
# kernel's own checks since Linux 4.8 (the seccomp bypass through ptrace was closed there).
_OTHER = ("getrandom", "ptrace")

ALWAYS_ALLOWED: tuple[str, ...] = tuple(
    sorted({*_FILES, *_XATTRS, *_EVENTS_AND_ASYNC_IO, *_MEMORY, *_PROCESSES, *_SIGNALS, *_TIME,
            *_NETWORK, *_IPC, *_OTHER})
)

# Per machine: the architecture's own calls, and the seccomp architectures its kernel runs.
ARCH_SYSCALLS: Mapping[str, tuple[str, ...]] = {
    "x86_64": ("arch_prctl", "modify_ldt"),
    "aarch64": ("arm_fadvise64_64", "arm_sync_file_range", "breakpoint", "cacheflush", "set_tls",
                "sync_file_range2"),
    "ppc64le": ("swapcontext", "sync_file_range2"),
    "s390x": ("s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"),
    "riscv64": ("riscv_flush_icache",),
}
ARCHITECTURES: Mapping[str, tuple[str, ...]] = {
    "x86_64": ("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"),
    "aarch64": ("SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64"),
    "ppc64le": ("SCMP_ARCH_PPC64LE",),
    "s390x": ("SCMP_ARCH_S390", "SCMP_ARCH_S390X"),
    "riscv64": ("SCMP_ARCH_RISCV64",),
}
_MACHINE_ALIASES = {"amd64": "x86_64", "arm64": "aarch64"}

# What a capability in the container's bounding set lets through.
BY_CAPABILITY: Mapping[str, tuple[str, ...]] = {
    "CAP_DAC_READ_SEARCH": ("open_by_handle_at",),
    "CAP_SYS_ADMIN": (
        "bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
        "lookup_dcookie", "mount", "mount_setattr", "move_mount", "name_to_handle_at",
        "open_tree", "perf_event_open", "quotactl", "quotactl_fd", "setdomainname",
        "sethostname", "setns", "syslog", "umount", "umount2", "unshare",
    ),
    "CAP_SYS_BOOT": ("reboot",),
    "CAP_SYS_CHROOT": ("chroot",),
    "CAP_SYS_MODULE": ("delete_module", "init_module", "finit_module"),
    "CAP_SYS_PACCT": ("acct",),
    "CAP_SYS_PTRACE": ("kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv",
                       "process_vm_writev", "ptrace"),
    "CAP_SYS_RAWIO": ("iopl", "ioperm"),
    "CAP_SYS_TIME": ("settimeofday", "stime", "clock_settime", "clock_settime64"),
    "CAP_SYS_TTY_CONFIG": ("vhangup",),
    "CAP_SYSLOG": ("syslog",),
    "CAP_BPF": ("bpf",),
    "CAP_PERFMON": ("perf_event_open",),
}
# fmt: on


def machine() -> str:
    """This host's architecture under the name the tables use."""
    name = platform.machine()
    return _MACHINE_ALIASES.get(name, name)


def _allow(names: Iterable[str]) -> dict[str, Any]:
    return {"names": sorted(set(names)), "action": ALLOW}


def runtime_default(bounding: Iterable[str], arch: str) -> dict[str, Any]:
    """The ``RuntimeDefault`` profile for a container with this bounding set, on ``arch``."""
    caps = set(bounding)
    rules: list[dict[str, Any]] = [_allow((*ALWAYS_ALLOWED, *ARCH_SYSCALLS.get(arch, ())))]
    rules += [
        {"names": ["personality"], "action": ALLOW,
         "args": [{"index": 0, "value": persona, "op": "SCMP_CMP_EQ"}]}
        for persona in PERSONAS
    ]  # fmt: skip
    granted = [name for cap in sorted(caps) for name in BY_CAPABILITY.get(cap, ())]
    if granted:
        rules.append(_allow(granted))
    if "CAP_SYS_ADMIN" not in caps:
        # clone's flags are its first argument, except on s390, which swaps the first two.
        index = 1 if arch == "s390x" else 0
        rules.append({
            "names": ["clone"], "action": ALLOW,
            "args": [{"index": index, "value": CLONE_NAMESPACES, "valueTwo": 0,
                      "op": "SCMP_CMP_MASKED_EQ"}],
        })  # fmt: skip
        rules.append({"names": ["clone3"], "action": ERRNO, "errnoRet": ENOSYS})
    return {
        "defaultAction": ERRNO,
        "architectures": list(ARCHITECTURES.get(arch, ())),
        "syscalls": rules,
    }


class ProfileError(ValueError):
    """A Localhost profile that is not a seccomp profile."""


def localhost_profile(text: str) -> dict[str, Any]:
    """A profile file as the OCI section: Docker's and the OCI spec's JSON shapes are the same
    (``defaultAction``, ``architectures``, ``syscalls``); Docker's ``archMap`` and per-rule
    ``includes``/``excludes`` are not understood and are refused rather than ignored."""
    import json

    try:
        data = json.loads(text)
    except ValueError as err:
        raise ProfileError(f"decoding seccomp profile failed: {err}") from err
    if not isinstance(data, dict) or not isinstance(data.get("defaultAction"), str):
        raise ProfileError("decoding seccomp profile failed: no defaultAction")
    if "archMap" in data or any(
        isinstance(r, dict) and ("includes" in r or "excludes" in r)
        for r in data.get("syscalls") or ()
    ):
        raise ProfileError("seccomp profile uses archMap/includes/excludes, not supported here")
    out: dict[str, Any] = {"defaultAction": data["defaultAction"]}
    for key in ("defaultErrnoRet", "architectures", "flags", "listenerPath", "listenerMetadata",
                "syscalls"):  # fmt: skip
        if key in data:
            out[key] = data[key]
    return out
