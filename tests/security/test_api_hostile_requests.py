"""Hostile requests against a real API server socket (issue 11, items 5 and 9): oversized and
deeply nested bodies, wrong types and huge numbers, oversized request lines and headers. Each
is answered with a Kubernetes Status (never a 500, a plain-text page or a reset connection),
and the server goes on serving.

The server here is the real one (``ApiServer`` on the SQLite store, a TCP port of its own) run
in the test's process, so no root and no containers are needed.
"""

from __future__ import annotations

import asyncio
import io
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from kubelite.api.httplimits import MAX_HEADER_FIELD, MAX_HEADERS, MAX_REQUEST_LINE
from kubelite.api.server import ApiServer
from kubelite.store.sqlite import SqliteStore

PODS = "/api/v1/namespaces/default/pods"


def pod(name: str = "web", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "busybox"}], **spec},
    }


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[ApiServer]:
    store = SqliteStore(tmp_path / "db")
    api = ApiServer(store=store, port=0, require_auth=False)
    await api.start()
    try:
        yield api
    finally:
        await api.stop()
        await store.close()


@pytest.fixture
async def http(server: ApiServer) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(f"http://127.0.0.1:{server.port}") as session:
        yield session


def raw_exchange(port: int, request: bytes) -> bytes:
    """Send ``request`` whole, then read the answer until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def status_of(answer: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    code = int(head.split(b" ", 2)[1])
    return code, json.loads(body)


MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
DEEP = "[" * 100_000 + "]" * 100_000
HOSTILE = [
    # case, method, path, content type, body, expected code
    ("a body over 3 MiB", "POST", PODS, "application/json", b" " * (3 * 1024 * 1024 + 1), 413),
    ("a body nested 100000 deep", "POST", PODS, "application/json",
     ('{"apiVersion":"v1","kind":"Pod","metadata":' + DEEP + "}").encode(), 400),
    ("YAML nested 20000 deep", "POST", PODS, "application/yaml",
     ("metadata: " + "[" * 20_000 + "]" * 20_000).encode(), 400),
    ("a strategic merge patch nested 100000 deep", "PATCH", f"{PODS}/target", STRATEGIC,
     ('{"metadata":' + '{"a":' * 100_000 + "1" + "}" * 100_000 + "}").encode(), 400),
    ("a merge patch nested 100000 deep", "PATCH", f"{PODS}/target", MERGE,
     ('{"metadata":' + DEEP + "}").encode(), 400),
    ("a JSON patch nested 100000 deep", "PATCH", f"{PODS}/target", JSON_PATCH,
     ('[{"op":"add","path":"/metadata/x","value":' + DEEP + "}]").encode(), 400),
    ("a JSON patch of 20000 operations", "PATCH", f"{PODS}/target", JSON_PATCH,
     json.dumps([{"op": "test", "path": "/kind", "value": "Pod"}] * 20_000).encode(), 413),
    ("a string where a list belongs", "POST", PODS, "application/json",
     json.dumps({**pod(), "spec": {"containers": "x"}}).encode(), 400),
    ("a grace period of 2^70", "POST", PODS, "application/json",
     json.dumps(pod(terminationGracePeriodSeconds=2**70)).encode(), 400),
    ("a user id of -1", "POST", PODS, "application/json",
     json.dumps(pod(securityContext={"runAsUser": -1})).encode(), 422),
    ("NaN", "POST", PODS, "application/json", b'{"apiVersion":"v1","spec":NaN}', 400),
    ("not JSON at all", "POST", PODS, "application/json", b"\xff\xfe\x00garbage", 400),
    ("a YAML alias bomb", "POST", PODS, "application/yaml",
     ("a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
         f"b{i}: &b{i} [" + ",".join([f"*{'a' if i == 0 else f'b{i - 1}'}"] * 10) + "]\n"
         for i in range(9))).encode(), 400),
]  # fmt: skip


@pytest.mark.parametrize(("case", "method", "path", "ctype", "body", "code"), HOSTILE)
async def test_a_hostile_body_gets_a_status_and_the_server_serves_on(
    http: aiohttp.ClientSession,
    case: str,
    method: str,
    path: str,
    ctype: str,
    body: bytes,
    code: int,
) -> None:
    await http.post(PODS, json=pod("target"))
    async with http.request(
        method, path, data=io.BytesIO(body), headers={"Content-Type": ctype}
    ) as resp:
        answer = await resp.json(content_type=None)
        assert (resp.status, answer["kind"], answer["code"]) == (code, "Status", code), answer
    async with http.get(PODS) as after:
        assert after.status == 200


@pytest.mark.parametrize(
    ("case", "request_bytes", "code", "message"),
    [
        (
            "a request line over the limit",
            b"GET /api/v1/pods?x=" + b"a" * (MAX_REQUEST_LINE + 10) + b" HTTP/1.1\r\n\r\n",
            414,
            "Request URI Too Long",
        ),
        (
            "a header over the limit",
            b"GET /api/v1/pods HTTP/1.1\r\nX-Big: " + b"a" * (MAX_HEADER_FIELD + 10) + b"\r\n\r\n",
            431,
            "Request Header Fields Too Large",
        ),
        (
            "too many headers",
            b"GET /api/v1/pods HTTP/1.1\r\n"
            + b"".join(b"X-%d: a\r\n" % i for i in range(MAX_HEADERS + 10))
            + b"\r\n",
            431,
            "Request Header Fields Too Large",
        ),
    ],
)
async def test_an_oversized_request_line_or_header_gets_a_status_not_a_reset(
    server: ApiServer, http: aiohttp.ClientSession, case: str, request_bytes: bytes, code: int,
    message: str,
) -> None:  # fmt: skip
    answer = await asyncio.to_thread(raw_exchange, server.port, request_bytes)
    got, body = status_of(answer)
    assert (got, body["kind"], body["code"], body["message"]) == (code, "Status", code, message)
    async with http.get(PODS) as after:
        assert after.status == 200


async def test_a_long_but_acceptable_label_selector_is_served(
    http: aiohttp.ClientSession,
) -> None:
    selector = ",".join(f"k{i}!=v{i}" for i in range(2000))  # ~20 KB, under Go's 1 MiB
    async with http.get(PODS, params={"labelSelector": selector}) as resp:
        assert resp.status == 200


async def test_garbage_instead_of_http_gets_a_400_status(server: ApiServer) -> None:
    answer = await asyncio.to_thread(raw_exchange, server.port, b"\x16\x03\x01garbage\r\n\r\n")
    code, body = status_of(answer)
    assert (code, body["kind"]) == (400, "Status")
