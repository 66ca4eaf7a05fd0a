"""Invariants over many seeded random runs of the pure core (SYNC-3, INIT-7, APP-2, PH-2).

Containers exit at random with random codes, probes fail at random, and the pod is deleted
at a random moment; after every sync the plan and the status must still obey the rules.
"""

import random

import pytest

from kubelite.agent.actions import StartContainer
from kubelite.agent.probestate import Result
from kubelite.model.pod import ContainerKind, PodSpec, ProbeType
from kubelite.runtime.interface import ContainerState
from tests.unit.agent.builders import c, pod, probe, sidecar
from tests.unit.agent.sim import Sim

T = 1_700_000_000.0
SPECS = {
    "plain Always": lambda policy: pod([c("a"), c("b")], restart=policy),
    "init + app": lambda policy: pod([c("app")], [c("i1"), c("i2")], policy),
    "sidecars + app": lambda policy: pod(
        [c("app", livenessProbe=probe())],
        [sidecar("s1", startupProbe=probe()), c("i1"), sidecar("s2")],
        policy,
    ),
}


def _deleted(spec: PodSpec, at: float) -> PodSpec:
    raw = dict(spec.raw)
    from kubelite.clock import rfc3339

    raw["metadata"] = {
        **raw["metadata"],
        "deletionTimestamp": rfc3339(at),
        "deletionGracePeriodSeconds": 30,
    }
    return PodSpec.of(raw)


def _perturb(sim: Sim, rng: random.Random, now: float) -> None:
    for ctr in list(sim.containers):
        if ctr.state is ContainerState.RUNNING and rng.random() < 0.3:
            sim.exit(ctr.name, rng.choice([0, 1, 137]), now)
        elif ctr.state is ContainerState.RUNNING and rng.random() < 0.3:
            sim.probes[(ctr.id, ProbeType.STARTUP)] = Result.SUCCESS
        elif ctr.state is ContainerState.RUNNING and rng.random() < 0.05:
            sim.probes[(ctr.id, ProbeType.LIVENESS)] = Result.FAILURE


@pytest.mark.parametrize("policy", ["Always", "OnFailure", "Never"])
@pytest.mark.parametrize("name", sorted(SPECS))
def test_random_runs_keep_the_kubelet_invariants(name: str, policy: str) -> None:
    for seed in range(5):
        rng = random.Random(seed)
        sim = Sim(SPECS[name](policy))
        delete_at = rng.choice([None, 20, 40])
        terminal_seen: str | None = None
        for step in range(45):
            now = T + step * 5.0
            if delete_at is not None and step == delete_at:
                sim.spec = _deleted(sim.spec, now)
            _perturb(sim, rng, now)
            initialized_before = any(
                c.state is ContainerState.RUNNING
                and sim.spec.container(c.name).kind is ContainerKind.APP  # type: ignore[union-attr]
                for c in sim.containers
            )
            plan = sim.sync(now)
            starts = [a for a in plan.actions if isinstance(a, StartContainer)]
            if sim.spec.being_deleted or terminal_seen:
                assert not starts, f"{name}/{policy}/{seed}: started while terminating"
            if initialized_before:
                assert all(a.kind is not ContainerKind.INIT for a in starts), "INIT-7"
            running = [c.name for c in sim.containers if c.state is ContainerState.RUNNING]
            assert len(running) == len(set(running)), "two running instances of one container"
            phase = sim.previous["phase"]
            if terminal_seen:
                assert phase == terminal_seen, "PH-2: a terminal phase is never left"
            if phase in ("Succeeded", "Failed"):
                terminal_seen = phase
            assert phase != "Unknown"
        if delete_at is not None:
            assert sim.terminal and sim.previous["phase"] in ("Succeeded", "Failed"), "TERM-4"
