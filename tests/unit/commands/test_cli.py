"""The ``kubelite`` command line: every subcommand module is listed, once, in help order."""

from __future__ import annotations

import pkgutil

import pytest

from kubelite import cli, commands


def test_every_command_module_is_listed_once_in_name_order() -> None:
    modules = sorted(m.name for m in pkgutil.iter_modules(commands.__path__))
    listed = [getattr(c, "__name__", "").rsplit(".", 1)[1] for c in cli.COMMANDS]
    assert listed == [m for m in modules if not m.startswith("_")]
    assert [c.NAME for c in cli.COMMANDS] == sorted({c.NAME for c in cli.COMMANDS})


@pytest.mark.parametrize("name", ["agent", "image", "kubeconfig", "run", "runtime", "up"])
def test_each_command_parses_with_the_shared_flags(name: str) -> None:
    extra = {"run": ["pod.yaml"], "image": ["ls"], "runtime": ["ps"], "agent": []}
    args = cli.build_parser().parse_args(
        [name, "--data-dir", "/tmp/x", "--pod-cidr", "10.9.0.0/16", *extra.get(name, [])]
    )
    assert name == args._command_module.NAME
    assert (args.data_dir, args.pod_cidr) == ("/tmp/x", "10.9.0.0/16")


@pytest.mark.parametrize(
    ("flags", "pids", "seccomp_default", "root"),
    [
        ([], 4096, False, "/tmp/x/seccomp"),  # the documented defaults
        (
            ["--pod-max-pids", "64", "--seccomp-default", "--seccomp-profile-root", "/p"],
            64,
            True,
            "/p",
        ),
        (["--pod-max-pids", "-1"], None, False, "/tmp/x/seccomp"),  # the kubelet's "unlimited"
    ],
)
def test_the_commands_that_run_pods_take_the_nodes_confinement_flags(
    flags: list[str], pids: int | None, seccomp_default: bool, root: str
) -> None:
    for name, extra in (("up", []), ("agent", []), ("run", ["pod.yaml"])):
        args = cli.build_parser().parse_args([name, "--data-dir", "/tmp/x", *flags, *extra])
        settings = cli.Settings.from_env(
            args.data_dir, None, pod_max_pids=args.pod_max_pids,
            seccomp_default=args.seccomp_default, seccomp_profile_root=args.seccomp_profile_root,
        )  # fmt: skip
        assert settings.pod_max_pids == pids
        assert settings.seccomp_default is seccomp_default
        assert str(settings.seccomp_profile_root) == root


def test_commands_that_run_no_pods_have_no_confinement_flags() -> None:
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["image", "--pod-max-pids", "5", "ls"])


@pytest.mark.parametrize(
    ("case", "argv", "data_dir", "pod_cidr"),
    [
        ("after the action", ["image", "ls", "--data-dir", "/x"], "/x", None),
        ("before the action", ["image", "--data-dir", "/x", "ls"], "/x", None),
        ("after a runtime action", ["runtime", "reset", "--data-dir", "/x"], "/x", None),
        ("a network flag after the action", ["runtime", "ps", "--pod-cidr", "10.1.0.0/16"],
         None, "10.1.0.0/16"),
        ("after the action's own arguments", ["image", "rm", "busybox", "--data-dir", "/x"],
         "/x", None),
        ("before and after: the later one", ["image", "--data-dir", "/a", "ls", "--data-dir",
                                              "/b"], "/b", None),
    ],
)  # fmt: skip
def test_global_options_are_accepted_before_or_after_a_subcommands_action(
    case: str, argv: list[str], data_dir: str | None, pod_cidr: str | None
) -> None:
    args = cli.build_parser().parse_args(argv)
    assert (args.data_dir, args.pod_cidr) == (data_dir, pod_cidr)
    assert args.log_level == "WARNING"


def test_every_command_takes_a_log_level() -> None:
    for name, extra in (("up", []), ("agent", []), ("image", ["ls"]), ("kubeconfig", [])):
        args = cli.build_parser().parse_args([name, *extra, "--log-level", "debug"])
        assert args.log_level == "debug"
