"""pods/log through the LogSource protocol, with a fake node side: the API server's codes and
messages for every case, never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from kubelite.api.server import ApiServer
from kubelite.api.streams import LogOptions, StreamUnavailable
from tests.component.api.conftest import pod

PODS = "/api/v1/namespaces/default/pods"


class FakeLogs:
    """Refuses as the node does: ``stream`` itself raises (before any iterator exists) for
    a container waiting to start, the iterator raises for a missing previous instance."""

    def __init__(self) -> None:
        self.calls: list[LogOptions] = []

    def stream(self, pod: dict[str, Any], opts: LogOptions) -> AsyncIterator[bytes]:
        self.calls.append(opts)
        name = pod["metadata"]["name"]
        if opts.container == "late":
            raise StreamUnavailable(
                f'container "late" in pod "{name}" is waiting to start: PodInitializing'
            )
        return self._lines(name, opts)

    async def _lines(self, name: str, opts: LogOptions) -> AsyncIterator[bytes]:
        if opts.previous:
            raise StreamUnavailable(
                f'previous terminated container "{opts.container}" in pod "{name}" not found'
            )
        for line in (b"one\n", b"two\n", b"three\n"):
            yield line


@pytest.fixture
async def logs(client: TestClient, api: ApiServer) -> FakeLogs:
    fake = FakeLogs()
    api.set_backends(logs=fake)
    two = pod(nodeName="node-1")
    two["spec"]["containers"].append({"name": "late", "image": "busybox:1.36"})
    two["spec"]["initContainers"] = [{"name": "init", "image": "busybox:1.36"}]
    assert (await client.post(PODS, json=two)).status == 201
    return fake


async def test_logs_with_options(client: TestClient, logs: FakeLogs) -> None:
    r = await client.get(
        f"{PODS}/web/log",
        params={"container": "app", "tailLines": "2", "timestamps": "true", "limitBytes": "6",
                "sinceTime": "2025-01-01T00:00:00Z"},
    )  # fmt: skip
    assert r.status == 200 and await r.text() == "one\ntw"
    opts = logs.calls[0]
    assert opts.tail_lines == 2 and opts.timestamps and opts.since_time == 1735689600.0


@pytest.mark.parametrize(
    ("query", "code", "message"),
    [
        pytest.param(
            {"container": "late"}, 400,
            'container "late" in pod "web" is waiting to start: PodInitializing',
            id="a container waiting to start is the kubelet's 400, not a 500",
        ),
        pytest.param(
            {"container": "app", "previous": "true"}, 400,
            'previous terminated container "app" in pod "web" not found',
            id="previous with no previous instance is a 400",
        ),
        pytest.param(
            {"container": "nope"}, 400, "container nope is not valid for pod web",
            id="an unknown container is a 400",
        ),
        pytest.param(
            {}, 400, "a container name must be specified for pod web, choose one of: "
            "[init app late]", id="no container among several names them all",
        ),
        pytest.param(
            {"container": "app", "tailLines": "-1"}, 422,
            'PodLogOptions "web" is invalid: tailLines: Invalid value: -1: must be greater '
            "than or equal to 0", id="a negative tail is invalid",
        ),
        pytest.param(
            {"container": "app", "limitBytes": "0"}, 422,
            'PodLogOptions "web" is invalid: limitBytes: Invalid value: 0: must be greater '
            "than 0", id="limitBytes must be positive",
        ),
        pytest.param(
            {"container": "app", "sinceSeconds": "5", "sinceTime": "2025-01-01T00:00:00Z"},
            422, 'PodLogOptions "web" is invalid: : Forbidden: at most one of `sinceTime` or '
            "`sinceSeconds` may be specified", id="sinceTime and sinceSeconds together",
        ),
        pytest.param(
            {"container": "app", "sinceTime": "yesterday"}, 400,
            'parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse '
            '"yesterday" as "2006"', id="a sinceTime that is no time",
        ),
        pytest.param(
            {"container": "app", "tailLines": "ten"}, 400,
            'strconv.ParseInt: parsing "ten": invalid syntax', id="a tail that is no number",
        ),
    ],
)  # fmt: skip
async def test_log_requests_the_api_server_refuses(
    client: TestClient, logs: FakeLogs, query: dict[str, str], code: int, message: str
) -> None:
    r = await client.get(f"{PODS}/web/log", params=query)
    body = await r.json()
    assert (r.status, body["kind"], body["message"]) == (code, "Status", message)


async def test_a_missing_pod_and_an_unscheduled_one(client: TestClient, logs: FakeLogs) -> None:
    r = await client.get(f"{PODS}/gone/log")
    assert (await r.json())["message"] == 'pods "gone" not found in namespace "default"'
    assert (await client.post(PODS, json=pod("pending"))).status == 201
    r = await client.get(f"{PODS}/pending/log")
    assert (r.status, await r.text()) == (200, "")  # no node yet: the log is empty
