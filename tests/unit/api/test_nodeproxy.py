"""How the API server addresses a node's server: the Node's preferred address and kubelet
port, and the paths and options of the requests it hands on."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.api.errors import ApiError
from kubelite.api.nodeconn import NodeAddress, node_address
from kubelite.api.nodeproxy import log_query, parse_head, pod_path, stream_query
from kubelite.api.remoteclient import Options
from kubelite.api.streams import LogOptions


def node(addresses: list[tuple[str, str]], port: Any = None) -> dict[str, Any]:
    status: dict[str, Any] = {"addresses": [{"type": t, "address": a} for t, a in addresses]}
    if port is not None:
        status["daemonEndpoints"] = {"kubeletEndpoint": {"Port": port}}
    return {"metadata": {"name": "m1"}, "status": status}


ADDRESSES = [
    ("the InternalIP and the reported port",
     node([("Hostname", "m1"), ("InternalIP", "10.0.0.2")], 10251), ("10.0.0.2", 10251)),
    ("10250 when no port is reported", node([("InternalIP", "10.0.0.2")]), ("10.0.0.2", 10250)),
    ("10250 when the port is 0", node([("InternalIP", "10.0.0.2")], 0), ("10.0.0.2", 10250)),
    ("the hostname when there is no IP", node([("Hostname", "m1")]), ("m1", 10250)),
]  # fmt: skip


@pytest.mark.parametrize(("case", "obj", "where"), ADDRESSES, ids=[a[0] for a in ADDRESSES])
def test_the_api_server_dials_the_nodes_preferred_address(
    case: str, obj: dict[str, Any], where: tuple[str, int]
) -> None:
    assert node_address(obj) == NodeAddress("m1", *where)


def test_a_node_without_addresses_cannot_be_dialled() -> None:
    with pytest.raises(ApiError, match=r"no preferred addresses found; known addresses: \[\]"):
        node_address(node([]))


def test_an_ipv6_node_is_bracketed_in_its_url() -> None:
    assert NodeAddress("m1", "fd00::2", 10250).url("/healthz") == "https://[fd00::2]:10250/healthz"


def test_the_options_go_to_the_node_as_the_api_server_encodes_them() -> None:
    pod = {"metadata": {"name": "web", "namespace": "team a"}}
    assert pod_path("exec", pod, "app") == "/exec/team%20a/web/app"
    assert pod_path("portForward", pod) == "/portForward/team%20a/web"
    opts = Options(stdin=True, stdout=True, stderr=False, tty=True)
    assert stream_query(opts, ["sh", "-c", "x"]) == [
        ("stdin", "1"), ("stdout", "1"), ("tty", "1"),
        ("command", "sh"), ("command", "-c"), ("command", "x"),
    ]  # fmt: skip
    logs = LogOptions("app", follow=True, tail_lines=5, limit_bytes=10, since_time=0.0)
    assert log_query(logs) == [
        ("follow", "true"), ("limitBytes", "10"),
        ("sinceTime", "1970-01-01T00:00:00Z"), ("tailLines", "5"),
    ]  # fmt: skip


def test_the_nodes_answer_head_is_read() -> None:
    head = parse_head(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: x="
    )
    assert (head.status, head.get("upgrade"), head.get("sec-websocket-accept")) == (
        101, "websocket", "x=",
    )  # fmt: skip
    with pytest.raises(ValueError):
        parse_head(b"garbage")
