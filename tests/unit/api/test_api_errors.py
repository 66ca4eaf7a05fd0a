"""Status bodies: codes, reasons and messages worded as the API server words them."""

from __future__ import annotations

import pytest

from kubelite.api.errors import ApiError, to_status
from kubelite.api.respond import error_response
from kubelite.model.fielderrors import required
from kubelite.registry.errors import BadRequest, Invalid, NotFoundError
from kubelite.store.interface import AlreadyExists, Compacted, Conflict, NotFound, Unavailable


@pytest.mark.parametrize(
    ("exc", "code", "reason", "message"),
    [
        (NotFound("pods/default/x"), 404, "NotFound", 'pods "x" not found'),
        (AlreadyExists("pods/default/x"), 409, "AlreadyExists", 'pods "x" already exists'),
        (
            Conflict("pods/default/x"),
            409,
            "Conflict",
            'Operation cannot be fulfilled on pods "x": the object has been modified; please '
            "apply your changes to the latest version and try again",
        ),
        (
            NotFound("leases.coordination.k8s.io/ns/l"),
            404,
            "NotFound",
            'leases.coordination.k8s.io "l" not found',
        ),
        (NotFoundError("namespaces", "demo"), 404, "NotFound", 'namespaces "demo" not found'),
        (Compacted(1, 5), 410, "Expired", "too old resource version: 1 (5)"),
        (
            Unavailable("pods/default/", "list", "no etcd member answered"),
            500,
            "ServerTimeout",
            "The list operation against pods could not be completed at this time, please try "
            "again.",
        ),
        (BadRequest("nope"), 400, "BadRequest", "nope"),
        (ApiError(415, "UnsupportedMediaType", "m"), 415, "UnsupportedMediaType", "m"),
        (RuntimeError("secret internals"), 500, "InternalError", "an internal error occurred"),
    ],
)
def test_status_for_errors(exc: BaseException, code: int, reason: str, message: str) -> None:
    got_code, body = to_status(exc)
    assert (got_code, body["code"], body["reason"], body["message"]) == (
        code,
        code,
        reason,
        message,
    )
    assert body["kind"] == "Status" and body["status"] == "Failure"


def test_not_found_details_name_the_plural_resource() -> None:
    _, body = to_status(NotFound("pods/default/x"))
    assert body["details"] == {"name": "x", "kind": "pods"}


def test_invalid_lists_causes_with_field_paths_and_the_kind() -> None:
    exc = Invalid("Pod", "bad", [required("spec.containers[0].image"), required("spec.x")])
    code, body = to_status(exc)
    assert code == 422
    assert body["message"] == (
        'Pod "bad" is invalid: [spec.containers[0].image: Required value, spec.x: Required value]'
    )
    assert body["details"]["kind"] == "Pod"
    assert body["details"]["causes"][0] == {
        "reason": "FieldValueRequired",
        "message": "Required value",
        "field": "spec.containers[0].image",
    }


def test_a_store_out_of_reach_tells_the_client_when_to_try_again() -> None:
    """client-go waits Retry-After and repeats a request answered 5xx with it."""
    resp = error_response(Unavailable("pods/default/x", "get", "etcd: no leader"))
    assert (resp.status, resp.headers["Retry-After"]) == (500, "2")
    _, body = to_status(Unavailable("pods/default/x", "get", "etcd: no leader"))
    assert body["details"] == {"kind": "pods", "retryAfterSeconds": 2}
