"""The e2e timeline tests use the cluster fixture (one ``kubelite up`` per module, driven by
the real kubectl) and the ``kubelite run`` fixture of their neighbours."""

from __future__ import annotations

from tests.e2e.cluster.conftest import cluster
from tests.e2e.run.conftest import kubelite_run

__all__ = ["cluster", "kubelite_run"]
