"""Objects every cluster starts with: the system namespaces (each with its default
ServiceAccount). Idempotent, so it runs on every start."""

from __future__ import annotations

from kubelite.registry.catalog import SYSTEM_NAMESPACES
from kubelite.registry.namespaces import NAMESPACES
from kubelite.registry.service import Registry
from kubelite.registry.serviceaccounts import SERVICEACCOUNTS, default_service_account
from kubelite.store.interface import AlreadyExists, NotFound


async def bootstrap(registry: Registry) -> None:
    for name in SYSTEM_NAMESPACES:
        try:
            await registry.get(NAMESPACES, "", name)
        except NotFound:
            await registry.create(
                NAMESPACES,
                "",
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
            )
        try:
            await registry.create(SERVICEACCOUNTS, name, default_service_account(name))
        except AlreadyExists:
            pass
