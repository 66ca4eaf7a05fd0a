from kubelite.agent.actions import CreateSandbox, StartContainer
from kubelite.agent.backoff import BackoffState
from kubelite.agent.observed import ObservedPod
from kubelite.agent.planning import plan_pod
from kubelite.agent.podstatus import StatusFacts, pod_status
from kubelite.agent.probestate import ProbeResults

from tests.unit.agent.builders import T0, c, pod


def test_a_new_pod_gets_a_sandbox_and_its_container_started() -> None:
    spec = pod([c("app")])
    plan = plan_pod(spec, ObservedPod(), ProbeResults(), BackoffState(), T0)
    assert [type(a) for a in plan.actions] == [CreateSandbox, StartContainer]
    status = pod_status(spec, ObservedPod(), ProbeResults(), StatusFacts(), T0)
    assert status["phase"] == "Pending"
