"""The storage vocabulary: canonical quantities, kubectl's access-mode abbreviations, the class
a claim asks for, node affinity, and which volume the controller or the scheduler binds a
claim to."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.model import storage as st
from kubelite.model.quantityformat import canonical


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("1Gi", "1Gi"),
        ("1024Mi", "1Gi"),
        ("1000Mi", "1000Mi"),
        ("0.5Gi", "512Mi"),
        ("1536Mi", "1536Mi"),
        ("1000M", "1G"),
        ("1500M", "1500M"),
        ("1.5", "1500m"),
        ("0.5Ki", "512"),
        ("1e3", "1e3"),
        ("100", "100"),
        ("0", "0"),
        (2048, "2048"),
    ],
)
def test_a_quantity_is_shown_in_its_canonical_form(written: Any, shown: str) -> None:
    assert canonical(written) == shown


@pytest.mark.parametrize(
    ("modes", "text"),
    [
        (["ReadWriteOnce"], "RWO"),
        (["ReadOnlyMany", "ReadWriteOnce"], "RWO,ROX"),
        (["ReadWriteMany", "ReadWriteMany"], "RWX"),
        (["ReadWriteOncePod"], "RWOP"),
        ([], ""),
    ],
)
def test_access_modes_are_abbreviated_as_kubectl_does(modes: list[str], text: str) -> None:
    assert st.access_modes_text(modes) == text


def claim(
    name: str = "data",
    *,
    size: str = "1Gi",
    cls: str | None = "local-path",
    modes: tuple[str, ...] = ("ReadWriteOnce",),
    **spec: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "accessModes": list(modes),
        "resources": {"requests": {"storage": size}},
        **spec,
    }
    if cls is not None:
        body["storageClassName"] = cls
    return {"metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"}, "spec": body}


def volume(
    name: str,
    *,
    size: str = "1Gi",
    cls: str = "local-path",
    phase: str = "Available",
    modes: tuple[str, ...] = ("ReadWriteOnce",),
    labels: dict[str, str] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {
            "capacity": {"storage": size},
            "accessModes": list(modes),
            "storageClassName": cls,
            "volumeMode": "Filesystem",
            **spec,
        },
        "status": {"phase": phase},
    }


def on_node(host: str) -> dict[str, Any]:
    term = {
        "matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": [host]}]
    }
    return {"required": {"nodeSelectorTerms": [term]}}


NODE = {"metadata": {"name": "n1", "labels": {"kubernetes.io/hostname": "n1"}}}

MATCHES = [
    (
        "the smallest volume that holds the request is chosen",
        claim(size="1Gi"),
        [volume("big", size="10Gi"), volume("small", size="2Gi")],
        "small",
    ),
    ("a volume too small is never chosen", claim(size="5Gi"), [volume("small", size="2Gi")], None),
    (
        "a volume of another class is not chosen",
        claim(cls="fast"),
        [volume("slow", cls="local-path")],
        None,
    ),
    (
        "a claim naming no class takes a volume of no class",
        claim(cls=None),
        [volume("classy"), volume("plain", cls="")],
        "plain",
    ),
    (
        "a volume lacking an access mode of the claim is not chosen",
        claim(modes=("ReadWriteMany",)),
        [volume("rwo")],
        None,
    ),
    (
        "of volumes with the modes, the one with fewest modes is preferred over a smaller one",
        claim(),
        [
            volume("many", size="1Gi", modes=("ReadWriteOnce", "ReadOnlyMany")),
            volume("one", size="5Gi"),
        ],
        "one",
    ),
    (
        "a volume already claimed by another claim is not chosen",
        claim(),
        [volume("taken", claimRef={"name": "other", "namespace": "default"})],
        None,
    ),
    (
        "a volume pre-bound to the claim wins over a better fit",
        claim(),
        [
            volume("fit"),
            volume("mine", size="9Gi", claimRef={"name": "data", "namespace": "default"}),
        ],
        "mine",
    ),
    (
        "a volume bound to an older claim of that name (another uid) is not the claim's",
        claim(),
        [
            volume(
                "old",
                phase="Released",
                claimRef={"name": "data", "namespace": "default", "uid": "gone"},
            )
        ],
        None,
    ),
    (
        "a volume that is not Available is not chosen",
        claim(),
        [volume("rel", phase="Released")],
        None,
    ),
    (
        "a claim's selector must match the volume's labels",
        claim(selector={"matchLabels": {"tier": "db"}}),
        [volume("web", labels={"tier": "web"}), volume("db", labels={"tier": "db"})],
        "db",
    ),
]


@pytest.mark.parametrize(("case", "pvc", "pvs", "chosen"), MATCHES, ids=[m[0] for m in MATCHES])
def test_the_controller_binds_a_claim_to_the_best_volume(
    case: str, pvc: dict[str, Any], pvs: list[dict[str, Any]], chosen: str | None
) -> None:
    found = st.best_volume(pvc, pvs)
    assert (st.name_of(found) if found else None) == chosen


def test_with_delayed_binding_the_controller_only_takes_a_pre_bound_volume() -> None:
    free = volume("free")
    assert st.best_volume(claim(), [free], delay_binding=True) is None
    assert st.best_volume(claim(), [free], node=NODE, delay_binding=True) is free


def test_the_scheduler_skips_volumes_whose_node_affinity_excludes_the_node() -> None:
    elsewhere = volume("elsewhere", nodeAffinity=on_node("n2"))
    here = volume("here", size="5Gi", nodeAffinity=on_node("n1"))
    assert st.best_volume(claim(), [elsewhere, here], node=NODE) is here
    pre_bound = volume(
        "mine", nodeAffinity=on_node("n2"), claimRef={"name": "data", "namespace": "default"}
    )
    assert st.best_volume(claim(), [pre_bound, here], node=NODE) is None


@pytest.mark.parametrize(
    ("affinity", "allowed"),
    [
        (None, True),
        (on_node("n1"), True),
        (on_node("n2"), False),
        ({"required": {"nodeSelectorTerms": [{}]}}, False),
        (
            {
                "required": {
                    "nodeSelectorTerms": [
                        {
                            "matchFields": [
                                {"key": "metadata.name", "operator": "In", "values": ["n1"]}
                            ]
                        }
                    ]
                }
            },
            True,
        ),
        (
            {
                "required": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": "disk", "operator": "DoesNotExist"}]}
                    ]
                }
            },
            True,
        ),
    ],
)
def test_node_affinity_admits_the_nodes_its_terms_select(affinity: Any, allowed: bool) -> None:
    pv = volume("v") if affinity is None else volume("v", nodeAffinity=affinity)
    assert st.node_affinity_allows(pv, NODE) is allowed


def test_the_beta_annotation_names_a_claims_class_before_the_field() -> None:
    pvc = claim(cls="field")
    pvc["metadata"]["annotations"] = {st.BETA_CLASS_ANNOTATION: "annotated"}
    assert st.claim_class(pvc) == "annotated"
    assert st.claim_class(claim(cls=None)) == ""


def test_the_newest_class_marked_default_is_the_default() -> None:
    def sc(name: str, created: str, default: bool) -> dict[str, Any]:
        ann = {st.DEFAULT_CLASS_ANNOTATION: "true"} if default else {}
        return {"metadata": {"name": name, "creationTimestamp": created, "annotations": ann}}

    classes = [
        sc("a", "2024-01-01T00:00:00Z", True),
        sc("b", "2024-02-01T00:00:00Z", True),
        sc("c", "2024-03-01T00:00:00Z", False),
    ]
    chosen = st.default_class(classes)
    assert chosen is not None and st.name_of(chosen) == "b"
    assert st.default_class([classes[2]]) is None


def test_a_pods_claims_are_listed_once_in_volume_order() -> None:
    pod = {
        "spec": {
            "volumes": [
                {"name": "a", "persistentVolumeClaim": {"claimName": "one"}},
                {"name": "b", "emptyDir": {}},
                {"name": "c", "persistentVolumeClaim": {"claimName": "two"}},
                {"name": "d", "persistentVolumeClaim": {"claimName": "one", "readOnly": True}},
            ]
        }
    }
    assert st.claim_names(pod) == ["one", "two"]
