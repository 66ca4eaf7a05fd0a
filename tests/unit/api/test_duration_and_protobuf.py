"""AGE formatting (KC-5) and the protobuf bodies of kubectl's imperative creates."""

from __future__ import annotations

import pytest

from kubelite.api.protobuf import ProtobufError, decode
from kubelite.model.podprint import human_duration


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "<invalid>"),
        (-0.5, "0s"),
        (0, "0s"),
        (45, "45s"),
        (119, "119s"),
        (120, "2m"),
        (330, "5m30s"),
        (600, "10m"),
        (179 * 60, "179m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 600, "3h10m"),
        (8 * 3600, "8h"),
        (47 * 3600, "47h"),
        (48 * 3600, "2d"),
        (53 * 3600, "2d5h"),
        (365 * 86400, "365d"),
        (3 * 365 * 86400 + 86400, "3y1d"),
        (9 * 365 * 86400, "9y"),
    ],
)
def test_human_duration(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


# captured from kubectl 1.32: create configmap x --from-literal=a=b
CONFIGMAP = (
    b'k8s\x00\n\x0f\n\x02v1\x12\tConfigMap\x12\x1b\n\x11\n\x01x\x12\x00\x1a\x00"\x00'
    b'*\x002\x008\x00B\x00\x12\x06\n\x01a\x12\x01b\x1a\x00"\x00'
)


def test_decodes_a_configmap_create() -> None:
    assert decode(CONFIGMAP) == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "x"},
        "data": {"a": "b"},
    }


def test_refuses_other_bodies() -> None:
    with pytest.raises(ProtobufError):
        decode(b"{}")
