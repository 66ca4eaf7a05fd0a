"""What users read when the API server cannot reach a node's server or the node refuses a log
request: Go's words for connections and TLS, the response checker's Statuses."""

from __future__ import annotations

import errno
import ssl

import pytest

from kubelite.api.nodeerrors import dial_error, hostname_error, log_response_error


def verify_error(code: int) -> ssl.SSLCertVerificationError:
    err = ssl.SSLCertVerificationError(1, "certificate verify failed")
    err.verify_code = code
    err.verify_message = "x"
    return err


def alert(reason: str) -> ssl.SSLError:
    err = ssl.SSLError(1, f"[SSL: {reason}] alert")
    err.reason = reason
    return err


DIALS = [
    ("a node nobody listens on", ConnectionRefusedError(errno.ECONNREFUSED, "refused"),
     "dial tcp 10.0.0.2:10250: connect: connection refused"),
    ("a node that does not answer", TimeoutError(),
     "dial tcp 10.0.0.2:10250: i/o timeout"),
    ("a node without a route", OSError(errno.EHOSTUNREACH, "no route"),
     "dial tcp 10.0.0.2:10250: connect: no route to host"),
    ("a self-signed certificate", verify_error(18),
     "tls: failed to verify certificate: x509: certificate signed by unknown authority"),
    ("another CA's certificate", verify_error(20),
     "tls: failed to verify certificate: x509: certificate signed by unknown authority"),
    ("an expired certificate", verify_error(10),
     "tls: failed to verify certificate: x509: certificate has expired or is not yet valid"),
    ("a node without a serving certificate yet", alert("TLSV1_ALERT_INTERNAL_ERROR"),
     "remote error: tls: internal error"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "exc", "text"), DIALS, ids=[d[0] for d in DIALS])
def test_a_failed_connection_reads_as_gos(case: str, exc: BaseException, text: str) -> None:
    assert dial_error(exc, "10.0.0.2", 10250) == text


def test_a_certificate_for_another_address_names_what_it_is_valid_for() -> None:
    text = dial_error(verify_error(64), "10.0.0.2", 10250, sans=(["10.0.0.3"], ["m2"]))
    assert text == (
        "tls: failed to verify certificate: x509: certificate is valid for 10.0.0.3, not 10.0.0.2"
    )
    assert hostname_error("10.0.0.2", []) == (
        "x509: cannot validate certificate for 10.0.0.2 because it doesn't contain any IP SANs"
    )


RESPONSES = [
    ("the kubelet's 400", 400, 'container "c" in pod "p" is waiting to start: ContainerCreating',
     (400, "BadRequest", 'container "c" in pod "p" is waiting to start: ContainerCreating', {})),
    ("a missing pod", 404, 'pod "p" does not exist',
     (404, "NotFound", "the server could not find the requested resource ( pods/log p)",
      {"name": "p", "kind": "pods/log"})),
    ("a forbidden request", 403, "Forbidden (user=u, verb=get, resource=nodes, subresource=proxy)",
     (403, "Forbidden",
      "Forbidden (user=u, verb=get, resource=nodes, subresource=proxy) ( pods/log p)",
      {"name": "p", "kind": "pods/log"})),
    ("a server error", 500, "boom",
     (500, "InternalError", "Internal error occurred: boom", {"causes": [{"message": "boom"}]})),
]  # fmt: skip


@pytest.mark.parametrize(("case", "code", "text", "status"), RESPONSES,
                         ids=[r[0] for r in RESPONSES])  # fmt: skip
def test_a_nodes_refusal_of_a_log_becomes_the_response_checkers_status(
    case: str, code: int, text: str, status: tuple[object, ...]
) -> None:
    assert log_response_error(code, text, "p") == status
