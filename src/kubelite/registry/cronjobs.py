"""batch/v1 CronJobs: defaulting (concurrencyPolicy Allow, suspend false, history limits 3 and
1, the job template's pod template), validation with the API server's texts (the schedule as
robfig/cron parses it, ``timeZone``, the job template's JobSpec, names of at most 52
characters), the status subresource, and the ``get cronjobs`` columns as kubectl prints them.
"""

from __future__ import annotations

import copy
import re
import zoneinfo
from typing import Any

from kubelite.clock import parse_rfc3339
from kubelite.model.fielderrors import FieldError, invalid, not_supported, required
from kubelite.model.objects import Obj
from kubelite.model.podprint import human_duration
from kubelite.registry.cronjob_schedule import ScheduleError, check_schedule
from kubelite.registry.job_defaults import default_job_spec_fields
from kubelite.registry.job_validation import NONNEGATIVE, validate_job_spec
from kubelite.registry.job_values import invalid_go
from kubelite.registry.jobs import container_cells, guarded, selector_cell
from kubelite.registry.resource import AGE_COLUMN, Column, Kind, Subresource, age_of

CONCURRENCY_POLICIES = ["Allow", "Forbid", "Replace"]
MAX_NAME = 52  # 63 less the 11 characters of "-<minutes since the epoch>"
_ZONE_PART = re.compile(r"^[A-Za-z.\-_0-9+]{1,14}$")


def default_cronjob(obj: Obj) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    if not spec.get("concurrencyPolicy"):
        spec["concurrencyPolicy"] = "Allow"
    if spec.get("suspend") is None:
        spec["suspend"] = False
    if spec.get("successfulJobsHistoryLimit") is None:
        spec["successfulJobsHistoryLimit"] = 3
    if spec.get("failedJobsHistoryLimit") is None:
        spec["failedJobsHistoryLimit"] = 1
    template = spec.get("jobTemplate")
    if isinstance(template, dict) and isinstance(template.get("spec"), dict):
        default_job_spec_fields(template["spec"])


def validate_cronjob(obj: Obj, old: Obj | None = None) -> list[FieldError]:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [required("spec")]
    old_spec = (old or {}).get("spec") or {}
    errs: list[FieldError] = []
    schedule = spec.get("schedule")
    if not schedule:
        errs.append(required("spec.schedule"))
    else:
        tz_allowed = old is not None and "TZ" in str(old_spec.get("schedule") or "")
        errs += _schedule_errors(str(schedule), tz_allowed, spec.get("timeZone"))
    deadline = spec.get("startingDeadlineSeconds")
    if isinstance(deadline, int) and deadline < 0:
        errs.append(invalid("spec.startingDeadlineSeconds", deadline, NONNEGATIVE))
    if old is None or old_spec.get("timeZone") != spec.get("timeZone"):
        errs += _time_zone_errors(spec.get("timeZone"))
    errs += _concurrency_errors(spec.get("concurrencyPolicy"))
    errs += _job_template_errors(spec.get("jobTemplate"))
    for field in ("successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        value = spec.get(field)
        if isinstance(value, int) and value < 0:
            errs.append(invalid(f"spec.{field}", value, NONNEGATIVE))
    name = str((obj.get("metadata") or {}).get("name") or "")
    if old is None and len(name) > MAX_NAME:
        errs.append(invalid("metadata.name", name, f"must be no more than {MAX_NAME} characters"))
    return errs


def _schedule_errors(schedule: str, tz_allowed: bool, time_zone: Any) -> list[FieldError]:
    errs = []
    try:
        check_schedule(schedule)
    except ScheduleError as err:
        errs.append(invalid("spec.schedule", schedule, str(err)))
    if tz_allowed and "TZ" in schedule and time_zone is not None:
        detail = "cannot use both timeZone field and TZ or CRON_TZ in schedule"
        errs.append(invalid("spec.schedule", schedule, detail))
    elif not tz_allowed and "TZ" in schedule:
        detail = "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
        errs.append(invalid("spec.schedule", schedule, detail))
    return errs


def _time_zone_errors(zone: Any) -> list[FieldError]:
    path = "spec.timeZone"
    if zone is None:
        return []
    if not isinstance(zone, str) or zone == "":
        return [invalid(path, zone, "timeZone must be nil or non-empty string")]
    for part in zone.split("/"):
        if part in (".", "..") or part.startswith("-") or not _ZONE_PART.match(part):
            return [invalid(path, zone, f"unknown time zone {zone}")]
    if zone.lower() == "local":
        detail = (
            "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"
        )
        return [invalid(path, zone, detail)]
    if not known_zone(zone):
        return [invalid(path, zone, f"unknown time zone {zone}")]
    return []


def known_zone(zone: str) -> bool:
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _concurrency_errors(policy: Any) -> list[FieldError]:
    if policy in CONCURRENCY_POLICIES:
        return []
    if not policy:
        return [required("spec.concurrencyPolicy")]
    return [not_supported("spec.concurrencyPolicy", policy, CONCURRENCY_POLICIES)]


def _job_template_errors(template: Any) -> list[FieldError]:
    path = "spec.jobTemplate"
    if not isinstance(template, dict):
        return [required(path)]
    spec = template.get("spec")
    if not isinstance(spec, dict):
        return [required(f"{path}.spec")]
    errs = validate_job_spec(spec, f"{path}.spec")
    if spec.get("selector") is not None:
        errs.append(
            invalid_go(
                f"{path}.spec.selector", spec["selector"], "`selector` will be auto-generated"
            )
        )
    if spec.get("manualSelector") is True:
        errs.append(not_supported(f"{path}.spec.manualSelector", True, ["nil", "false"]))
    return errs


class CronJobKind(Kind):
    def prepare_create(self, obj: Obj) -> None:
        guarded(lambda: default_cronjob(obj), "CronJob")
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
        guarded(lambda: default_cronjob(new), "CronJob")

    def validate(self, obj: Obj) -> list[FieldError]:
        return guarded(lambda: validate_cronjob(obj), "CronJob")

    def validate_update(self, new: Obj, old: Obj, subresource: str = "") -> list[FieldError]:
        if subresource == "status":
            return []
        return guarded(lambda: validate_cronjob(new, old), "CronJob")

    def columns(self) -> list[Column]:
        return [
            Column("Name", format="name", description="Name of the cron job."),
            Column("Schedule", description="When jobs run, in cron format."),
            Column("Timezone", description="The time zone the schedule is read in."),
            Column("Suspend", type="boolean", description="Whether new jobs are held back."),
            Column("Active", type="integer", description="Jobs running now."),
            Column("Last Schedule", description="When a job was last started."),
            AGE_COLUMN,
            Column("Containers", description="Names of the template's containers.", priority=1),
            Column("Images", description="Images of the template's containers.", priority=1),
            Column("Selector", description="The query over pods the jobs own.", priority=1),
        ]

    def cells(self, obj: Obj, now: float) -> list[Any]:
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        job_spec = (spec.get("jobTemplate") or {}).get("spec") or {}
        names, images = container_cells((job_spec.get("template") or {}).get("spec") or {})
        suspend = spec.get("suspend")
        return [
            obj["metadata"]["name"],
            str(spec.get("schedule") or ""),
            spec.get("timeZone") if spec.get("timeZone") is not None else "<none>",
            "<unset>" if suspend is None else ("True" if suspend else "False"),
            len(status.get("active") or []),
            _since(status.get("lastScheduleTime"), now),
            age_of(obj, now),
            names,
            images,
            selector_cell(job_spec.get("selector")),
        ]


def _since(value: Any, now: float) -> str:
    if not value:
        return "<none>"
    try:
        return human_duration(now - parse_rfc3339(str(value)))
    except ValueError:
        return "<unknown>"


CRONJOBS = CronJobKind(
    group="batch",
    version="v1",
    kind="CronJob",
    plural="cronjobs",
    singular="cronjob",
    short_names=("cj",),
    categories=("all",),
    tracks_generation=True,
    description="Jobs started on a repeating schedule.",
    subresources=(Subresource("status", "CronJob", ("get", "patch", "update"), group="batch"),),
)
