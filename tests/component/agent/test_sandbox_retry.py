"""A sandbox whose volume cannot be set up yet is retried with a back-off (0.5 s doubling, at
most every 10 s, as the kubelet's volume operations and SYNC-1's error resync), not in a loop,
and the pod starts soon after what it was missing appears."""

from __future__ import annotations

from pathlib import Path

from kubelite.agent.podworker import sandbox_retry_delay
from tests.component.agent.harness import Node, c, pod


def test_the_retry_delay_doubles_from_half_a_second_up_to_the_error_resync() -> None:
    assert [sandbox_retry_delay(n) for n in range(1, 8)] == [0.5, 1, 2, 4, 8, 10, 10]


async def test_a_missing_configmap_volume_is_retried_with_back_off_until_it_appears(
    tmp_path: Path,
) -> None:
    volumes = [{"name": "cfg", "configMap": {"name": "settings"}}]
    mounts = [{"name": "cfg", "mountPath": "/etc/app"}]
    app = {**c("app"), "volumeMounts": mounts}
    async with Node.running(tmp_path) as node:
        node.add(pod("web", [app], volumes=volumes))
        await node.advance_to(30)
        times = node.event_times("web", "FailedMount")
        # t = 0, 0.5, 1.5, 3.5, 7.5, 15.5, 25.5 (then every 10 s)
        assert 6 <= len(times) <= 8, times
        assert node.messages("web", "FailedMount")[0].endswith('configmap "settings" not found')
        assert node.state("web", "app") == ("waiting", "ContainerCreating")
        node.pods.add_object(
            {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": "settings", "namespace": "default"}, "data": {"a": "1"}}
        )  # fmt: skip
        started = await node.until(lambda: node.state("web", "app")[0] == "running")
        assert started <= 30 + 10.5  # at the next retry at the latest
