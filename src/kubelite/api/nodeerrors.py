"""What users read when the API server cannot reach a node's server, or the node refuses.
PURE.

The API server is a Go program: a connection that fails is worded as Go's ``net`` and
``crypto/tls`` word it (``dial tcp 10.0.0.2:10250: connect: connection refused``, ``tls:
failed to verify certificate: x509: certificate signed by unknown authority``, ``remote error:
tls: internal error`` when the node has no serving certificate yet), behind what the handler
adds: ``error dialing backend: `` for exec, attach and port-forward (the upgrade-aware proxy),
``Get "<url>": `` for logs (the log streamer's HTTP client). A log request the node answers
with an error status is turned into a Status as the API server's response checker does it:
400 a BadRequest and 500 an InternalError carrying the node's text, anything else the
generic server response of its code, naming ``pods/log`` and the pod.
"""

from __future__ import annotations

import errno
import ipaddress
import ssl
from collections.abc import Sequence
from typing import Any

MAX_READ = 50_000  # the response checker reads at most this much of an error body

# OpenSSL verification codes and what Go's x509 says instead.
_UNKNOWN_AUTHORITY = frozenset({2, 18, 19, 20, 21})
_EXPIRED = frozenset({9, 10})
_NAME_MISMATCH = frozenset({62, 64})
# TLS alerts received, by OpenSSL's reason, in Go's words.
_ALERTS = {
    "TLSV1_ALERT_INTERNAL_ERROR": "internal error",
    "TLSV1_ALERT_UNKNOWN_CA": "unknown certificate authority",
    "SSLV3_ALERT_BAD_CERTIFICATE": "bad certificate",
    "SSLV3_ALERT_HANDSHAKE_FAILURE": "handshake failure",
    "TLSV13_ALERT_CERTIFICATE_REQUIRED": "certificate required",
    "TLSV1_ALERT_ACCESS_DENIED": "access denied",
}
_ERRNO = {
    errno.ECONNREFUSED: "connection refused",
    errno.EHOSTUNREACH: "no route to host",
    errno.ENETUNREACH: "network is unreachable",
    errno.ETIMEDOUT: "connection timed out",
}


def hostname_error(host: str, ips: Sequence[str] | None, dns: Sequence[str] = ()) -> str:
    """Go's ``x509.HostnameError`` for a certificate that does not name ``host`` (``ips``
    None when the certificate could not be read again)."""
    if ips is None:
        return f"x509: certificate is not valid for {host}"
    if _is_ip(host):
        if not ips:
            return (
                f"x509: cannot validate certificate for {host} because it doesn't contain "
                "any IP SANs"
            )
        valid = ", ".join(ips)
    else:
        valid = ", ".join(dns)
    if not valid:
        return f"x509: certificate is not valid for any names, but wanted to match {host}"
    return f"x509: certificate is valid for {valid}, not {host}"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def dial_error(
    exc: BaseException, host: str, port: int, *, sans: tuple[list[str], list[str]] | None = None
) -> str:
    """A failed connection (or TLS handshake) to ``host:port`` in Go's words; ``sans`` are
    the (IP, DNS) names of a certificate that did not match."""
    where = f"{host}:{port}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        code = getattr(exc, "verify_code", 0)
        if code in _EXPIRED:
            why = "x509: certificate has expired or is not yet valid"
        elif code in _NAME_MISMATCH:
            ips, dns = sans if sans is not None else (None, [])
            why = hostname_error(host, ips, dns)
        elif code in _UNKNOWN_AUTHORITY:
            why = "x509: certificate signed by unknown authority"
        else:
            why = f"x509: {getattr(exc, 'verify_message', '') or exc}"
        return f"tls: failed to verify certificate: {why}"
    if isinstance(exc, ssl.SSLError):
        alert = _ALERTS.get(str(getattr(exc, "reason", "") or ""))
        if alert is not None:
            return f"remote error: tls: {alert}"
        return f"tls: {getattr(exc, 'reason', '') or exc}"
    if isinstance(exc, TimeoutError):
        return f"dial tcp {where}: i/o timeout"
    if isinstance(exc, OSError) and exc.errno in _ERRNO:
        return f"dial tcp {where}: connect: {_ERRNO[exc.errno]}"
    if isinstance(exc, ConnectionError):
        return f"read tcp {where}: read: connection reset by peer"
    return f"dial tcp {where}: {exc}"


# ---------------------------------------------------------------------------- responses


def _details(name: str) -> dict[str, Any]:
    return {"name": name, "kind": "pods/log"}


_GENERIC = {
    404: ("NotFound", "the server could not find the requested resource"),
    400: ("BadRequest", "the server rejected our request for an unknown reason"),
    401: ("Unauthorized", "the server has asked for the client to provide credentials"),
    405: ("MethodNotAllowed", "the server does not allow this method on the requested resource"),
    409: ("Conflict", "the server reported a conflict"),
    422: ("Invalid", "the server rejected our request due to an error in our request"),
    429: ("TooManyRequests",
          "the server has received too many requests and has asked us to try again later"),
    503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
}  # fmt: skip


def log_response_error(code: int, text: str, pod: str) -> tuple[int, str, str, dict[str, Any]]:
    """(code, reason, message, details) of the Status for a node's error answer to a log
    request (the API server's ``GenericHttpResponseChecker``)."""
    if code == 500:
        causes = {"causes": [{"message": text}]}
        return 500, "InternalError", f"Internal error occurred: {text}", causes
    if code == 400:
        return 400, "BadRequest", text, {}
    if code == 403:
        reason, message = "Forbidden", text
    elif code in _GENERIC:
        reason, message = _GENERIC[code]
    elif code >= 500:
        reason = "InternalError"
        message = f'an error on the server ("{text}") has prevented the request from succeeding'
    else:
        reason = ""
        message = (
            f"the server responded with the status code {code} but did not return more information"
        )
    return code, reason, f"{message} ( pods/log {pod})", _details(pod)
