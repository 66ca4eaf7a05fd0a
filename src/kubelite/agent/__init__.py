"""The node agent (the kubelet role): a pure decision core plus the executors that act on it.

The pure core (no I/O, time passed in) and how a pod worker drives it, once per sync:

1. ``observed = ObservedPod.for_pod(uid, await rt.list_sandboxes(), await rt.list_containers())``
2. ``status = podstatus.pod_status(spec, observed, probes, StatusFacts(...), now)`` (SYNC-2);
   write it if it changed.
3. ``plan = planning.plan_pod(spec, observed, probes, backoff, now, phase=status["phase"])``;
   keep ``plan.backoff``; carry ``plan.actions`` out in order (``actions`` documents each);
   record ``plan.start_failures`` and every failed start as ``StartFailure`` per container
   name, clear it when a start succeeds (the reason cache behind CS-3).
4. ``KillPod.stops`` and ``StopContainer`` follow ``termination``: Killing event, preStop
   within the grace, wait for ``wait_for`` (SC-11), ``stop_timeout`` (TERM-2).
5. When ``plan.finished`` (deleted or terminal, nothing left running): write the final status
   with ``StatusFacts(terminal=True)`` (TERM-4), then clean up.
6. Sync again after ``planning.resync_interval`` unless an event comes first (SYNC-1, BO-6),
   at the latest when a back-off or the active deadline (``phase.deadline_at``, PH-4) runs out.

The planner and the status builder answer their shared questions (is a sandbox needed, will a
container be restarted) through ``predicates``; neither imports the other, nor the executor.

Probe workers keep a ``probestate.ProbeWorker`` each and hand ``ProbeResults.from_workers``
to steps 2 and 3; images go through ``imagepull``; event texts live in ``eventtext``.
"""
