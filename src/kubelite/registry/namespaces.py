"""Namespaces: cluster-scoped, ``Active`` until deleted, then ``Terminating`` while the reaper
(``namespace_reaper.py``) empties them; the object goes once nothing is left inside."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubelite.errors import KubeliteError
from kubelite.model.objects import Obj
from kubelite.registry.errors import Forbidden
from kubelite.registry.resource import AGE_COLUMN, Column, Kind, Subresource, age_of
from kubelite.registry.selectors import path_getter
from kubelite.registry.serviceaccounts import SERVICEACCOUNTS, default_service_account

if TYPE_CHECKING:
    from kubelite.registry.service import Registry

FINALIZER = "kubernetes"
PROTECTED = ("default", "kube-system", "kube-public")


class NamespaceKind(Kind):
    holds_contents = True

    def prepare_create(self, obj: Obj) -> None:
        obj["spec"] = {"finalizers": [FINALIZER]}
        obj["status"] = {"phase": "Active"}
        labels = obj["metadata"].setdefault("labels", {})
        labels["kubernetes.io/metadata.name"] = obj["metadata"].get("name", "")

    def prepare_update(self, new: Obj, old: Obj, subresource: str) -> None:
        """The main resource changes neither spec nor status; ``status`` only the status;
        ``finalize`` only ``spec.finalizers`` (how a namespace stuck Terminating is freed)."""
        if subresource == "finalize":
            given = new.get("spec")
            finalizers = given.get("finalizers") if isinstance(given, dict) else None
            new["spec"] = {**old.get("spec", {}), "finalizers": list(finalizers or [])}
        else:
            new["spec"] = old.get("spec", {})
        if subresource != "status":
            new["status"] = old.get("status", {})
        new["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = old["metadata"][
            "name"
        ]

    async def after_create(self, registry: Registry, created: Obj) -> None:
        """Every namespace starts with a ``default`` ServiceAccount."""
        name = created["metadata"]["name"]
        try:
            await registry.create(SERVICEACCOUNTS, name, default_service_account(name))
        except KubeliteError:  # already there: nothing to do
            pass

    def refuse_delete(self, obj: Obj) -> None:
        name = obj["metadata"]["name"]
        if name in PROTECTED:
            raise Forbidden(
                "namespaces",
                name,
                f'namespaces "{name}" is forbidden: this namespace may not be deleted',
            )

    def on_delete(self, obj: Obj) -> bool:
        status = obj.setdefault("status", {})
        if status.get("phase") == "Terminating":
            return False
        status["phase"] = "Terminating"
        return True

    def columns(self) -> list[Column]:
        return [
            Column("Name", format="name", description="Name of the namespace."),
            Column("Status", description="Active, or Terminating while its contents go."),
            AGE_COLUMN,
        ]

    def cells(self, obj: Obj, now: float) -> list[Any]:
        return [obj["metadata"]["name"], obj.get("status", {}).get("phase", ""), age_of(obj, now)]


NAMESPACES = NamespaceKind(
    group="",
    version="v1",
    kind="Namespace",
    plural="namespaces",
    singular="namespace",
    namespaced=False,
    short_names=("ns",),
    label_name=True,
    verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
    subresources=(
        Subresource("status", "Namespace", ("get", "patch", "update")),
        Subresource("finalize", "Namespace", ("update",)),
    ),
    description="A scope for names; deleting one deletes everything in it.",
    fields={"status.phase": path_getter("status", "phase")},
)
