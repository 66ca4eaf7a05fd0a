"""The manifest pane's YAML and the web view's shipped files: types, caching, the
Content-Security-Policy, and nothing fetched from the internet."""

from __future__ import annotations

import re

import pytest
import yaml

from kubelite.ui.assets import (
    CONTENT_SECURITY_POLICY,
    SECURITY_HEADERS,
    load_assets,
    make_asset,
    not_modified,
)
from kubelite.ui.manifest import manifest_yaml, without_managed_fields

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "web",
        "namespace": "default",
        "managedFields": [{"manager": "kubectl", "operation": "Update"}],
        "labels": {"app": "web"},
    },
    "spec": {
        "containers": [
            {"name": "app", "image": "busybox", "command": ["sh", "-c", "echo hi: there"]}
        ]
    },
}


def test_the_manifest_has_no_managed_fields_and_the_rest_unchanged() -> None:
    out = yaml.safe_load(manifest_yaml(POD))
    assert "managedFields" not in out["metadata"]
    assert out["metadata"]["labels"] == {"app": "web"}
    assert out["spec"] == POD["spec"]


def test_a_string_of_several_lines_is_a_literal_block_as_kubectl_prints_it() -> None:
    applied = '{"kind":"Pod"}\n'
    pod = {**POD, "metadata": {"annotations": {"last-applied": applied}}}
    text = manifest_yaml(pod)
    assert '    last-applied: |\n      {"kind":"Pod"}\n' in text
    assert yaml.safe_load(text)["metadata"]["annotations"]["last-applied"] == applied


def test_the_manifest_leaves_the_object_it_was_given_alone() -> None:
    without_managed_fields(POD)
    assert "managedFields" in POD["metadata"]


def test_the_manifest_is_block_yaml_with_keys_in_order_as_kubectl_prints_it() -> None:
    text = manifest_yaml(POD)
    assert text.splitlines()[:3] == ["apiVersion: v1", "kind: Pod", "metadata:"]
    assert "  - command:\n    - sh\n" in text
    assert "{" not in text


@pytest.mark.parametrize(
    ("name", "content_type", "cache"),
    [
        ("index.html", "text/html; charset=utf-8", "no-store"),
        ("pod.html", "text/html; charset=utf-8", "no-store"),
        ("login.html", "text/html; charset=utf-8", "no-store"),
        ("app.css", "text/css; charset=utf-8", "no-cache"),
        ("api.js", "text/javascript; charset=utf-8", "no-cache"),
        ("icon.svg", "image/svg+xml", "no-cache"),
    ],
)
def test_each_file_is_served_with_its_type_and_caching(
    name: str, content_type: str, cache: str
) -> None:
    asset = load_assets()[name]
    headers = asset.headers()
    assert headers["Content-Type"] == content_type
    assert headers["Cache-Control"] == cache
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_the_policy_allows_only_this_server_and_no_inline_script() -> None:
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY
    assert SECURITY_HEADERS["Referrer-Policy"] == "no-referrer"


def test_no_shipped_file_names_an_internet_resource() -> None:
    for name, asset in load_assets().items():
        text = asset.body.decode()
        urls = re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^\s\"')]*", text)
        assert [u for u in urls if u != "http://www.w3.org/2000/svg"] == [], name


def test_pages_load_scripts_from_files_only() -> None:
    for name, asset in load_assets().items():
        if not name.endswith(".html"):
            continue
        text = asset.body.decode()
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", text, flags=re.S)
        assert scripts, name
        for attrs, body in scripts:
            assert 'src="/ui/static/' in attrs and body.strip() == "", name
        assert not re.search(r"\son[a-z]+=", text), name
        assert "style=" not in text, name


def test_every_module_a_page_or_module_imports_is_shipped() -> None:
    assets = load_assets()
    for name, asset in assets.items():
        text = asset.body.decode()
        for ref in re.findall(r'from "\./([^"]+)"', text) + re.findall(
            r'src="/ui/static/([^"]+)"', text
        ):
            assert ref in assets, f"{name} needs {ref}"


@pytest.mark.parametrize(
    ("header", "fresh"),
    [("", False), ("*", True), ("{etag}", True), ('"other", {etag}', True), ("W/{etag}", True),
     ('"other"', False)],
)  # fmt: skip
def test_a_cached_copy_with_the_same_etag_is_not_modified(header: str, fresh: bool) -> None:
    asset = make_asset("app.js", b"export {}")
    assert not_modified(asset, header.format(etag=asset.etag)) is fresh
