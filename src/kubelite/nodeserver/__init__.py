"""The node's server: the kubelet API that each ``kubelite agent`` joined to a cluster serves
on its node address (port 10250 by default), and that the API server dials for the logs,
exec, attach and port-forward of the pods on that node, and for its resource metrics.

* ``authz`` (PURE): a request's authorization attributes as the kubelet derives them, the
  SubjectAccessReview asked for them and the answers' cache;
* ``auth``: who the client is (a client certificate the cluster CA signed) and whether it may
  (the SubjectAccessReview, through the API as this node), with the kubelet's 401 and 403;
* ``servingcert``: the serving certificate, asked for through a ``kubernetes.io/kubelet-
  serving`` CSR and renewed as the kubelet's ``serverTLSBootstrap`` does;
* ``handlers``: ``/containerLogs``, ``/exec``, ``/attach``, ``/portForward``,
  ``/metrics/resource``, ``/healthz``, served with the API's own wire-protocol modules and
  ``kubelite.nodestreams``;
* ``server``: the listener and its lifetime.

It reaches the API only as a client (the node's own credentials) and is composed by
``app.run_agent``.
"""
