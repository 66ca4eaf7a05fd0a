"""The ServiceAccount admission plugin on pod create: the default account, the
``kube-api-access-*`` volume and its mounts, the opt-outs, image pull secrets, mirror pods and
a missing account."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubelite.registry.errors import Forbidden
from kubelite.registry.pod_defaults import (
    TOKEN_MOUNT_PATH,
    admit_service_account,
    default_service_account,
    should_automount,
    token_volume,
)
from kubelite.registry.pods import PODS
from kubelite.registry.serviceaccounts import SERVICEACCOUNTS
from kubelite.store.interface import NotFound

MOUNT = {"name": "kube-api-access-abcde", "readOnly": True, "mountPath": TOKEN_MOUNT_PATH}
ACCOUNT: dict[str, Any] = {"metadata": {"name": "default", "namespace": "ns", "uid": "sa-1"}}


def pod(**spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"containers": [{"name": "app", "image": "busybox"}]}
    base.update(spec)
    return {"metadata": {"name": "p", "namespace": "ns"}, "spec": base}


def admitted(p: dict[str, Any], account: dict[str, Any] = ACCOUNT) -> dict[str, Any]:
    out = copy.deepcopy(p)
    admit_service_account(out, account, "kube-api-access-abcde")
    return out["spec"]


def test_the_volume_is_exactly_the_plugins() -> None:
    assert token_volume("kube-api-access-abcde") == {
        "name": "kube-api-access-abcde",
        "projected": {
            "defaultMode": 420,
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {
                    "configMap": {
                        "name": "kube-root-ca.crt",
                        "items": [{"key": "ca.crt", "path": "ca.crt"}],
                    }
                },
                {
                    "downwardAPI": {
                        "items": [
                            {
                                "path": "namespace",
                                "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                            }
                        ]
                    }
                },
            ],
        },
    }


def test_every_init_and_app_container_mounts_it_read_only_but_no_ephemeral_one() -> None:
    spec = admitted(
        pod(
            initContainers=[{"name": "init", "image": "busybox"}],
            ephemeralContainers=[{"name": "debug", "image": "busybox"}],
        )
    )
    assert spec["initContainers"][0]["volumeMounts"] == [MOUNT]
    assert spec["containers"][0]["volumeMounts"] == [MOUNT]
    assert "volumeMounts" not in spec["ephemeralContainers"][0]
    assert spec["volumes"] == [token_volume("kube-api-access-abcde")]


def test_the_mount_goes_after_the_containers_own_and_the_volume_after_the_pods() -> None:
    own = {"name": "data", "mountPath": "/data"}
    spec = admitted(
        pod(
            containers=[{"name": "a", "image": "x", "volumeMounts": [own]}],
            volumes=[{"name": "data", "emptyDir": {}}],
        )
    )
    assert spec["containers"][0]["volumeMounts"] == [own, MOUNT]
    assert [v["name"] for v in spec["volumes"]] == ["data", "kube-api-access-abcde"]


def test_a_container_with_its_own_mount_at_the_path_is_left_alone() -> None:
    own = {"name": "mine", "mountPath": TOKEN_MOUNT_PATH}
    spec = admitted(
        pod(
            containers=[
                {"name": "a", "image": "x", "volumeMounts": [own]},
                {"name": "b", "image": "x"},
            ],
            volumes=[{"name": "mine", "emptyDir": {}}],
        )
    )
    assert spec["containers"][0]["volumeMounts"] == [own]
    assert spec["containers"][1]["volumeMounts"] == [MOUNT]


def test_no_volume_is_added_when_every_container_has_its_own_mount() -> None:
    own = {"name": "mine", "mountPath": TOKEN_MOUNT_PATH}
    spec = admitted(
        pod(
            containers=[{"name": "a", "image": "x", "volumeMounts": [own]}],
            volumes=[{"name": "mine", "emptyDir": {}}],
        )
    )
    assert spec["volumes"] == [{"name": "mine", "emptyDir": {}}]


def test_an_existing_kube_api_access_volume_is_reused_by_name() -> None:
    existing = {"name": "kube-api-access-zzzzz", "emptyDir": {}}
    spec = admitted(pod(volumes=[existing]))
    assert spec["volumes"] == [existing]
    assert spec["containers"][0]["volumeMounts"][0]["name"] == "kube-api-access-zzzzz"


@pytest.mark.parametrize(
    ("pod_choice", "account_choice", "mounted"),
    [
        (None, None, True),
        (False, None, False),
        (None, False, False),
        (True, False, True),  # the pod's choice wins
        (False, True, False),
    ],
)
def test_automounting_follows_the_pod_then_the_account(
    pod_choice: bool | None, account_choice: bool | None, mounted: bool
) -> None:
    spec: dict[str, Any] = {}
    account: dict[str, Any] = {}
    if pod_choice is not None:
        spec["automountServiceAccountToken"] = pod_choice
    if account_choice is not None:
        account["automountServiceAccountToken"] = account_choice
    assert should_automount(spec, account) is mounted
    got = admitted(pod(**spec), {**ACCOUNT, **account})
    assert ("volumes" in got) is mounted


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, [{"name": "registry"}]),
        ([{"name": "mine"}], [{"name": "mine"}]),
    ],
)
def test_image_pull_secrets_come_from_the_account_when_the_pod_names_none(
    given: list[dict[str, str]] | None, expected: list[dict[str, str]]
) -> None:
    account = {**ACCOUNT, "imagePullSecrets": [{"name": "registry"}]}
    spec = admitted(pod(**({"imagePullSecrets": given} if given else {})), account)
    assert spec["imagePullSecrets"] == expected


def test_an_account_without_pull_secrets_adds_none() -> None:
    assert "imagePullSecrets" not in admitted(pod())


@pytest.mark.parametrize(
    ("spec", "name"),
    [({}, "default"), ({"serviceAccount": "old"}, "old"), ({"serviceAccountName": "x"}, "x")],
)
def test_the_account_name_defaults_to_default_and_both_fields_agree(
    spec: dict[str, str], name: str
) -> None:
    assert default_service_account(spec) == name
    assert spec == {"serviceAccountName": name, "serviceAccount": name}


# -- PodKind.admit: reading the account -----------------------------------------------------------


class Accounts:
    """The one read admission makes: ServiceAccounts by namespace and name."""

    def __init__(self, *accounts: dict[str, Any]) -> None:
        self.objects = {(a["metadata"]["namespace"], a["metadata"]["name"]): a for a in accounts}
        self.reads: list[tuple[str, str]] = []

    async def get(self, kind: Any, namespace: str, name: str) -> dict[str, Any]:
        assert kind is SERVICEACCOUNTS
        self.reads.append((namespace, name))
        try:
            return self.objects[(namespace, name)]
        except KeyError:
            raise NotFound(f"serviceaccounts/{namespace}/{name}") from None


async def test_admission_reads_the_named_account_and_adds_a_randomly_named_volume() -> None:
    p = pod(serviceAccountName="robot")
    await PODS.admit(Accounts({"metadata": {"name": "robot", "namespace": "ns"}}), p)
    (volume,) = p["spec"]["volumes"]
    assert volume["name"].startswith("kube-api-access-") and len(volume["name"]) == 21
    assert p["spec"]["serviceAccount"] == "robot"


async def test_a_missing_account_is_forbidden_with_the_api_servers_text() -> None:
    with pytest.raises(Forbidden) as caught:
        await PODS.admit(Accounts(), pod(serviceAccountName="ghost"))
    assert str(caught.value) == (
        'pods "p" is forbidden: error looking up service account ns/ghost: '
        'serviceaccount "ghost" not found'
    )


async def test_a_mirror_pod_is_left_as_it_is() -> None:
    p = pod()
    p["metadata"]["annotations"] = {"kubernetes.io/config.mirror": "hash"}
    before = copy.deepcopy(p)
    accounts = Accounts()
    await PODS.admit(accounts, p)
    assert p == before and accounts.reads == []
