"""The commands' own parts: the kubeconfig ``kubelite timeline`` reads, the format it draws in,
and the pictures ``kubelite run --timeline`` writes (one per pod)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from kubelite.agent.lifecycle import LifecycleBook
from kubelite.clock import ManualClock
from kubelite.commands import timeline
from kubelite.commands.run import write_timelines
from kubelite.settings import Settings


def _kubeconfig(tmp_path: Path, user: dict[str, str], **cluster: object) -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "one",
        "contexts": [
            {"name": "one", "context": {"cluster": "c", "user": "u", "namespace": "team"}},
            {"name": "two", "context": {"cluster": "c", "user": "u"}},
        ],
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443/", **cluster}}],
        "users": [{"name": "u", "user": user}],
    }
    path = tmp_path / "config"
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_the_current_context_gives_server_namespace_ca_and_client_certificate(
    tmp_path: Path,
) -> None:
    path = _kubeconfig(
        tmp_path,
        {"client-certificate-data": _b64("CERT"), "client-key-data": _b64("KEY")},
        **{"certificate-authority-data": _b64("CA")},
    )
    access = timeline.from_kubeconfig(path)
    assert access == timeline.Access(
        server="https://127.0.0.1:6443", namespace="team", ca="CA", cert="CERT", key="KEY"
    )


def test_files_are_read_relative_to_the_kubeconfig_and_a_token_is_taken(tmp_path: Path) -> None:
    (tmp_path / "ca.crt").write_text("CA FILE")
    path = _kubeconfig(tmp_path, {"token": "t0k"}, **{"certificate-authority": "ca.crt"})
    access = timeline.from_kubeconfig(path, "two")
    assert (access.ca, access.token, access.namespace) == ("CA FILE", "t0k", "")


def test_insecure_skip_tls_verify_means_no_ca(tmp_path: Path) -> None:
    path = _kubeconfig(tmp_path, {"token": "t"}, **{"insecure-skip-tls-verify": True})
    assert timeline.from_kubeconfig(path).ca is None


def test_an_unknown_context_is_refused_with_its_name(tmp_path: Path) -> None:
    path = _kubeconfig(tmp_path, {"token": "t"})
    with pytest.raises(timeline.TimelineError, match="no context 'three'"):
        timeline.from_kubeconfig(path, "three")


def test_without_any_kubeconfig_or_local_server_it_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    settings = Settings(data_dir=tmp_path / "data")
    with pytest.raises(timeline.TimelineError, match="no kubeconfig found"):
        timeline.find_access(None, "", settings)


@pytest.mark.parametrize(
    ("path", "given", "fmt"),
    [("pod.svg", None, "svg"), ("POD.PNG", None, "png"), ("-", "png", "png")],
)
def test_the_format_comes_from_the_flag_or_the_file_name(
    path: str, given: str | None, fmt: str
) -> None:
    assert timeline.output_format(path, given) == fmt


def test_a_file_name_without_a_picture_suffix_is_refused() -> None:
    with pytest.raises(timeline.TimelineError, match=r"name a \.svg or \.png file"):
        timeline.output_format("pod.txt", None)


def _book(*names: str) -> LifecycleBook:
    book = LifecycleBook(clock=ManualClock(), node_name="n")
    for i, name in enumerate(names):
        book.recorder({"metadata": {"name": name, "namespace": "default", "uid": f"u{i}"},
                       "spec": {"containers": [{"name": "app"}]}})  # fmt: skip
    return book


def test_run_writes_one_picture_for_one_pod_at_the_path(tmp_path: Path) -> None:
    lines = write_timelines(_book("web"), tmp_path / "out.svg")
    assert lines == [f"timeline of web written to {tmp_path / 'out.svg'}"]
    assert (tmp_path / "out.svg").read_text().startswith("<?xml")


def test_run_writes_one_picture_per_pod_beside_the_path(tmp_path: Path) -> None:
    write_timelines(_book("a", "b"), tmp_path / "out.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out-a.png", "out-b.png"]


def test_run_writes_the_record_itself_as_json(tmp_path: Path) -> None:
    write_timelines(_book("web"), tmp_path / "out.json")
    obj = json.loads((tmp_path / "out.json").read_text())
    assert obj["kind"] == "PodLifecycle" and obj["metadata"]["name"] == "web"
