"""PodLifecycles (kubelite.dev/v1alpha1): each pod's lifecycle record, as the node agent that
runs the pod publishes it (``agent.lifecyclepublish``), named as its pod and owned by it (so
the garbage collector removes it with the pod). The shape is ``timeline.record``'s.

Users read it (the ``view``, ``edit`` and ``admin`` roles aggregate the read verbs; nodes
write it) and draw it (``kubelite timeline``). ``kubectl get podlifecycles`` shows how many
facts a record holds and its last transition (a probe result is not one) and when it was.

As NodeRestriction does for Leases and pods, a node (``system:node:<name>``) writes only the
records of its own pods: it creates one only for a pod bound to it (with that uid), and
replaces or deletes only records it wrote, or an older pod's of the same name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubelite.model.fielderrors import FieldError, invalid
from kubelite.model.objects import Obj
from kubelite.model.podprint import human_duration
from kubelite.registry.errors import Forbidden
from kubelite.registry.noderestriction import node_name_of
from kubelite.registry.requestinfo import current_user
from kubelite.registry.resource import AGE_COLUMN, Column, Kind, age_of
from kubelite.store.interface import NotFound
from kubelite.timeline import record as rec

if TYPE_CHECKING:
    from kubelite.registry.service import Registry

RESOURCE = f"{rec.PLURAL}.{rec.GROUP}"


def validate_record(obj: Obj) -> list[FieldError]:
    """The record's lists are lists, each fact an object with an integer ``at`` (µs) and a
    ``type``; containers have names. Unknown fact types and keys are kept (v1alpha1)."""
    errs: list[FieldError] = []
    facts = obj.get("facts")
    if facts is not None and not isinstance(facts, list):
        errs.append(invalid("facts", "", "must be a list"))
    for i, fact in enumerate(facts if isinstance(facts, list) else ()):
        if not isinstance(fact, dict):
            errs.append(invalid(f"facts[{i}]", "", "must be an object"))
            continue
        at = fact.get("at")
        if not isinstance(at, int) or isinstance(at, bool) or at < 0:
            errs.append(invalid(f"facts[{i}].at", at, "must be microseconds since the epoch"))
        if not isinstance(fact.get("type"), str) or not fact.get("type"):
            errs.append(invalid(f"facts[{i}].type", fact.get("type"), "must be a fact type"))
    containers = obj.get("containers")
    if containers is not None and not isinstance(containers, list):
        errs.append(invalid("containers", "", "must be a list"))
    for i, c in enumerate(containers if isinstance(containers, list) else ()):
        if not isinstance(c, dict) or not isinstance(c.get("name"), str) or not c.get("name"):
            errs.append(invalid(f"containers[{i}].name", "", "must be a container name"))
    return errs


def _refuse(obj: Obj, why: str) -> Forbidden:
    name = str((obj.get("metadata") or {}).get("name") or "")
    return Forbidden(RESOURCE, name, f'{RESOURCE} "{name}" is forbidden: {why}')


def _requesting_node(obj: Obj) -> str | None:
    """The node making this request, None if it is no node."""
    user = current_user()
    node = node_name_of(user)
    if node == "":
        raise _refuse(obj, f"could not determine node from user {user.name if user else ''!r}")
    return node


def check_node_write(new: Obj, old: Obj | None = None) -> None:
    """A node writes records that name it, over records it wrote or an older pod's."""
    node = _requesting_node(new)
    if node is None:
        return
    if new.get("nodeName") != node:
        raise _refuse(new, f'node "{node}" can only write records with nodeName "{node}"')
    if old is not None and old.get("nodeName") != node and old.get("podUID") == new.get("podUID"):
        raise _refuse(new, f'node "{node}" can only modify the records of its own pods')


class PodLifecycleKind(Kind):
    def validate(self, obj: Obj) -> list[FieldError]:
        return validate_record(obj)

    async def admit(self, registry: Registry, obj: Obj) -> None:
        """A node creates the record of a pod bound to it only."""
        check_node_write(obj)
        node = _requesting_node(obj)
        if node is None:
            return
        from kubelite.registry.pods import PODS

        md = obj.get("metadata") or {}
        try:
            pod = await registry.get(PODS, str(md.get("namespace") or ""), str(md.get("name")))
        except NotFound:
            pod = {}
        bound = (pod.get("spec") or {}).get("nodeName") == node
        if not bound or (pod.get("metadata") or {}).get("uid") != obj.get("podUID"):
            raise _refuse(obj, f'node "{node}" can only create the records of its own pods')

    def prepare_update(self, new: Obj, old: Obj, subresource: str) -> None:
        check_node_write(new, old)

    def refuse_delete(self, obj: Obj) -> None:
        node = _requesting_node(obj)
        if node is not None and obj.get("nodeName") != node:
            raise _refuse(obj, f'node "{node}" can only delete the records of its own pods')

    def columns(self) -> list[Column]:
        return [
            Column("Name", format="name", description="Name of the pod the record is about."),
            Column("Facts", type="integer", description="How many facts the record holds."),
            Column("Last", description="The record's last transition (probe results aside)."),
            Column("Last Seen", description="How long ago the last transition happened."),
            Column("Pod UID", description="The uid of the pod recorded.", priority=1),
            AGE_COLUMN,
        ]

    def cells(self, obj: Obj, now: float) -> list[Any]:
        facts = rec.facts(obj)
        last = rec.last_transition(facts)
        text, seen = "<none>", "<none>"
        if last is not None:
            text = rec.summary(last)
            seen = human_duration(now - int(last["at"]) / 1e6)
        return [
            obj["metadata"]["name"],
            len(facts),
            text,
            seen,
            str(obj.get("podUID") or ""),
            age_of(obj, now),
        ]


PODLIFECYCLES = PodLifecycleKind(
    group=rec.GROUP,
    version=rec.VERSION,
    kind=rec.KIND,
    plural=rec.PLURAL,
    singular=rec.SINGULAR,
    short_names=("plc",),
    description=(
        "The lifecycle record of one pod, kept by the node that runs it: sandbox, container, "
        "probe, hook and condition facts with their times, oldest first."
    ),
)
