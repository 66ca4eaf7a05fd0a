"""The workload controllers of ``kubelite up`` as one unit over shared informers: the
ReplicaSet controller, the ReplicationController manager, the Deployment and DaemonSet
controllers, and the garbage collector (which watches every deletable resource, so it
shares the others' pods, ReplicaSets, Deployments and DaemonSets).

``run`` discovers what the garbage collector must watch, then starts every informer and
every controller; each controller waits for its own informers to list before its first
sync.
"""

from __future__ import annotations

from kubelite.client.rest import PODS, ApiClient, Resource
from kubelite.clock import Clock, SystemClock
from kubelite.controllers.daemonset_loop import (
    CONTROLLER_REVISIONS,
    DAEMONSETS,
    NODES,
    DaemonSetController,
)
from kubelite.controllers.deployment_loop import DEPLOYMENTS, REPLICASETS, DeploymentController
from kubelite.controllers.gc import GarbageCollector
from kubelite.controllers.informerset import InformerSet
from kubelite.controllers.replicaset_loop import (
    REPLICA_SETS,
    REPLICATION_CONTROLLERS,
    ReplicaSetController,
)

RCS: Resource = REPLICATION_CONTROLLERS.resource


class WorkloadControllers:
    def __init__(
        self,
        client: ApiClient,
        *,
        clock: Clock | None = None,
        informers: InformerSet | None = None,
    ) -> None:
        clock = clock or SystemClock()
        self.informers = informers = informers or InformerSet(client)
        pods = informers.get(PODS)
        self.replicasets = ReplicaSetController(
            client, REPLICA_SETS, owners_informer=informers.get(REPLICASETS), pods=pods, clock=clock
        )
        self.replicationcontrollers = ReplicaSetController(
            client, REPLICATION_CONTROLLERS, owners_informer=informers.get(RCS), pods=pods,
            clock=clock,
        )  # fmt: skip
        self.deployments = DeploymentController(
            client, deployments=informers.get(DEPLOYMENTS), replicasets=informers.get(REPLICASETS),
            pods=pods, clock=clock,
        )  # fmt: skip
        self.daemonsets = DaemonSetController(
            client, daemonsets=informers.get(DAEMONSETS), pods=pods, nodes=informers.get(NODES),
            revisions=informers.get(CONTROLLER_REVISIONS), clock=clock,
        )  # fmt: skip
        self.gc = GarbageCollector(client, informers, clock=clock)

    async def run(self) -> None:
        await self.gc.discover()
        async with self.informers.running() as tg:
            tg.create_task(self.replicasets.run())
            tg.create_task(self.replicationcontrollers.run())
            tg.create_task(self.deployments.run())
            tg.create_task(self.daemonsets.run())
            tg.create_task(self.gc.run())
