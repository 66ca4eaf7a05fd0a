"""The one place that turns errors into Kubernetes ``Status`` bodies and HTTP codes.

Store errors (NotFound, AlreadyExists, Conflict, Compacted, Unavailable), registry errors (Invalid,
BadRequest, …) and the API layer's own ``ApiError`` all end here, with the API server's wording,
because kubectl prints ``message`` (or, for 422, ``details.causes``) verbatim.
"""

from __future__ import annotations

from typing import Any

from kubelite.registry import errors as reg
from kubelite.store import interface as st

RETRY_AFTER_SECONDS = 2  # what the API server tells clients when its storage is out of reach


class ApiError(Exception):
    """An HTTP-level failure decided by the API layer itself (401, 404 paths, 413, 415 …)."""

    def __init__(
        self, code: int, reason: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details


def status_body(
    code: int, reason: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if not reason:  # StatusReasonUnknown, which the API server leaves out
        del body["reason"]
    if details:
        body["details"] = details
    return body


def success_body(details: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}}
    body["status"] = "Success"
    if details:
        body["details"] = details
    return body


def _split(qualified: str) -> tuple[str, str]:
    plural, _, group = qualified.partition(".")
    return plural, group


def _ref(qualified: str, name: str) -> dict[str, Any]:
    plural, group = _split(qualified)
    out: dict[str, Any] = {"name": name, "kind": plural}
    if group:
        out["group"] = group
    return out


def to_status(exc: BaseException) -> tuple[int, dict[str, Any]]:
    """HTTP code and Status body for an error; unknown errors become a 500 without internals."""
    match exc:
        case ApiError():
            return exc.code, status_body(exc.code, exc.reason, exc.message, exc.details)
        case st.NotFound():
            msg = f'{exc.resource} "{exc.name}" not found'
            return 404, status_body(404, "NotFound", msg, _ref(exc.resource, exc.name))
        case st.AlreadyExists():
            msg = f'{exc.resource} "{exc.name}" already exists'
            return 409, status_body(409, "AlreadyExists", msg, _ref(exc.resource, exc.name))
        case st.Conflict():
            msg = (
                f'Operation cannot be fulfilled on {exc.resource} "{exc.name}": the object has '
                "been modified; please apply your changes to the latest version and try again"
            )
            return 409, status_body(409, "Conflict", msg, _ref(exc.resource, exc.name))
        case st.Unavailable():  # the API server's ServerTimeout: clients retry after 2 s
            message = (
                f"The {exc.operation} operation against {exc.resource} could not be "
                "completed at this time, please try again."
            )
            later = {"kind": exc.resource, "retryAfterSeconds": RETRY_AFTER_SECONDS}
            return 500, status_body(500, "ServerTimeout", message, later)
        case st.Compacted():
            return 410, status_body(410, "Expired", str(exc))
        case reg.NotFoundError():
            qualified = f"{exc.resource}.{exc.group}" if exc.group else exc.resource
            return 404, status_body(404, "NotFound", str(exc), _ref(qualified, exc.name))
        case reg.Invalid():
            causes = [
                {"reason": c.type, "message": c.message, "field": c.field} for c in exc.causes
            ]
            details: dict[str, Any] = {"name": exc.name, "kind": exc.kind, "causes": causes}
            if exc.group:
                details["group"] = exc.group
            return 422, status_body(422, "Invalid", exc.text(), details)
        case reg.BadRequest():
            return 400, status_body(400, "BadRequest", str(exc))
        case reg.Forbidden():
            forbidden = _ref(exc.resource, exc.name)
            if exc.causes:
                forbidden["causes"] = exc.causes
            return 403, status_body(403, "Forbidden", str(exc), forbidden)
        case reg.OperationConflict():
            return 409, status_body(409, "Conflict", str(exc), _ref(exc.resource, exc.name))
        case reg.MethodNotAllowed():
            return 405, status_body(405, "MethodNotAllowed", str(exc))
        case reg.Expired():
            body = status_body(410, "Expired", str(exc))
            if exc.continue_token:
                body["metadata"] = {"continue": exc.continue_token}
            return 410, body
        case RecursionError():  # a nesting the decoders let through: a bug, but not a 500
            return 400, status_body(400, "BadRequest", "exceeded max depth")
    return 500, status_body(500, "InternalError", "an internal error occurred")


def not_found_path() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource")


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def unsupported_media_type(content_type: str) -> ApiError:
    return ApiError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format - "
        f"accepted media types include: application/json, application/yaml, "
        f'application/vnd.kubernetes.protobuf (got "{content_type}")',
    )


def too_large() -> ApiError:
    return ApiError(413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728")


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def method_not_allowed(verb: str, resource: str) -> ApiError:
    return ApiError(
        405,
        "MethodNotAllowed",
        f"the server does not allow this method on the requested resource ({verb} {resource})",
    )
