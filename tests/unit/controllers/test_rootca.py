"""The root CA publisher's decision: create ``kube-root-ca.crt``, put its data and annotation
back, or leave it."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.controllers.rootca import (
    DESCRIPTION,
    DESCRIPTION_ANNOTATION,
    Action,
    Create,
    Update,
    decide,
    desired_configmap,
)

CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def cm(data: dict[str, str] | None = None, **meta: Any) -> dict[str, Any]:
    md: dict[str, Any] = {"name": "kube-root-ca.crt", "namespace": "ns", "resourceVersion": "7"}
    md.update(meta)
    out: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": md}
    if data is not None:
        out["data"] = data
    return out


GOOD = cm({"ca.crt": CA}, annotations={DESCRIPTION_ANNOTATION: DESCRIPTION})


def test_the_published_configmap_is_the_controller_managers() -> None:
    assert desired_configmap("ns", CA) == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "kube-root-ca.crt",
            "namespace": "ns",
            "annotations": {
                "kubernetes.io/description": (
                    "Contains a CA bundle that can be used to verify the kube-apiserver when "
                    "using internal endpoints such as the internal service IP or "
                    "kubernetes.default.svc. No other usage is guaranteed across distributions "
                    "of Kubernetes clusters."
                )
            },
        },
        "data": {"ca.crt": CA},
    }


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        pytest.param(None, Create(desired_configmap("ns", CA)), id="missing: created"),
        pytest.param(GOOD, None, id="right: left alone"),
        pytest.param(
            cm({"ca.crt": CA}, annotations={DESCRIPTION_ANNOTATION: "mine", "x": "y"}),
            None,
            id="any description will do",
        ),
        pytest.param(
            cm({"ca.crt": "edited"}, annotations={DESCRIPTION_ANNOTATION: DESCRIPTION}),
            Update(GOOD),
            id="edited data: put back",
        ),
        pytest.param(
            cm({"ca.crt": CA, "extra": "1"}, annotations={DESCRIPTION_ANNOTATION: DESCRIPTION}),
            Update(GOOD),
            id="an extra key is removed",
        ),
        pytest.param(cm({"ca.crt": CA}), Update(GOOD), id="annotation missing: added"),
        pytest.param(
            cm(None, labels={"keep": "me"}, annotations={"other": "kept"}),
            Update(
                cm(
                    {"ca.crt": CA},
                    labels={"keep": "me"},
                    annotations={"other": "kept", DESCRIPTION_ANNOTATION: DESCRIPTION},
                )
            ),
            id="emptied: data back, labels and other annotations kept",
        ),
    ],
)
def test_the_decision(existing: dict[str, Any] | None, expected: Action) -> None:
    assert decide("ns", existing, CA) == expected


def test_an_update_keeps_the_resource_version_for_its_precondition() -> None:
    action = decide("ns", cm({"ca.crt": "old"}), CA)
    assert isinstance(action, Update)
    assert action.body["metadata"]["resourceVersion"] == "7"
