"""ServiceAccounts: every namespace gets a ``default`` one when it is created. Their ``token``
subresource (authentication.k8s.io/v1 TokenRequest, ``kubectl create token``) is served by
``kubelite.api.tokenrequest``."""

from __future__ import annotations

from typing import Any

from kubelite.model.objects import Obj
from kubelite.registry.resource import AGE_COLUMN, Column, Kind, Subresource, age_of


class ServiceAccountKind(Kind):
    def columns(self) -> list[Column]:
        return [
            Column("Name", format="name", description="Name of the service account."),
            Column("Secrets", type="integer", description="Number of secrets."),
            AGE_COLUMN,
        ]

    def cells(self, obj: Obj, now: float) -> list[Any]:
        return [obj["metadata"]["name"], len(obj.get("secrets") or []), age_of(obj, now)]


SERVICEACCOUNTS = ServiceAccountKind(
    group="",
    version="v1",
    kind="ServiceAccount",
    plural="serviceaccounts",
    singular="serviceaccount",
    short_names=("sa",),
    description="An identity for processes that run in a pod.",
    subresources=(
        Subresource("token", "TokenRequest", ("create",), group="authentication.k8s.io"),
    ),
)


def default_service_account(namespace: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "default", "namespace": namespace},
    }
