"""The node side of service-account tokens, against the in-process API: a pod worker setting up
a pod's sandbox asks the TokenRequest API for the ``kube-api-access-*`` volume's token (bound
to the pod), hands the runtime the token, CA and namespace files, gives the same token again
until 80% of its life has passed, and reports a token it cannot get as a FailedMount of that
volume."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from kubelite.agent.actions import CreateSandbox
from kubelite.agent.apiclient import ApiNodeClient, Endpoint
from kubelite.agent.envvars import NodeFacts
from kubelite.agent.eventtext import Event
from kubelite.agent.podworker import PodWorker, WorkerDeps
from kubelite.agent.sources import Pod
from kubelite.api.pki import ensure_pki
from kubelite.api.server import ApiServer
from kubelite.clock import ManualClock
from kubelite.model.pod import PodSpec
from kubelite.registry.bootstrap import bootstrap
from kubelite.runtime.fake import FakeRuntime
from kubelite.runtime.interface import FilesVolume
from kubelite.store.memory import MemoryStore
from tests.component.agent.harness import FakeImages

T0 = 1_700_000_000.0
NS = "/api/v1/namespaces/default"
NODE = NodeFacts(node_name="node-1", host_ip="10.0.0.1", cpu="4", memory="8Gi")
CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


class RecordingClient(ApiNodeClient):
    """The real API client, with the events it would post kept for the test."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.events: list[Event] = []

    async def emit(self, pod: Pod, event: Event) -> None:
        self.events.append(event)


@dataclass
class Cluster:
    api: ApiServer
    client: RecordingClient
    clock: ManualClock
    runtime: FakeRuntime
    logs: Path

    async def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self.client._rest.request("POST", path, body)

    def worker(self, pod: dict[str, Any]) -> PodWorker:
        deps = WorkerDeps(
            runtime=self.runtime, images=FakeImages(self.clock), client=self.client,
            clock=self.clock, hooks=None, probe=None, node=NODE,  # type: ignore[arg-type]
            pod_logs_dir=self.logs,
        )  # fmt: skip
        return PodWorker(deps, pod)


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    clock = ManualClock(T0)
    api = ApiServer(store=MemoryStore(), require_auth=False, clock=clock)
    await bootstrap(api.registry)
    pki = ensure_pki(tmp_path / "pki")
    runtime = FakeRuntime(clock, data_dir=tmp_path / "fake")
    async with TestServer(api.app) as http:
        client = RecordingClient(
            endpoint=Endpoint(str(http.make_url("")), pki.ca_cert, "unused"),
            node=NODE,
            clock=clock,
        )
        services = asyncio.create_task(client.watch_services())  # the pod's service variables
        try:
            yield Cluster(api, client, clock, runtime, tmp_path / "logs")
        finally:
            services.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await services
            await client.close()
            await runtime.close()


async def scheduled_pod(cluster: Cluster, **spec: Any) -> dict[str, Any]:
    body = {"metadata": {"name": "web"},
            "spec": {"containers": [{"name": "app", "image": "busybox"}], **spec}}  # fmt: skip
    await cluster.create(f"{NS}/pods", body)
    binding = {"metadata": {"name": "web"}, "target": {"kind": "Node", "name": "node-1"}}
    await cluster.create(f"{NS}/pods/web/binding", binding)
    return await cluster.client._rest.request("GET", f"{NS}/pods/web")


async def prepared_volume(cluster: Cluster, pod: dict[str, Any]) -> FilesVolume | None:
    worker = cluster.worker(pod)
    await worker._executor.create_sandbox(PodSpec.of(pod), CreateSandbox(0))
    volume_name = pod["spec"]["volumes"][0]["name"]
    got = cluster.runtime.volumes.get(pod["metadata"]["uid"], {}).get(volume_name)
    assert got is None or isinstance(got, FilesVolume)
    return got


async def test_the_sandbox_gets_a_pod_bound_token_with_the_ca_and_namespace(
    cluster: Cluster,
) -> None:
    await cluster.create(
        f"{NS}/configmaps", {"metadata": {"name": "kube-root-ca.crt"}, "data": {"ca.crt": CA}}
    )
    pod = await scheduled_pod(cluster)
    volume = await prepared_volume(cluster, pod)
    assert volume is not None
    files = {f.path: f for f in volume.files}
    assert sorted(files) == ["ca.crt", "namespace", "token"]
    assert files["ca.crt"].data == CA.encode() and files["namespace"].data == b"default"
    assert files["token"].mode == 0o644 and volume.default_mode == 0o644
    verified = cluster.api.issuer.verify(files["token"].data.decode(), now=T0)
    assert verified.subject.pod is not None
    assert verified.subject.pod.uid == pod["metadata"]["uid"]
    assert verified.expires - T0 == 365 * 24 * 3600  # the kubelet's 3607 s request, extended


async def test_a_token_is_given_again_until_80_percent_of_its_asked_life_has_passed(
    cluster: Cluster,
) -> None:
    pod = await scheduled_pod(cluster)
    uid = pod["metadata"]["uid"]

    async def token() -> str:
        got = await cluster.client.request_token(
            "default", "default", audiences=(), expiration_seconds=3607,
            pod_name="web", pod_uid=uid,
        )  # fmt: skip
        return got.token

    first = await token()
    await cluster.clock.advance(2880)
    assert await token() == first
    await cluster.clock.advance(10)
    renewed = await token()
    assert renewed != first
    await cluster.client.finish_deletion(pod)  # the pod is gone: its tokens are forgotten
    assert cluster.client._tokens == {}


async def test_a_token_that_cannot_be_had_is_a_failed_mount_of_its_volume(
    cluster: Cluster,
) -> None:
    await cluster.create(f"{NS}/serviceaccounts", {"metadata": {"name": "robot"}})
    pod = await scheduled_pod(cluster, serviceAccountName="robot")
    await cluster.client._rest.request("DELETE", f"{NS}/serviceaccounts/robot")
    assert await prepared_volume(cluster, pod) is None
    volume_name = pod["spec"]["volumes"][0]["name"]
    (event,) = cluster.client.events
    assert (event.reason, event.message) == (
        "FailedMount",
        f'MountVolume.SetUp failed for volume "{volume_name}" : failed to fetch token: '
        'serviceaccounts "robot" not found',
    )
