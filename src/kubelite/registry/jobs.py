"""batch/v1 Jobs: defaulting and the generated selector (``job_defaults``), validation
(``job_validation``), the status subresource, and the ``get jobs`` columns exactly as kubectl
prints them (STATUS, COMPLETIONS, DURATION, AGE; CONTAINERS, IMAGES, SELECTOR with -o wide).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from kubelite.clock import parse_rfc3339
from kubelite.model.fielderrors import FieldError
from kubelite.model.objects import JSON, Obj
from kubelite.model.podprint import human_duration
from kubelite.registry.errors import BadRequest
from kubelite.registry.job_defaults import copy_template_labels, default_job, generate_selector
from kubelite.registry.job_validation import validate_job, validate_job_status, validate_job_update
from kubelite.registry.rbac_aggregation import requirements
from kubelite.registry.resource import AGE_COLUMN, Column, Kind, Subresource, age_of

log = logging.getLogger(__name__)
T = TypeVar("T")


class JobKind(Kind):
    # batch/v1 orphans a deleted Job's pods unless told otherwise (kubectl says Background)
    default_gc_policy: ClassVar[str] = "OrphanDependents"

    def prepare_create(self, obj: Obj) -> None:
        md = obj.setdefault("metadata", {})
        had_labels = isinstance(md, dict) and bool(md.get("labels"))
        guarded(lambda: default_job(obj))
        generate_selector(obj)
        if not had_labels and isinstance(md, dict):
            md.pop("labels", None)  # the labels it gets are its template's, generated ones too
            copy_template_labels(obj)
        obj["status"] = {}

    def prepare_update(self, new: Obj, old: Obj, subresource: str) -> None:
        if subresource == "status":
            new["spec"] = copy.deepcopy(old.get("spec", {}))
            new["metadata"] = {
                **old["metadata"],
                "resourceVersion": new["metadata"].get("resourceVersion"),
            }
            return
        new["status"] = copy.deepcopy(old.get("status", {}))
        guarded(lambda: default_job(new))

    def validate(self, obj: Obj) -> list[FieldError]:
        return guarded(lambda: validate_job(obj))

    def validate_update(self, new: Obj, old: Obj, subresource: str = "") -> list[FieldError]:
        if subresource == "status":
            return validate_job_status(new)
        return guarded(lambda: validate_job(new) + validate_job_update(new, old))

    def columns(self) -> list[Column]:
        return [
            Column("Name", format="name", description="Name of the job."),
            Column("Status", description="Status of the job."),
            Column("Completions", description="Succeeded pods out of the completions wanted."),
            Column("Duration", description="Time required to complete the job."),
            AGE_COLUMN,
            Column("Containers", description="Names of the template's containers.", priority=1),
            Column("Images", description="Images of the template's containers.", priority=1),
            Column("Selector", description="The query over pods the job owns.", priority=1),
        ]

    def cells(self, obj: Obj, now: float) -> list[Any]:
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        names, images = container_cells((spec.get("template") or {}).get("spec") or {})
        return [
            obj["metadata"]["name"],
            status_cell(obj),
            completions_cell(spec, status),
            duration_cell(status, now),
            age_of(obj, now),
            names,
            images,
            selector_cell(spec.get("selector")),
        ]


def condition_true(obj: JSON, kind: str) -> bool:
    conditions = (obj.get("status") or {}).get("conditions") or []
    return any(
        isinstance(c, dict) and c.get("type") == kind and c.get("status") == "True"
        for c in conditions
    )


def status_cell(job: JSON) -> str:
    """kubectl's job STATUS: a finished Job's outcome, else what it is waiting on."""
    for kind in ("Complete", "Failed"):
        if condition_true(job, kind):
            return kind
    if (job.get("metadata") or {}).get("deletionTimestamp"):
        return "Terminating"
    for kind in ("Suspended", "FailureTarget", "SuccessCriteriaMet"):
        if condition_true(job, kind):
            return kind
    return "Running"


def completions_cell(spec: JSON, status: JSON) -> str:
    succeeded = int(status.get("succeeded") or 0)
    if spec.get("completions") is not None:
        return f"{succeeded}/{spec['completions']}"
    parallelism = int(spec.get("parallelism") or 0)
    return f"{succeeded}/1 of {parallelism}" if parallelism > 1 else f"{succeeded}/1"


def duration_cell(status: JSON, now: float) -> str:
    start, end = _time(status.get("startTime")), _time(status.get("completionTime"))
    if start is None:
        return ""
    return human_duration((end if end is not None else now) - start)


def container_cells(pod_spec: JSON) -> tuple[str, str]:
    containers = [c for c in pod_spec.get("containers") or [] if isinstance(c, dict)]
    names = ",".join(str(c.get("name") or "") for c in containers)
    images = ",".join(str(c.get("image") or "") for c in containers)
    return names, images


def selector_cell(selector: Any) -> str:
    """apimachinery's FormatLabelSelector: requirements sorted by key, ``<none>`` if empty."""
    reqs = requirements(selector) if isinstance(selector, dict) else None
    if reqs is None:
        return "<error>" if isinstance(selector, dict) else "<none>"
    parts = []
    for r in sorted(reqs, key=lambda r: r.key):
        values = ",".join(sorted(r.values))
        parts.append(
            {
                "=": f"{r.key}={values}",
                "in": f"{r.key} in ({values})",
                "notin": f"{r.key} notin ({values})",
                "exists": r.key,
                "!": f"!{r.key}",
            }[r.op]
        )
    return ",".join(parts) or "<none>"


def _time(value: Any) -> float | None:
    try:
        return parse_rfc3339(str(value)) if value else None
    except ValueError:
        return None


def guarded(step: Callable[[], T], kind: str = "Job") -> T:
    """Run a defaulting or validation step; an odd-shaped object is a 400, never a 500."""
    try:
        return step()
    except (TypeError, AttributeError, ValueError, KeyError, IndexError) as exc:
        log.warning("%s handling failed on an unexpected shape", kind, exc_info=True)
        raise BadRequest(
            f'{kind} in version "v1" cannot be handled as a {kind}: {type(exc).__name__}: {exc}'
        ) from exc


def _status_successful(obj: Obj) -> str:
    return str(int((obj.get("status") or {}).get("succeeded") or 0))


JOBS = JobKind(
    group="batch",
    version="v1",
    kind="Job",
    plural="jobs",
    singular="job",
    categories=("all",),
    tracks_generation=True,
    description="A task run to completion by one or more pods.",
    subresources=(Subresource("status", "Job", ("get", "patch", "update"), group="batch"),),
    fields={"status.successful": _status_successful},
)
