"""The node agent's only view of the API: where pods come from, where status and events go.

The agent talks to the control plane exactly as a kubelet talks to any API server, through
these narrow Protocols. Two implementations exist: ``agent.static`` (manifest files, for
``kubelite run``: status and events go to a live view) and ``agent.apiclient`` (the REST API of
``kubelite up``, or any Kubernetes API server). A multi-node future changes nothing here.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from kubelite.agent.eventtext import Event
from kubelite.model.objects import Obj

Pod = Obj


class UpdateKind(enum.Enum):
    SET = "set"  # added or changed: the full, current object
    REMOVED = "removed"  # gone from the API (deleted with grace 0, or finalised)
    # The source's initial state is complete: every pod bound to the node when the agent
    # started has been delivered (the kubelet's "sources ready"). Carries no pod.
    SYNCED = "synced"


@dataclass(frozen=True, slots=True)
class PodUpdate:
    kind: UpdateKind
    pod: Pod = field(default_factory=dict)  # empty for SYNCED


def synced() -> PodUpdate:
    """The marker a source sends once its initial state has been delivered."""
    return PodUpdate(UpdateKind.SYNCED)


class PodSource(Protocol):
    def updates(self) -> AsyncIterator[PodUpdate]:
        """Every pod bound to this node (SET), then one SYNCED, then each change, for as long
        as the agent runs.

        SYNCED comes at most once, after the SET of every pod the source had when the agent
        started. Until it comes the agent cannot tell a pod it has not heard of yet from one
        that no longer exists, so it removes nothing it has no worker for; after it, the
        runtime's pods the source never delivered are orphans (``agent.housekeeping``). A
        source that never sends SYNCED only gives up that clean-up."""
        ...


@dataclass(frozen=True, slots=True)
class ServiceAccountToken:
    """A token from the TokenRequest API, as the agent keeps it."""

    token: str
    expires: float  # status.expirationTimestamp, seconds since the epoch
    lifetime: int  # the expirationSeconds asked for


class ObjectLookup(Protocol):
    """ConfigMaps and Secrets that env, envFrom and volumes refer to, the Services whose
    variables containers get, and the tokens of serviceAccountToken volume sources."""

    async def get_configmap(self, namespace: str, name: str) -> dict[str, Any] | None: ...
    async def get_secret(self, namespace: str, name: str) -> dict[str, Any] | None: ...
    async def services(self, namespace: str) -> list[dict[str, Any]]:
        """The Services of ``namespace`` and of ``default`` (the kubelet's service lister)."""
        ...

    async def request_token(
        self,
        namespace: str,
        service_account: str,
        *,
        audiences: tuple[str, ...],
        expiration_seconds: int,
        pod_name: str,
        pod_uid: str,
    ) -> ServiceAccountToken:
        """A token of ``service_account`` bound to the pod (the kubelet's TokenRequest);
        ``audiences`` empty means the API server's. A token still good is given again (the
        kubelet's token manager). Raises ``envvars.ConfigError`` (``failed to fetch token:
        ...``) when none can be had."""
        ...


@runtime_checkable
class ClaimLookup(Protocol):
    """PersistentVolumeClaims and the PersistentVolumes they are bound to, for a pod's
    ``persistentVolumeClaim`` volumes (optional: a source without an API has neither)."""

    async def get_claim(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The claim, or None if there is none (an API error raises ``ClaimFetchError``)."""
        ...

    async def get_volume(self, name: str) -> dict[str, Any] | None:
        """The volume, or None if there is none (an API error raises ``ClaimFetchError``)."""
        ...


class ClaimFetchError(Exception):
    """A claim or volume could not be read from the API (the text says why)."""


class StatusWriter(Protocol):
    async def write_status(self, pod: Pod, status: dict[str, Any]) -> None:
        """Publish the pod's new status (only called when it changed)."""
        ...

    async def finish_deletion(self, pod: Pod) -> None:
        """Every container of a deleted pod has stopped: remove the object (the kubelet's
        final delete with grace 0 and a uid precondition)."""
        ...


class EventSink(Protocol):
    async def emit(self, pod: Pod, event: Event) -> None:
        """Post one kubelet event about the pod (EV-*); repeats are counted by the sink."""
        ...


@runtime_checkable
class NodeEventSink(Protocol):
    """A client that can also post events about the Node itself (optional)."""

    async def emit_node(self, event: Event) -> None:
        """Post one kubelet event whose involved object is this node."""
        ...


class NodeClient(PodSource, ObjectLookup, StatusWriter, EventSink, Protocol):
    """Everything the agent needs from the control plane, in one object."""
