"""What the DefaultPreemption PostFilter says when a pod fits nowhere.

kubelite does not preempt: it writes the message upstream writes when preemption cannot help,
which is every case where no node would take the pod even with its lower-priority pods gone:

- a pod with ``preemptionPolicy: Never`` is not eligible;
- nodes refused as unresolvable (taints, affinity, a request over the whole node…) and nodes
  PreFilter left out are ``Preemption is not helpful for scheduling``;
- a node refused for what its pods hold, but holding no pod of lower priority, has ``No
  preemption victims found for incoming pod``;
- a node still refused with those pods gone keeps the refusal's reasons.

When some node *would* take the pod once its lower-priority pods were gone, upstream evicts
them and nominates the node; its message then has no preemption part, and kubelite writes the
same message but evicts nothing (the pod stays pending until room is made some other way).

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from kubelite.scheduler.fiterror import fit_error
from kubelite.scheduler.nodeinfo import Snapshot
from kubelite.scheduler.podinfo import PodInfo
from kubelite.scheduler.status import Code, Status, unresolvable

NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"
NEVER = "not eligible due to preemptionPolicy=Never."
PLUGIN = "DefaultPreemption"

# runs the filters for one node of a snapshot (PreFilter included); None: the pod fits
Evaluate = Callable[[Snapshot, str], Status | None]


def postfilter(
    pod: PodInfo,
    snap: Snapshot,
    statuses: Mapping[str, Status],
    absent: Status | None,
    evaluate: Evaluate,
) -> str:
    """The PostFilter part of the message (``preemption: …``), or "" when preemption would
    find a node."""
    if pod.spec.get("preemptionPolicy") == "Never":
        return f"preemption: {NEVER}"
    potential = [
        n
        for n in snap.nodes
        if (s := statuses.get(n.name, absent)) is not None and s.code is Code.UNSCHEDULABLE
    ]
    found: dict[str, Status] = {}
    for node in potential:
        victims = {p.key for p in node.pods if p.priority < pod.priority}
        if not victims:
            found[node.name] = unresolvable(PLUGIN, NO_VICTIMS)
            continue
        status = evaluate(snap.without(victims), node.name)
        if status is None:
            return ""  # upstream would preempt here
        found[node.name] = status
    text = fit_error(len(snap.nodes), found, absent=unresolvable(PLUGIN, NOT_HELPFUL))
    return f"preemption: {text}"
