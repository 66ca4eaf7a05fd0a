"""skopeo command lines and error classification, and overlay mount bookkeeping. Pure."""

from __future__ import annotations

from pathlib import Path

from kubelite.images.interface import RegistryAuth
from kubelite.images.overlay import mounted_layers, overlay_mounts
from kubelite.images.puller import auth_file_doc, copy_args, parse_failure, source_url
from kubelite.images.reference import parse_reference
from kubelite.images.registries import Source

HEX_A, HEX_B = "a" * 64, "b" * 64


def test_a_mirror_source_url_uses_the_mirror_host_and_path() -> None:
    src = Source("127.0.0.1:5000", "library/busybox", plain_http=True)
    assert source_url(src, parse_reference("busybox:1.36")) == (
        "docker://127.0.0.1:5000/library/busybox:1.36"
    )
    digest = "sha256:" + HEX_A
    assert source_url(src, parse_reference(f"busybox@{digest}")).endswith(f"busybox@{digest}")


def test_plain_http_turns_tls_verification_off_and_no_credentials_means_anonymous() -> None:
    args = copy_args(
        skopeo="skopeo",
        src="docker://h/p:t",
        dest="oci:/l:image",
        shared_blobs=Path("/store/blobs"),
        tls_verify=False,
    )
    assert args[:2] == ["skopeo", "--insecure-policy"]
    assert "--src-tls-verify=false" in args and "--src-no-creds" in args
    assert args[args.index("--dest-shared-blob-dir") + 1] == "/store/blobs"
    assert args[-2:] == ["docker://h/p:t", "oci:/l:image"]


def test_credentials_go_in_an_auth_file() -> None:
    args = copy_args(
        skopeo="skopeo", src="s", dest="d", shared_blobs=None, auth_file=Path("/a.json")
    )
    assert "--src-authfile" in args and "--src-no-creds" not in args
    doc = auth_file_doc("h:5000", RegistryAuth("u", "p", "tok"))
    assert doc == {"auths": {"h:5000": {"auth": "dTpw", "identitytoken": "tok"}}}


def test_archive_sources_get_no_registry_flags() -> None:
    args = copy_args(
        skopeo="skopeo",
        src="docker-archive:/x.tar",
        dest="d",
        shared_blobs=None,
        registry_source=False,
    )
    assert not any(a.startswith("--src-") for a in args)


def test_manifest_unknown_is_not_found_and_a_refused_connection_is_not() -> None:
    missing = parse_failure(
        'time="t" level=fatal msg="initializing source docker://h/library/nosuch:1: reading '
        'manifest 1 in h/library/nosuch: manifest unknown: manifest unknown"\n'
    )
    assert missing.not_found
    assert missing.message.startswith("initializing source docker://h/library/nosuch:1")
    refused = parse_failure(
        'time="t" level=fatal msg="pinging container registry h: Get \\"http://h/v2/\\": '
        'dial tcp h: connect: connection refused"\n'
    )
    assert not refused.not_found
    assert 'Get "http://h/v2/"' in refused.message


_OVERLAY = "- overlay overlay rw,lowerdir="
MOUNTINFO = "\n".join(
    [
        "22 1 8:0 / / rw,relatime - ext4 /dev/vda rw",
        f"90 22 0:50 / /c/1/rootfs rw {_OVERLAY}/s/layers/{HEX_B}:/s/layers/{HEX_A},"
        "upperdir=/c/1/rootfs-upper,workdir=/c/1/rootfs-work",
        f"91 22 0:51 / /c/2/root\\040fs rw {_OVERLAY}{HEX_A},upperdir=/u,workdir=/w",
        f"92 22 0:52 / /other rw {_OVERLAY}/elsewhere/{HEX_B},upperdir=/u2,workdir=/w2",
    ]
)


def test_overlay_mounts_are_read_from_mountinfo() -> None:
    mounts = overlay_mounts(MOUNTINFO)
    assert [m[0] for m in mounts] == ["/c/1/rootfs", "/c/2/root fs", "/other"]
    assert mounts[0][1] == [f"/s/layers/{HEX_B}", f"/s/layers/{HEX_A}"]


def test_only_layers_of_this_store_count_as_mounted() -> None:
    assert mounted_layers(Path("/s/layers"), MOUNTINFO) == {f"sha256:{HEX_A}", f"sha256:{HEX_B}"}
    assert mounted_layers(Path("/t/layers"), MOUNTINFO) == {f"sha256:{HEX_A}"}
